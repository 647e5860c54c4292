"""The contracts: JSON Schemas of every Kafka message, checked by the code that sends them.

Every message is checked on the hot path, so each schema is also compiled to Python by
fastjsonschema (twenty times faster than walking it); only when that check fails does
jsonschema walk the schema to name every problem.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

import fastjsonschema
from jsonschema import Draft202012Validator, FormatChecker

from newsmon.errors import NewsmonError


class SchemaViolationError(NewsmonError):
    """A message does not match its schema; the message names the schema and the fields."""


@cache
def load_schema(name: str) -> dict[str, Any]:
    """The schema ``schemas/<name>.schema.json`` (e.g. ``article``)."""
    text = (resources.files(__name__) / f"{name}.schema.json").read_text(encoding="utf-8")
    return json.loads(text)


@cache
def load_index_template(name: str) -> dict[str, Any]:
    """The Elasticsearch index template ``schemas/elasticsearch/<name>.json``."""
    text = (resources.files(__name__) / "elasticsearch" / f"{name}.json").read_text(encoding="utf-8")
    return json.loads(text)


@cache
def validator(name: str) -> Draft202012Validator:
    schema = load_schema(name)
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=FormatChecker())


@cache
def _compiled(name: str):
    return fastjsonschema.compile(load_schema(name))


def problems(name: str, message: Any) -> list[str]:
    """Every way ``message`` breaks schema ``name``, as ``path: reason`` lines (empty when valid)."""
    try:
        _compiled(name)(message)
        return []
    except fastjsonschema.JsonSchemaException:
        pass
    errors = sorted(validator(name).iter_errors(message), key=lambda e: list(e.absolute_path))
    return [f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message[:300]}" for e in errors]


def validate(name: str, message: Any) -> None:
    found = problems(name, message)
    if found:
        msg = f"{name} message does not match schemas/{name}.schema.json: " + "; ".join(found[:5])
        raise SchemaViolationError(msg)
