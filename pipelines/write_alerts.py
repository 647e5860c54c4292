"""WriteAlerts: each alert into Elasticsearch ``news-alerts`` and Kafka ``news.alerts``, once
per revision.

Elasticsearch decides what is new (``connectors/alert_store.py``): the first article of a
story creates the alert under its deterministic id; a later article of the story updates it
(its id, source and topics added) and sends nothing, unless the re-alert rule
(``Settings.realert_on``) makes that a new revision. A replay, a restart or a second worker
finds the article counted already and sends nothing again. The Kafka message follows, and
once Kafka acknowledged it the document records that revision (``kafka_revision``); an
alert whose current revision was written but not acknowledged (the worker died between the
two, and the bundle is retried) is sent again; within one bundle a revision is sent once.
Two workers handling a replay of the same story at the same moment could both send it:
consumers de-duplicate on ``alert_id`` and ``revision``. Both writes wait out outages;
articles pass through once their alerts are safely written.
"""

from __future__ import annotations

import json
import logging

import apache_beam as beam
from apache_beam.metrics import Metrics

from newsmon.analysis.alert_updates import revision
from newsmon.analysis.messages import AnalysedArticle
from newsmon.connectors.alert_store import AlertStore
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
        self._new = Metrics.counter("WriteAlerts", "new")  # revisions sent (first ones and re-alerts)
        self._repeated = Metrics.counter("WriteAlerts", "already_raised")

    def setup(self) -> None:
        self._client = make_client(self._settings)
        self._store = AlertStore(self._client, self._settings.es_index_alerts,
                                 realert_on=self._settings.realert_on)
        self._producer = when_reachable(lambda: make_producer(self._settings), what="the alerts producer")
        self._index_ready = False

    def teardown(self) -> None:
        self._producer.close(timeout=10)
        self._client.close()

    def start_bundle(self) -> None:
        self._sending: list[tuple[str, int, object]] = []
        self._in_flight: set[tuple[str, int]] = set()

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
            to_send = patiently(lambda message=message: self._store.write(message),
                                what=f"recording alert {alert_id}")
            if to_send is None or (alert_id, revision(to_send)) in self._in_flight:
                self._repeated.inc()  # counted already, or sent in this bundle (a replay)
                continue
            self._new.inc()
            value = json.dumps(to_send, ensure_ascii=False).encode("utf-8")
            future = when_reachable(
                lambda alert_id=alert_id, value=value: self._producer.send(
                    self._settings.topic_alerts, key=alert_id.encode(), value=value),
                what=f"sending alert {alert_id}")
            self._sending.append((alert_id, revision(to_send), future))
            self._in_flight.add((alert_id, revision(to_send)))
        yield item  # committed with the bundle only if finish_bundle succeeds

    def finish_bundle(self) -> None:
        for alert_id, sent, future in self._sending:
            future.get(timeout=self._settings.kafka_delivery_timeout + 5)  # raises: the bundle is retried
            patiently(lambda alert_id=alert_id, sent=sent: self._store.sent(alert_id, sent),
                      what=f"marking alert {alert_id} delivered")
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
