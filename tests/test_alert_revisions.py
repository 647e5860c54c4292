"""Alerts once per story against the real Elasticsearch and Kafka: two articles of a story
make one alert document holding both and one Kafka message; a replay changes nothing; a
later article bringing a watched topic sends revision 2 once, and delivery (real consumer
groups, a real webhook receiver) delivers each revision once, also to a second deliverer.
"""

from __future__ import annotations

import dataclasses
import json
import os
import threading
import uuid
from datetime import UTC, datetime, timedelta

import apache_beam as beam
from apache_beam.testing.test_pipeline import TestPipeline
from kafka import TopicPartition

from newsmon.analysis.analyse import with_alerts
from newsmon.analysis.messages import rfc3339
from newsmon.analysis.name_matcher import WatchMatcher
from newsmon.analysis.stories import story_id_for
from newsmon.analysis.watch_entries import WatchEntry
from newsmon.connectors.alert_delivery import run_delivery
from newsmon.connectors.alert_store import AlertStore
from newsmon.connectors.elasticsearch import setup_index
from newsmon.connectors.kafka import make_consumer, make_producer
from newsmon.connectors.notifier_config import parse_config
from newsmon.pipelines.write_alerts import WriteAlerts
from tests.support.commands import run_newsmon
from tests.support.notifiers import ENV, SECRET
from tests.support.pipeline import SEED_MESSAGE, analysed, wait_for
from tests.support.webhook_server import WebhookServer
from tests.test_alerts_e2e import kafka_alerts
from tests.test_story_pipeline import COPY_MESSAGE, WIRE_MESSAGE

WATCHED = "Mikola Statkevich"  # named in the wire report, its copy and the seed article
STORY = story_id_for(WIRE_MESSAGE["article_id"])
T0 = datetime(2026, 11, 25, 12, 0, 5, tzinfo=UTC)


def in_story(message: dict, minutes: int = 0):
    """``message`` analysed by the pipeline's own code, as an article of STORY naming WATCHED."""
    item = dataclasses.replace(analysed(json.dumps(message)), story_id=STORY, alerts=())
    matcher = WatchMatcher([WatchEntry.create(WATCHED, list_name="desk")])
    item = with_alerts(item, matcher, alert_time=T0 + timedelta(minutes=minutes))
    assert [alert.person for alert in item.alerts] == [WATCHED]
    return item


def write(settings, *items) -> None:
    with TestPipeline() as pipeline:
        _ = pipeline | beam.Create(list(items)) | WriteAlerts(settings)


def stored(es, settings, alert_id: str) -> dict:
    return es.get(index=settings.es_index_alerts, id=alert_id).body


def test_a_story_raises_one_alert_updated_by_later_articles_and_revised_once(isolated, es):
    settings = isolated
    wire, copy, seed = in_story(WIRE_MESSAGE), in_story(COPY_MESSAGE, 5), in_story(SEED_MESSAGE, 9)
    alert_id = wire.alerts[0].alert_id
    wire_topics = {topic.name for topic in wire.topics}
    gained = [topic.name for topic in seed.topics if topic.name not in wire_topics]
    assert {topic.name for topic in copy.topics} <= wire_topics and gained  # what the story needs

    write(settings, wire)
    write(settings, copy, wire)  # the copy, and the wire report again
    document = stored(es, settings, alert_id)["_source"]
    assert document["article_ids"] == [wire.article_id, copy.article_id] and document["article_count"] == 2
    assert document["sources"] == sorted({wire.article.source_name, copy.article.source_name})
    assert (document["title"], document["article_id"]) == (wire.article.title, wire.article_id)
    assert document["evidence"] == list(wire.alerts[0].evidence)
    assert (document["revision"], document["kafka_revision"], document["kafka_delivered"]) == (1, 1, True)
    [message] = kafka_alerts(settings)
    assert (message["alert_id"], message["revision"], message["article_count"]) == (alert_id, 1, 1)

    before = stored(es, settings, alert_id)
    write(settings, wire, copy)  # a replay: not even a write
    after = stored(es, settings, alert_id)
    assert (after["_seq_no"], after["_source"]) == (before["_seq_no"], before["_source"])
    assert len(kafka_alerts(settings)) == 1

    write(settings, seed)  # brings watched topics the alert did not have: revision 2
    write(settings, seed, copy)  # replayed
    document = stored(es, settings, alert_id)["_source"]
    assert document["revision"] == 2 and document["gained_topics"] == gained
    assert document["topics"] == [*document["topics"][:len(wire_topics)], *gained]
    assert document["article_count"] == 3 and document["kafka_revision"] == 2 and document["kafka_delivered"]
    assert document["title"] == wire.article.title  # the first article's, as raised
    messages = kafka_alerts(settings)
    assert [(m["alert_id"], m["revision"]) for m in messages] == [(alert_id, 1), (alert_id, 2)]
    assert messages[1]["article_ids"] == [wire.article_id, copy.article_id, seed.article_id]

    # Delivery: each revision once, though revision 2 is on the topic twice (two workers
    # replaying the same story at once could send it twice).
    producer = make_producer(settings)
    producer.send(settings.topic_alerts, key=alert_id.encode(),
                  value=json.dumps(messages[1]).encode()).get(30)
    producer.close()
    receiver = WebhookServer(secret=SECRET)
    try:
        first_stats, requests = _deliver(settings, receiver, expect=2)
        # Another process of delivery (a new group reads the topic again): nothing is sent twice.
        again, more = _deliver(settings, receiver, expect=0)
    finally:
        receiver.close()
    assert [r.headers["x-newsmon-delivery"] for r in requests] == [alert_id, f"{alert_id}-r2"]
    assert [r.json()["alerts"][0]["revision"] for r in requests] == [1, 2]
    assert (first_stats.received, first_stats.delivered, first_stats.duplicates) == (3, 2, 1)
    deliveries = stored(es, settings, alert_id)["_source"]["deliveries"]
    assert sorted((d["revision"], d["ok"]) for d in deliveries) == [(1, True), (2, True)]
    assert more == [] and (again.received, again.already_delivered, again.delivered) == (3, 2, 0)


