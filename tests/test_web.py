"""``newsmon web`` over HTTP, against the real Elasticsearch: who may use it (token, loopback
host names), CSRF on the watch-list forms, bad URLs, and that the search page sends the
query ``newsmon search`` builds.
"""

from __future__ import annotations

import base64
import dataclasses
import http.client
import re
import subprocess
import sys
import uuid
from urllib.parse import urlencode, urlsplit

import pytest
from starlette.datastructures import QueryParams

from newsmon.connectors.elasticsearch import drop_index
from newsmon.connectors.search import SearchRequest, build_search
from newsmon.errors import ConfigError
from newsmon.settings import Secret
from newsmon.web.app import create_app
from newsmon.web.guard import token_matches
from newsmon.web.search_page import FACETS, SearchForm, search_body
from newsmon.web.server import WebServer, bind, check_exposure

TOKEN = "s3cret-" + "x" * 30


def Params(pairs: dict | None = None, **values) -> QueryParams:  # noqa: N802 - reads as the type
    """URL parameters as Starlette gives them (a list value: the parameter repeated)."""
    return QueryParams(urlencode(dict(pairs or {}, **values), doseq=True))


def test_the_search_page_sends_the_query_newsmon_search_builds():
    form = SearchForm.from_params(Params(q="Belavia sanctions", topic=["sanctions_relief"],
                                         person=["Ihar Losik", "Maria Kalesnikava"], source=["Baltic Wire"],
                                         since="2026-11-01", sort="relevance", page="3"))
    body = search_body(form)
    cli = build_search(SearchRequest(text="Belavia sanctions", topics=("sanctions_relief",),
                                     persons=("Ihar Losik", "Maria Kalesnikava"), sources=("Baltic Wire",),
                                     since=form.request().since, sort="relevance", size=20))
    assert body["query"] == cli["query"]
    assert body.get("sort") == cli.get("sort")
    assert body["from"] == 40 and body["size"] == 20
    assert set(body["aggs"]) == set(FACETS)


def test_the_whole_search_is_in_its_url_and_facets_toggle():
    form = SearchForm.from_params(Params(q="Belavia", topic=["sanctions_relief"], since="7d", page="2"))
    assert form.url(page=2) == "/search?q=Belavia&since=7d&page=2&topic=sanctions_relief"
    assert form.url(sort="relevance") == "/search?q=Belavia&since=7d&sort=relevance&topic=sanctions_relief"
    # A facet value is added or, when chosen, removed; either way back to the first page.
    assert form.toggled("person", "Ihar Losik") == ("/search?q=Belavia&since=7d&topic=sanctions_relief"
                                                    "&person=Ihar+Losik")
    assert form.toggled("topic", "sanctions_relief") == "/search?q=Belavia&since=7d"
    again = SearchForm.from_params(QueryParams(form.url(page=3).partition("?")[2]))
    assert again == dataclasses.replace(form, page=3)


@pytest.mark.parametrize(("params", "message"), [
    ({"page": "0"}, "page is a number"), ({"page": "x"}, "page is a number"),
    ({"sort": "random"}, "sort is time or relevance"), ({"since": "yesterday"}, "since takes 30m")])
def test_bad_search_parameters_are_refused_clearly(params, message):
    with pytest.raises(ConfigError, match=message):
        SearchForm.from_params(Params(params))


def test_a_token_is_taken_as_bearer_or_as_the_basic_auth_password():
    token = Secret(TOKEN)
    basic = base64.b64encode(f"analyst:{TOKEN}".encode()).decode()
    assert token_matches(f"Bearer {TOKEN}", token)
    assert token_matches(f"Basic {basic}", token)
    assert not token_matches("Bearer wrong", token)
    assert not token_matches("Basic !!!", token)
    assert not token_matches("", token)


def test_only_loopback_is_served_without_a_token(settings):
    check_exposure("127.0.0.1", settings)
    with pytest.raises(ConfigError, match="NEWSMON_WEB_TOKEN"):
        check_exposure("0.0.0.0", dataclasses.replace(settings, web_token=None))  # noqa: S104
    check_exposure("0.0.0.0", dataclasses.replace(settings, web_token=Secret(TOKEN)))  # noqa: S104


