"""What flows between the pipeline's steps, and the dead letters it writes.

Every element keeps the Kafka record it came from: its position, to commit the offset
once the element is done, and its bytes, so a dead letter carries the message exactly
as it was read.
"""

from __future__ import annotations

import base64
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from newsmon.analysis.entities import Entity
from newsmon.analysis.text import Sentence

DEAD_LETTER_SCHEMA_VERSION = 1
ARTICLE_SCHEMA_VERSION = 1


@dataclass(frozen=True)
class KafkaRecord:
    """One message as read: where it came from, its key and value bytes, its timestamp."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    timestamp_ms: int


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Article:
    """One article as sent to Kafka; :meth:`to_message` gives the schema's JSON object."""

    article_id: str
    url: str | None
    guid: str | None
    title: str
    summary: str | None
    content: str | None
    source_name: str
    feed_url: str
    published_at: datetime
    published_at_estimated: bool
    fetched_at: datetime
    language: str | None = None
    authors: tuple[str, ...] = field(default_factory=tuple)
    categories: tuple[str, ...] = field(default_factory=tuple)

    def to_message(self) -> dict[str, Any]:
        message = asdict(self)
        message["schema_version"] = ARTICLE_SCHEMA_VERSION
        message["published_at"] = rfc3339(self.published_at)
        message["fetched_at"] = rfc3339(self.fetched_at)
        message["authors"] = list(self.authors)
        message["categories"] = list(self.categories)
        return message


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
