"""Kibana saved objects: newsmon's data views, saved searches, visualizations and dashboard.

The objects live in ``deploy/kibana/newsmon.ndjson`` in Kibana's saved-objects export
format (one JSON object per line), so an analyst can also import the file by hand under
Stack Management → Saved objects. Three functions:

* :func:`load_saved_objects` reads such a file (by default the packaged one);
* :func:`check_saved_objects` checks the objects against the Elasticsearch mappings and
  against each other: every field a data view, saved search, visualization, Lens layer or
  filter names must exist with a type that suits its use (a date for a time field or a
  date histogram; keyword, numeric, boolean, ip or date for a terms aggregation or a sort;
  a number for an average...), every reference must resolve to an object in the file,
  ids must be unique and every embedded JSON string must parse. Kibana imports a wrong
  field name or type without a word and only fails when an analyst opens the panel; this
  catches such mistakes in the tests instead;
* :func:`import_saved_objects` sends them to Kibana's import API
  (``POST /api/saved_objects/_import?overwrite=true``, in a space with ``/s/<space>``),
  so re-importing the file updates the objects in place: their ids are stable.

Credentials are :class:`~newsmon.settings.Secret` values: they go into the
``Authorization`` header and nowhere else (not into logs, messages or exceptions).
"""

from __future__ import annotations

import fnmatch
import http.client
import json
import logging
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import urllib3
from urllib3.exceptions import HTTPError

from newsmon.errors import NewsmonError
from newsmon.settings import Secret

log = logging.getLogger(__name__)

IMPORT_PATH = "/api/saved_objects/_import"
NDJSON_FILENAME = "newsmon.ndjson"
SPACE_ID = re.compile(r"[a-z0-9_-]+")  # what Kibana accepts as a space identifier

DATE_TYPES = frozenset({"date", "date_nanos"})
NUMERIC_TYPES = frozenset({"long", "integer", "short", "byte", "double", "float", "half_float",
                           "scaled_float", "unsigned_long"})
# Types with doc values: what terms aggregations, cardinality and sorting work on.
AGGREGATABLE_TYPES = frozenset({"keyword", "constant_keyword", "wildcard", "boolean", "ip", "version"}
                               | NUMERIC_TYPES | DATE_TYPES)
GEO_TYPES = frozenset({"geo_point", "geo_shape"})
ANY_TYPE = None  # a use that works with a field of any type (a Discover column, top hits)

# Field types each aggregation (legacy visState ``type``) accepts.
AGG_FIELD_TYPES: dict[str, frozenset[str] | None] = {
    "date_histogram": DATE_TYPES,
    "date_range": DATE_TYPES,
    "histogram": NUMERIC_TYPES,
    "range": NUMERIC_TYPES,
    "terms": AGGREGATABLE_TYPES,
    "significant_terms": AGGREGATABLE_TYPES,
    "rare_terms": AGGREGATABLE_TYPES,
    "multi_terms": AGGREGATABLE_TYPES,
    "cardinality": AGGREGATABLE_TYPES,
    "value_count": AGGREGATABLE_TYPES,
    "avg": NUMERIC_TYPES,
    "sum": NUMERIC_TYPES,
    "median": NUMERIC_TYPES,
    "std_dev": NUMERIC_TYPES,
    "percentiles": NUMERIC_TYPES,
    "percentile_ranks": NUMERIC_TYPES,
    "min": NUMERIC_TYPES | DATE_TYPES,
    "max": NUMERIC_TYPES | DATE_TYPES,
    "ip_range": frozenset({"ip"}),
    "geohash_grid": GEO_TYPES,
    "geotile_grid": GEO_TYPES,
    "geo_bounds": GEO_TYPES,
    "geo_centroid": GEO_TYPES,
    "top_hits": ANY_TYPE,
    "top_metrics": ANY_TYPE,
}
# Lens operation types that differ in name from the aggregations above.
LENS_OPERATION_AGG = {"unique_count": "cardinality", "count": "value_count", "last_value": "top_hits",
                      "percentile": "percentiles", "percentile_rank": "percentile_ranks",
                      "standard_deviation": "std_dev", "range": "histogram"}