def test_the_command_refuses_another_address_without_a_token():
    env = {"PATH": "/usr/bin:/bin", "NEWSMON_WEB_TOKEN": ""}
    done = subprocess.run([sys.executable, "-m", "newsmon", "web", "--host", "0.0.0.0", "--port", "0"],
                          env=env, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2
    assert "set NEWSMON_WEB_TOKEN" in done.stderr


@pytest.fixture
def web(es, settings):
    """A server on its own watch-list and articles aliases; (url, settings)."""
    suffix = uuid.uuid4().hex[:10]
    mine = dataclasses.replace(settings, es_index_watchlist=f"test-watchlist-{suffix}",
                               es_index_articles=f"test-articles-{suffix}",
                               es_index_alerts=f"test-alerts-{suffix}")
    servers = []

    def start(token: str | None = None) -> str:
        server = WebServer(create_app(mine, token=Secret(token) if token else None), bind("127.0.0.1", 0))
        servers.append(server.start())
        return server.url.rstrip("/")

    yield start, mine
    for server in servers:
        server.stop()
    drop_index(es, mine.es_index_watchlist)


def request(url: str, path: str, *, method: str = "GET", body: dict | None = None,
            headers: dict | None = None) -> tuple[int, dict, str]:
    where = urlsplit(url)
    connection = http.client.HTTPConnection(where.hostname, where.port, timeout=30)
    data = urlencode(body).encode() if body is not None else None
    sent = dict(headers or {})
    if data is not None:
        sent.setdefault("Content-Type", "application/x-www-form-urlencoded")
    connection.request(method, path, body=data, headers=sent)
    response = connection.getresponse()
    answer = response.status, {k.lower(): v for k, v in response.getheaders()}, response.read().decode()
    connection.close()
    return answer


def test_with_a_token_every_request_must_carry_it(web):
    start, _ = web
    url = start(TOKEN)
    status, headers, _ = request(url, "/search")
    assert status == 401 and headers["www-authenticate"].startswith("Basic")
    assert request(url, "/watch", headers={"Authorization": "Bearer nope"})[0] == 401
    assert request(url, "/search", headers={"Authorization": f"Bearer {TOKEN}"})[0] == 200
    basic = base64.b64encode(f"me:{TOKEN}".encode()).decode()
    assert request(url, "/watch", headers={"Authorization": f"Basic {basic}"})[0] == 200


def test_without_a_token_only_loopback_host_names_are_answered(web):
    start, _ = web
    url = start()
    assert request(url, "/search", headers={"Host": "evil.example:8088"})[0] == 421
    assert request(url, "/search", headers={"Host": "localhost:8088"})[0] == 200
    status, headers, _ = request(url, "/search")
    assert status == 200 and "app;dur=" in headers["server-timing"]


def _csrf(url: str) -> tuple[str, str]:
    status, headers, page = request(url, "/watch")
    assert status == 200
    cookie = headers["set-cookie"].split(";")[0]
    field = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    assert cookie == f"newsmon_csrf={field}"
    assert "SameSite=Strict" in headers["set-cookie"] and "HttpOnly" in headers["set-cookie"]
    return cookie, field


def test_watch_forms_need_their_csrf_token_and_bad_input_is_a_clear_error(web, es):
    start, settings = web
    url = start()
    cookie, field = _csrf(url)
    form = {"name": "Ihar Losik", "list": "desk", "csrf": field}
    assert request(url, "/watch/add", method="POST", body=form)[0] == 403  # no cookie
    assert request(url, "/watch/add", method="POST", body=form | {"csrf": "forged"},
                   headers={"Cookie": cookie})[0] == 403
    status, _, page = request(url, "/watch/add", method="POST", body=form,
                              headers={"Cookie": cookie, "Origin": "https://evil.example"})
    assert status == 403 and "another site" in page
    assert not es.indices.exists_alias(name=settings.es_index_watchlist)  # nothing was written

    status, _, page = request(url, "/watch/add", method="POST", body=form,
                              headers={"Cookie": cookie, "Origin": url})
    assert status == 200 and "Watching Ihar Losik on list desk" in page
    assert "0</span> indexed stories already name Ihar Losik" in page  # nothing indexed here
    status, _, page = request(url, "/watch/add", method="POST", body=form | {"name": " "},
                              headers={"Cookie": cookie})
    assert status == 400 and "should be non-empty" in page

    entry_id = re.search(r'name="entry_id" value="([^"]+)"', page).group(1)
    removal = {"entry_id": entry_id, "list": "desk", "csrf": field}
    assert request(url, "/watch/remove", method="POST", body=removal)[0] == 403
    status, headers, _ = request(url, "/watch/remove", method="POST", body=removal,
                                 headers={"Cookie": cookie})
    assert status == 303 and headers["location"] == "/watch"
    assert "Nobody is watched yet" in request(url, "/watch")[2]


def test_bad_urls_get_clear_pages(web):
    start, _ = web
    url = start()
    status, _, page = request(url, "/search?page=0")
    assert status == 400 and "page is a number" in page
    status, _, page = request(url, "/story/nope")
    assert status == 404 and "no story" in page
    assert request(url, "/search?q=anything")[0] == 200  # nothing indexed: says so, no error
