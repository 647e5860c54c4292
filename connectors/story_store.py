"""Stories in Elasticsearch (alias ``news-stories``, ``_id`` = story_id): the
:class:`~newsmon.analysis.stories.StoryStore` of the pipeline's ClusterStories step.

Each document holds what an analyst reads (headline, first and last seen, counts,
sources, topics, people, organisations, places, article ids), the keys the core looks stories up
by (``band_keys``: MinHash LSH bands; ``keys``: those and the ``t:`` terms and ``e:``
entities) and, in ``profile`` (stored, not indexed), the whole :class:`Story` as
:meth:`Story.to_dict` gives it, which is what is read back.

- ``story_of``: a ``term`` query on ``article_ids``;
- ``candidates``: the stories whose span meets the window (``range`` on ``first_seen`` and
  ``last_seen``) sharing a band key, all of them, then up to ``limit`` sharing any other key,
  most shared keys first (one ``constant_score`` clause per key, so the score counts them;
  ties by story_id), exactly as :class:`~newsmon.analysis.stories.InMemoryStoryStore` ranks;
- ``save``: the document indexed under the story's id (a replay overwrites it).

Searches only see what the index has refreshed (every second), and the next article must
see the story the previous one just changed. Rather than a refresh per article, the store
keeps the stories *it* saved in the last ``cache_seconds`` (60, far beyond the refresh
interval) and answers from them first: a cached story is left out of the Elasticsearch
queries (``must_not`` ids) and put back in its newest version, then the union is ranked
as the in-memory store ranks. This is only right when one writer changes the stories at a
time, which ClusterStories guarantees (one key, serial); the cache is per process.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from elasticsearch import Elasticsearch

from newsmon.analysis.stories import InMemoryStoryStore, Story, StoryConfig
from newsmon.connectors.elasticsearch import patiently, setup_index

TEMPLATE = "news-stories"
CACHE_SECONDS = 60.0
MAX_CACHED = 5000  # beyond this (a burst), the index is refreshed and the cache emptied
MAX_BAND_HITS = 1000
MAX_KEYS = 1000  # Elasticsearch caps the clauses of one query (indices.query.bool.max_clause_count)
ENTITY_FIELDS = {"person": "persons", "org": "organisations", "place": "places"}


def story_document(story: Story, config: StoryConfig, *, updated_at: datetime | None = None
                   ) -> dict[str, Any]:
    """The Elasticsearch document of a story; ``profile`` is :meth:`Story.to_dict`."""
    profile = story.to_dict()
    document: dict[str, Any] = {
        "story_id": story.story_id, "headline": story.headline,
        "first_seen": profile["first_seen"], "last_seen": profile["last_seen"],
        "updated_at": (updated_at or datetime.now(UTC)).isoformat(),
        "article_count": len(story.article_ids), "source_count": len(story.sources),
        "sources": list(story.sources), "article_ids": list(story.article_ids), "topics": list(story.topics),
        "band_keys": sorted(story.band_keys),
        "keys": sorted(story.band_keys | story.lookup_keys(config)),
        "profile": profile}
    for field in ENTITY_FIELDS.values():
        document[field] = []
    for entity, _ in story.entities:
        kind, _, name = entity.partition(":")
        if kind in ENTITY_FIELDS:
            document[ENTITY_FIELDS[kind]].append(name)
    return document


class ElasticsearchStoryStore:
    """A :class:`~newsmon.analysis.stories.StoryStore` on ``alias``, for one writer at a time.

    Every call waits out outages (:func:`~newsmon.connectors.elasticsearch.patiently`);
    other errors are raised.
    """

    def __init__(self, client: Elasticsearch, alias: str, config: StoryConfig | None = None, *,
                 cache_seconds: float = CACHE_SECONDS, max_cached: int = MAX_CACHED,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.client, self.alias = client, alias
        self.config = config or StoryConfig()
        self.cache_seconds, self.max_cached, self._clock = cache_seconds, max_cached, clock
        self._cached: dict[str, tuple[Story, float]] = {}  # story_id → (story, when saved)
        self._cached_articles: dict[str, str] = {}  # article_id → story_id, of the cached stories

    def setup(self) -> str:
        """Install the template and the index behind the alias (idempotent)."""
        return patiently(lambda: setup_index(self.client, TEMPLATE, self.alias),
                         what="installing the stories index")

    # The cache of stories saved by this store.

    def _forget(self, story_id: str) -> None:
        story, _ = self._cached.pop(story_id)
        for article_id in story.article_ids:
            if self._cached_articles.get(article_id) == story_id:
                del self._cached_articles[article_id]

    def _expire(self) -> None:
        oldest = self._clock() - self.cache_seconds
        for story_id in [sid for sid, (_, saved) in self._cached.items() if saved < oldest]:
            self._forget(story_id)
        if len(self._cached) > self.max_cached:
            patiently(lambda: self.client.indices.refresh(index=self.alias),
                      what="refreshing the stories index")
            for story_id in list(self._cached):
                self._forget(story_id)

    def cached(self) -> dict[str, Story]:
        self._expire()
        return {story_id: story for story_id, (story, _) in self._cached.items()}

    # The StoryStore protocol.

    def story_of(self, article_id: str) -> Story | None:
        self._expire()
        story_id = self._cached_articles.get(article_id)
        if story_id is not None:
            return self._cached[story_id][0]
        hits = self._search({"bool": {"filter": [{"term": {"article_ids": article_id}}]}}, size=1)
        return hits[0] if hits else None

    def candidates(self, keys: Iterable[str], since: datetime, until: datetime, limit: int) -> list[Story]:
        keys = list(dict.fromkeys(keys))[:MAX_KEYS]
        bands = [key for key in keys if not key.startswith(("t:", "e:"))]
        lookups = [key for key in keys if key.startswith(("t:", "e:"))]
        cached = self.cached()
        window = [{"range": {"last_seen": {"gte": since.isoformat()}}},
                  {"range": {"first_seen": {"lte": until.isoformat()}}}]
        not_cached = [{"ids": {"values": list(cached)}}] if cached else []
        found: dict[str, Story] = {}
        if bands:
            query = {"bool": {"filter": [*window, {"terms": {"band_keys": bands}}], "must_not": not_cached}}
            found |= {story.story_id: story for story in self._search(query, size=MAX_BAND_HITS)}
        if lookups:
            query = {"bool": {"filter": window, "must_not": not_cached, "minimum_should_match": 1,
                              "should": [{"constant_score": {"filter": {"term": {"keys": key}}}}
                                         for key in lookups]}}
            found |= {story.story_id: story for story in self._search(query, size=limit)}
        # Rank the union with the newest version of each cached story as the in-memory store does.
        ranking = InMemoryStoryStore(self.config)
        for story in [*found.values(), *cached.values()]:
            ranking.save(story)
        return ranking.candidates(keys, since, until, limit)

    def save(self, story: Story) -> None:
        document = story_document(story, self.config)
        patiently(lambda: self.client.index(index=self.alias, id=story.story_id, document=document),
                  what=f"saving story {story.story_id}")
        if story.story_id in self._cached:
            self._forget(story.story_id)
        self._cached[story.story_id] = (story, self._clock())  # re-inserted: the newest last
        for article_id in story.article_ids:
            self._cached_articles[article_id] = story.story_id

    def _search(self, query: dict[str, Any], size: int) -> list[Story]:
        response = patiently(lambda: self.client.search(
            index=self.alias, query=query, size=size, sort=["_score", {"story_id": "asc"}],
            source=["profile"], track_total_hits=False), what="looking up stories")
        return [Story.from_dict(hit["_source"]["profile"]) for hit in response["hits"]["hits"]]
