"""A later article of an alert's story, folded into the alert; and the re-alert rule.

An alert (``schemas/alert.schema.json``) is raised by the first article of a story that
names a watched person. Each later article of that story that names the person too adds
its id, its source and its topics to the alert, and becomes its ``latest`` when it was
published last; the first article's title, link and evidence stay as raised. An article
the alert already counts changes nothing, so replays are idempotent.

The re-alert rule (``NEWSMON_REALERT_ON``): with ``new-topic`` (the default) a later
article that brings a *watched* topic the alert did not have raises the alert's next
revision, which is sent and delivered again; with ``never`` nothing is sent after the
first revision. A topic is watched when the entry's topic filter names it; an entry
without a filter watches every topic, because it follows the person in any context, and a
story about a prisoner release that turns into one about sanctions is news to its reader.
Topics only accumulate, so each topic raises at most one revision.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from newsmon.analysis.messages import parse_time
from newsmon.settings import REALERT_RULES

MAX_ARTICLES = 1000  # article ids an alert keeps; later articles of a bigger story are not added
MAX_SOURCES = 200
MAX_TOPICS = 50
# Fields of the document that are bookkeeping, not part of the alert message.
BOOKKEEPING = ("kafka_delivered", "kafka_revision", "deliveries")
LATEST_FIELDS = ("article_id", "title", "url", "source_name", "published_at")


@dataclass(frozen=True)
class AlertUpdate:
    """What a later article does to an alert: ``document`` is the alert with it (None when the
    alert already counts the article: nothing changes), and ``revised`` says whether that is
    a new revision to send.
    """

    document: dict[str, Any] | None
    revised: bool = False


def revision(alert: Mapping[str, Any]) -> int:
    """The alert's revision (absent in alerts raised before revisions: 1)."""
    return alert.get("revision", 1)


def acknowledged(document: Mapping[str, Any]) -> int:
    """The latest revision of a stored alert that Kafka acknowledged (0: none yet)."""
    if "kafka_revision" in document:
        return document["kafka_revision"]
    return revision(document) if document.get("kafka_delivered") else 0


def message_of(document: Mapping[str, Any]) -> dict[str, Any]:
    """The alert message of a stored alert document (without its bookkeeping)."""
    return {key: value for key, value in document.items() if key not in BOOKKEEPING}


def watched(topics: Sequence[str], watch_topics: Sequence[str]) -> list[str]:
    """Those of ``topics`` an entry with topic filter ``watch_topics`` watches (all without one)."""
    if not watch_topics:
        return list(topics)
    wanted = {topic.casefold() for topic in watch_topics}
    return [topic for topic in topics if topic.casefold() in wanted]


def _latest(alert: Mapping[str, Any]) -> dict[str, Any]:
    return dict(alert["latest"]) if "latest" in alert else {key: alert[key] for key in LATEST_FIELDS}


def _later(article: Mapping[str, Any], than: Mapping[str, Any]) -> bool:
    """Published later (ties: the greater article id), whatever order the articles came in."""
    return ((parse_time(article["published_at"]), article["article_id"])
            > (parse_time(than["published_at"]), than["article_id"]))


def fold(alert: Mapping[str, Any], later: Mapping[str, Any], *, realert_on: str) -> AlertUpdate:
    """Fold ``later`` (the alert as the article of the same story raised it) into the stored
    ``alert`` (a document of ``news-alerts``, bookkeeping fields included, or a message).
    """
    if alert["alert_id"] != later["alert_id"]:
        msg = f"alert {later['alert_id']} cannot update alert {alert['alert_id']}"
        raise ValueError(msg)
    if realert_on not in REALERT_RULES:
        msg = f"realert_on must be one of {', '.join(REALERT_RULES)}, got {realert_on!r}"
        raise ValueError(msg)
    article_ids = list(alert.get("article_ids") or [alert["article_id"]])
    if later["article_id"] in article_ids or len(article_ids) >= MAX_ARTICLES:
        return AlertUpdate(None)
    document = dict(alert)
    document["article_ids"] = [*article_ids, later["article_id"]]
    document["article_count"] = len(document["article_ids"])
    sources = {*(alert.get("sources") or [alert["source_name"]]), later["source_name"]}
    document["sources"] = sorted(sources)[:MAX_SOURCES]
    new_topics = [topic for topic in dict.fromkeys(later["topics"]) if topic not in alert["topics"]]
    document["topics"] = [*alert["topics"], *new_topics][:MAX_TOPICS]
    latest = _latest(alert)
    if _later(later, latest):
        latest = {key: later[key] for key in LATEST_FIELDS}
    document["latest"] = latest
    document["last_seen"] = latest["published_at"]
    watch_topics = later.get("watch_topics", alert.get("watch_topics", []))
    document["watch_topics"] = list(watch_topics)
    gained = [topic for topic in watched(new_topics, watch_topics) if topic in document["topics"]]
    if not gained or realert_on == "never":
        return AlertUpdate(document)
    document["revision"] = revision(alert) + 1
    document["gained_topics"] = gained
    document["revised_at"] = later["alert_time"]
    if "kafka_delivered" in document or "kafka_revision" in document:  # a stored document
        document["kafka_revision"] = acknowledged(alert)
        document["kafka_delivered"] = False
    return AlertUpdate(document, revised=True)
