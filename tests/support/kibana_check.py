"""Checks Kibana saved objects against Elasticsearch mappings and against each other.

Kibana imports a wrong field name or type without a word and only fails when an analyst
opens the panel; :func:`check_saved_objects` catches such mistakes in the tests instead.
Every field a data view, saved search, visualization, Lens layer or filter names must
exist with a type that suits its use (a date for a time field or a date histogram;
keyword, numeric, boolean, ip or date for a terms aggregation or a sort; a number for an
average...), every reference must resolve to an object in the file, ids must be unique
and every embedded JSON string must parse.
"""

from __future__ import annotations

import fnmatch
import json
import re
from collections import Counter
from collections.abc import Mapping
from typing import Any

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
                meta = search["attributes"].get("kibanaSavedObjectMeta", {})
                try:  # a search whose JSON does not parse is reported when the search is checked
                    search_source = json.loads(meta["searchSourceJSON"])
                except (KeyError, TypeError, json.JSONDecodeError):
                    search_source = None
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
