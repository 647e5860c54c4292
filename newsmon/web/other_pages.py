"""What the story, alerts and health pages show, read from Elasticsearch, Kafka and the
poller's state (the watch page uses :mod:`newsmon.connectors.watchlist_store` directly).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from elasticsearch import Elasticsearch

from newsmon.connectors.story_search import story_timeline
from newsmon.settings import Settings

ALERTS_SHOWN = 200
LETTERS_SHOWN = 50
LETTERS_SINCE = timedelta(days=7)
ALERT_FIELDS = ["alert_id", "person", "list", "matched_forms", "evidence", "topics", "title", "url",
                "source_name", "published_at", "alert_time", "story_id", "article_id", "revision",
                "revised_at", "gained_topics", "article_count", "sources"]


def story(client: Elasticsearch, settings: Settings, story_id: str) -> dict[str, Any] | None:
    """What ``newsmon stories show`` reads (:func:`story_timeline`), for the page; None when
    neither the story nor any article of it is indexed.
    """
    timeline = story_timeline(client, settings.es_index_stories, settings.es_index_articles, story_id)
    if timeline.story is None and not timeline.articles:
        return None
    saved, articles = timeline.story, timeline.articles
    sources = Counter(article.get("source_name", "") for article in articles)
    persons = saved["persons"] if saved else sorted({p for a in articles for p in a.get("persons", [])})
    return {"story_id": story_id, "saved": saved, "articles": articles,
            "headline": saved["headline"] if saved else articles[0]["title"],
            "sources": sources.most_common(), "persons": persons,
            "topics": saved.get("topics", []) if saved else sorted(
                {t["name"] for a in articles for t in a.get("topics", [])})}


@dataclass(frozen=True)
class AlertFilter:
    """Which alerts the alerts page (and its live updates) shows."""

    list_name: str = ""
    person: str = ""
    topic: str = ""

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> AlertFilter:
        return cls(*((params.get(name) or "").strip() for name in ("list", "person", "topic")))

    def query(self) -> dict[str, Any]:
        chosen = (("list", self.list_name), ("person", self.person), ("topics", self.topic))
        return {"bool": {"filter": [{"term": {name: value}} for name, value in chosen if value]}}

    def accepts(self, alert: Mapping[str, Any]) -> bool:
        return ((not self.list_name or alert.get("list") == self.list_name)
                and (not self.person or alert.get("person") == self.person)
                and (not self.topic or self.topic in alert.get("topics", ())))


def alerts(client: Elasticsearch, settings: Settings, chosen: AlertFilter) -> dict[str, Any]:
    """The newest alerts that pass ``chosen``, and the lists, people and topics to filter by."""
    if not client.indices.exists_alias(name=settings.es_index_alerts):
        return {"alerts": [], "total": 0, "choices": {}}
    aggs = {name: {"terms": {"field": name, "size": 100}} for name in ("list", "person", "topics")}
    result = client.search(index=settings.es_index_alerts, query=chosen.query(), size=ALERTS_SHOWN,
                           sort=[{"alert_time": "desc"}, {"alert_id": "asc"}], source=ALERT_FIELDS,
                           aggs=aggs, track_total_hits=True)
    return {"alerts": [hit["_source"] for hit in result["hits"]["hits"]],
            "total": result["hits"]["total"]["value"],
            "choices": {name: [b["key"] for b in result["aggregations"][name]["buckets"]] for name in aggs}}


def health(settings: Settings) -> dict[str, Any]:
    """Feeds (last success, last error), the pipeline's lag per partition, recent dead letters.
    A part that cannot be read says why instead of failing the page.
    """
    parts = {"feeds": _feeds, "lag": _lag, "letters": _letters}
    with ThreadPoolExecutor(len(parts)) as pool:  # each waits on its own service
        futures = {name: pool.submit(_part, read, settings) for name, read in parts.items()}
    return {name: future.result() for name, future in futures.items()}


def _part(read, settings: Settings) -> dict[str, Any]:
    try:
        return {"ok": True} | read(settings)
    except Exception as exc:  # noqa: BLE001 - shown on the page: the other parts still show
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}"}


def _feeds(settings: Settings) -> dict[str, Any]:
    from newsmon.connectors.feed_store import FeedStore

    path = settings.home / "feeds.sqlite3"
    if not path.exists():
        return {"feeds": [], "path": str(path)}
    store = FeedStore(path)
    try:
        return {"feeds": store.statuses(), "path": str(path)}
    finally:
        store.close()


def _lag(settings: Settings) -> dict[str, Any]:
    from newsmon.connectors.kafka import consumer_lag
    from newsmon.pipelines.article_pipeline import DEFAULT_CONSUMER_GROUP

    lag = consumer_lag(settings, DEFAULT_CONSUMER_GROUP, settings.topic_articles)
    rows = [{"partition": p, "committed": done, "end": end, "lag": end - (done or 0)}
            for p, (done, end) in sorted(lag.items())]
    return {"group": DEFAULT_CONSUMER_GROUP, "topic": settings.topic_articles, "partitions": rows,
            "total": sum(row["lag"] for row in rows)}


def _letters(settings: Settings) -> dict[str, Any]:
    from newsmon.connectors.dead_letter_store import Letter, read_letters
    from newsmon.connectors.kafka import make_admin

    admin = make_admin(settings)
    try:
        exists = settings.topic_deadletter in admin.list_topics()
    finally:
        admin.close()
    since = datetime.now(UTC) - LETTERS_SINCE
    letters = list(read_letters(settings, since=since)) if exists else []
    readable = [letter for letter in letters if isinstance(letter, Letter)]
    newest = sorted(readable, key=lambda letter: letter.failed_at, reverse=True)[:LETTERS_SHOWN]
    return {"topic": settings.topic_deadletter, "since": since, "count": len(letters),
            "unreadable": len(letters) - len(readable), "per_stage": Counter(x.stage for x in readable),
            "newest": newest}
