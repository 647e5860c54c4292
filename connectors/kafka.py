"""Kafka clients built from :class:`~newsmon.settings.Settings`, and topic set-up.

Client security settings (TLS, SASL) pass straight through to kafka-python, so the same
code talks to the local single-node broker and to a secured production cluster.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.errors import KafkaError, TopicAlreadyExistsError

from newsmon import backoff
from newsmon.errors import ServiceUnavailableError
from newsmon.settings import Settings

log = logging.getLogger(__name__)
T = TypeVar("T")


def client_config(settings: Settings) -> dict[str, Any]:
    """The connection part of every kafka-python client's configuration."""
    config: dict[str, Any] = {
        "bootstrap_servers": list(settings.kafka_bootstrap_servers),
        "security_protocol": settings.kafka_security_protocol,
        "client_id": "newsmon",
        "bootstrap_timeout_ms": 10_000,  # say "not reachable" after 10 s, not kafka-python's 30
    }
    if settings.kafka_sasl_mechanism:
        config["sasl_mechanism"] = settings.kafka_sasl_mechanism
        config["sasl_plain_username"] = settings.kafka_sasl_username
        if settings.kafka_sasl_password is not None:
            config["sasl_plain_password"] = settings.kafka_sasl_password.reveal()
    for name in ("ssl_cafile", "ssl_certfile", "ssl_keyfile"):
        path = getattr(settings, "kafka_" + name)
        if path is not None:
            config[name] = str(path)
    return config


def make_producer(settings: Settings, **overrides: Any) -> KafkaProducer:
    """A durable producer: every send is acknowledged by all in-sync replicas, and
    broker-side de-duplication (idempotence) keeps retries from writing twice.
    """
    delivery_ms = max(1_000, int(settings.kafka_delivery_timeout * 1000))
    config = client_config(settings) | {
        "acks": "all",
        "enable_idempotence": True,
        "linger_ms": 10,
        "batch_size": 256 * 1024,  # article messages are kilobytes: fewer, fuller requests
        "max_block_ms": 30_000,
        "delivery_timeout_ms": delivery_ms,
        "request_timeout_ms": min(30_000, delivery_ms - 11),  # Kafka wants linger + request < delivery
    }
    return _connect(KafkaProducer, settings, config | overrides)


def make_consumer(settings: Settings, *topics: str, **overrides: Any) -> KafkaConsumer:
    config = client_config(settings) | {"enable_auto_commit": False, "auto_offset_reset": "earliest"}
    return _connect(KafkaConsumer, settings, config | overrides, *topics)


def make_admin(settings: Settings) -> KafkaAdminClient:
    return _connect(KafkaAdminClient, settings, client_config(settings) | {"request_timeout_ms": 15_000})


def worth_waiting(error: BaseException) -> bool:
    """Whether waiting can fix ``error``: Kafka unreachable, restarting, or not answering in
    time (not a client that was closed under the caller: its worker is shutting down).
    """
    if isinstance(error, ServiceUnavailableError):
        return True
    return isinstance(error, KafkaError) and error.retriable and "Event loop stopped" not in str(error)


def when_reachable(call: Callable[[], T], *, what: str) -> T:
    """``call()`` (making a client, or a request), retried with backoff capped at 30 s for as
    long as :func:`worth_waiting` says so: it blocks. For pipeline steps, which meet broker
    restarts: an error fails the bundle, and a streaming runner such as Prism ends the
    whole job on a failed bundle.
    """
    return backoff.patiently(call, what=f"Kafka: {what}", base=0.5, cap=30.0, log=log,
                             retry_if=worth_waiting)


def pipeline_topics(settings: Settings) -> tuple[str, ...]:
    return (settings.topic_articles, settings.topic_alerts, settings.topic_deadletter)


def ensure_topics(settings: Settings, topics: tuple[str, ...] | list[str],
                  partitions: int | None = None) -> list[str]:
    """Create the topics that do not exist yet; returns the names it created.

    Idempotent: safe to call on every start, and by several processes at once.
    """
    if isinstance(topics, str):
        msg = f"topics must be a list of names, got a string {topics!r}"
        raise TypeError(msg)
    partitions = partitions or settings.kafka_partitions
    admin = make_admin(settings)
    try:
        missing = sorted(set(topics) - set(admin.list_topics()))
        created = []
        for topic in missing:
            try:
                admin.create_topics(
                    {topic: {"num_partitions": partitions, "replication_factor": -1}},
                    wait_for_metadata=True,
                )
                created.append(topic)
            except TopicAlreadyExistsError:
                pass  # another process created it between our listing and our request
        return created
    finally:
        admin.close()


def check_kafka(settings: Settings) -> dict[str, Any]:
    """Ask the cluster for its metadata; raise a clear error when it does not answer."""
    admin = make_admin(settings)
    try:
        cluster = admin.describe_cluster()
        return {"brokers": len(cluster.get("brokers", [])), "cluster_id": cluster.get("cluster_id")}
    except KafkaError as exc:
        raise _unreachable(settings, exc) from exc
    finally:
        admin.close()


def _connect(factory: Any, settings: Settings, config: dict[str, Any], *args: Any) -> Any:
    try:
        return factory(*args, **config)
    except KafkaError as exc:
        raise _unreachable(settings, exc) from exc


def _unreachable(settings: Settings, exc: Exception) -> ServiceUnavailableError:
    servers = ",".join(settings.kafka_bootstrap_servers)
    return ServiceUnavailableError(
        f"Kafka is not reachable at {servers} ({settings.kafka_security_protocol}): {exc}. "
        "Start the local broker with `newsmon services up` or set NEWSMON_KAFKA_BOOTSTRAP_SERVERS."
    )


def consumer_lag(settings: Settings, group: str, topic: str) -> dict[int, tuple[int | None, int]]:
    """Per partition of ``topic``: (offset ``group`` committed or None, end offset)."""
    admin = make_admin(settings)
    consumer = make_consumer(settings)
    try:
        committed = admin.list_group_offsets(group).get(group, {})
        partitions = sorted(consumer.partitions_for_topic(topic) or ())
        tps = [TopicPartition(topic, p) for p in partitions]
        ends = consumer.end_offsets(tps)
    finally:
        consumer.close()
        admin.close()
    return {tp.partition: (committed[tp].offset if tp in committed else None, ends[tp]) for tp in tps}
