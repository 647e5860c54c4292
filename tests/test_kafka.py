"""Produce and consume through the real broker; topic set-up; an unreachable broker."""

import json

import pytest

from newsmon.connectors.kafka import check_kafka, ensure_topics, make_consumer, make_producer
from newsmon.errors import ServiceUnavailableError
from newsmon.settings import Settings


def test_produce_consume_round_trip(kafka, topic):
    messages = [{"article_id": f"a{i}", "title": f"Story {i}"} for i in range(5)]
    producer = make_producer(kafka)
    for message in messages:
        producer.send(topic, key=message["article_id"].encode(), value=json.dumps(message).encode())
    producer.flush(30)
    producer.close()

    consumer = make_consumer(kafka, topic, group_id=None, consumer_timeout_ms=10_000)
    received = [(record.key.decode(), json.loads(record.value)) for record in consumer]
    consumer.close()
    assert received == [(m["article_id"], m) for m in messages]


def test_ensure_topics_is_idempotent(kafka, topic):
    assert ensure_topics(kafka, [topic]) == []
    assert ensure_topics(kafka, [topic]) == []


def test_pipeline_topics_exist_after_services_up(kafka):
    consumer = make_consumer(kafka)
    try:
        existing = consumer.topics()
    finally:
        consumer.close()
    assert {kafka.topic_articles, kafka.topic_alerts, kafka.topic_deadletter} <= existing


def test_unreachable_broker_gives_a_clear_error(closed_port):
    settings = Settings(kafka_bootstrap_servers=(f"127.0.0.1:{closed_port}",))
    with pytest.raises(ServiceUnavailableError, match=f"Kafka is not reachable at 127.0.0.1:{closed_port}"):
        check_kafka(settings)
