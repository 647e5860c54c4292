"""What the search page shows: the query of ``newsmon search`` (:func:`build_search`),
with facet counts, paging and the page's fields added, then the watched people the
pipeline's alerts found in each hit.

The whole query lives in the URL (``q``, ``topic``, ``person``, ``org``, ``place``,
``source``, ``since``, ``until``, ``sort``, ``page``), so a page can be bookmarked.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from elasticsearch import Elasticsearch, NotFoundError

from newsmon.connectors.search import SearchRequest, build_search
from newsmon.errors import ConfigError
from newsmon.moments import parse_moment
from newsmon.settings import Settings

PAGE_SIZE = 20
MAX_RESULTS = 10_000  # Elasticsearch's default index.max_result_window
FACET_SIZE = 10
# URL parameter → (SearchRequest field, indexed field, label)
FACETS = {"topic": ("topics", "topics.name", "Topic"), "person": ("persons", "persons", "Person"),
          "org": ("organisations", "organisations", "Organisation"), "place": ("places", "places", "Place"),
          "source": ("sources", "source_name", "Source")}
SHOWN_FIELDS = ["article_id", "story_id", "title", "url", "source_name", "published_at", "persons",
                "organisations", "places", "topics"]
# Highlights are marked with private-use characters, so that the page can escape the whole
# fragment and then turn only these into <mark> (a feed's own such characters at worst mark text).
MARK_OPEN, MARK_CLOSE = "\ue000", "\ue001"


@dataclass(frozen=True)
class SearchForm:
    """The search page's URL parameters, checked."""

    text: str = ""
    filters: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # URL parameter → values
    since: str = ""
    until: str = ""
    sort: str = "time"
    page: int = 1

    @classmethod
    def from_params(cls, params: Any) -> SearchForm:
        """From a multi-dict of URL parameters (``getlist``); a bad value raises ConfigError."""
        filters = {name: tuple(dict.fromkeys(v.strip() for v in params.getlist(name) if v.strip()))
                   for name in FACETS}
        sort = params.get("sort") or "time"
        if sort not in ("time", "relevance"):
            msg = f"sort is time or relevance, got {sort!r}"
            raise ConfigError(msg)
        page_text = params.get("page") or "1"
        if not page_text.isdigit() or not 1 <= int(page_text) <= MAX_RESULTS // PAGE_SIZE:
            msg = f"page is a number from 1 to {MAX_RESULTS // PAGE_SIZE}, got {page_text!r}"
            raise ConfigError(msg)
        form = cls(text=(params.get("q") or "").strip(), filters={k: v for k, v in filters.items() if v},
                   since=(params.get("since") or "").strip(), until=(params.get("until") or "").strip(),
                   sort=sort, page=int(page_text))
        form.request()  # checks the dates
        return form

    def request(self, size: int = PAGE_SIZE) -> SearchRequest:
        chosen = {FACETS[name][0]: values for name, values in self.filters.items()}
        return SearchRequest(text=self.text or None,
                             since=parse_moment(self.since, "since") if self.since else None,
                             until=parse_moment(self.until, "until") if self.until else None,
                             sort=self.sort, size=size, **chosen)

    def url(self, *, filters: Mapping[str, tuple[str, ...]] | None = None, page: int = 1,
            sort: str | None = None) -> str:
        """The URL of the search with other filters, page or sort."""
        pairs = [("q", self.text), ("since", self.since), ("until", self.until)]
        pairs += [("sort", sort or self.sort), ("page", str(page))]
        pairs = [(name, value) for name, value in pairs if value and (name, value) not in
                 (("sort", "time"), ("page", "1"))]
        chosen = self.filters if filters is None else filters
        pairs += [(name, value) for name, values in chosen.items() for value in values]
        return "/search?" + urlencode(pairs)

    def toggled(self, name: str, value: str) -> str:
        """The URL with ``value`` of facet ``name`` added, or removed when chosen; page 1."""
        filters = dict(self.filters)
        chosen = filters.get(name, ())
        filters[name] = tuple(v for v in chosen if v != value) if value in chosen else (*chosen, value)
        return self.url(filters=filters)