LENS_RECORDS_FIELD = "___records___"  # Lens's "count of records": no field
# Attributes that hold JSON text although their names do not end in JSON, by object type.
JSON_ATTRIBUTES = {
    "index-pattern": ("fields", "fieldFormatMap", "fieldAttrs", "runtimeFieldMap", "sourceFilters"),
    "visualization": ("visState",),
}
RUNTIME_FIELD_TYPES = {"keyword": "keyword", "long": "long", "double": "double", "date": "date",
                       "boolean": "boolean", "ip": "ip", "geo_point": "geo_point", "composite": "object"}
# What Discover can always show or sort on besides mapped fields.
META_FIELDS = frozenset({"_id", "_index", "_score", "_source"})
# Query syntax: ``field : value``, ``field >= 3``; values in quotes are not field names.
QUERY_FIELD = re.compile(r"(?<![\w.@-])([A-Za-z_@][\w.@-]*)\s*(?::|<=|>=|<|>)")
QUOTED = re.compile(r'"(?:[^"\\]|\\.)*"')


class KibanaError(NewsmonError):
    """A problem with Kibana saved objects or with the Kibana that should take them."""


class SavedObjectsFileError(KibanaError):
    """A saved-objects file cannot be read: names the file and the line."""


class KibanaUnreachableError(KibanaError):
    """Kibana did not answer at the given URL (refused, timed out, TLS failed)."""


