"""A watched person named in a feed, end to end against the real services: feed over
HTTP → poller → Kafka → streaming pipeline → news-alerts and news.alerts → a webhook
receiver and an SMTP server (real sockets), each exactly once, through a replay and a
restart; and a watch entry added while the pipeline runs.
"""

from __future__ import annotations

import dataclasses
import json
import threading
import time
import uuid

from kafka import TopicPartition

from newsmon.analysis.watch_entries import WatchEntry
from newsmon.connectors.alert_delivery import run_delivery
from newsmon.connectors.feed_list import read_opml
from newsmon.connectors.feed_poller import FeedPoller
from newsmon.connectors.feed_store import FeedStore
from newsmon.connectors.kafka import make_consumer
from newsmon.connectors.notifier_config import parse_config
from newsmon.connectors.watchlist_store import WatchlistStore
from newsmon.demo import SEEDS, serve_demo_feeds
from newsmon.pipelines import article_pipeline
from tests.support.pipeline import message, produce, wait_for
from tests.support.smtp_server import SMTPServer
from tests.support.webhook_server import WebhookServer

SECRET = "webhook-secret-for-tests"


def alerts_in(es, settings) -> list[dict]:
    if not es.indices.exists_alias(name=settings.es_index_alerts):
        return []
    es.indices.refresh(index=settings.es_index_alerts)
    return [hit["_source"] for hit in es.search(index=settings.es_index_alerts, size=100)["hits"]["hits"]]


def kafka_alerts(settings) -> list[dict]:
    consumer = make_consumer(settings, settings.topic_alerts, consumer_timeout_ms=3000, group_id=None)
    try:
        return [json.loads(record.value) for record in consumer]
    finally:
        consumer.close()


def finished(settings, group: str) -> bool:
    """The pipeline's group has committed everything on the articles topic."""
    consumer = make_consumer(settings, group_id=group)
    try:
        tp = TopicPartition(settings.topic_articles, 0)
        return consumer.committed(tp) == consumer.end_offsets([tp])[tp]
    finally:
        consumer.close()


def test_a_watched_person_is_alerted_once_on_every_channel(isolated, es, tmp_path):
    settings = dataclasses.replace(isolated, feed_parse_processes=0,
                                   fetch_allowed_networks=("127.0.0.1/32",))  # the demo feed server
    watchlist = WatchlistStore(es, settings.es_index_watchlist)
    watchlist.put([WatchEntry.create("Ihar Losik", list_name="desk")])

    feeds = serve_demo_feeds(0)
    base = f"http://127.0.0.1:{feeds.server_address[1]}"
    store = FeedStore(tmp_path / "feeds.sqlite3")
    store.add(read_opml((SEEDS / "demo" / "feeds.opml").read_text().replace("{base}", base)))
    webhook, smtp = WebhookServer(secret=SECRET), SMTPServer()
    config = parse_config({"lists": {"desk": {"notifiers": [
        {"type": "webhook", "url": webhook.url(), "secret_env": "NEWSMON_TEST_WEBHOOK_SECRET"},
        {"type": "email", "host": "127.0.0.1", "port": smtp.port, "security": "none",
         "sender": "newsmon@example.org", "recipients": ["desk@example.org"]}]}}},
        env={"NEWSMON_TEST_WEBHOOK_SECRET": SECRET})
    stop = threading.Event()
    delivery = threading.Thread(target=run_delivery, args=(settings, config),
                                kwargs={"stop": stop, "group": f"notify-{uuid.uuid4().hex}"}, daemon=True)
    delivery.start()
    group = f"pipeline-{uuid.uuid4().hex}"
    result = None
    try:
        assert FeedPoller(settings, store).run(once=True).articles_sent == 9
        result = article_pipeline.run(settings, ["--consumer_group", group, "--watchlist_refresh", "2"])
        [hook] = webhook.wait_for(1, timeout=240)
        assert hook.signature_ok and hook.json()["alerts"][0]["person"] == "Ihar Losik"
        [mail] = smtp.wait_for(1, timeout=30)
        assert "Ihar Losik" in mail.message["Subject"] and mail.rcpt_to == ["desk@example.org"]

        # A person added while the pipeline runs is matched once the running matcher re-reads
        # the list, without a restart. (Added once every demo article went through: the seed
        # names John Coale too, and its copy in the other feed may have raised Losik's alert
        # before the seed was read.)
        wait_for(lambda: finished(settings, group), "the pipeline to read every demo article", 120)
        watchlist.put([WatchEntry.create("John Coale", list_name="desk")])
        update = message("https://wire.example.com/coale-returns", "US envoy John Coale returns to Minsk",
                         "John Coale, the US envoy, arrived in Minsk on Monday for a second round of talks.")
        both = {"Ihar Losik", "John Coale"}

        def sent_again_until_alerted() -> bool:
            """The same story again (a replay) until a re-read of the list has matched it."""
            produce(settings, update)
            return wait_for(lambda: {a["person"] for a in alerts_in(es, settings)} == both,
                            "the alert on the newly watched person", 5, fail=False)

        wait_for(sent_again_until_alerted, "the running matcher to read the new entry", 120)
        wait_for(lambda: finished(settings, group), "the pipeline to commit its offsets", 60)
    finally:
        if result is not None:
            result.cancel()

    # Restart and replay the whole topic: no second alert anywhere.
    replay = article_pipeline.run(settings, ["--start", "earliest", "--consumer_group", group])
    try:
        wait_for(lambda: finished(settings, group), "the replay to finish", 180)
    finally:
        replay.cancel()
    time.sleep(3)  # give a wrongly repeated alert time to travel
    stop.set()
    delivery.join(30)
    feeds.shutdown()
    assert sorted(a["person"] for a in alerts_in(es, settings)) == ["Ihar Losik", "John Coale"]
    assert sorted(a["person"] for a in kafka_alerts(settings)) == ["Ihar Losik", "John Coale"]
    hooks = [r.json()["alerts"][0]["person"] for r in webhook.received]
    assert sorted(hooks) == ["Ihar Losik", "John Coale"]
    assert len(smtp.mails) == 2
    webhook.close()
    smtp.close()
