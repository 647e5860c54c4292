"""Index and search through the real node with the official client; an unreachable node."""

import pytest

from newsmon.connectors.elasticsearch import check_elasticsearch
from newsmon.errors import ServiceUnavailableError
from newsmon.settings import Settings


def test_index_search_round_trip(es, index_name):
    es.indices.create(index=index_name, mappings={"properties": {
        "title": {"type": "text"}, "persons": {"type": "keyword"}, "published": {"type": "date"}}})
    es.index(index=index_name, id="a1", refresh="wait_for", document={
        "title": "Belarus frees prisoners", "persons": ["Ihar Losik"], "published": "2025-09-11T10:00:00Z"})
    es.index(index=index_name, id="a2", refresh="wait_for", document={
        "title": "Markets close higher", "persons": [], "published": "2025-09-12T10:00:00Z"})

    by_text = es.search(index=index_name, query={"match": {"title": "prisoners"}})
    by_person = es.search(index=index_name, query={"term": {"persons": "Ihar Losik"}})
    assert [hit["_id"] for hit in by_text["hits"]["hits"]] == ["a1"]
    assert [hit["_id"] for hit in by_person["hits"]["hits"]] == ["a1"]


def test_same_id_overwrites_instead_of_duplicating(es, index_name):
    for title in ("first version", "second version"):
        es.index(index=index_name, id="same", document={"title": title}, refresh="wait_for")
    assert es.count(index=index_name)["count"] == 1
    assert es.get(index=index_name, id="same")["_source"]["title"] == "second version"


def test_node_is_elasticsearch_8(es):
    # The client's product check already ran on the first request; this names the version.
    version = es.nodes.info(filter_path="nodes.*.version")["nodes"]
    assert all(node["version"].startswith("8.") for node in version.values())


def test_unreachable_node_gives_a_clear_error(closed_port):
    settings = Settings(es_url=f"http://127.0.0.1:{closed_port}")
    with pytest.raises(ServiceUnavailableError, match=f"not reachable at http://127.0.0.1:{closed_port}"):
        check_elasticsearch(settings)
