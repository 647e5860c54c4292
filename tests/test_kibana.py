"""Kibana saved objects: the packaged NDJSON is well formed, every field it names exists with
a suitable type in the index templates and in the real Elasticsearch, the checker
(``tests/support/kibana_check.py``) catches broken copies, and the import speaks Kibana's
API to a local HTTP server that checks each request the way Kibana's
``POST /api/saved_objects/_import`` does.
"""

from __future__ import annotations

import base64
import copy
import json
import pickle
import re
import threading
import uuid
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import urllib3

from newsmon.connectors.elasticsearch import drop_index, setup_index
from newsmon.connectors.kibana import (
    KibanaError,
    KibanaImportError,
    KibanaUnreachableError,
    SavedObjectsFileError,
    default_saved_objects_file,
    import_saved_objects,
    load_saved_objects,
)
from newsmon.schemas import load_index_template
from newsmon.settings import Secret
from tests.support.kibana_check import check_saved_objects, field_types

DATA_VIEWS = {"news-articles": "published_at", "news-alerts": "alert_time", "news-watchlist": None}
TOPICS = ("prisoner_release", "sanctions_relief", "diplomatic_move")
PASSWORD = "s3cret-Pa55word"
API_KEY = "VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw=="


@pytest.fixture(scope="module")
def objects() -> list[dict[str, Any]]:
    return load_saved_objects()


@pytest.fixture(scope="module")
def template_mappings() -> dict[str, dict[str, Any]]:
    return {name: load_index_template(name)["template"]["mappings"] for name in DATA_VIEWS}