class KibanaImportError(KibanaError):
    """Kibana answered the import with an HTTP error or with ``success: false``.

    ``url`` is the import URL (never with credentials), ``status`` the HTTP status, and
    ``errors`` Kibana's list of per-object errors (``id``, ``type``, ``error.type``...).
    Survives pickling.
    """

    def __init__(self, message: str, *, url: str, status: int | None = None,
                 errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.url = url
        self.status = status
        self.errors = list(errors or [])

    def __reduce__(self):
        return _rebuild_import_error, (str(self), self.url, self.status, self.errors)


def _rebuild_import_error(message: str, url: str, status: int | None,
                          errors: list[dict[str, Any]]) -> KibanaImportError:
    return KibanaImportError(message, url=url, status=status, errors=errors)


# ---------------------------------------------------------------------------- loading


def default_saved_objects_file() -> Traversable:
    """The packaged ``deploy/kibana/newsmon.ndjson``."""
    return resources.files("newsmon.deploy") / "kibana" / NDJSON_FILENAME


def load_saved_objects(path: str | Path | Traversable | None = None) -> list[dict[str, Any]]:
    """The saved objects in an NDJSON file (default: the packaged newsmon objects), in file order.

    Blank lines and the summary line a Kibana export ends with (``exportedCount``...) are
    skipped. Raises :class:`SavedObjectsFileError` naming the file and line of anything
    that is not a JSON object.
    """
    source = default_saved_objects_file() if path is None else path
    if isinstance(source, str):
        source = Path(source)
    try:
        text = source.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        msg = f"cannot read Kibana saved objects from {source}: {exc}"
        raise SavedObjectsFileError(msg) from exc
    objects = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            msg = f"{source}, line {number}: not JSON: {exc}"
            raise SavedObjectsFileError(msg) from exc
        if not isinstance(item, dict):
            msg = f"{source}, line {number}: expected a JSON object, got {type(item).__name__}"
            raise SavedObjectsFileError(msg)
        if "exportedCount" in item and "type" not in item:
            continue
        objects.append(item)
    return objects


def to_ndjson(objects: Iterable[Mapping[str, Any]]) -> bytes:
    """The objects as NDJSON, one compact line each, as Kibana's import expects."""
    return b"".join(json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n"
                    for obj in objects)


# ---------------------------------------------------------------------------- checking


def field_types(mapping: Mapping[str, Any]) -> dict[str, str]:
    """Every field of an Elasticsearch mapping with its type, by dotted path.

    Takes the mapping body (``{"properties": ...}``, as in an index template or under
    ``mappings`` in a get-mapping answer). Multi-fields appear as ``title.keyword``; an
    object with ``enabled: false`` appears as type ``object`` (stored, not searchable);
    fields inside ``nested`` objects as ``nested:<type>`` (they need nested queries).
    """
    if "mappings" in mapping and "properties" not in mapping:
        mapping = mapping["mappings"]
    found: dict[str, str] = {}

    def walk(properties: Mapping[str, Any], prefix: str, nested: bool) -> None:
        for name, spec in properties.items():
            path = prefix + name
            kind = spec.get("type", "object")
            if "properties" in spec and spec.get("enabled", True) is not False:
                walk(spec["properties"], path + ".", nested or kind == "nested")
                continue
            found[path] = f"nested:{kind}" if nested else kind
            for sub, sub_spec in spec.get("fields", {}).items():
                sub_kind = sub_spec.get("type", "object")
                found[f"{path}.{sub}"] = f"nested:{sub_kind}" if nested else sub_kind

    walk(mapping.get("properties", {}), "", False)
    return found


def check_saved_objects(objects: list[dict[str, Any]],
                        mappings: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """Every problem in ``objects``, one line each naming ``type/id``; empty when all is well.

    ``mappings`` maps an index or alias name (what a data view's ``title`` names; a title
    with wildcards or commas matches several) to its mapping body. Checked: each object
    has a type, an id and attributes; ids are unique; embedded JSON strings parse;
    references resolve to objects in the list, and ``indexRefName`` / ``panelRefName`` /
    ``savedSearchRefName`` to references; data view time fields are dates; saved-search
    columns, sort fields and query fields exist (sorts on sortable types); visualization
    aggregations and Lens columns use fields of a suitable type; filters name existing fields.
    """
    checker = _Checker(objects, mappings)
    checker.run()
    return checker.problems


class _Checker:
    def __init__(self, objects: list[dict[str, Any]], mappings: Mapping[str, Mapping[str, Any]]) -> None:
        self.objects = objects
        self.problems: list[str] = []
        self.catalogues = {name: field_types(mapping) for name, mapping in mappings.items()}
        self.by_key = {(o.get("type"), o.get("id")): o for o in objects if isinstance(o, dict)}
        self._data_view_fields: dict[str, dict[str, set[str]] | None] = {}

    def run(self) -> None:
        ids = Counter(o.get("id") for o in self.objects if isinstance(o, dict))
        for ident, times in ids.items():
            if ident is not None and times > 1:
                self.problems.append(f"id {ident!r} is used by {times} objects: ids must be unique")
        for position, obj in enumerate(self.objects, start=1):
            if not isinstance(obj, dict):
                self.problems.append(f"object #{position}: expected a JSON object, got {type(obj).__name__}")
                continue
            label = f"{obj.get('type')}/{obj.get('id')}"
            if not self._shape_ok(obj, label, position):
                continue
            parsed = self._embedded_json(obj, label)
            self._references(obj, label)
            check = getattr(self, "_check_" + obj["type"].replace("-", "_"), None)
            if check is not None:
                check(obj, label, parsed)

    def _problem(self, label: str, text: str) -> None:
        self.problems.append(f"{label}: {text}")

    # -- generic checks

    def _shape_ok(self, obj: dict[str, Any], label: str, position: int) -> bool:
        ok = True
        for key in ("type", "id"):
            if not isinstance(obj.get(key), str) or not obj.get(key):
                self.problems.append(f"object #{position} ({label}): {key!r} must be a non-empty string")
                ok = False
        if not isinstance(obj.get("attributes"), dict):
            self.problems.append(f"object #{position} ({label}): 'attributes' must be an object")
            ok = False
        references = obj.get("references", [])
        if not isinstance(references, list) or not all(
                isinstance(r, dict) and all(isinstance(r.get(k), str) for k in ("name", "type", "id"))
                for r in references):
            self.problems.append(f"object #{position} ({label}): 'references' must be a list of "
                                 "{name, type, id} objects")
            ok = False
        return ok

    def _embedded_json(self, obj: dict[str, Any], label: str) -> dict[str, Any]:
        """Parse every JSON string in the attributes; parsed values by dotted attribute path."""
        parsed: dict[str, Any] = {}
        also_json = JSON_ATTRIBUTES.get(obj["type"], ())

        def walk(value: Any, path: str) -> None:
            if isinstance(value, dict):
                for key, inner in value.items():
                    walk(inner, f"{path}.{key}" if path else key)
            elif isinstance(value, str) and (path.endswith("JSON") or path in also_json):
                try:
                    parsed[path] = json.loads(value)
                except json.JSONDecodeError as exc:
                    self._problem(label, f"attributes.{path} is not valid JSON: {exc}")

        walk(obj["attributes"], "")
        return parsed

    def _references(self, obj: dict[str, Any], label: str) -> None:
        names = Counter(r["name"] for r in obj.get("references", []))
        for name, times in names.items():
            if times > 1:
                self._problem(label, f"reference name {name!r} appears {times} times")
        for ref in obj.get("references", []):
            if (ref["type"], ref["id"]) not in self.by_key:
                self._problem(label, f"reference {ref['name']!r} points to {ref['type']}/{ref['id']}, "
                                     "which is not among the saved objects")

    def _reference(self, obj: dict[str, Any], label: str, name: str, *,
                   types: tuple[str, ...]) -> dict[str, Any] | None:
        """The object a named reference points to, or None (with a problem noted)."""
        ref = next((r for r in obj.get("references", []) if r["name"] == name), None)
        if ref is None:
            self._problem(label, f"names reference {name!r} but has no reference of that name")
            return None
        if ref["type"] not in types:
            self._problem(label, f"reference {name!r} is a {ref['type']}, expected {' or '.join(types)}")
            return None
        return self.by_key.get((ref["type"], ref["id"]))

    # -- fields

    def _fields_of(self, data_view: dict[str, Any] | None) -> dict[str, set[str]] | None:
        """Field name → possible types for a data view; None when its indices are unknown."""
        if data_view is None or data_view.get("type") != "index-pattern":
            return None
        key = data_view["id"]
        if key in self._data_view_fields:
            return self._data_view_fields[key]
        title = str(data_view["attributes"].get("title", ""))
        patterns = [p.strip() for p in title.split(",") if p.strip() and not p.strip().startswith("-")]
        fields: dict[str, set[str]] = {}
        matched = False
        for name, catalogue in self.catalogues.items():
            if any(name == p or fnmatch.fnmatchcase(name, p) for p in patterns):
                matched = True
                for field, kind in catalogue.items():
                    fields.setdefault(field, set()).add(kind)
        try:
            runtime = json.loads(data_view["attributes"].get("runtimeFieldMap") or "{}")
        except json.JSONDecodeError:
            runtime = {}
        for field, spec in runtime.items() if isinstance(runtime, dict) else ():
            fields.setdefault(field, set()).add(RUNTIME_FIELD_TYPES.get(spec.get("type"), "keyword"))
        if not matched:
            self._problem(f"index-pattern/{key}", f"no mapping given for {title!r}: cannot check its fields")
        result = fields if matched else None
        self._data_view_fields[key] = result
        return result

    def _field(self, label: str, fields: dict[str, set[str]] | None, field: Any, use: str,
               allowed: frozenset[str] | None) -> None:
        """Note a problem unless ``field`` exists in ``fields`` with a type in ``allowed``."""
        if fields is None:
            return
        if not isinstance(field, str) or not field:
            self._problem(label, f"{use}: expected a field name, got {field!r}")
            return
        if field in META_FIELDS and allowed is ANY_TYPE:
            return
        kinds = fields.get(field)
        if kinds is None:
            self._problem(label, f"{use}: field {field!r} does not exist in the mapping")
            return
        if allowed is ANY_TYPE:
            return
        wrong = sorted(k for k in kinds if k not in allowed)
        if wrong:
            self._problem(label, f"{use}: field {field!r} is {'/'.join(wrong)}, which does not suit "
                                 f"(needs one of {', '.join(sorted(allowed))})")

    def _query_fields(self, label: str, fields: dict[str, set[str]] | None, query: Any, use: str) -> None:
        if not isinstance(query, dict) or not isinstance(query.get("query"), str):
            return
        text = QUOTED.sub('""', query["query"])
        for name in QUERY_FIELD.findall(text):
            if "*" not in name:
                self._field(label, fields, name, use, ANY_TYPE)

    def _search_source(self, obj: dict[str, Any], label: str, parsed: dict[str, Any],
                       fields: dict[str, set[str]] | None) -> None:
        """Check the query and filters of ``kibanaSavedObjectMeta.searchSourceJSON`` against
        ``fields``; a dashboard passes None: its query and filters apply to every data view.
        """
        source = parsed.get("kibanaSavedObjectMeta.searchSourceJSON")
        if not isinstance(source, dict):
            return
        if obj["type"] == "dashboard":
            fields = self._all_data_view_fields()
        self._query_fields(label, fields, source.get("query"), "query")
        for number, flt in enumerate(source.get("filter") or []):
            meta = flt.get("meta", {}) if isinstance(flt, dict) else {}
            filter_fields = fields
            if meta.get("indexRefName"):
                target = self._reference(obj, label, meta["indexRefName"], types=("index-pattern",))
                filter_fields = self._fields_of(target)
            if meta.get("key") and meta.get("type") not in ("custom", "query_string", "combined"):
                self._field(label, filter_fields, meta["key"], f"filter #{number}", ANY_TYPE)

    def _all_data_view_fields(self) -> dict[str, set[str]] | None:
        merged: dict[str, set[str]] = {}
        for obj in self.objects:
            if isinstance(obj, dict) and obj.get("type") == "index-pattern":
                for field, kinds in (self._fields_of(obj) or {}).items():
                    merged.setdefault(field, set()).update(kinds)
        return merged or None

    def _indexed_data_view(self, obj: dict[str, Any], label: str,
                           parsed: dict[str, Any]) -> tuple[bool, dict[str, Any] | None]:
        """(has an index, data view object) named by searchSourceJSON's ``indexRefName``."""
        source = parsed.get("kibanaSavedObjectMeta.searchSourceJSON")
        if not isinstance(source, dict):
            return False, None
        if "index" in source and "indexRefName" not in source:
            self._problem(label, "searchSourceJSON names its data view with 'index' instead of "
                                 "'indexRefName' and a reference")
        if not source.get("indexRefName"):
            return False, None
        return True, self._reference(obj, label, source["indexRefName"], types=("index-pattern",))

    # -- per type

    def _check_index_pattern(self, obj: dict[str, Any], label: str, parsed: dict[str, Any]) -> None:
        attributes = obj["attributes"]
        if not attributes.get("title"):
            self._problem(label, "a data view needs a title (the indices it reads)")
            return
        time_field = attributes.get("timeFieldName")
        if time_field:
            self._field(label, self._fields_of(obj), time_field, "time field", DATE_TYPES)
        else:
            self._fields_of(obj)  # still report a data view with no mapping

    def _check_search(self, obj: dict[str, Any], label: str, parsed: dict[str, Any]) -> None:
        attributes = obj["attributes"]
        has_index, data_view = self._indexed_data_view(obj, label, parsed)
        if not has_index:
            self._problem(label, "a saved search needs searchSourceJSON.indexRefName naming its data view")
        fields = self._fields_of(data_view)
        for column in attributes.get("columns") or []:
            self._field(label, fields, column, "column", ANY_TYPE)
        sort = attributes.get("sort") or []
        if sort and isinstance(sort[0], str):  # the old form: one [field, direction] pair
            sort = [sort]
        for pair in sort:
            if not (isinstance(pair, list) and len(pair) == 2 and pair[1] in ("asc", "desc")):
                self._problem(label, f"sort entry {pair!r} is not [field, 'asc'|'desc']")
                continue
            if pair[0] not in META_FIELDS:
                self._field(label, fields, pair[0], "sort", AGGREGATABLE_TYPES)
        self._search_source(obj, label, parsed, fields)

    def _check_visualization(self, obj: dict[str, Any], label: str, parsed: dict[str, Any]) -> None:
        attributes = obj["attributes"]
        has_index, data_view = self._indexed_data_view(obj, label, parsed)
        if attributes.get("savedSearchRefName"):
            search = self._reference(obj, label, attributes["savedSearchRefName"], types=("search",))
            if search is not None:
                search_source = _parse_json(search["attributes"].get("kibanaSavedObjectMeta", {})
                                            .get("searchSourceJSON"))
                name = search_source.get("indexRefName") if isinstance(search_source, dict) else None
                if name:
                    data_view = self._reference(search, f"search/{search['id']}", name,
                                                types=("index-pattern",))
                has_index = True
        vis_state = parsed.get("visState")
        if not isinstance(vis_state, dict):
            if "visState" in attributes and "visState" not in parsed:
                return  # already reported as bad JSON
            self._problem(label, "a visualization needs visState")
            return
        aggs = vis_state.get("aggs") or []
        if aggs and not has_index:
            self._problem(label, "aggregations need a data view: searchSourceJSON.indexRefName or "
                                 "savedSearchRefName")
        fields = self._fields_of(data_view)
        for agg in aggs:
            self._agg(label, fields, agg)
        self._search_source(obj, label, parsed, fields)

    def _agg(self, label: str, fields: dict[str, set[str]] | None, agg: Any) -> None:
        if not isinstance(agg, dict) or not isinstance(agg.get("params", {}), dict):
            self._problem(label, f"aggregation {agg!r} is not an object with params")
            return
        if agg.get("enabled") is False:
            return
        kind = agg.get("type")
        params = agg.get("params", {})
        use = f"{kind} aggregation {agg.get('id')!r}"
        if "field" in params:
            self._field(label, fields, params["field"], use, AGG_FIELD_TYPES.get(kind, ANY_TYPE))
        elif kind in AGG_FIELD_TYPES:
            self._problem(label, f"{use} has no field")
        for key in ("orderAgg", "customMetric", "customBucket"):
            if isinstance(params.get(key), dict):
                self._agg(label, fields, params[key])

    def _check_lens(self, obj: dict[str, Any], label: str, parsed: dict[str, Any]) -> None:
        state = obj["attributes"].get("state")
        if not isinstance(state, dict):
            self._problem(label, "a Lens visualization needs attributes.state")
            return
        layers = (state.get("datasourceStates", {}).get("formBased") or {}).get("layers") or {}
        for layer_id, layer in layers.items():
            data_view = self._reference(obj, label, f"indexpattern-datasource-layer-{layer_id}",
                                        types=("index-pattern",))
            fields = self._fields_of(data_view)
            for column_id, column in (layer.get("columns") or {}).items():
                field = column.get("sourceField")
                if field is None or field == LENS_RECORDS_FIELD:
                    continue
                operation = column.get("operationType")
                allowed = AGG_FIELD_TYPES.get(LENS_OPERATION_AGG.get(operation, operation), ANY_TYPE)
                self._field(label, fields, field, f"Lens column {column_id!r} ({operation})", allowed)
        self._query_fields(label, self._all_data_view_fields(), state.get("query"), "query")

    def _check_dashboard(self, obj: dict[str, Any], label: str, parsed: dict[str, Any]) -> None:
        panels = parsed.get("panelsJSON", [])
        if "panelsJSON" in obj["attributes"] and "panelsJSON" not in parsed:
            return  # already reported as bad JSON
        if not isinstance(panels, list):
            self._problem(label, "panelsJSON must be a JSON list of panels")
            return
        indexes = Counter(p.get("panelIndex") for p in panels if isinstance(p, dict))
        for index, times in indexes.items():
            if times > 1:
                self._problem(label, f"panelIndex {index!r} is used by {times} panels")
        names = {r["name"] for r in obj.get("references", [])}
        for number, panel in enumerate(panels):
            if not isinstance(panel, dict) or not isinstance(panel.get("gridData"), dict):
                self._problem(label, f"panel #{number} needs gridData")
                continue
            ref_name = panel.get("panelRefName")
            if ref_name is None:
                if "embeddableConfig" not in panel or not isinstance(panel.get("type"), str):
                    self._problem(label, f"panel #{number} has neither panelRefName nor an embeddable "
                                         "by value")
                continue
            # Kibana looks for "<panelIndex>:<panelRefName>" first, then the bare name.
            prefixed = f"{panel.get('panelIndex')}:{ref_name}"
            if prefixed not in names and ref_name not in names:
                self._problem(label, f"panel #{number}: no reference named {prefixed!r}")
                continue
            ref = next(r for r in obj["references"] if r["name"] in (prefixed, ref_name))
            if panel.get("type") not in (None, ref["type"]):
                self._problem(label, f"panel #{number} is a {panel.get('type')} but its reference "
                                     f"is a {ref['type']}")
        self._search_source(obj, label, parsed, None)


def _parse_json(text: Any) -> Any:
    try:
        return json.loads(text) if isinstance(text, str) else None
    except json.JSONDecodeError:
        return None


# ---------------------------------------------------------------------------- importing


def import_saved_objects(url: str, objects: list[dict[str, Any]], *, username: str | None = None,
                         password: Secret | None = None, api_key: Secret | None = None,
                         space: str | None = None, verify_certs: bool = True,
                         ca_certs: str | Path | None = None, timeout: float = 30) -> dict[str, Any]:
    """Import ``objects`` into the Kibana at ``url`` (e.g. ``http://127.0.0.1:5601``),
    overwriting objects with the same ids; returns Kibana's answer
    (``{"success": true, "successCount": n, "successResults": [...]}``).

    Sends ``POST <url>[/s/<space>]/api/saved_objects/_import?overwrite=true`` (the space
    ``default`` has no prefix; a Kibana behind a base path keeps it: ``https://host/kibana``)
    with the ``kbn-xsrf`` header Kibana requires and the objects as an NDJSON file in the
    multipart field ``file``, authenticated with ``username``/``password`` (basic) or
    ``api_key`` (the encoded form, sent as ``Authorization: ApiKey …``) when given; over
    https the certificate is checked against ``ca_certs`` (or the system's CAs) unless
    ``verify_certs`` is false. Blocks for at most about ``timeout`` seconds; no retries
    (re-running is safe: the ids are fixed and existing objects are overwritten).

    Raises :class:`KibanaUnreachableError` when Kibana does not answer and
    :class:`KibanaImportError` on an HTTP error or ``success: false`` (listing each
    failed object and its error type). Messages name the URL, never the credentials.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        msg = ("Kibana URL must be an http(s) URL such as http://127.0.0.1:5601, "
               f"got {_without_userinfo(url)!r}")
        raise KibanaError(msg)
    if parts.username or parts.password:
        msg = (f"Kibana URL {_without_userinfo(url)!r} carries credentials: pass username and password "
               "(or api_key) instead")
        raise KibanaError(msg)
    if api_key is not None and (username or password is not None):
        msg = "give either api_key or username/password for Kibana, not both"
        raise KibanaError(msg)
    if bool(username) != (password is not None):
        msg = "Kibana username and password go together: give both or neither"
        raise KibanaError(msg)
    for name, secret in (("password", password), ("api_key", api_key)):
        if secret is not None and not isinstance(secret, Secret):
            msg = f"Kibana {name} must be a newsmon.settings.Secret, got {type(secret).__name__}"
            raise KibanaError(msg)
    if space is not None and not SPACE_ID.fullmatch(space):
        msg = f"Kibana space id must be lowercase letters, digits, '_' or '-', got {space!r}"
        raise KibanaError(msg)
    if isinstance(objects, Mapping) or not objects:
        msg = "objects must be a non-empty list of saved objects"
        raise KibanaError(msg)

    base = parts.path.rstrip("/") + (f"/s/{quote(space)}" if space and space != "default" else "")
    target = urlunsplit((parts.scheme, parts.netloc, base + IMPORT_PATH, "overwrite=true", ""))
    body, content_type = urllib3.encode_multipart_formdata(
        {"file": (NDJSON_FILENAME, to_ndjson(objects), "application/ndjson")})
    headers = {"kbn-xsrf": "true", "Content-Type": content_type, "Accept": "application/json"}
    if api_key is not None:
        headers["Authorization"] = f"ApiKey {api_key.reveal()}"
    elif username and password is not None:
        headers["Authorization"] = urllib3.make_headers(
            basic_auth=f"{username}:{password.reveal()}")["authorization"]
    # Scrubbed from every message, in case a proxy or Kibana echoes a header back.
    secrets = [s.reveal() for s in (password, api_key) if s is not None]
    secrets += [headers["Authorization"].split(" ", 1)[1]] if "Authorization" in headers else []

    pool_options: dict[str, Any] = {}
    if parts.scheme == "https":
        pool_options["cert_reqs"] = "CERT_REQUIRED" if verify_certs else "CERT_NONE"
        if ca_certs is not None:
            pool_options["ca_certs"] = str(ca_certs)
    log.info("Importing %d saved objects into Kibana at %s", len(objects), target)
    pool = urllib3.PoolManager(**pool_options)
    try:
        response = pool.request("POST", target, body=body, headers=headers, redirect=False, retries=False,
                                timeout=urllib3.Timeout(total=timeout), preload_content=True)
    except HTTPError as exc:
        msg = _scrub(f"Kibana is not reachable at {target}: {type(exc).__name__}: {exc}", secrets)
        raise KibanaUnreachableError(msg) from None
    finally:
        pool.clear()

    text = response.data.decode("utf-8", "replace")
    answer = _parse_json(text)
    if response.status >= 300:
        reason = f"HTTP {response.status} {http.client.responses.get(response.status, '')}".rstrip()
        if 300 <= response.status < 400:
            reason += f" to {response.headers.get('Location', '?')} (give the final Kibana URL)"
        detail = answer.get("message") if isinstance(answer, dict) else " ".join(text.split())[:300]
        if detail:
            reason += f": {detail}"
        msg = _scrub(f"Kibana refused the saved-objects import at {target}: {reason}", secrets)
        raise KibanaImportError(msg, url=target, status=response.status)
    if not isinstance(answer, dict):
        msg = f"Kibana's answer to the saved-objects import at {target} is not a JSON object: {text[:200]!r}"
        raise KibanaImportError(_scrub(msg, secrets), url=target, status=response.status)
    if answer.get("success") is not True:
        errors = [e for e in answer.get("errors") or [] if isinstance(e, dict)]
        listed = "; ".join(_describe_import_error(e) for e in errors) or "no errors listed"
        msg = (f"Kibana imported {answer.get('successCount', 0)} of {len(objects)} saved objects at "
               f"{target}; failed: {listed}")
        raise KibanaImportError(_scrub(msg, secrets), url=target, status=response.status, errors=errors)
    log.info("Kibana at %s imported %s saved objects", target, answer.get("successCount"))
    return answer


def _describe_import_error(error: Mapping[str, Any]) -> str:
    detail = error.get("error") if isinstance(error.get("error"), dict) else {}
    text = f"{error.get('type')}/{error.get('id')} ({detail.get('type', 'unknown')}"
    if detail.get("type") == "missing_references":
        missing = ", ".join(f"{r.get('type')}/{r.get('id')}" for r in detail.get("references", []))
        text += f": {missing}"
    elif detail.get("message"):
        text += f": {detail['message']}"
    return text + ")"


def _without_userinfo(url: str) -> str:
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    netloc = parts.netloc.rpartition("@")[2]
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def _scrub(text: str, secrets: list[str]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "********")
    return text

