"""WriteDeadLetters: rejected messages to the Kafka dead-letter topic, with their reason.

Each dead letter is checked against ``schemas/deadletter.schema.json`` and the bundle
only completes once Kafka acknowledged every one of them, so a rejected message is
never lost on its way out either.
"""

from __future__ import annotations

import base64
import json
import logging

import apache_beam as beam
from apache_beam.metrics import Metrics

from newsmon.connectors.kafka import make_producer
from newsmon.schemas import validate
from newsmon.settings import Settings

log = logging.getLogger(__name__)


class _Send(beam.DoFn):
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._written = Metrics.counter("WriteDeadLetters", "written")

    def setup(self) -> None:
        self._producer = make_producer(self._settings)

    def teardown(self) -> None:
        self._producer.close(timeout=10)

    def start_bundle(self) -> None:
        self._pending = []

    def process(self, letter: dict):
        validate("deadletter", letter)
        log.warning("dead letter from %s[%d]@%d (%s): %s", letter["source_topic"], letter["source_partition"],
                    letter["source_offset"], letter["stage"], letter["reason"][:300])
        key = base64.b64decode(letter["original_key"]) if letter["original_key"] else None
        value = json.dumps(letter, ensure_ascii=False).encode("utf-8")
        self._pending.append(self._producer.send(self._settings.topic_deadletter, key=key, value=value))
        # Only committed with the bundle, which finish_bundle fails unless Kafka acknowledged.
        yield letter["source_topic"], letter["source_partition"], letter["source_offset"]

    def finish_bundle(self) -> None:
        for future in self._pending:
            future.get(timeout=self._settings.kafka_delivery_timeout + 5)  # raises: the bundle is retried
            self._written.inc()
        self._pending = []


class WriteDeadLetters(beam.PTransform):
    """Returns ``(topic, partition, offset)`` of each record whose dead letter was written."""

    def __init__(self, settings: Settings) -> None:
        super().__init__()
        self._settings = settings

    def expand(self, letters):
        return letters | "Send" >> beam.ParDo(_Send(self._settings))
