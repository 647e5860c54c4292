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

ClusterStories assigns the articles of a bundle within :meth:`ElasticsearchStoryStore.batch`,
in three round trips instead of three per article: which of them are already assigned (one
search), the candidate searches of the others (one ``msearch``; a replayed article needs
none), and, when the batch ends, the stories saved, each in its newest version (one bulk
request). Until then the cache answers for them, and nothing leaves the cache before it is
written. The index does not change during a batch, so a prepared answer is the answer the
search would give later, unless it holds a story the batch has changed since: that
article's searches are sent again (without the changed stories, as always).

Searches only see what the index has refreshed (every second), and the next article must
see the story the previous one just changed. Rather than a refresh per article, the store
keeps the stories *it* saved in the last ``cache_seconds`` (60, far beyond the refresh
interval) and answers from them first: a cached story is left out of the Elasticsearch
queries (``must_not`` ids) and put back in its newest version, then the union is ranked
as the in-memory store ranks. This is only right when one writer changes the stories at a
time, which ClusterStories guarantees (one key, serial); the cache is per process.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from elasticsearch import ApiError, Elasticsearch

from newsmon.analysis.stories import ArticleProfile, InMemoryStoryStore, Story, StoryConfig, lookup_of
from newsmon.connectors.elasticsearch import patiently, setup_index, write_documents
from newsmon.errors import DocumentRefusedError

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


