"""Alerts from watch-list matches: one per watch entry and story, with a deterministic id
(the first article of a story raises it; later ones of the same story have the same id and
update it: ``newsmon.analysis.alert_updates``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime

from newsmon.analysis.messages import Alert, Article
from newsmon.analysis.name_matcher import Match

MAX_FORMS = 20
MAX_EVIDENCE = 5


def alert_id(entry_id: str, story_id: str) -> str:
    """The same entry and story give the same id, whichever worker, replay or restart."""
    return hashlib.sha256(f"{entry_id}\n{story_id}".encode()).hexdigest()[:32]


def _unique(values: Sequence[str], limit: int) -> tuple[str, ...]:
    return tuple(dict.fromkeys(value.strip() for value in values if value.strip()))[:limit]


def build_alert(article: Article, topics: Sequence[str], mentions: Sequence[Match], *,
                alert_time: datetime, story_id: str | None = None) -> Alert:
    """The alert for the ``mentions`` (all of one watch entry) of one article, in story
    ``story_id`` (an article not grouped into a story is its own: its article_id).
    """
    entry = mentions[0].entry
    story_id = story_id or article.article_id
    return Alert(
        alert_id=alert_id(entry.entry_id, story_id), entry_id=entry.entry_id, person=entry.name,
        list_name=entry.list_name, story_id=story_id, article_id=article.article_id,
        matched_forms=_unique([m.form for m in mentions], MAX_FORMS),
        evidence=tuple(text[:5000] for text in _unique([m.evidence for m in mentions], MAX_EVIDENCE)),
        confidence=round(max(m.confidence for m in mentions), 4), topics=tuple(topics), title=article.title,
        url=article.url, source_name=article.source_name, published_at=article.published_at,
        alert_time=alert_time, watch_topics=tuple(entry.topics))


def alerts_for(article: Article, topics: Sequence[str], mentions: Sequence[Match], *,
               alert_time: datetime, story_id: str | None = None) -> list[Alert]:
    """One alert per watch entry among ``mentions``, in the order they are first named; the
    alert of an entry is the same for every article of story ``story_id`` (same ``alert_id``).
    """
    by_entry: dict[str, list[Match]] = {}
    for mention in mentions:
        by_entry.setdefault(mention.entry.entry_id, []).append(mention)
    return [build_alert(article, topics, group, alert_time=alert_time, story_id=story_id)
            for group in by_entry.values()]
