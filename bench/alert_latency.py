"""Benchmark: from an article produced to Kafka to its alert delivered at a webhook.

The streaming pipeline (DirectRunner on Prism) and ``run_delivery`` run against the real
Kafka and Elasticsearch with a watch list of ``--entries`` people; a local webhook
receiver (real HTTP) notes when each alert arrives. Articles naming a watched person are
produced at ``--rate`` per second; for each, the time from produce to the webhook is
measured. The baseline, measured in the same run, is spaCy's analysis of the same
articles alone (what the pipeline cannot avoid spending on each).

    python -m bench.alert_latency [--articles 40] [--rate 1] [--entries 1000]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import random
import statistics
import threading
import time
import uuid

from newsmon.analysis.nlp import load_model
from newsmon.analysis.text import article_text
from newsmon.analysis.watch_entries import WatchEntry
from newsmon.connectors.alert_delivery import run_delivery
from newsmon.connectors.elasticsearch import drop_index, make_client
from newsmon.connectors.kafka import ensure_topics, make_admin, make_producer
from newsmon.connectors.notifier_config import parse_config
from newsmon.connectors.watchlist_store import WatchlistStore
from newsmon.pipelines import article_pipeline
from newsmon.settings import Settings
from tests.support.stories import PEOPLE, messages
from tests.support.webhook_server import WebhookServer

GIVEN = ["Anna", "Olga", "Piotr", "Jonas", "Lena", "Marek", "Ivan", "Sofia", "Tomas", "Elena", "Karl",
         "Nadia"]
SURNAMES = ["Kowalczyk", "Lindqvist", "Morozova", "Haddad", "Okonkwo", "Fischer", "Rossi", "Novikov",
            "Bergstrom", "Dubois", "Horvath", "Petrenko", "Silva", "Yamamoto", "Kaminski", "Larsen"]


def watch_list(count: int) -> list[WatchEntry]:
    """The people the articles name, plus generated others up to ``count`` (at most 2,880)."""
    rng = random.Random(7)
    names = dict.fromkeys(PEOPLE)
    while len(names) < count:
        first, second = rng.sample(SURNAMES, 2)
        names[f"{rng.choice(GIVEN)} {first}-{second}"] = None
    return [WatchEntry.create(name, list_name="bench") for name in names]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=40)
    parser.add_argument("--rate", type=float, default=1.0, help="articles produced per second")
    parser.add_argument("--entries", type=int, default=1000)
    args = parser.parse_args()

    batch = messages(args.articles, seed=11)
    nlp = load_model()
    started = time.perf_counter()
    for _ in nlp.pipe([article_text(m) for m in batch], batch_size=1):
        pass
    ner = (time.perf_counter() - started) / len(batch)
    print(f"baseline, spaCy analysis of one article alone: {ner * 1000:.0f} ms")
    del nlp

    suffix = uuid.uuid4().hex[:8]
    settings = dataclasses.replace(
        Settings.load(), topic_articles=f"bench.articles.{suffix}", topic_alerts=f"bench.alerts.{suffix}",
        topic_deadletter=f"bench.deadletter.{suffix}", es_index_articles=f"bench-articles-{suffix}",
        es_index_alerts=f"bench-alerts-{suffix}", es_index_watchlist=f"bench-watchlist-{suffix}",
        es_index_stories=f"bench-stories-{suffix}")
    topics = [settings.topic_articles, settings.topic_alerts, settings.topic_deadletter]
    ensure_topics(settings, topics, partitions=1)
    es = make_client(settings)
    WatchlistStore(es, settings.es_index_watchlist).put(watch_list(args.entries))
    webhook = WebhookServer()
    config = parse_config({"lists": {"bench": {"notifiers": [{"type": "webhook", "url": webhook.url()}]}}})
    stop = threading.Event()
    delivery = threading.Thread(target=run_delivery, args=(settings, config), daemon=True,
                                kwargs={"stop": stop, "group": f"bench-notify-{suffix}"})
    delivery.start()
    result = article_pipeline.run(settings, ["--consumer_group", f"bench-{suffix}"])
    try:
        producer = make_producer(settings)
        warm = messages(3, seed=12)
        for message in warm:
            producer.send(settings.topic_articles, key=message["article_id"].encode(),
                          value=json.dumps(message).encode())
        producer.flush()
        webhook.wait_for(1, timeout=300)
        print(f"warmed up; watch list of {args.entries} entries; producing {len(batch)} articles at "
              f"{args.rate:g}/s")
        produced: dict[str, float] = {}
        for message in batch:
            producer.send(settings.topic_articles, key=message["article_id"].encode(),
                          value=json.dumps(message).encode()).get(30)
            produced[message["article_id"]] = time.monotonic()
            time.sleep(1 / args.rate)
        producer.close()
        deadline = time.monotonic() + 120
        arrived: dict[str, float] = {}
        while time.monotonic() < deadline and len(arrived) < len(produced):
            for received in list(webhook.received):
                for alert in received.json()["alerts"]:
                    if alert["article_id"] in produced:
                        arrived.setdefault(alert["article_id"], received.at)
            time.sleep(0.2)
        latencies = sorted(arrived[i] - produced[i] for i in arrived)
        p50 = statistics.median(latencies)
        p95 = latencies[min(len(latencies) - 1, int(0.95 * len(latencies)))]
        print(f"produce → alert at the webhook ({len(latencies)}/{len(produced)} arrived): "
              f"p50 {p50:.2f}s, p95 {p95:.2f}s (goal p95 < 2s); p95 / spaCy time per article: "
              f"{p95 / ner:.1f}")
    finally:
        result.cancel()
        stop.set()
        delivery.join(30)
        webhook.close()
        for alias in (settings.es_index_articles, settings.es_index_alerts, settings.es_index_watchlist,
                      settings.es_index_stories):
            drop_index(es, alias)
        admin = make_admin(settings)
        admin.delete_topics(topics)
        admin.close()


if __name__ == "__main__":
    main()
