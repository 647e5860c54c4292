"""Benchmark: articles from Kafka to searchable in Elasticsearch, through the streaming
pipeline on DirectRunner (Prism), next to the raw ceiling measured in the same run:
spaCy's ``nlp.pipe`` over the same texts with the same components.

1. ceiling: ``nlp.pipe`` alone over the N texts, articles/s;
2. throughput: N articles produced at once; articles/s from the first produce until the
   last is indexed (the pipeline is warmed up first: Prism started, model loaded);
3. latency: articles produced at half that rate for a while; for each, the time from
   produce until a search finds it; p50 and p95.

    python -m bench.pipeline_throughput [--articles 300] [--latency-seconds 40]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import threading
import time
import uuid

from elasticsearch import ApiError

from newsmon.analysis.analyse import UNUSED_COMPONENTS
from newsmon.analysis.nlp import load_model
from newsmon.analysis.text import article_text
from newsmon.connectors.elasticsearch import drop_index, make_client
from newsmon.connectors.kafka import ensure_topics, make_admin, make_producer
from newsmon.pipelines import article_pipeline
from newsmon.settings import Settings
from tests.support.stories import messages


def indexed_count(es, alias: str) -> int:
    if not es.indices.exists_alias(name=alias):
        return 0
    try:
        return es.count(index=alias)["count"]
    except ApiError as exc:
        if exc.meta.status == 503:  # the index was just created: its shard is not searchable yet
            return 0
        raise


def produce_and_wait(settings, es, batch: list[dict], already: int, timeout: float = 900) -> float:
    producer = make_producer(settings)
    started = time.perf_counter()
    for message in batch:
        producer.send(settings.topic_articles, key=message["article_id"].encode(),
                      value=json.dumps(message).encode())
    producer.flush()
    producer.close()
    while indexed_count(es, settings.es_index_articles) < already + len(batch):
        if time.perf_counter() - started > timeout:
            msg = f"only {indexed_count(es, settings.es_index_articles) - already} of {len(batch)} indexed"
            raise RuntimeError(msg)
        time.sleep(0.2)
    return time.perf_counter() - started


def latencies(settings, es, batch: list[dict], rate: float) -> list[float]:
    """Produce at ``rate``/s; a watcher records when a search first finds each article."""
    produced: dict[str, float] = {}
    found: dict[str, float] = {}
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            pending = [i for i in produced if i not in found]
            if pending:
                hits = es.search(index=settings.es_index_articles, query={"ids": {"values": pending}},
                                 size=len(pending), source=False)["hits"]["hits"]
                now = time.perf_counter()
                for hit in hits:
                    found.setdefault(hit["_id"], now)
            time.sleep(0.05)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    producer = make_producer(settings)
    for message in batch:
        producer.send(settings.topic_articles, key=message["article_id"].encode(),
                      value=json.dumps(message).encode()).get(30)
        produced[message["article_id"]] = time.perf_counter()
        time.sleep(1 / rate)
    producer.close()
    deadline = time.perf_counter() + 120
    while len(found) < len(produced) and time.perf_counter() < deadline:
        time.sleep(0.2)
    done.set()
    watcher.join()
    return [found[i] - produced[i] for i in produced if i in found]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=300)
    parser.add_argument("--latency-seconds", type=float, default=40)
    args = parser.parse_args()

    batch = messages(args.articles, seed=1)
    texts = [article_text(m) for m in batch]
    words = sum(len(t.split()) for t in texts) / len(texts)
    nlp = load_model(disable=UNUSED_COMPONENTS)
    started = time.perf_counter()
    for _ in nlp.pipe(texts, batch_size=32):
        pass
    ceiling = len(texts) / (time.perf_counter() - started)
    print(f"{len(texts)} articles of about {words:.0f} words")
    print(f"ceiling, spaCy nlp.pipe alone ({', '.join(nlp.pipe_names)}): {ceiling:.1f} articles/s")
    del nlp

    suffix = uuid.uuid4().hex[:8]
    settings = dataclasses.replace(Settings.load(), topic_articles=f"bench.articles.{suffix}",
                                   topic_deadletter=f"bench.deadletter.{suffix}",
                                   es_index_articles=f"bench-articles-{suffix}",
                                   es_index_stories=f"bench-stories-{suffix}")
    ensure_topics(settings, [settings.topic_articles, settings.topic_deadletter], partitions=1)
    es = make_client(settings)
    result = article_pipeline.run(settings, ["--start", "earliest", "--consumer_group", f"bench-{suffix}"])
    try:
        warm = messages(20, seed=2)
        print(f"warming up (Prism, model): {produce_and_wait(settings, es, warm, 0):.1f}s")
        elapsed = produce_and_wait(settings, es, batch, len(warm))
        rate = len(batch) / elapsed
        print(f"pipeline, Kafka to indexed: {rate:.1f} articles/s ({len(batch)} in {elapsed:.1f}s)")
        print(f"ratio to the ceiling: {rate / ceiling:.2f} (goal >= 0.8)")
        half = rate / 2
        sample = messages(max(10, int(half * args.latency_seconds)), seed=3)
        times = sorted(latencies(settings, es, sample, half))
        p50 = statistics.median(times)
        p95 = times[min(len(times) - 1, int(0.95 * len(times)))]
        print(f"latency produce → searchable at {half:.1f} articles/s ({len(times)}/{len(sample)} found): "
              f"p50 {p50:.2f}s, p95 {p95:.2f}s (goal p95 < 2s)")
    finally:
        result.cancel()
        drop_index(es, settings.es_index_articles)
        drop_index(es, settings.es_index_stories)
        admin = make_admin(settings)
        admin.delete_topics([settings.topic_articles, settings.topic_deadletter])
        admin.close()


if __name__ == "__main__":
    main()
