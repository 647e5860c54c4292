"""Dead letters: what a step gives up on leaves on its ``deadletter`` output, and
WriteDeadLetters sends it to the Kafka dead-letter topic with the step and the reason.

Every step catches what goes wrong with one article and dead-letters that article alone
(:func:`dead_letter`), so a poison message never fails its bundle, which a streaming
runner would retry forever, stalling its partition. Each letter is checked against
``schemas/deadletter.schema.json`` and the bundle only completes once Kafka acknowledged
every one of them, so a rejected message is never lost on its way out either.
"""

from __future__ import annotations

import json
import logging

import apache_beam as beam
from apache_beam.metrics import Metrics

from newsmon.analysis.messages import AnalysedArticle, DeadLetter
from newsmon.connectors.kafka import make_producer, when_reachable
from newsmon.schemas import validate
from newsmon.settings import Settings

log = logging.getLogger(__name__)
DEAD_LETTER = "deadletter"  # the tag of every step's dead-letter output


def dead_letter(item: AnalysedArticle, stage: str, error: Exception) -> beam.pvalue.TaggedOutput:
    """The dead-letter output for ``item``, which ``stage`` failed on with ``error``."""
    Metrics.counter(stage, "dead_lettered").inc()
    log.warning("%s failed on article %s: %s: %s", stage, item.article_id, type(error).__name__, error)
    return beam.pvalue.TaggedOutput(DEAD_LETTER, DeadLetter(
        item.record, stage=stage, article_id=item.article_id, reason=f"{type(error).__name__}: {error}"))


class _Send(beam.DoFn):
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._written = Metrics.counter("WriteDeadLetters", "written")

    def setup(self) -> None:
        self._producer = when_reachable(lambda: make_producer(self._settings),
                                        what="the dead-letter producer")

    def teardown(self) -> None:
        self._producer.close(timeout=10)

    def start_bundle(self) -> None:
        self._pending = []

    def process(self, letter: DeadLetter):
        message = letter.to_message()
        validate("deadletter", message)
        log.warning("dead letter from %s[%d]@%d (%s): %s", letter.record.topic, letter.record.partition,
                    letter.record.offset, letter.stage, letter.reason[:300])
        value = json.dumps(message, ensure_ascii=False).encode("utf-8")
        self._pending.append(when_reachable(
            lambda: self._producer.send(self._settings.topic_deadletter, key=letter.record.key, value=value),
            what="sending a dead letter"))
        # Only committed with the bundle, which finish_bundle fails unless Kafka acknowledged.
        yield letter.record.topic, letter.record.partition, letter.record.offset

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
