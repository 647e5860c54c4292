"""What flows between the pipeline's steps, and the dead letters it writes.

Every element keeps the Kafka record it came from: its position, to commit the offset
once the element is done, and its bytes, so a dead letter carries the message exactly
as it was read.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from newsmon.connectors.article import rfc3339
from newsmon.pipelines.analysis import Sentence
from newsmon.pipelines.entities import Entity
from newsmon.pipelines.kafka_read import KafkaRecord

DEAD_LETTER_SCHEMA_VERSION = 1


@dataclass(frozen=True)
class AnalysedArticle:
    """An article on its way to Elasticsearch; later steps fill in the later fields."""

    record: KafkaRecord
    article: dict[str, Any]
    text: str = ""
    sentences: tuple[Sentence, ...] = ()
    entities: tuple[Entity, ...] = ()
    topics: tuple[dict[str, Any], ...] = ()  # {"name", "score", "evidence"} of each topic
    alerts: tuple[dict[str, Any], ...] = ()  # schemas/alert.schema.json, one per watched person named
    provenance: dict[str, str] = field(default_factory=dict)

    @property
    def article_id(self) -> str:
        return self.article["article_id"]


def dead_letter(record: KafkaRecord, *, stage: str, reason: str, article_id: str | None = None,
                failed_at: datetime | None = None) -> dict[str, Any]:
    """The ``schemas/deadletter.schema.json`` message for a record newsmon gave up on."""
    try:
        text = record.value.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    return {
        "schema_version": DEAD_LETTER_SCHEMA_VERSION,
        "stage": stage,
        "reason": reason[:5000],
        "source_topic": record.topic,
        "source_partition": record.partition,
        "source_offset": record.offset,
        "original_key": base64.b64encode(record.key).decode() if record.key is not None else None,
        "original_value": base64.b64encode(record.value).decode(),
        "original_text": text,
        "article_id": article_id,
        "failed_at": rfc3339(failed_at or datetime.now(UTC)),
    }