@dataclass
class Written:
    """What a :meth:`ElasticsearchStoryStore.batch` wrote: filled in when the batch ends."""

    refused: dict[str, DocumentRefusedError] = dataclasses.field(default_factory=dict)  # by story_id


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
        self._known: dict[str, Story | None] | None = None  # in a batch: its articles' stories, looked up
        self._prepared: dict[tuple, list[Story]] = {}  # in a batch: candidate searches answered ahead
        self._pending: dict[str, Story] | None = None  # in a batch: the stories saved, not yet written

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

    def _remember(self, story: Story) -> None:
        if story.story_id in self._cached:
            self._forget(story.story_id)
        self._cached[story.story_id] = (story, self._clock())  # re-inserted: the newest last
        for article_id in story.article_ids:
            self._cached_articles[article_id] = story.story_id

    def _expire(self) -> None:
        if self._pending is not None:  # in a batch: what it saved stays until it is written
            return
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
        if self._known is not None and article_id in self._known:
            return self._known[article_id]
        hits = self._search_all([({"bool": {"filter": [{"term": {"article_ids": article_id}}]}}, 1)])[0]
        return hits[0] if hits else None

    def candidates(self, keys: Iterable[str], since: datetime, until: datetime, limit: int) -> list[Story]:
        keys = list(dict.fromkeys(keys))[:MAX_KEYS]
        cached = self.cached()
        found = self._prepared.get((tuple(keys), since, until, limit))
        if found is None or any(story.story_id in cached for story in found):
            found = [story for answer in self._search_all(_searches(keys, since, until, limit, cached))
                     for story in answer]
        # Rank the union with the newest version of each cached story as the in-memory store does.
        ranking = InMemoryStoryStore(self.config)
        for story in [*{story.story_id: story for story in found}.values(), *cached.values()]:
            ranking.save(story)
        return ranking.candidates(keys, since, until, limit)

    def save(self, story: Story) -> None:
        if self._pending is not None:
            self._pending[story.story_id] = story
        else:
            document = story_document(story, self.config)
            patiently(lambda: self.client.index(index=self.alias, id=story.story_id, document=document),
                      what=f"saving story {story.story_id}")
        self._remember(story)

    # Batches.

    @contextmanager
    def batch(self, profiles: Sequence[ArticleProfile]) -> Iterator[Written]:
        """Assign these articles: the stories of those already assigned are looked up in one
        search, the candidates of the others in one ``msearch``, and the stories saved inside
        are written in one bulk request on leaving (also when an error leaves it: they are in
        the cache already). Yields a :class:`Written`, filled in then; a story Elasticsearch
        refused for good is dropped from the cache.
        """
        self._expire()
        asked = {profile.article_id: profile for profile in profiles
                 if profile.article_id not in self._cached_articles}
        self._known = self._stories_of(list(asked))
        self._prepared = self._prepare([profile for article_id, profile in asked.items()
                                        if self._known[article_id] is None])
        self._pending, written = {}, Written()
        try:
            yield written
        finally:
            pending, self._pending, self._known, self._prepared = self._pending, None, None, {}
            written.refused = self._write(pending)

    def _prepare(self, profiles: list[ArticleProfile]) -> dict[tuple, list[Story]]:
        """The answers of the articles' candidate searches, found in one round trip."""
        cached = self.cached()
        lookups = {}
        for profile in profiles:
            lookup = lookup_of(profile, self.config)
            keys = list(dict.fromkeys(lookup["keys"]))[:MAX_KEYS]
            lookups[(tuple(keys), lookup["since"], lookup["until"], lookup["limit"])] = _searches(
                keys, lookup["since"], lookup["until"], lookup["limit"], cached)
        answers = iter(self._search_all([search for searches in lookups.values() for search in searches]))
        return {lookup: [story for _ in searches for story in next(answers)]
                for lookup, searches in lookups.items()}

    def _stories_of(self, article_ids: list[str]) -> dict[str, Story | None]:
        """Each article's story (None when unassigned), as :meth:`story_of` would give it."""
        known: dict[str, Story | None] = dict.fromkeys(article_ids)
        query = {"bool": {"filter": [{"terms": {"article_ids": article_ids}}]}}
        for story in self._search_all([(query, len(article_ids))])[0] if article_ids else []:
            for article_id in story.article_ids:  # by story_id, as story_of's first hit
                if article_id in known and known[article_id] is None:
                    known[article_id] = story
        return known

    def _write(self, stories: dict[str, Story]) -> dict[str, DocumentRefusedError]:
        updated_at = datetime.now(UTC)
        refusals = write_documents(self.client, self.alias, [
            (story_id, story_document(story, self.config, updated_at=updated_at))
            for story_id, story in stories.items()])
        refused = {}
        for refusal in refusals:
            self._forget(refusal.doc_id)  # as a refused save never entered the cache
            msg = (f"Elasticsearch refused story {refusal.doc_id} in {self.alias} "
                   f"(HTTP {refusal.status}): {refusal.reason}")
            refused[refusal.doc_id] = DocumentRefusedError(msg)
        return refused

    def _msearch(self, body: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The answers of one ``msearch``; a search that failed raises its error as a whole
        request would, so that :func:`patiently` waits out what waiting can fix (429, 503).
        """
        response = self.client.msearch(index=self.alias, searches=body)
        for answer in response["responses"]:
            if "error" in answer:
                meta = dataclasses.replace(response.meta, status=answer.get("status", 500))
                raise ApiError(str(answer["error"]), meta=meta, body=answer)
        return response["responses"]

    def _search_all(self, searches: list[tuple[dict[str, Any], int]]) -> list[list[Story]]:
        """The stories each query finds, query by query, in one round trip (``msearch``)."""
        if not searches:
            return []
        body: list[dict[str, Any]] = []
        for query, size in searches:
            body += [{}, {"query": query, "size": size, "sort": ["_score", {"story_id": "asc"}],
                          "_source": ["profile"], "track_total_hits": False}]
        responses = patiently(lambda: self._msearch(body), what="looking up stories")
        return [[Story.from_dict(hit["_source"]["profile"]) for hit in answer["hits"]["hits"]]
                for answer in responses]


def _searches(keys: list[str], since: datetime, until: datetime, limit: int, cached: dict[str, Story]
              ) -> list[tuple[dict[str, Any], int]]:
    """The queries of a candidate lookup: the stories in the window sharing a band key (all of
    them), and those sharing any other key (the best ``limit``), leaving the cached ones out.
    """
    bands = [key for key in keys if not key.startswith(("t:", "e:"))]
    lookups = [key for key in keys if key.startswith(("t:", "e:"))]
    window = [{"range": {"last_seen": {"gte": since.isoformat()}}},
              {"range": {"first_seen": {"lte": until.isoformat()}}}]
    not_cached = [{"ids": {"values": list(cached)}}] if cached else []
    searches = []
    if bands:
        searches.append(({"bool": {"filter": [*window, {"terms": {"band_keys": bands}}],
                                    "must_not": not_cached}}, MAX_BAND_HITS))
    if lookups:
        searches.append(({"bool": {"filter": window, "must_not": not_cached, "minimum_should_match": 1,
                                    "should": [{"constant_score": {"filter": {"term": {"keys": key}}}}
                                               for key in lookups]}}, limit))
    return searches