def search_body(form: SearchForm) -> dict[str, Any]:
    """The body ``newsmon search`` sends for this form, plus the page: offset, facets, the
    fields shown, and highlight markers the page can tell from the text.
    """
    body = build_search(form.request(PAGE_SIZE))
    body["from"] = (form.page - 1) * PAGE_SIZE
    body["_source"] = SHOWN_FIELDS
    body["aggs"] = {name: {"terms": {"field": indexed, "size": FACET_SIZE}}
                    for name, (_, indexed, _) in FACETS.items()}
    body["highlight"] = body["highlight"] | {"pre_tags": [MARK_OPEN], "post_tags": [MARK_CLOSE]}
    return body


def search(client: Elasticsearch, settings: Settings, form: SearchForm) -> dict[str, Any]:
    """The page's data: total, hits (with highlights and watched people), facets, pages."""
    try:  # one round trip: no existence check first
        result = client.search(index=settings.es_index_articles, track_total_hits=True, **search_body(form))
    except NotFoundError:
        return {"total": 0, "hits": [], "facets": {}, "pages": 0, "indexed": False}
    total = result["hits"]["total"]["value"]
    hits = [hit_view(hit) for hit in result["hits"]["hits"]]
    watched = watched_in(client, settings, [hit["article_id"] for hit in hits])
    for hit in hits:
        hit["watched"] = watched.get(hit["article_id"], [])
    facets = {}
    for name, (_, _, label) in FACETS.items():
        chosen = form.filters.get(name, ())
        buckets = [(b["key"], b["doc_count"], b["key"] in chosen)
                   for b in result["aggregations"][name]["buckets"]]
        buckets += [(value, None, True) for value in chosen if value not in {b[0] for b in buckets}]
        facets[name] = {"label": label, "buckets": buckets}
    pages = min(-(-total // PAGE_SIZE), MAX_RESULTS // PAGE_SIZE)
    return {"total": total, "hits": hits, "facets": facets, "pages": pages, "indexed": True}


def hit_view(hit: Mapping[str, Any]) -> dict[str, Any]:
    story = hit["_source"]
    highlight = hit.get("highlight", {})
    fragment = next((highlight[name][0] for name in ("content", "summary") if highlight.get(name)), "")
    return {"article_id": story["article_id"], "story_id": story.get("story_id") or story["article_id"],
            "title": story["title"], "title_marked": (highlight.get("title") or [""])[0],
            "fragment": " ".join(fragment.split()), "url": story.get("url"),
            "source_name": story.get("source_name", ""), "published_at": story.get("published_at", ""),
            "persons": story.get("persons", []), "organisations": story.get("organisations", []),
            "places": story.get("places", []),
            "topics": sorted(story.get("topics", []), key=lambda topic: -topic.get("score", 0))}


def watched_in(client: Elasticsearch, settings: Settings, article_ids: Sequence[str]
               ) -> dict[str, list[dict[str, Any]]]:
    """article_id → the alerts that count it (person, list, matched forms, evidence): raised on
    it, or on its story's first article and updated by it (``article_ids``).
    """
    if not article_ids:
        return {}
    wanted = set(article_ids)
    query = {"bool": {"should": [{"terms": {name: sorted(wanted)}} for name in ("article_id", "article_ids")],
                      "minimum_should_match": 1}}
    hits = client.search(index=settings.es_index_alerts, query=query,
                         source=["article_id", "article_ids", "person", "list", "matched_forms", "evidence"],
                         sort=[{"person": {"order": "asc", "unmapped_type": "keyword"}}], size=500,
                         ignore_unavailable=True, allow_no_indices=True)["hits"]["hits"]  # none yet: none
    found: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for hit in hits:
        alert = hit["_source"]
        for article_id in wanted & {alert["article_id"], *alert.get("article_ids", ())}:
            found[article_id].append(alert)
    return found
