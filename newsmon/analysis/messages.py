"""The messages newsmon passes around, typed: articles, topic tags, alerts, dead letters.

Each has ``to_message`` (the JSON object of its schema in ``schemas/``) and, where newsmon
reads it back, ``from_message``. Between the pipeline's steps an article travels as an
:class:`AnalysedArticle`, which keeps the Kafka record it came from: its position, to
commit the offset once the article is done, and its bytes, so a dead letter carries the
message exactly as it was read.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from newsmon.analysis.entities import Entity
from newsmon.analysis.text import Sentence
from newsmon.analysis.topics import TopicTag

DEAD_LETTER_SCHEMA_VERSION = 2
ALERT_SCHEMA_VERSION = 1
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


def parse_time(text: str) -> datetime:
    """A schema's ``date-time`` (RFC 3339) as an aware UTC datetime."""
    return datetime.fromisoformat(text).astimezone(UTC)


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
    content_truncated: bool = False  # content was cut to fit in a Kafka message

    def to_message(self) -> dict[str, Any]:
        message = asdict(self)
        if not self.content_truncated:
            del message["content_truncated"]  # optional in the schema: whole content, as before
        message["schema_version"] = ARTICLE_SCHEMA_VERSION
        message["published_at"] = rfc3339(self.published_at)
        message["fetched_at"] = rfc3339(self.fetched_at)
        message["authors"] = list(self.authors)
        message["categories"] = list(self.categories)
        return message

    @classmethod
    def from_message(cls, message: Mapping[str, Any]) -> Article:
        """The article of a message that matches ``schemas/article.schema.json`` (or of an
        indexed document, which holds the same fields and more).
        """
        return cls(article_id=message["article_id"], url=message.get("url"), guid=message.get("guid"),
                   title=message["title"], summary=message.get("summary"), content=message.get("content"),
                   source_name=message["source_name"], feed_url=message["feed_url"],
                   published_at=parse_time(message["published_at"]),
                   published_at_estimated=message.get("published_at_estimated", False),
                   fetched_at=parse_time(message["fetched_at"]), language=message.get("language"),
                   authors=tuple(message.get("authors", ())), categories=tuple(message.get("categories", ())),
                   content_truncated=message.get("content_truncated", False))


@dataclass(frozen=True)
class Alert:
    """A watched person named in a story (``schemas/alert.schema.json``); ``alert_id`` comes
    from the watch entry and the story, so replays and restarts raise it once.
    """

    alert_id: str
    entry_id: str
    person: str
    list_name: str
    story_id: str
    article_id: str
    matched_forms: tuple[str, ...]
    evidence: tuple[str, ...]
    confidence: float
    topics: tuple[str, ...]
    title: str
    url: str | None
    source_name: str
    published_at: datetime
    alert_time: datetime
    # The story so far (newsmon.analysis.alert_updates adds the later articles); as first
    # raised: this article alone.
    revision: int = 1
    watch_topics: tuple[str, ...] = ()  # the entry's topic filter (empty: every topic)
    article_ids: tuple[str, ...] = ()  # () means (article_id,)
    sources: tuple[str, ...] = ()  # () means (source_name,)
    last_seen: datetime | None = None  # None means published_at

    def __post_init__(self) -> None:
        if not self.article_ids:
            object.__setattr__(self, "article_ids", (self.article_id,))
        if not self.sources:
            object.__setattr__(self, "sources", (self.source_name,))
        if self.last_seen is None:
            object.__setattr__(self, "last_seen", self.published_at)

    def to_message(self) -> dict[str, Any]:
        message = {"schema_version": ALERT_SCHEMA_VERSION} | asdict(self)
        message["list"] = message.pop("list_name")
        for key in ("matched_forms", "evidence", "topics", "watch_topics", "article_ids", "sources"):
            message[key] = list(message[key])
        message["article_count"] = len(self.article_ids)
        message["published_at"] = rfc3339(self.published_at)
        message["alert_time"] = rfc3339(self.alert_time)
        message["last_seen"] = rfc3339(self.last_seen)
        return message

    @classmethod
    def from_message(cls, message: Mapping[str, Any]) -> Alert:
        return cls(alert_id=message["alert_id"], entry_id=message["entry_id"], person=message["person"],
                   list_name=message["list"], story_id=message["story_id"], article_id=message["article_id"],
                   matched_forms=tuple(message["matched_forms"]), evidence=tuple(message["evidence"]),
                   confidence=message["confidence"], topics=tuple(message["topics"]), title=message["title"],
                   url=message["url"], source_name=message["source_name"],
                   published_at=parse_time(message["published_at"]),
                   alert_time=parse_time(message["alert_time"]), revision=message.get("revision", 1),
                   watch_topics=tuple(message.get("watch_topics", ())),
                   article_ids=tuple(message.get("article_ids", ())),
                   sources=tuple(message.get("sources", ())),
                   last_seen=parse_time(message["last_seen"]) if "last_seen" in message else None)


@dataclass(frozen=True)
class AnalysedArticle:
    """An article on its way to Elasticsearch; later steps fill in the later fields."""

    record: KafkaRecord
    article: Article
    text: str = ""  # what spaCy read (newsmon.analysis.text.article_text); offsets refer to it
    sentences: tuple[Sentence, ...] = ()
    entities: tuple[Entity, ...] = ()
    topics: tuple[TopicTag, ...] = ()
    story_id: str | None = None  # set by ClusterStories; None: not clustered (the article is its own story)
    alerts: tuple[Alert, ...] = ()  # one per watch entry whose person the article names
    provenance: dict[str, str] = field(default_factory=dict)

    @property
    def article_id(self) -> str:
        return self.article.article_id


# A dead letter must fit in a Kafka message (1 MiB by default) whatever it carries: beyond
# this many bytes the original is cut, and its size and hash say what it was.
MAX_KEPT_BYTES = 384 * 1024
MAX_LETTER_BYTES = 900 * 1024


@dataclass(frozen=True)
class DeadLetter:
    """A record newsmon gave up on (``schemas/deadletter.schema.json``): where it came from, the
    step and the reason, and its bytes, to repair and replay it.
    """

    record: KafkaRecord
    stage: str
    reason: str
    article_id: str | None = None
    failed_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    def to_message(self) -> dict[str, Any]:
        value, key = self.record.value, self.record.key
        kept = value[:MAX_KEPT_BYTES]
        message = {
            "schema_version": DEAD_LETTER_SCHEMA_VERSION,
            "stage": self.stage,
            "reason": self.reason[:5000],
            "source_topic": self.record.topic,
            "source_partition": self.record.partition,
            "source_offset": self.record.offset,
            "original_key": base64.b64encode(key[:MAX_KEPT_BYTES]).decode() if key is not None else None,
            "original_value": base64.b64encode(kept).decode(),
            "original_size": len(value),
            "original_sha256": hashlib.sha256(value).hexdigest(),
            "original_truncated": len(kept) < len(value),
            "original_text": None,
            "article_id": self.article_id,
            "failed_at": rfc3339(self.failed_at),
        }
        if not message["original_truncated"]:
            try:
                message["original_text"] = value.decode("utf-8")
            except UnicodeDecodeError:
                pass
            if len(json.dumps(message, ensure_ascii=False).encode()) > MAX_LETTER_BYTES:
                message["original_text"] = None  # the bytes alone, then: they fit
        return message
