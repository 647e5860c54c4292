"""Searching the indexed stories: the query ``newsmon search`` runs, built from its options.

:func:`build_search` is pure, so the query can be printed for Kibana Dev Tools
(``--explain``) exactly as it is sent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

TEXT_FIELDS = ["title^3", "summary^2", "content", "topics.evidence"]
FILTER_FIELDS = {"topics": "topics.name", "persons": "persons", "organisations": "organisations",
                 "places": "places", "sources": "source_name"}
HISTOGRAMS = ("topic", "day")


@dataclass(frozen=True)
class SearchRequest:
    text: str | None = None
    topics: tuple[str, ...] = ()
    persons: tuple[str, ...] = ()
    organisations: tuple[str, ...] = ()
    places: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    since: datetime | None = None
    until: datetime | None = None
    sort: str = "time"  # or "relevance"
    size: int = 20
    histogram: str | None = None  # "topic" or "day"
    extra: dict[str, Any] = field(default_factory=dict)


def build_search(request: SearchRequest) -> dict[str, Any]:
    """The body of a ``_search`` request: free text scored, every filter required (several
    values of one filter: any of them for topics and sources, all of them for entities).
    """
    must = []
    if request.text:
        must.append({"multi_match": {"query": request.text, "fields": TEXT_FIELDS, "operator": "and"}})
    filters: list[dict[str, Any]] = []
    for option in ("topics", "sources"):
        values = getattr(request, option)
        if values:
            filters.append({"terms": {FILTER_FIELDS[option]: list(values)}})
    for option in ("persons", "organisations", "places"):
        filters += [{"term": {FILTER_FIELDS[option]: value}} for value in getattr(request, option)]
    if request.since or request.until:
        bounds = {}
        if request.since:
            bounds["gte"] = request.since.isoformat()
        if request.until:
            bounds["lte"] = request.until.isoformat()
        filters.append({"range": {"published_at": bounds}})
    body: dict[str, Any] = {
        "query": {"bool": {"must": must or [{"match_all": {}}], "filter": filters}},
        "size": request.size,
        "_source": ["article_id", "title", "url", "source_name", "published_at", "persons", "topics.name"],
        "highlight": {"fields": {"title": {"number_of_fragments": 0}, "content": {}, "summary": {}},
                      "fragment_size": 160, "number_of_fragments": 1, "pre_tags": ["«"], "post_tags": ["»"]},
    }
    if request.sort == "time" or not request.text:
        body["sort"] = [{"published_at": "desc"}, {"article_id": "asc"}]
    if request.histogram == "topic":
        body["aggs"] = {"per_topic": {"terms": {"field": "topics.name", "size": 50}}}
    elif request.histogram == "day":
        body["aggs"] = {"per_day": {"date_histogram": {"field": "published_at", "calendar_interval": "day",
                                                       "min_doc_count": 1}}}
    return body | request.extra


def snippet(hit: dict[str, Any]) -> str:
    """The best highlighted fragment, else nothing."""
    highlight = hit.get("highlight", {})
    for name in ("content", "summary", "title"):
        if highlight.get(name):
            return " ".join(highlight[name][0].split())
    return ""
