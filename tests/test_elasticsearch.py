"""Index and search through the real node with the official client; its credentials; an
unreachable node.
"""

import copy
import dataclasses
import stat

import pytest
import urllib3

from newsmon.connectors.elasticsearch import check_elasticsearch, local_credentials, local_credentials_file
from newsmon.errors import ServiceUnavailableError
from newsmon.settings import Secret, Settings


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


def test_the_local_node_wants_the_generated_password(es, settings):
    """Security is on: a request without credentials is refused; the password newsmon
    generated is readable by its owner only and is what every client sends.
    """
    credentials = local_credentials_file(settings)
    if not settings.es_is_local or not credentials.exists():
        pytest.skip("Elasticsearch was not started by `newsmon services up` here")
    assert stat.S_IMODE(credentials.stat().st_mode) == 0o600
    anonymous = urllib3.PoolManager().request("GET", f"{settings.es_url}/_cluster/health")
    assert anonymous.status == 401
    user, password = local_credentials(settings)
    assert es.security.authenticate()["username"] == user
    assert password.reveal() not in repr(settings) + str(settings.describe())


def test_given_credentials_win_over_the_generated_ones(settings):
    if not local_credentials_file(settings).exists():
        pytest.skip("Elasticsearch was not started by `newsmon services up` here")
    other = dataclasses.replace(settings, es_username="someone", es_password=Secret("wrong"))
    assert local_credentials(other) is None
    with pytest.raises(ServiceUnavailableError):
        check_elasticsearch(other)


def test_fields_a_template_gained_are_added_to_an_existing_index(es, index_name):
    """An index made before a field existed refused documents with it (its mapping is strict)
    until a migration; starting a writer adds the field in place.
    """
    from newsmon.connectors.elasticsearch import drop_index, setup_index
    from newsmon.schemas import load_index_template

    alias = f"{index_name}-alias"
    older = copy.deepcopy(load_index_template("news-articles"))
    del older["template"]["mappings"]["properties"]["provenance"]["properties"]["topic_model"]
    older["index_patterns"] = [f"{alias}-v*"]
    older["meta"] = older.pop("_meta", None)
    es.indices.put_index_template(name=alias, **older)
    es.indices.create(index=f"{alias}-v1", aliases={alias: {"is_write_index": True}})
    try:
        with pytest.raises(Exception, match="strict_dynamic_mapping"):
            es.index(index=alias, id="old", document={"provenance": {"topic_model": "linear-x"}})
        assert setup_index(es, "news-articles", alias) == f"{alias}-v1"
        es.index(index=alias, id="new", document={"provenance": {"topic_model": "linear-x"}},
                 refresh="wait_for")
        found = es.search(index=alias, query={"term": {"provenance.topic_model": "linear-x"}})
        assert found["hits"]["total"]["value"] == 1
    finally:
        drop_index(es, alias)
