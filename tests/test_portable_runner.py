"""The article pipeline through Beam's portable path with separate SDK workers, as on Flink
or Dataflow: PortableRunner submits it to Prism started as a job server, and Prism runs it
on SDK worker processes started by Beam's worker pool (``--environment_type EXTERNAL``),
never in the test's process. Every DoFn has to pickle, set itself up in ``setup()`` in the
worker that runs it, and get along without anything another process holds.

Prism asks the pool for one worker per environment of the job, so the sinks
(IndexArticles, WriteDeadLetters) are put in a second environment: two worker processes
share the work, and articles cross from one to the other through the runner.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from importlib import resources

import apache_beam as beam
from apache_beam.runners.runner import PipelineState

from newsmon.analysis.watch_entries import load_watchlist_file
from newsmon.connectors.kafka import make_consumer
from newsmon.connectors.watchlist_store import WatchlistStore
from newsmon.deploy.local_service import pid_alive
from newsmon.pipelines import article_pipeline
from newsmon.pipelines.index_articles import article_document
from newsmon.pipelines.running import RunningPipeline
from tests.support.pipeline import SEED_MESSAGE, WAIT, analysed, message, produce, search
from tests.support.portable import (
    RecordWorker,
    output,
    portable_cluster,
    second_environment,
    workers_seen,
)

WATCHLIST = resources.files("newsmon.seeds") / "watchlist.example.yaml"
ARTICLES = [
    SEED_MESSAGE,
    message("https://wire.example.com/vilnius-talks",
            "Envoys meet in Vilnius on reopening the embassy in Minsk",
            "US envoy John Coale met Belarusian officials in Vilnius on Tuesday to discuss reopening the "
            "American embassy in Minsk, the State Department said. Diplomats said an ambassador could "
            "return within months."),
    message("https://wire.example.com/belavia-sanctions", "Washington lifts sanctions on Belavia",
            "The United States lifted sanctions on the Belarusian state airline Belavia on Thursday, "
            "allowing it to buy spare parts for its Boeing fleet. The Treasury Department said the move "
            "followed the release of political prisoners by Alexander Lukashenko."),
    message("https://wire.example.com/losik-freed", "Blogger Ihar Losik freed after five years",
            "Belarusian blogger Ihar Losik was released from prison on Wednesday and pardoned by Alexander "
            "Lukashenko, his wife Darya Losik said. Rights group Viasna said more than 1,100 political "
            "prisoners remain behind bars in Belarus."),
]
BAD = b"{this is not json"
BAD_OFFSET = 2  # produced between the articles
STEP_COUNTERS = {"ReadKafka.records": len(ARTICLES) + 1, "ParseArticles.parsed": len(ARTICLES),
                 "ParseArticles.dead_lettered": 1, "ExtractEntities.articles": len(ARTICLES),
                 "IndexArticles.indexed": len(ARTICLES), "WriteDeadLetters.written": 1}


def test_the_pipeline_runs_on_two_separate_sdk_workers(isolated, es, tmp_path):
    settings = isolated
    WatchlistStore(es, settings.es_index_watchlist).put(load_watchlist_file(WATCHLIST))
    produce(settings, *ARTICLES[:BAD_OFFSET], BAD, *ARTICLES[BAD_OFFSET:])
    started = time.monotonic()

    with portable_cluster(settings, tmp_path / "logs") as cluster:
        argv = [*cluster.beam_args(), "--start", "earliest", "--stop", "end", "--nlp_processes", "1"]
        options = article_pipeline.pipeline_options(argv)
        pipeline = beam.Pipeline(options=options)
        indexed = article_pipeline.build(pipeline, settings,
                                         options.view_as(article_pipeline.ArticlePipelineOptions))
        _ = output(pipeline, "ExtractEntities") | "RecordAnalysed" >> beam.ParDo(RecordWorker("analysed"))
        _ = indexed | "RecordIndexed" >> beam.ParDo(RecordWorker("indexed"))
        _ = (output(pipeline, "WriteDeadLetters")
             | "RecordDeadLetters" >> beam.ParDo(RecordWorker("dead_lettered")))
        second_environment(pipeline, "IndexArticles", "WriteDeadLetters",
                           "RecordIndexed", "RecordDeadLetters")

        result = RunningPipeline(pipeline.run(), runner="PortableRunner")
        try:
            workers: set[int] = set()
            deadline = time.monotonic() + WAIT
            while not result.wait(0.5) and time.monotonic() < deadline:
                workers |= cluster.workers()  # the pool's processes, seen while they run
        finally:
            result.cancel()
        assert result.state == PipelineState.DONE, f"{result.error}\n{cluster.logs()}"
        counters = result.counters()
        pool_log = (cluster.log_dir / "worker-pool.log").read_text()
        pool = cluster.pool.pid
    elapsed = time.monotonic() - started

    # Prism, the pool and every worker it started are gone (the workers mostly before the
    # pool, which stops each when Prism is done with it).
    assert {cluster.prism.pid, pool} <= cluster.stopped
    assert not [pid for pid in cluster.stopped | workers if pid_alive(pid)]

    # Two worker processes of the pool did the work, none of it in this process: the
    # analysis in one, the sinks in the other.
    assert pool_log.count("Starting worker with command") == 2, pool_log
    seen = workers_seen(counters)
    assert set(seen) == {"analysed", "indexed", "dead_lettered"}, counters
    [analysing], [indexing] = seen["analysed"], seen["indexed"]
    assert seen["dead_lettered"].keys() == {indexing}
    assert analysing != indexing
    for pid, parent in (analysing, indexing):
        assert parent == pool and pid in workers and pid != os.getpid()
    assert seen["analysed"][analysing] == seen["indexed"][indexing] == len(ARTICLES)
    assert seen["dead_lettered"][indexing] == 1
    # The steps' own counters, reported by both workers.
    assert {name: counters.get(name) for name in STEP_COUNTERS} == STEP_COUNTERS, counters

    # Every article is in Elasticsearch as the analysis makes it locally, entities and topics alike.
    hits = {hit["_id"]: hit["_source"] for hit in search(es, settings, {"match_all": {}})}
    assert sorted(hits) == sorted(a["article_id"] for a in ARTICLES)
    for article in ARTICLES:
        expected = article_document(analysed(json.dumps(article)))
        found = hits[article["article_id"]]
        assert found["entities"] == expected["entities"] and found["entities"]
        assert found["topics"] == expected["topics"] and found["topics"]
        for field in ("persons", "organisations", "places", "provenance"):
            assert found.get(field) == expected.get(field), field
    assert {t["name"] for t in hits[SEED_MESSAGE["article_id"]]["topics"]} >= {
        "prisoner_release", "sanctions_relief", "diplomatic_move"}

    # The bad message's dead letter reached the dead-letter topic.
    consumer = make_consumer(settings, settings.topic_deadletter, consumer_timeout_ms=3000,
                             group_id=f"check-{uuid.uuid4().hex}")
    letters = [json.loads(record.value) for record in consumer]
    consumer.close()
    assert [(d["stage"], d["source_offset"], d["reason"][:8]) for d in letters] == [
        ("parse", BAD_OFFSET, "not JSON")]

    # Alerts were raised for the watched people the articles name.
    es.indices.refresh(index=settings.es_index_alerts)
    alerts = [hit["_source"] for hit in es.search(index=settings.es_index_alerts, size=100)["hits"]["hits"]]
    assert {"Ihar Losik", "Ales Bialiatski", "Maria Kalesnikava"} <= {a["person"] for a in alerts}
    print(f"portable run: {elapsed:.0f}s; pool {pool}, analysis in worker {analysing[0]}, "
          f"sinks in worker {indexing[0]}")
