"""The Elasticsearch query Kibana sends for a small part of KQL, to test KQL without Kibana.

Kibana's KQL (``@kbn/es-query``) turns a value without a field into a ``multi_match`` of
type ``best_fields`` with ``lenient: true`` and no fields (so the index's
``index.query.default_field``, ``*``: every field), ``field:value`` into a ``match``,
``field:"a phrase"`` into a ``match_phrase``, ``field:(a or b)`` into a ``bool`` should of
matches and ``and`` into a ``bool`` filter. Only these forms are translated; anything else
is refused rather than guessed.
"""

from __future__ import annotations

import re
from typing import Any

_CLAUSE = re.compile(r'^(?:(?P<field>[\w.]+)\s*:\s*)?(?:"(?P<phrase>[^"]+)"|(?P<value>[^\s":()]+))$')
_ANY_OF = re.compile(r"^(?P<field>[\w.]+)\s*:\s*\((?P<values>[^()]+)\)$")


def kql_query(kql: str) -> dict[str, Any]:
    """The query of a KQL expression of clauses joined by ``and``."""
    clauses = [_clause(part.strip()) for part in re.split(r"\s+and\s+(?![^(]*\))", kql.strip())]
    return clauses[0] if len(clauses) == 1 else {"bool": {"filter": clauses}}


def _clause(text: str) -> dict[str, Any]:
    any_of = _ANY_OF.match(text)
    if any_of:
        values = re.split(r"\s+or\s+", any_of.group("values").strip())
        return {"bool": {"should": [{"match": {any_of.group("field"): value}} for value in values],
                         "minimum_should_match": 1}}
    match = _CLAUSE.match(text)
    if match is None:
        msg = f"not in the KQL subset translated here: {text!r}"
        raise ValueError(msg)
    field, phrase, value = match.group("field", "phrase", "value")
    if field is None:
        query: dict[str, Any] = {"query": phrase or value, "type": "phrase" if phrase else "best_fields",
                                 "lenient": True}
        return {"bool": {"should": [{"multi_match": query}], "minimum_should_match": 1}}
    kind = "match_phrase" if phrase else "match"
    return {"bool": {"should": [{kind: {field: phrase or value}}], "minimum_should_match": 1}}
