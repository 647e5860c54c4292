"""Watch entries in Elasticsearch (alias ``news-watchlist``, ``_id`` = entry_id), where
Kibana shows them and the running pipeline re-reads them; and the retro-search that
finds the stories already indexed that name a newly watched person.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from elasticsearch import Elasticsearch, helpers

from newsmon.analysis.entities import Entity
from newsmon.analysis.name_matcher import WatchMatcher
from newsmon.analysis.text import article_text
from newsmon.analysis.watch_entries import WatchEntry, compute_entry_id
from newsmon.connectors.elasticsearch import setup_index, write_documents
from newsmon.errors import ConfigError

TEMPLATE = "news-watchlist"


class WatchlistStore:
    def __init__(self, client: Elasticsearch, alias: str) -> None:
        self._client = client
        self._alias = alias

    def setup(self) -> None:
        setup_index(self._client, TEMPLATE, self._alias)

    def entries(self, list_name: str | None = None) -> list[WatchEntry]:
        """Every entry (of one list), sorted by list and name; nothing when the index is new."""
        if not self._client.indices.exists_alias(name=self._alias):
            return []
        query = {"term": {"list": list_name}} if list_name else {"match_all": {}}
        hits = helpers.scan(self._client, index=self._alias, query={"query": query})
        entries = [WatchEntry.from_dict(hit["_source"]) for hit in hits]
        return sorted(entries, key=lambda entry: (entry.list_name, entry.name.casefold()))

    def put(self, entries: Iterable[WatchEntry]) -> tuple[int, int]:
        """Add or update entries (an update keeps the first ``created_at``); returns (added, updated)."""
        entries = list(entries)
        if not entries:
            return 0, 0
        self.setup()
        found = self._client.mget(index=self._alias, ids=[e.entry_id for e in entries])["docs"]
        created = {doc["_id"]: doc["_source"]["created_at"] for doc in found if doc.get("found")}
        documents = []
        for entry in entries:
            document = entry.to_dict()
            document["created_at"] = created.get(entry.entry_id, document["created_at"])
            documents.append((entry.entry_id, document))
        refused = write_documents(self._client, self._alias, documents)
        if refused:
            msg = f"Elasticsearch refused {len(refused)} watch entries: {[r.reason for r in refused[:3]]}"
            raise ConfigError(msg)
        self._client.indices.refresh(index=self._alias)  # `watch list` and the matchers see them at once
        return len(entries) - len(created), len(created)

    def remove(self, name_or_id: str, list_name: str) -> WatchEntry:
        """Remove the entry with this id, or with this name on ``list_name``."""
        for entry_id in (name_or_id, compute_entry_id(list_name, name_or_id)):
            if self._client.indices.exists_alias(name=self._alias):
                found = self._client.options(ignore_status=404).get(index=self._alias, id=entry_id)
                if found.get("found"):
                    self._client.delete(index=self._alias, id=entry_id, refresh="wait_for")
                    return WatchEntry.from_dict(found["_source"])
        msg = f"no watch entry {name_or_id!r} on list {list_name!r} (see `newsmon watch list`)"
        raise ConfigError(msg)


@dataclass(frozen=True)
class PastStory:
    article_id: str
    title: str
    url: str | None
    published_at: str
    form: str
    evidence: str


def stories_naming(client: Elasticsearch, articles_alias: str, entry: WatchEntry, *,
                   limit: int = 20, candidates: int = 200) -> list[PastStory]:
    """Indexed stories that name ``entry``'s person, newest first: an Elasticsearch query for
    the forms of the name, then the watch-list matcher over each hit to confirm it (so a
    surname that is also a word or a place does not count).
    """
    if not client.indices.exists_alias(name=articles_alias):
        return []
    # Any spelling of the surname is enough for a candidate; the matcher decides.
    surnames = sorted({form.split()[-1] for form in entry.forms()})
    should = [{"terms": {"persons": [entry.name, *entry.aliases]}},
              {"multi_match": {"query": " ".join(surnames), "fields": ["title", "summary", "content"]}}]
    hits = client.search(index=articles_alias, query={"bool": {"should": should, "minimum_should_match": 1}},
                         sort=[{"published_at": "desc"}], size=candidates)["hits"]["hits"]
    matcher = WatchMatcher([entry])
    found = []
    for hit in hits:
        story = hit["_source"]
        entities = [Entity.from_dict(entity) for entity in story.get("entities", [])]
        mentions = matcher.match(article_text(story), (), entities,
                                 topics=[topic["name"] for topic in story.get("topics", [])],
                                 source=story.get("source_name"), language=story.get("language"))
        if mentions:
            found.append(PastStory(story["article_id"], story["title"], story.get("url"),
                                   story["published_at"], mentions[0].form, mentions[0].evidence))
        if len(found) >= limit:
            break
    return found