def _deliver(settings, receiver, *, expect: int):
    """Run a delivery with a consumer group of its own until it has committed the whole topic;
    returns its counts and the requests ``receiver`` got meanwhile (``expect`` of them awaited).
    """
    seen = len(receiver.received)
    config = parse_config({"lists": {"desk": {"notifiers": [
        {"type": "webhook", "name": "desk-hook", "url": receiver.url("/desk"),
         "secret_env": "NEWSMON_WEBHOOK_SECRET"}]}}}, env=ENV)
    group, stop, outcome = f"test-notify-{uuid.uuid4().hex}", threading.Event(), {}
    thread = threading.Thread(target=lambda: outcome.setdefault(
        "stats", run_delivery(settings, config, group=group, stop=stop)), daemon=True)
    thread.start()
    try:
        if expect:
            receiver.wait_for(seen + expect, timeout=60)
        wait_for(lambda: _committed(settings, group), "delivery to commit the whole alerts topic", 60)
    finally:
        stop.set()
        thread.join(60)
    assert not thread.is_alive()
    assert all(request.signature_ok for request in receiver.received)
    return outcome["stats"], list(receiver.received[seen:])


def _committed(settings, group: str) -> bool:
    consumer = make_consumer(settings, group_id=group)
    try:
        tp = TopicPartition(settings.topic_alerts, 0)
        return consumer.committed(tp) == consumer.end_offsets([tp])[tp]
    finally:
        consumer.close()


def test_with_the_rule_never_later_topics_update_the_alert_without_sending_it(es, aliases):
    store = AlertStore(es, aliases["alerts"], realert_on="never")
    setup_index(es, "news-alerts", aliases["alerts"])
    wire = in_story(WIRE_MESSAGE).alerts[0].to_message()
    seed = in_story(SEED_MESSAGE, 9).alerts[0].to_message()
    assert store.write(wire) == wire
    assert store.write(wire) == wire  # not acknowledged yet: to be sent again
    store.sent(wire["alert_id"], 1)
    assert store.write(seed) is None and store.write(wire) is None
    document = es.get(index=aliases["alerts"], id=wire["alert_id"])["_source"]
    assert document["revision"] == 1 and set(seed["topics"]) <= set(document["topics"])
    assert document["article_count"] == 2 and document["kafka_delivered"]


def test_concurrent_writers_lose_no_article(es, aliases):
    """Several workers folding articles of one story into its alert at once: conditional
    writes (if_seq_no) make each one read again instead of overwriting the others.
    """
    setup_index(es, "news-alerts", aliases["alerts"])
    first = in_story(WIRE_MESSAGE).alerts[0].to_message()
    AlertStore(es, aliases["alerts"], realert_on="new-topic").write(first)
    later = [first | {"article_id": f"{n:032x}", "source_name": f"Outlet {n}"} for n in range(1, 9)]
    errors = []

    def write_one(alert):
        try:
            AlertStore(es, aliases["alerts"], realert_on="new-topic").write(alert)
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=write_one, args=(alert,)) for alert in later]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    document = es.get(index=aliases["alerts"], id=first["alert_id"])["_source"]
    assert sorted(document["article_ids"]) == sorted([first["article_id"], *(a["article_id"] for a in later)])
    assert document["article_count"] == 9 and len(document["sources"]) == 9


def test_alerts_list_shows_an_alert_revised_since_although_raised_before(es, aliases):
    setup_index(es, "news-alerts", aliases["alerts"])
    store = AlertStore(es, aliases["alerts"], realert_on="new-topic")
    now = datetime.now(UTC).replace(microsecond=0)
    wire = in_story(WIRE_MESSAGE).alerts[0].to_message() | {"alert_time": rfc3339(now - timedelta(days=3))}
    seed = in_story(SEED_MESSAGE).alerts[0].to_message() | {"alert_time": rfc3339(now)}
    store.write(wire)
    store.write(seed)  # revision 2, raised now
    es.indices.refresh(index=aliases["alerts"])
    env = os.environ | {"NEWSMON_ES_INDEX_ALERTS": aliases["alerts"]}
    listed = run_newsmon("alerts", "list", "--since", "1d", "--json", env=env)
    assert listed.returncode == 0, listed.stderr
    [shown] = json.loads(listed.stdout)
    assert (shown["alert_id"], shown["revision"], shown["article_count"]) == (wire["alert_id"], 2, 2)
    assert "kafka_revision" not in shown and "deliveries" not in shown
    text = run_newsmon("alerts", "list", "--since", "1d", env=env).stdout
    assert "story: 2 articles from 1 source(s)" in text and "revision 2 (" in text

