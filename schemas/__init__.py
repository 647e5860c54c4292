"""The contracts: JSON Schemas of every Kafka message and config file, checked by the code
that sends or reads them.

Every message is checked on the hot path, so each schema is also compiled to Python by
fastjsonschema (twenty times faster than walking it); only when that check fails does
jsonschema walk the schema to name every problem. Config files (topic rules, gazetteer,
name word lists, watch entries) go through the same check: :func:`check_config`.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

import fastjsonschema
from jsonschema import Draft202012Validator, FormatChecker, ValidationError

from newsmon.errors import ConfigError, NewsmonError


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
    errors = sorted(validator(name).iter_errors(message), key=_path_order)
    return [f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {_reason(e)[:300]}" for e in errors]


def _path_order(error: ValidationError) -> list[tuple[int, Any]]:
    # YAML keys need not be strings: order indices and keys without comparing the two
    return [(0, p) if isinstance(p, int) else (1, str(p)) for p in error.absolute_path]


def _reason(error: ValidationError) -> str:
    if not error.context:
        return error.message
    # anyOf / oneOf: say what each alternative wanted, not only that none of them matched
    wanted = dict.fromkeys(sub.message for sub in error.context if not sub.relative_path)
    return (f"{error.message}: " + " or ".join(wanted)) if wanted else error.message


def validate(name: str, message: Any) -> None:
    found = problems(name, message)
    if found:
        msg = f"{name} message does not match schemas/{name}.schema.json: " + "; ".join(found[:5])
        raise SchemaViolationError(msg)


def check_config(name: str, document: Any, *, source: str) -> None:
    """Raise :class:`ConfigError` naming ``source`` (the file) and the path and reason of each
    way ``document`` breaks ``schemas/<name>.schema.json``.
    """
    found = problems(name, document)
    if found:
        more = f" (and {len(found) - 5} more)" if len(found) > 5 else ""
        msg = f"{source} does not match schemas/{name}.schema.json: " + "; ".join(found[:5]) + more
        raise ConfigError(msg)
