"""WriteAlerts: each alert into Elasticsearch ``news-alerts`` and Kafka ``news.alerts``, once.

Elasticsearch decides what is new: the alert is *created* under its deterministic id, so
a replay, a restart or a second worker finds it there and sends nothing again. The Kafka
message follows, and once Kafka acknowledged it the document is marked
``kafka_delivered``; an alert found created but not marked (the worker died between the
two, and the bundle is retried) is sent again; within one bundle an alert is sent once.
Two workers handling a replay of the same story at the same moment could both send it:
Kafka consumers de-duplicate on the key, ``alert_id``. Both writes wait out outages;
articles pass through once their alerts are safely written.
"""

from __future__ import annotations

import json
import logging

import apache_beam as beam
from apache_beam.metrics import Metrics
from elasticsearch import ConflictError

from newsmon.analysis.messages import AnalysedArticle
from newsmon.connectors.elasticsearch import make_client, patiently, setup_index
from newsmon.connectors.kafka import make_producer, when_reachable
from newsmon.pipelines.dead_letters import DEAD_LETTER, dead_letter
from newsmon.schemas import SchemaViolationError, validate
from newsmon.settings import Settings

log = logging.getLogger(__name__)
TEMPLATE = "news-alerts"
STAGE = "alerts"


class _Write(beam.DoFn):
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._new = Metrics.counter("WriteAlerts", "new")
        self._repeated = Metrics.counter("WriteAlerts", "already_raised")

    def setup(self) -> None:
        self._client = make_client(self._settings)
        self._producer = when_reachable(lambda: make_producer(self._settings), what="the alerts producer")
        self._index_ready = False

    def teardown(self) -> None:
        self._producer.close(timeout=10)
        self._client.close()

    def start_bundle(self) -> None:
        self._sending: list[tuple[str, object]] = []
        self._in_flight: set[str] = set()

    def process(self, item: AnalysedArticle):
        messages = [alert.to_message() for alert in item.alerts]
        try:
            for message in messages:
                validate("alert", message)
        except SchemaViolationError as exc:
            yield dead_letter(item, STAGE, exc)
            return
        if messages and not self._index_ready:
            patiently(lambda: setup_index(self._client, TEMPLATE, self._settings.es_index_alerts),
                      what="installing the alerts index")
            self._index_ready = True
        for message in messages:
            alert_id = message["alert_id"]
            if alert_id in self._in_flight:
                self._repeated.inc()  # the same story twice in one bundle (a replay)
                continue
            to_send = patiently(lambda message=message: self._claim(message),
                                what=f"recording alert {alert_id}")
            if to_send is None:
                self._repeated.inc()
                continue
            self._new.inc()
            value = json.dumps(to_send, ensure_ascii=False).encode("utf-8")
            future = when_reachable(
                lambda alert_id=alert_id, value=value: self._producer.send(
                    self._settings.topic_alerts, key=alert_id.encode(), value=value),
                what=f"sending alert {alert_id}")
            self._sending.append((alert_id, future))
            self._in_flight.add(alert_id)
        yield item  # committed with the bundle only if finish_bundle succeeds

    def _claim(self, alert: dict) -> dict | None:
        """Create the alert; None when it was raised before and reached Kafka."""
        try:
            self._client.create(index=self._settings.es_index_alerts, id=alert["alert_id"],
                                document=alert | {"kafka_delivered": False, "deliveries": []})
            return alert
        except ConflictError:
            existing = self._client.get(index=self._settings.es_index_alerts, id=alert["alert_id"])["_source"]
            if existing.get("kafka_delivered"):
                return None
            return {key: existing[key] for key in alert}  # as first raised (its alert_time)

    def finish_bundle(self) -> None:
        for alert_id, future in self._sending:
            future.get(timeout=self._settings.kafka_delivery_timeout + 5)  # raises: the bundle is retried
            # Alert delivery records its deliveries in the same document meanwhile: a partial
            # update on a document that changed under it is tried again, not failed (409).
            patiently(lambda alert_id=alert_id: self._client.update(
                index=self._settings.es_index_alerts, id=alert_id, doc={"kafka_delivered": True},
                retry_on_conflict=10), what=f"marking alert {alert_id} delivered")
        self._sending = []


class WriteAlerts(beam.PTransform):
    """Passes the articles through once their alerts are written (output ``articles``); an
    article whose alerts break their schema leaves on ``deadletter``.
    """

    def __init__(self, settings: Settings) -> None:
        super().__init__()
        self._settings = settings

    def expand(self, articles):
        return articles | "Write" >> beam.ParDo(_Write(self._settings)).with_outputs(
            DEAD_LETTER, main="articles")
