"""The whole pipeline, streaming on DirectRunner (Prism), against the real Kafka and
Elasticsearch: the seed article becomes a searchable story with its topics and people,
bad messages become dead letters, replays do not duplicate, and an Elasticsearch outage
loses nothing.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from importlib import resources

from kafka import TopicPartition

from newsmon.analysis.watch_entries import load_watchlist_file
from newsmon.connectors.kafka import make_consumer
from newsmon.connectors.watchlist_store import WatchlistStore
from newsmon.deploy.elasticsearch_service import ElasticsearchService
from newsmon.pipelines import article_pipeline
from tests.support.pipeline import SEED_MESSAGE, message, produce, search, wait_for

WATCHLIST = resources.files("newsmon.seeds") / "watchlist.example.yaml"
# The people of seeds/watchlist.example.yaml the seed article names (Lukashenko's entry
# alerts only on stories with his topics, which the seed article has).
WATCHED = ["Ales Bialiatski", "Alexander Lukashenko", "Ihar Losik", "Maria Kalesnikava", "Mikola Statkevich",
           "Sviatlana Tsikhanouskaya"]


def test_seed_article_streams_to_a_searchable_story(isolated, es):
    settings, group = isolated, f"test-{uuid.uuid4().hex[:8]}"
    WatchlistStore(es, settings.es_index_watchlist).put(load_watchlist_file(WATCHLIST))
    produce(settings, SEED_MESSAGE, b"{this is not json", SEED_MESSAGE)  # the replay comes third
    result = article_pipeline.run(settings, ["--consumer_group", group])
    try:
        [hit] = wait_for(lambda: search(es, settings, {"match": {"content": "Belavia sanctions"}}),
                         "the seed article in Elasticsearch")
        story = hit["_source"]
        assert hit["_id"] == SEED_MESSAGE["article_id"]
        topics = {t["name"] for t in story["topics"]}
        assert topics >= {"prisoner_release", "sanctions_relief", "diplomatic_move"}
        assert all(t["evidence"] and 0 < t["score"] <= 1 for t in story["topics"])
        assert set(story["persons"]) >= {
            "Alexander Lukashenko", "Donald Trump", "Vladimir Putin", "Mikola Statkevich", "John Coale",
            "Ihar Losik", "Ales Bialiatski", "Maria Kalesnikava", "Sviatlana Tsikhanouskaya"}
        assert set(story["organisations"]) >= {"Belavia", "European Union", "Belta"}
        assert set(story["places"]) >= {"Belarus", "Lithuania", "Vilnius", "Minsk"}
        assert story["provenance"]["model"].startswith("en_core_web_sm")
        assert story["provenance"]["topic_rules"] and story["provenance"]["gazetteer"]
        for query in ({"term": {"topics.name": "sanctions_relief"}}, {"term": {"persons": "Ihar Losik"}}):
            assert [h["_id"] for h in search(es, settings, query)] == [SEED_MESSAGE["article_id"]]

        consumer = make_consumer(settings, settings.topic_deadletter, consumer_timeout_ms=2000,
                                 group_id=f"check-{uuid.uuid4().hex}")
        letters = wait_for(lambda: [json.loads(r.value) for r in consumer], "the dead letter")
        consumer.close()
        assert [(d["source_offset"], d["reason"][:8]) for d in letters] == [(1, "not JSON")]

        # All three records finished: the replay overwrote the story and the offsets are committed.
        committer = make_consumer(settings, group_id=group)
        tp = TopicPartition(settings.topic_articles, 0)
        wait_for(lambda: committer.committed(tp) == 3, "offset 3 committed for the consumer group", 60)
        committer.close()
        assert es.count(index=settings.es_index_articles)["count"] == 1

        # One alert per watched person named, in Elasticsearch and on Kafka, despite the replay.
        es.indices.refresh(index=settings.es_index_alerts)
        hits = es.search(index=settings.es_index_alerts, size=100)["hits"]["hits"]
        alerts = [hit["_source"] for hit in hits]
        assert sorted(a["person"] for a in alerts) == sorted(WATCHED)
        consumer = make_consumer(settings, settings.topic_alerts, consumer_timeout_ms=3000,
                                 group_id=f"check-{uuid.uuid4().hex}")
        sent = [json.loads(r.value) for r in consumer]
        consumer.close()
        assert sorted(a["alert_id"] for a in sent) == sorted(a["alert_id"] for a in alerts)
    finally:
        result.cancel()


def test_an_elasticsearch_outage_mid_stream_loses_nothing(isolated, es, settings):
    first = message("https://wire.example.com/a", "Envoy visits Minsk", "The envoy met officials in Minsk.")
    later = [message(f"https://wire.example.com/{n}", f"Talks resume, day {n}",
                     f"Diplomats resumed talks on day {n} in Vilnius.") for n in range(3)]
    produce(isolated, first)
    group = f"t-{uuid.uuid4().hex}"
    result = article_pipeline.run(isolated, ["--start", "earliest", "--consumer_group", group])
    node = ElasticsearchService(settings)  # the node the test session runs
    try:
        wait_for(lambda: search(es, isolated, {"match_all": {}}), "the first article")
        node.down()
        produce(isolated, *later)
        time.sleep(10)  # the pipeline reads them and finds Elasticsearch gone
    finally:
        node.up()
    # restarted in a session of its own, the node outlives this test session
    assert node.pid() is not None and os.getsid(node.pid()) != os.getsid(0)
    try:
        everything = {"match_all": {}}
        wait_for(lambda: len(search(es, isolated, everything)) == 4, "four articles after the outage", 180)
    finally:
        result.cancel()
