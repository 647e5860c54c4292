"""Reading the stories: what ``newsmon stories`` asks of ``news-stories`` and ``news-articles``.

The bodies are built by pure functions (as in :mod:`newsmon.connectors.search`), so a
test or ``--explain`` can see exactly what is sent; :func:`list_stories` and
:func:`story_timeline` send them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from elasticsearch import Elasticsearch

STORY_FIELDS = ["story_id", "headline", "first_seen", "last_seen", "article_count", "source_count",
                "sources", "topics", "persons", "organisations", "places"]
ARTICLE_FIELDS = ["article_id", "published_at", "source_name", "title", "url", "topics.name"]
MAX_TIMELINE = 10_000  # Elasticsearch's default index.max_result_window


@dataclass(frozen=True)
class StoryListRequest:
    topics: tuple[str, ...] = ()  # any of them
    persons: tuple[str, ...] = ()  # all of them
    since: datetime | None = None  # last seen since
    size: int = 20


def build_story_list(request: StoryListRequest) -> dict[str, Any]:
    """The body of a ``_search`` on the stories: newest (last seen) first, every filter required."""
    filters: list[dict[str, Any]] = []
    if request.topics:
        filters.append({"terms": {"topics": list(request.topics)}})
    filters += [{"term": {"persons": person}} for person in request.persons]
    if request.since is not None:
        filters.append({"range": {"last_seen": {"gte": request.since.isoformat()}}})
    return {"query": {"bool": {"filter": filters}}, "size": request.size, "_source": STORY_FIELDS,
            "sort": [{"last_seen": "desc"}, {"story_id": "asc"}]}


def build_timeline(story_id: str, size: int = MAX_TIMELINE) -> dict[str, Any]:
    """The body of a ``_search`` on the articles: a story's articles, oldest first."""
    return {"query": {"bool": {"filter": [{"term": {"story_id": story_id}}]}}, "size": size,
            "_source": ARTICLE_FIELDS, "sort": [{"published_at": "asc"}, {"article_id": "asc"}]}


def list_stories(client: Elasticsearch, alias: str, request: StoryListRequest) -> tuple[int, list[dict]]:
    """How many stories match and the first ``request.size`` of them (no index yet: none)."""
    if not client.indices.exists_alias(name=alias):
        return 0, []
    result = client.search(index=alias, track_total_hits=True, **build_story_list(request))
    return result["hits"]["total"]["value"], [hit["_source"] for hit in result["hits"]["hits"]]


@dataclass(frozen=True)
class Timeline:
    story: dict[str, Any] | None  # None: no such story document (its articles may still be indexed)
    articles: list[dict[str, Any]]


def story_timeline(client: Elasticsearch, stories_alias: str, articles_alias: str, story_id: str) -> Timeline:
    """The story document and its indexed articles, oldest first."""
    story = None
    if client.indices.exists_alias(name=stories_alias):
        # a search, not a get: during a migration the alias spans two indices
        hits = client.search(index=stories_alias, query={"ids": {"values": [story_id]}}, size=1,
                             source=STORY_FIELDS)["hits"]["hits"]
        story = hits[0]["_source"] if hits else None
    articles: list[dict[str, Any]] = []
    if client.indices.exists_alias(name=articles_alias):
        result = client.search(index=articles_alias, **build_timeline(story_id))
        articles = [hit["_source"] for hit in result["hits"]["hits"]]
    return Timeline(story, articles)
