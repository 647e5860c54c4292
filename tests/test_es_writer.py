"""The one Elasticsearch bulk writer against the real node, behind a real proxy that
refuses credentials for a while (401) or bodies over a size (413).
"""

from __future__ import annotations

import dataclasses

from newsmon.connectors.elasticsearch import make_client, write_documents
from tests.support.es_proxy import ElasticsearchProxy


def documents(count: int, size: int) -> list[tuple[str, dict]]:
    return [(f"doc-{n}", {"text": f"{n} " + "x" * size}) for n in range(count)]


def test_a_request_over_the_size_limit_is_split_and_only_a_document_too_large_alone_is_refused(
        settings, es, index_name):
    proxy = ElasticsearchProxy(settings.es_url, max_body=20_000)
    client = make_client(dataclasses.replace(settings, es_url=proxy.url))
    try:
        small = documents(30, 2_000)
        refused = write_documents(client, index_name, [*small, ("huge", {"text": "y" * 50_000})])
    finally:
        client.close()
        proxy.close()
    assert [(r.doc_id, r.status) for r in refused] == [("huge", 413)]
    assert 413 in proxy.answers
    es.indices.refresh(index=index_name)
    assert es.count(index=index_name)["count"] == len(small)


def test_refused_credentials_are_waited_out_not_dead_lettered(settings, es, index_name):
    proxy = ElasticsearchProxy(settings.es_url, refuse_first=2)
    client = make_client(dataclasses.replace(settings, es_url=proxy.url), max_retries=0)
    waits: list[float] = []
    try:
        refused = write_documents(client, index_name, documents(5, 100), sleep=waits.append)
    finally:
        client.close()
        proxy.close()
    assert refused == []
    assert proxy.answers[:2] == [401, 401] and len(waits) == 2
    es.indices.refresh(index=index_name)
    assert es.count(index=index_name)["count"] == 5
