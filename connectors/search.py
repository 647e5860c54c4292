"""Searching the indexed stories: the query ``newsmon search`` (and ``newsmon web``) runs,
built from its options.

:func:`build_search` is pure, so the query can be printed for Kibana Dev Tools
(``--explain``) exactly as it is sent. Free text is matched as typed and, with lower
weights, by its lemmas, folded letters and the spelling keys of names
(:mod:`newsmon.analysis.search_terms`): "prisoner" finds "prisoners", "Łosik" finds "Losik",
"Lukashenka" finds Alexander Lukashenko; a story with the words as typed (in its title
above all) ranks first. ``--person/--org/--place`` find their names in any spelling, in the
same request, and :func:`spelling_notes` reads from its answer which canonical names they
matched ("Lukashenka → Alexander Lukashenko").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from newsmon.analysis.search_terms import (
    FOLDED_FIELDS,
    KEY_FIELDS,
    LEMMA_FIELDS,
    NAME_KEYS_FIELD,
    QueryWord,
    fields_for,
    name_query_keys,
    name_words,
    query_words,
    spelled_like,
    word_keys,
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
SPELLED = "spelled"  # the aggregation spelling_notes() reads
NOTE_SAMPLE = 200  # stories whose names are looked at for the notes


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
    exact: bool = False  # words and names only as typed: no lemmas, folding or other spellings


def build_search(request: SearchRequest) -> dict[str, Any]:
    """The body of a ``_search`` request: free text scored, every filter required (several
    values of one filter: any of them for topics and sources, all of them for entities, each
    in any spelling: :func:`entity_filter`).
    """
    must = [text_query(request.text, exact=request.exact)] if request.text else []
    filters: list[dict[str, Any]] = []
    for option in ("topics", "sources"):
        values = getattr(request, option)
        if values:
            filters.append({"terms": {FILTER_FIELDS[option]: list(values)}})
    for option in ENTITY_OPTIONS:
        filters += [entity_filter(option, value, exact=request.exact) for value in getattr(request, option)]
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
    aggs: dict[str, Any] = {}
    if request.histogram == "topic":
        aggs["per_topic"] = {"terms": {"field": "topics.name", "size": 50}}
    elif request.histogram == "day":
        aggs["per_day"] = {"date_histogram": {"field": "published_at", "calendar_interval": "day",
                                              "min_doc_count": 1}}
    named = [option for option in ENTITY_OPTIONS if getattr(request, option)]
    if named and not request.exact:  # which canonical names the spellings asked for matched
        aggs[SPELLED] = {"sampler": {"shard_size": NOTE_SAMPLE}, "aggs": {
            option: {"terms": {"field": FILTER_FIELDS[option], "size": 50}} for option in named}}
    if aggs:
        body["aggs"] = aggs
    return body | request.extra


def entity_filter(option: str, value: str, *, exact: bool = False) -> dict[str, Any]:
    """Stories naming ``value`` in ``option`` (persons, organisations, places): as indexed,
    or (unless ``exact``) in another spelling: a person by the keys of the whole name (or of
    the surname alone for one word), an organisation or place by the keys of each word.
    """
    indexed = {"term": {FILTER_FIELDS[option]: value}}
    if exact or not name_words(value):
        return indexed
    if option == "persons":
        spelled: dict[str, Any] = {"terms": {NAME_KEYS_FIELD: name_query_keys(value)}}
    else:
        spelled = {"bool": {"filter": [{"terms": {KEY_FIELDS[option]: sorted(word_keys(word))}}
                                       for word in name_words(value)]}}
    return {"bool": {"should": [indexed, spelled], "minimum_should_match": 1}}


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
    if word.keys:  # another spelling of a name (the model may have typed a person as an ORG)
        should += [{"terms": {field: list(word.keys), "boost": NAME_BOOST}} for field in KEY_FIELDS.values()]
    return {"bool": {"should": should, "minimum_should_match": 1}}


def spelling_notes(request: SearchRequest, response: dict[str, Any]) -> list[str]:
    """From the answer to :func:`build_search`'s request, which canonical names each
    ``--person/--org/--place`` value matched when not only itself ("Lukashenka → Alexander
    Lukashenko"), or that none did.
    """
    spelled = response.get("aggregations", {}).get(SPELLED, {})
    notes = []
    for option in ENTITY_OPTIONS:
        buckets = spelled.get(option, {}).get("buckets", [])
        for value in getattr(request, option):
            names = [bucket["key"] for bucket in buckets
                     if bucket["key"] == value or spelled_like(value, bucket["key"])]
            if not names and not response["hits"]["total"]["value"]:
                notes.append(f"no indexed {option.rstrip('s')} is spelled like {value!r}")
            elif names and names != [value]:
                notes.append(f"{value} → {', '.join(names)}")
    return notes


def histograms(response: dict[str, Any]) -> dict[str, Any]:
    """The histograms asked for (``per_topic``, ``per_day``) of an answer, without the notes' data."""
    return {name: value for name, value in response.get("aggregations", {}).items() if name != SPELLED}


def snippet(hit: dict[str, Any]) -> str:
    """The best highlighted fragment, else nothing."""
    highlight = hit.get("highlight", {})
    for name in SNIPPET_ORDER:
        if highlight.get(name):
            return " ".join(highlight[name][0].split())
    return ""
