"""Benchmark: the search page of ``newsmon web`` on 100,000 stories, next to the plain
Elasticsearch query of ``newsmon search`` (``build_search``) for the same request, in the
same run.

The stories are made by the pipeline's own code (as in ``bench.search_latency``). Each
request is a GET of ``/search`` over HTTP on loopback from a server in this process: free
text with a topic and a time range, a person filter, or a facet click (topic + source),
newest first or by relevance, some on later pages. Printed: the page's server time (its
``Server-Timing`` header: parsing, the search with facets and highlights, the watched
people of the hits, rendering), the time the client waited, the plain query's time (the
CLI's body, no facets: the baseline) and that of the page's own query (facets, paging),
with the ratios of their p95 to the baseline's. Target: page p95 < 300 ms.

    python -m bench.web_search [--documents 100000] [--distinct 200] [--queries 200]
"""

from __future__ import annotations

import argparse
import dataclasses
import http.client
import random
import time
import uuid
from datetime import UTC, datetime
from urllib.parse import urlencode, urlsplit

from starlette.datastructures import QueryParams

from bench.search_latency import (
    SOURCES,
    TOPICS,
    WORDS,
    fill,
    p95,
    percentiles,
    pipeline_documents,
    timed,
)
from newsmon.connectors.elasticsearch import drop_index, make_client
from newsmon.connectors.search import build_search
from newsmon.settings import Settings
from newsmon.web.app import create_app
from newsmon.web.search_page import SearchForm, search_body
from newsmon.web.server import WebServer, bind
from tests.support.stories import PEOPLE

TARGET_P95_MS = 300.0


def random_query(rng: random.Random) -> dict[str, str | list[str]]:
    kind = rng.choice(("text", "person", "facets"))
    if kind == "text":
        params = {"q": " ".join(rng.sample(WORDS, 2)), "topic": [rng.choice(TOPICS)],
                  "since": rng.choice(("1d", "7d", "30d"))}
    elif kind == "person":
        params = {"person": [rng.choice(PEOPLE)]}
    else:
        params = {"topic": [rng.choice(TOPICS)], "source": [rng.choice(SOURCES)]}
    if rng.random() < 0.3:
        params["sort"] = "relevance"
    if rng.random() < 0.2:
        params["page"] = str(rng.randint(2, 5))
    return params


def get(connection: http.client.HTTPConnection, path: str) -> tuple[float, float]:
    """(server ms from Server-Timing, client ms) of one GET."""
    started = time.perf_counter()
    connection.request("GET", path)
    response = connection.getresponse()
    response.read()
    waited = (time.perf_counter() - started) * 1000
    if response.status != 200:
        msg = f"GET {path}: HTTP {response.status}"
        raise SystemExit(msg)
    server = float(response.getheader("server-timing").partition("dur=")[2])
    return server, waited


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--documents", type=int, default=100_000)
    parser.add_argument("--distinct", type=int, default=200)
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()

    started = time.perf_counter()
    templates = pipeline_documents(args.distinct)
    print(f"{len(templates)} distinct pipeline documents in {time.perf_counter() - started:.0f}s")
    suffix = uuid.uuid4().hex[:8]
    settings = dataclasses.replace(Settings.load(), es_index_articles=f"bench-web-{suffix}",
                                   es_index_alerts=f"bench-web-alerts-{suffix}")
    alias = settings.es_index_articles
    es = make_client(settings, request_timeout=120)
    rng = random.Random(7)
    server = None
    try:
        fill(es, alias, templates, args.documents, datetime.now(UTC).replace(microsecond=0))
        server = WebServer(create_app(settings), bind("127.0.0.1", 0)).start()
        where = urlsplit(server.url)
        connection = http.client.HTTPConnection(where.hostname, where.port, timeout=60)
        queries = [random_query(rng) for _ in range(args.queries)]
        for params in queries[:10]:  # warm-up: caches, templates, connections
            get(connection, "/search?" + urlencode(params, doseq=True))
        plain, with_facets, page_server, page_client = [], [], [], []
        for params in queries:
            path = "/search?" + urlencode(params, doseq=True)
            form = SearchForm.from_params(QueryParams(urlsplit(path).query))
            plain += timed(es, alias, build_search(form.request()), 1)
            with_facets += timed(es, alias, search_body(form) | {"track_total_hits": True}, 1)
            server_ms, client_ms = get(connection, path)
            page_server.append(server_ms)
            page_client.append(client_ms)
        for times in (plain, with_facets, page_server, page_client):
            times.sort()
        print(f"plain ES query, build_search (baseline): {percentiles(plain)}")
        print(f"the page's ES query (facets, paging):    {percentiles(with_facets)}   "
              f"p95 / baseline p95: {p95(with_facets) / p95(plain):.1f}")
        print(f"search page, server time:                {percentiles(page_server)}   "
              f"p95 / baseline p95: {p95(page_server) / p95(plain):.1f}")
        print(f"search page, client wait (loopback):     {percentiles(page_client)}")
        verdict = "met" if p95(page_server) < TARGET_P95_MS else "NOT met"
        print(f"target: search page p95 < {TARGET_P95_MS:.0f} ms server time: {verdict}")
    finally:
        if server is not None:
            server.stop()
        drop_index(es, alias)


if __name__ == "__main__":
    main()
