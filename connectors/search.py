"""Searching the indexed stories: the query ``newsmon search`` (and ``newsmon web``) runs,
built from its options.

:func:`build_search` is pure, so the query can be printed for Kibana Dev Tools
(``--explain``) exactly as it is sent. Free text is matched as typed and, with lower
weights, by its lemmas, folded letters and the spelling keys of names
(:mod:`newsmon.analysis.search_terms`): "prisoner" finds "prisoners", "Łosik" finds "Losik",
"Lukashenka" finds Alexander Lukashenko; a story with the words as typed (in its title
above all) ranks first. :func:`resolve_names` turns ``--person/--org/--place`` spellings into
the canonical names indexed ("Lukashenka → Alexander Lukashenko") before the query is built.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from newsmon.analysis.search_terms import (
    FOLDED_FIELDS,
    KEY_FIELDS,
    LEMMA_FIELDS,
    QueryWord,
    fields_for,
    name_query_keys,
    query_words,
    spelled_like,
)

TEXT_FIELDS = ["title^3", "summary^2", "content", "topics.evidence"]
PART_BOOSTS = {"title": 3, "summary": 2, "content": 1}
LEMMA_SEARCHED = fields_for(LEMMA_FIELDS, PART_BOOSTS)  # ["title_lemmas^3", "summary_lemmas^2", ...]
FOLDED_SEARCHED = fields_for(FOLDED_FIELDS, PART_BOOSTS)
# Weights of the ways a word matches: the query as typed (all words in one field) above
# each word as typed, above its lemmas and folded letters, above a spelling of a name.
EXACT_BOOST, WORD_BOOST, FORM_BOOST, NAME_BOOST = 4.0, 1.0, 0.5, 0.5
FILTER_FIELDS = {"topics": "topics.name", "persons": "persons", "organisations": "organisations",
                 "places": "places", "sources": "source_name"}
ENTITY_OPTIONS = ("persons", "organisations", "places")
HISTOGRAMS = ("topic", "day")
# A lemma's match is shown in the text itself: the highlight query holds the words' forms.
HIGHLIGHTED = ("title", "summary", "content", *FOLDED_FIELDS.values())
SNIPPET_ORDER = ("content", "summary", "title", "content_folded", "summary_folded", "title_folded")
RESOLVE_CANDIDATES = 500  # canonical names (most often named first) looked at per --person/--org/--place
RESOLVE_SAMPLE = 2000  # ... in this many of the stories naming the surname


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
    exact: bool = False  # free text only as typed: no lemmas, folding or spellings of names
    # (option, value as asked, canonical names it stands for), from resolve_names()
    resolved: tuple[tuple[str, str, tuple[str, ...]], ...] = ()


def build_search(request: SearchRequest) -> dict[str, Any]:
    """The body of a ``_search`` request: free text scored, every filter required (several
    values of one filter: any of them for topics and sources, all of them for entities; a
    value resolved to several canonical names: any of those).
    """
    must = [text_query(request.text, exact=request.exact)] if request.text else []
    filters: list[dict[str, Any]] = []
    for option in ("topics", "sources"):
        values = getattr(request, option)
        if values:
            filters.append({"terms": {FILTER_FIELDS[option]: list(values)}})
    resolved = {(option, value): names for option, value, names in request.resolved}
    for option in ENTITY_OPTIONS:
        for value in getattr(request, option):
            names = resolved.get((option, value), (value,))
            filters.append({"term": {FILTER_FIELDS[option]: names[0]}} if len(names) == 1
                           else {"terms": {FILTER_FIELDS[option]: list(names)}})
    if request.since or request.until:
        bounds = {}
        if request.since:
            bounds["gte"] = request.since.isoformat()
        if request.until:
            bounds["lte"] = request.until.isoformat()
        filters.append({"range": {"published_at": bounds}})
    highlighted = ("title", "summary", "content") if request.exact else HIGHLIGHTED
    body: dict[str, Any] = {
        "query": {"bool": {"must": must or [{"match_all": {}}], "filter": filters}},
        "size": request.size,
        "_source": ["article_id", "title", "url", "source_name", "published_at", "persons", "topics.name"],
        "highlight": {"fields": {name: {"number_of_fragments": 0} if name.startswith("title") else {}
                                 for name in highlighted},
                      "fragment_size": 160, "number_of_fragments": 1, "pre_tags": ["«"], "post_tags": ["»"]},
    }
    if request.text and not request.exact:
        body["highlight"]["highlight_query"] = highlight_query(request.text)
    if request.sort == "time" or not request.text:
        body["sort"] = [{"published_at": "desc"}, {"article_id": "asc"}]
    if request.histogram == "topic":
        body["aggs"] = {"per_topic": {"terms": {"field": "topics.name", "size": 50}}}
    elif request.histogram == "day":
        body["aggs"] = {"per_day": {"date_histogram": {"field": "published_at", "calendar_interval": "day",
                                                       "min_doc_count": 1}}}
    return body | request.extra


def text_query(text: str, *, exact: bool = False) -> dict[str, Any]:
    """Free text: every word as typed in one field (``exact``, the query before lemmas and
    spellings existed), or that ranked first and otherwise every word in any of its forms.
    """
    typed = {"multi_match": {"query": text, "fields": TEXT_FIELDS, "operator": "and"}}
    words = [] if exact else query_words(text)
    if not words:
        return typed
    typed["multi_match"]["boost"] = EXACT_BOOST
    return {"bool": {"should": [typed, {"bool": {"must": [_word_query(word) for word in words]}}],
                     "minimum_should_match": 1}}


def highlight_query(text: str) -> dict[str, Any]:
    """What to mark in the text shown: every form of every word (prisoner → «prisoners»)."""
    forms = [form for word in query_words(text) for form in word.forms]
    return {"multi_match": {"query": " ".join(dict.fromkeys(forms)) or text, "fields": list(HIGHLIGHTED)}}


def _word_query(word: QueryWord) -> dict[str, Any]:
    """One word in any of its forms: as typed, lemmas, folded letters, a spelling of a name."""
    should: list[dict[str, Any]] = [
        {"multi_match": {"query": word.text, "fields": TEXT_FIELDS, "boost": WORD_BOOST,
                         "zero_terms_query": "all"}},  # a stop word ("of") leaves every story in
        {"multi_match": {"query": " ".join(word.lemmas), "fields": LEMMA_SEARCHED,
                         "boost": FORM_BOOST}},
        {"multi_match": {"query": word.folded, "fields": FOLDED_SEARCHED
                         + ([] if word.folded == word.text else TEXT_FIELDS), "boost": FORM_BOOST}},
    ]
    if word.keys:
        should += [{"terms": {field: list(word.keys), "boost": NAME_BOOST}} for field in KEY_FIELDS.values()]
    return {"bool": {"should": should, "minimum_should_match": 1}}


def resolve_names(client: Any, index: str, request: SearchRequest) -> tuple[SearchRequest, list[str]]:
    """``request`` with each ``--person/--org/--place`` value resolved to the canonical names
    indexed that it spells ("Lukashenka" → Alexander Lukashenko), and a note per value
    resolved to other names or to none. A value that only stands for itself stays as it is.
    """
    resolved, notes = [], []
    for option in ENTITY_OPTIONS:
        for value in getattr(request, option):
            names = canonical_names(client, index, option, value)
            if names == [value]:
                continue
            label = option.rstrip("s")
            if not names:
                notes.append(f"no indexed {label} is spelled like {value!r}")
                continue
            resolved.append((option, value, tuple(names)))
            notes.append(f"{value} → {', '.join(names)}")
    return replace(request, resolved=request.resolved + tuple(resolved)), notes


def canonical_names(client: Any, index: str, option: str, value: str) -> list[str]:
    """The canonical names in ``option`` (persons, organisations, places) that ``value``
    spells, most often named first (``value`` itself among them when it is indexed so).

    One request: among the stories naming someone of that surname, those naming more of the
    other words first, a sample (:data:`RESOLVE_SAMPLE`, so that a name in every other story
    costs no more than a rare one) gives the candidate names; :func:`spelled_like` judges them.
    """
    field_name, keys = FILTER_FIELDS[option], name_query_keys(value)
    names: list[str] = []
    if keys:
        key_field = KEY_FIELDS[option]
        answer = client.search(index=index, size=0, query={"bool": {
            "filter": [{"terms": {key_field: keys[-1]}}],
            "should": [{"terms": {key_field: word_keys}} for word_keys in keys[:-1]]}},
            aggs={"sample": {"sampler": {"shard_size": RESOLVE_SAMPLE}, "aggs": {
                "names": {"terms": {"field": field_name, "size": RESOLVE_CANDIDATES}}}}})
        names = [bucket["key"] for bucket in answer["aggregations"]["sample"]["names"]["buckets"]
                 if spelled_like(value, bucket["key"])]
    if not names and client.count(index=index, query={"term": {field_name: value}})["count"]:
        names = [value]  # indexed as asked, though not as a spelling (no letters to key)
    return names


def snippet(hit: dict[str, Any]) -> str:
    """The best highlighted fragment, else nothing."""
    highlight = hit.get("highlight", {})
    for name in SNIPPET_ORDER:
        if highlight.get(name):
            return " ".join(highlight[name][0].split())
    return ""