def by_id(objects: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {obj["id"]: obj for obj in objects}


def embedded_json(obj: dict[str, Any]) -> dict[str, Any]:
    """Every JSON string in an object's attributes, parsed, by dotted attribute path."""
    found = {}

    def walk(value: Any, path: str) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                walk(inner, f"{path}.{key}" if path else key)
        elif isinstance(value, str) and (path.endswith("JSON") or path in (
                "visState", "fields", "fieldFormatMap", "fieldAttrs", "runtimeFieldMap", "sourceFilters")):
            found[path] = json.loads(value)

    walk(obj["attributes"], "")
    return found


def aggregations(obj: dict[str, Any]) -> list[dict[str, Any]]:
    return json.loads(obj["attributes"]["visState"])["aggs"]


def data_view_of(obj: dict[str, Any], objects: list[dict[str, Any]]) -> dict[str, Any]:
    source = json.loads(obj["attributes"]["kibanaSavedObjectMeta"]["searchSourceJSON"])
    ref = next(r for r in obj["references"] if r["name"] == source["indexRefName"])
    return by_id(objects)[ref["id"]]


# ---------------------------------------------------------------------------- the file


def test_every_line_is_a_saved_object():
    lines = default_saved_objects_file().read_text(encoding="utf-8").splitlines()
    assert lines and all(line.strip() for line in lines)
    for line in lines:
        obj = json.loads(line)
        assert {"type", "id", "attributes", "references", "coreMigrationVersion",
                "typeMigrationVersion", "managed"} <= obj.keys(), obj.get("id")
        assert obj["id"].startswith("newsmon-")
        assert obj["managed"] is False
        assert obj["coreMigrationVersion"] == "8.8.0"
        assert obj["attributes"]["title"]
        assert all({"name", "type", "id"} == ref.keys() for ref in obj["references"])


def test_ids_unique_json_parses_references_resolve(objects):
    ids = [obj["id"] for obj in objects]
    assert len(ids) == len(set(ids))
    present = {(obj["type"], obj["id"]) for obj in objects}
    for obj in objects:
        parsed = embedded_json(obj)  # raises on bad JSON
        if obj["type"] in ("search", "visualization", "dashboard"):
            assert "kibanaSavedObjectMeta.searchSourceJSON" in parsed
        if obj["type"] == "visualization":
            assert parsed["visState"]["aggs"] and parsed["visState"]["title"] == obj["attributes"]["title"]
        for ref in obj["references"]:
            assert (ref["type"], ref["id"]) in present, (obj["id"], ref)
        source = parsed.get("kibanaSavedObjectMeta.searchSourceJSON", {})
        if "indexRefName" in source:
            assert source["indexRefName"] in {r["name"] for r in obj["references"]}
        for panel in parsed.get("panelsJSON", []):
            assert f"{panel['panelIndex']}:{panel['panelRefName']}" in {r["name"] for r in obj["references"]}


def test_data_views_and_saved_searches(objects):
    views = {obj["attributes"]["title"]: obj for obj in objects if obj["type"] == "index-pattern"}
    assert {title: view["attributes"].get("timeFieldName") for title, view in views.items()} == DATA_VIEWS

    searches = [obj for obj in objects if obj["type"] == "search"]
    queries = {}
    for search in searches:
        source = json.loads(search["attributes"]["kibanaSavedObjectMeta"]["searchSourceJSON"])
        queries[source["query"]["query"]] = search
        view = data_view_of(search, objects)
        assert search["attributes"]["sort"] == [[view["attributes"]["timeFieldName"], "desc"]]
    for topic in TOPICS:
        search = queries[f'topics.name : "{topic}"']
        assert data_view_of(search, objects)["attributes"]["title"] == "news-articles"
        assert search["attributes"]["columns"] == ["title", "source_name", "persons", "topics.name"]
    watched = queries[""]
    assert watched["attributes"]["title"] == "newsmon: Any watched person"
    assert data_view_of(watched, objects)["attributes"]["title"] == "news-alerts"
    assert {"person", "matched_forms", "title"} <= set(watched["attributes"]["columns"])


def test_visualizations_and_dashboard(objects):
    visualizations = {obj["id"]: obj for obj in objects if obj["type"] == "visualization"}
    per_topic = aggregations(visualizations["newsmon-vis-stories-per-topic"])
    assert [(a["type"], a["params"].get("field")) for a in per_topic] == [
        ("cardinality", "story_id"), ("date_histogram", "published_at"), ("terms", "topics.name")]
    for field in ("persons", "organisations", "places"):
        terms = [a for a in aggregations(visualizations[f"newsmon-vis-top-{field}"]) if a["type"] == "terms"]
        assert [a["params"]["field"] for a in terms] == [field]
    sources = aggregations(visualizations["newsmon-vis-source-breakdown"])
    assert [a["params"]["field"] for a in sources if a["type"] == "terms"] == ["source_name"]

    (dashboard,) = [obj for obj in objects if obj["type"] == "dashboard"]
    panels = json.loads(dashboard["attributes"]["panelsJSON"])
    targets = {r["name"]: (r["type"], r["id"]) for r in dashboard["references"]}
    shown = {targets[f"{p['panelIndex']}:{p['panelRefName']}"] for p in panels}
    assert shown == {("visualization", vid) for vid in visualizations} | {
        ("search", "newsmon-search-watched-persons")}
    for panel in panels:  # on Kibana's 48-column grid, no overlaps
        grid = panel["gridData"]
        assert grid["i"] == panel["panelIndex"] and 0 <= grid["x"] and grid["x"] + grid["w"] <= 48
    grids = [p["gridData"] for p in panels]
    cells = [(x, y) for g in grids
             for x in range(g["x"], g["x"] + g["w"]) for y in range(g["y"], g["y"] + g["h"])]
    assert len(cells) == len(set(cells))


# ---------------------------------------------------------------------------- fields


def test_fields_fit_the_index_templates(objects, template_mappings):
    assert check_saved_objects(objects, template_mappings) == []


@pytest.fixture(scope="module")
def es_mappings(es):
    """The three templates installed into uuid-named aliases; their mappings as Elasticsearch
    reports them, keyed by the data view titles.
    """
    aliases = {}
    try:
        for name in DATA_VIEWS:
            aliases[name] = f"test-{name}-{uuid.uuid4().hex}"
            setup_index(es, name, aliases[name])
        yield {name: next(iter(es.indices.get_mapping(index=alias).body.values()))["mappings"]
               for name, alias in aliases.items()}
    finally:
        for alias in aliases.values():
            drop_index(es, alias)


def test_fields_fit_the_mappings_in_elasticsearch(objects, es_mappings, template_mappings):
    assert check_saved_objects(objects, es_mappings) == []
    for name, mapping in es_mappings.items():  # Elasticsearch installed the templates as written
        assert field_types(mapping) == field_types(template_mappings[name])
    articles = field_types(es_mappings["news-articles"])
    alerts = field_types(es_mappings["news-alerts"])
    assert articles["published_at"] == alerts["alert_time"] == "date"
    for obj in objects:
        if obj["type"] == "visualization":
            for agg in aggregations(obj):
                field = agg["params"].get("field")
                if field:
                    wanted = {"date"} if agg["type"] == "date_histogram" else {"keyword"}
                    assert articles[field] in wanted, (obj["id"], field)
        elif obj["type"] == "search":
            on_alerts = data_view_of(obj, objects)["attributes"]["title"] == "news-alerts"
            fields = alerts if on_alerts else articles
            assert set(obj["attributes"]["columns"]) <= fields.keys()


def _set_agg_field(objects, vis_id, agg_type, field):
    for agg_list_owner in objects:
        if agg_list_owner["id"] == vis_id:
            state = json.loads(agg_list_owner["attributes"]["visState"])
            for agg in state["aggs"]:
                if agg["type"] == agg_type:
                    agg["params"]["field"] = field
            agg_list_owner["attributes"]["visState"] = json.dumps(state)


def _edit(objects, obj_id, change):
    change(by_id(objects)[obj_id])


BROKEN = {
    "unknown column": (
        lambda objs: _edit(objs, "newsmon-search-prisoner-release",
                           lambda o: o["attributes"]["columns"].append("headline")),
        "search/newsmon-search-prisoner-release", "field 'headline' does not exist"),
    "terms on a text field": (
        lambda objs: _set_agg_field(objs, "newsmon-vis-top-persons", "terms", "title"),
        "visualization/newsmon-vis-top-persons", "field 'title' is text"),
    "terms on a missing field": (
        lambda objs: _set_agg_field(objs, "newsmon-vis-source-breakdown", "terms", "source"),
        "visualization/newsmon-vis-source-breakdown", "field 'source' does not exist"),
    "date histogram on a keyword": (
        lambda objs: _set_agg_field(objs, "newsmon-vis-stories-per-topic", "date_histogram", "language"),
        "visualization/newsmon-vis-stories-per-topic", "field 'language' is keyword"),
    "time field not a date": (
        lambda objs: _edit(objs, "newsmon-dv-alerts",
                           lambda o: o["attributes"].update(timeFieldName="person")),
        "index-pattern/newsmon-dv-alerts", "time field: field 'person' is keyword"),
    "sort on a text field": (
        lambda objs: _edit(objs, "newsmon-search-watched-persons",
                           lambda o: o["attributes"].update(sort=[["title", "desc"]])),
        "search/newsmon-search-watched-persons", "sort: field 'title' is text"),
    "query on a missing field": (
        lambda objs: _edit(objs, "newsmon-search-sanctions-relief", lambda o: o["attributes"][
            "kibanaSavedObjectMeta"].update(searchSourceJSON=json.dumps(
                {"query": {"query": 'topic : "sanctions_relief"', "language": "kuery"}, "filter": [],
                 "indexRefName": "kibanaSavedObjectMeta.searchSourceJSON.index"}))),
        "search/newsmon-search-sanctions-relief", "query: field 'topic' does not exist"),
    "reference to a missing object": (
        lambda objs: _edit(objs, "newsmon-vis-top-places",
                           lambda o: o["references"][0].update(id="newsmon-dv-places")),
        "visualization/newsmon-vis-top-places", "index-pattern/newsmon-dv-places, which is not among"),
    "panel without its reference": (
        lambda objs: _edit(objs, "newsmon-dashboard-overview", lambda o: o["references"].pop()),
        "dashboard/newsmon-dashboard-overview", "no reference named"),
    "duplicate id": (
        lambda objs: objs.append(copy.deepcopy(by_id(objs)["newsmon-vis-top-persons"])),
        "newsmon-vis-top-persons", "ids must be unique"),
    "bad embedded JSON": (
        lambda objs: _edit(objs, "newsmon-vis-top-organisations",
                           lambda o: o["attributes"].update(visState=o["attributes"]["visState"][:-1])),
        "visualization/newsmon-vis-top-organisations", "attributes.visState is not valid JSON"),
}


@pytest.mark.parametrize("name", BROKEN)
def test_check_catches_a_broken_copy(objects, template_mappings, name):
    breaks, label, expected = BROKEN[name]
    broken = copy.deepcopy(objects)
    breaks(broken)
    before = copy.deepcopy(broken)
    problems = check_saved_objects(broken, template_mappings)
    assert broken == before  # the checker does not touch its input
    assert any(label in p and expected in p for p in problems), problems


def test_check_reads_lens_layers(objects, template_mappings):
    lens = {"type": "lens", "id": "newsmon-lens-persons", "attributes": {
        "title": "Persons over time", "visualizationType": "lnsXY", "state": {
            "query": {"query": "", "language": "kuery"}, "filters": [], "visualization": {},
            "datasourceStates": {"formBased": {"layers": {"l1": {"columns": {
                "c1": {"operationType": "date_histogram", "sourceField": "published_at", "isBucketed": True},
                "c2": {"operationType": "terms", "sourceField": "title", "isBucketed": True},
                "c3": {"operationType": "count", "sourceField": "___records___", "isBucketed": False},
            }, "columnOrder": ["c1", "c2", "c3"]}}}}}},
        "references": [{"name": "indexpattern-datasource-layer-l1", "type": "index-pattern",
                        "id": "newsmon-dv-articles"}]}
    (problem,) = check_saved_objects([*objects, lens], template_mappings)
    assert problem.startswith("lens/newsmon-lens-persons: Lens column 'c2' (terms): field 'title' is text, "
                              "which does not suit (needs one of boolean, ")


def test_check_names_a_data_view_without_mapping(objects, template_mappings):
    mappings = {k: v for k, v in template_mappings.items() if k != "news-watchlist"}
    assert check_saved_objects(objects, mappings) == [
        "index-pattern/newsmon-dv-watchlist: no mapping given for 'news-watchlist': cannot check its fields"]


def test_field_types_flattens_objects_and_multi_fields(template_mappings):
    articles = field_types(template_mappings["news-articles"])
    assert articles["title"] == "text" and articles["title.keyword"] == "keyword"
    assert articles["topics.name"] == "keyword" and articles["entities.mentions"] == "object"
    assert "topics" not in articles


def test_load_names_the_bad_line(tmp_path):
    path = tmp_path / "objects.ndjson"
    path.write_text('{"type": "index-pattern", "id": "a", "attributes": {}}\n{"type": \n', encoding="utf-8")
    with pytest.raises(SavedObjectsFileError, match=r"objects\.ndjson, line 2: not JSON"):
        load_saved_objects(path)


def test_load_skips_the_export_summary(tmp_path):
    path = tmp_path / "export.ndjson"
    path.write_text('{"type": "index-pattern", "id": "a", "attributes": {}, "references": []}\n\n'
                    '{"exportedCount": 1, "missingRefCount": 0, "missingReferences": []}\n', encoding="utf-8")
    assert [obj["id"] for obj in load_saved_objects(str(path))] == ["a"]


# ---------------------------------------------------------------------------- importing


class KibanaStub:
    """A local HTTP server standing in for Kibana's saved-objects import route.

    Like Kibana it answers 404 off the route, 400 without ``kbn-xsrf``, 401 when the
    ``Authorization`` header is not the expected one, 415 for a body that is not
    multipart/form-data, and 400 without a ``file`` part or with a file not named
    ``*.ndjson``; otherwise ``{"success": true, "successCount": n}`` (or ``self.answer``).
    Every request that reached the route is kept in ``requests``.
    """

    def __init__(self, expected_auth: str | None = None) -> None:
        self.expected_auth = expected_auth
        self.answer: tuple[int, dict[str, Any]] | None = None
        self.requests: list[dict[str, Any]] = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                self._reply(404, {"statusCode": 404, "error": "Not Found", "message": "Not Found"})

            do_PUT = do_GET

            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                body = self.rfile.read(length)
                status, answer = stub.handle(self.path, self.headers, body)
                self._reply(status, answer)

            def _reply(self, status, answer):
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def handle(self, target: str, headers, body: bytes) -> tuple[int, dict[str, Any]]:
        url = urlsplit(target)
        if not re.fullmatch(r"(/s/[a-z0-9_-]+)?/api/saved_objects/_import", url.path):
            return 404, {"statusCode": 404, "error": "Not Found", "message": "Not Found"}
        request = {"path": url.path, "query": parse_qs(url.query),
                   "headers": {name.lower(): value for name, value in headers.items()},
                   "objects": None}
        self.requests.append(request)
        if headers.get("kbn-xsrf") is None:
            return 400, {"statusCode": 400, "error": "Bad Request",
                         "message": "Request must contain a kbn-xsrf header."}
        if self.expected_auth is not None and headers.get("Authorization") != self.expected_auth:
            return 401, {"statusCode": 401, "error": "Unauthorized",
                         "message": "[security_exception]: unable to authenticate user [newsmon] for "
                                    "REST request [/_security/_authenticate]"}
        content_type = headers.get("Content-Type", "")
        if not re.match(r"multipart/form-data;\s*boundary=\S+", content_type):
            return 415, {"statusCode": 415, "error": "Unsupported Media Type",
                         "message": "Unsupported Media Type"}
        message = BytesParser(policy=HTTP).parsebytes(
            b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body)
        files = [part for part in message.iter_parts()
                 if part.get_param("name", header="content-disposition") == "file"]
        if len(files) != 1:
            return 400, {"statusCode": 400, "error": "Bad Request", "message":
                         "[request body.file]: expected value of type [Stream] but got [undefined]"}
        filename = files[0].get_filename() or ""
        if not filename.endswith(".ndjson"):
            extension = filename[filename.rfind("."):] if "." in filename else ""
            return 400, {"statusCode": 400, "error": "Bad Request",
                         "message": f"Invalid file extension {extension}"}
        request["filename"] = filename
        request["raw"] = files[0].get_payload(decode=True)
        request["objects"] = [json.loads(line) for line in request["raw"].decode().splitlines() if line]
        if self.answer is not None:
            return self.answer
        return 200, {"success": True, "successCount": len(request["objects"]),
                     "successResults": [{"type": o["type"], "id": o["id"],
                                         "meta": {"title": o["attributes"].get("title")}}
                                        for o in request["objects"]]}

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


@pytest.fixture
def kibana():
    stub = KibanaStub()
    yield stub
    stub.close()


def basic(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


def test_stub_rejects_what_kibana_rejects(kibana):
    http = urllib3.PoolManager()
    target = kibana.url + "/api/saved_objects/_import?overwrite=true"
    body, content_type = urllib3.encode_multipart_formdata(
        {"file": ("objects.json", b"{}\n", "application/json")})
    assert http.request("POST", target, body=body, headers={"Content-Type": content_type}).status == 400
    assert http.request("POST", target, body=b"{}", headers={"kbn-xsrf": "true"}).status == 415
    wrong_name = http.request("POST", target, body=body,
                              headers={"Content-Type": content_type, "kbn-xsrf": "x"})
    assert wrong_name.status == 400 and "Invalid file extension .json" in wrong_name.json()["message"]
    assert http.request("GET", target).status == 404


def test_import_with_basic_auth(kibana, objects):
    kibana.expected_auth = basic("newsmon", PASSWORD)
    answer = import_saved_objects(kibana.url, objects, username="newsmon", password=Secret(PASSWORD))
    assert answer["success"] is True and answer["successCount"] == len(objects)
    (request,) = kibana.requests
    assert request["path"] == "/api/saved_objects/_import"
    assert request["query"] == {"overwrite": ["true"]}
    assert request["headers"]["kbn-xsrf"]
    assert re.match(r"multipart/form-data; boundary=\S+", request["headers"]["content-type"])
    assert request["headers"]["authorization"] == basic("newsmon", PASSWORD)
    assert request["filename"].endswith(".ndjson")
    assert request["objects"] == objects
    assert request["raw"].endswith(b"\n") and request["raw"].count(b"\n") == len(objects)


def test_import_with_api_key_into_a_space(kibana, objects):
    kibana.expected_auth = f"ApiKey {API_KEY}"
    answer = import_saved_objects(kibana.url + "/", objects, api_key=Secret(API_KEY), space="analysts")
    assert answer["successCount"] == len(objects)
    (request,) = kibana.requests
    assert request["path"] == "/s/analysts/api/saved_objects/_import"
    assert request["query"] == {"overwrite": ["true"]}
    assert request["objects"] == objects


def test_import_without_credentials_sends_no_authorization(kibana, objects):
    import_saved_objects(kibana.url, objects[:2])
    (request,) = kibana.requests
    assert "authorization" not in request["headers"]
    assert [o["id"] for o in request["objects"]] == [o["id"] for o in objects[:2]]


def test_wrong_password_gives_a_clear_error_without_the_password(kibana, objects):
    kibana.expected_auth = basic("newsmon", "the-right-one")
    with pytest.raises(KibanaImportError) as caught:
        import_saved_objects(kibana.url, objects, username="newsmon", password=Secret(PASSWORD))
    message = str(caught.value)
    assert f"{kibana.url}/api/saved_objects/_import" in message
    assert "HTTP 401 Unauthorized" in message and "unable to authenticate" in message
    assert PASSWORD not in message and PASSWORD not in repr(caught.value.__dict__)
    assert caught.value.status == 401


def test_partial_failure_lists_the_objects_and_error_types(kibana, objects):
    kibana.answer = (200, {"success": False, "successCount": len(objects) - 2, "errors": [
        {"id": "newsmon-vis-top-persons", "type": "visualization", "title": "newsmon: Top persons",
         "error": {"type": "missing_references",
                   "references": [{"type": "index-pattern", "id": "newsmon-dv-articles"}]}},
        {"id": "newsmon-dashboard-overview", "type": "dashboard", "title": "newsmon: News monitor",
         "error": {"type": "unknown", "message": "Unexpected token", "statusCode": 400}},
    ]})
    with pytest.raises(KibanaImportError) as caught:
        import_saved_objects(kibana.url, objects, api_key=Secret(API_KEY))
    message = str(caught.value)
    assert f"imported {len(objects) - 2} of {len(objects)}" in message
    assert ("visualization/newsmon-vis-top-persons (missing_references: index-pattern/newsmon-dv-articles)"
            in message)
    assert "dashboard/newsmon-dashboard-overview (unknown: Unexpected token)" in message
    assert API_KEY not in message
    assert [e["id"] for e in caught.value.errors] == ["newsmon-vis-top-persons", "newsmon-dashboard-overview"]
    copied = pickle.loads(pickle.dumps(caught.value))
    assert (str(copied), copied.url, copied.status, copied.errors) == (
        message, caught.value.url, 200, caught.value.errors)


def test_server_error_names_the_url(kibana, objects):
    kibana.answer = (503, {"statusCode": 503, "error": "Service Unavailable",
                           "message": "Kibana server is not ready yet"})
    with pytest.raises(KibanaImportError, match=r"_import\?overwrite=true: HTTP 503 Service Unavailable: "
                                                r"Kibana server is not ready yet"):
        import_saved_objects(kibana.url, objects)


def test_unreachable_kibana(closed_port, objects):
    with pytest.raises(KibanaUnreachableError, match=f"not reachable at http://127.0.0.1:{closed_port}/api"):
        import_saved_objects(f"http://127.0.0.1:{closed_port}", objects, username="u",
                             password=Secret(PASSWORD), timeout=5)


@pytest.mark.parametrize(("arguments", "expected"), [
    ({"url": "127.0.0.1:5601"}, "must be an http"),
    ({"url": f"http://newsmon:{PASSWORD}@127.0.0.1:5601"}, "carries credentials"),
    ({"username": "newsmon", "password": Secret(PASSWORD), "api_key": Secret(API_KEY)}, "not both"),
    ({"username": "newsmon"}, "go together"),
    ({"username": "newsmon", "password": PASSWORD}, "must be a newsmon.settings.Secret"),
    ({"space": "Analysts Team"}, "space id"),
])
def test_arguments_are_checked_before_sending(objects, arguments, expected):
    arguments = {"url": "http://127.0.0.1:9", **arguments}
    with pytest.raises(KibanaError, match=re.escape(expected)) as caught:
        import_saved_objects(arguments.pop("url"), objects, **arguments)
    assert PASSWORD not in str(caught.value)
