"""Searching what the pipeline indexed, in the real Elasticsearch: the templates, the
mapping of pipeline-produced documents, ``newsmon search``, and a migration to a changed
mapping while writers keep writing.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import os
import subprocess
import sys
import threading

import pytest

from newsmon.connectors.elasticsearch import setup_index, write_documents
from newsmon.connectors.es_indices import migrate, setup_all
from newsmon.pipelines.index_articles import article_document
from newsmon.schemas import load_index_template

PERSONS = ["Alexander Lukashenko", "Donald Trump", "Vladimir Putin", "Mikola Statkevich", "John Coale",
           "Ihar Losik", "Ales Bialiatski", "Maria Kalesnikava", "Sviatlana Tsikhanouskaya"]
TOPICS = ["prisoner_release", "sanctions_relief", "diplomatic_move"]


@pytest.fixture
def indexed(es, aliases, seed_analysed):
    """The seed story indexed under this test's articles alias."""
    setup_index(es, "news-articles", aliases["articles"])
    document = article_document(seed_analysed)
    assert write_documents(es, aliases["articles"], [(seed_analysed.article_id, document)]) == []
    es.indices.refresh(index=aliases["articles"])
    return aliases


def newsmon_search(aliases, *args: str) -> subprocess.CompletedProcess:
    env = os.environ | {"NEWSMON_ES_INDEX_ARTICLES": aliases["articles"]}
    done = subprocess.run([sys.executable, "-m", "newsmon", "search", *args], env=env, capture_output=True,
                          text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    return done


def found(aliases, *args: str) -> int:
    return json.loads(newsmon_search(aliases, "--json", *args).stdout)["total"]


def test_templates_install_twice(es, settings, aliases):
    settings = dataclasses.replace(settings, es_index_articles=aliases["articles"],
                                   es_index_alerts=aliases["alerts"], es_index_watchlist=aliases["watchlist"],
                                   es_index_stories=aliases["stories"], es_index_spikes=aliases["spikes"])
    first = setup_all(es, settings)
    assert setup_all(es, settings) == first == {alias: f"{alias}-v1" for alias in aliases.values()}


def test_pipeline_documents_map_as_intended(es, indexed):
    [mapping] = es.indices.get_mapping(index=indexed["articles"]).body.values()
    fields = mapping["mappings"]["properties"]
    assert fields["published_at"]["type"] == fields["fetched_at"]["type"] == "date"
    assert fields["persons"]["type"] == fields["places"]["type"] == "keyword"
    assert fields["topics"]["properties"]["name"]["type"] == "keyword"
    assert fields["topics"]["properties"]["score"]["type"] == "float"
    assert fields["content"]["type"] == "text" and fields["title"]["fields"]["keyword"]["type"] == "keyword"


def test_search_finds_the_seed_story_every_way(indexed, seed_analysed):
    assert found(indexed, "Belavia airline sanctions") == 1
    assert found(indexed, "ice hockey") == 0
    for topic in TOPICS:
        assert found(indexed, "--topic", topic) == 1
    for person in PERSONS:
        assert found(indexed, "--person", person) == 1, person
    assert found(indexed, "--org", "Belavia", "--place", "Minsk") == 1
    assert found(indexed, "--since", "2026-11-01", "--until", "2026-11-30") == 1
    assert found(indexed, "--until", "2025-01-01") == 0

    table = newsmon_search(indexed, "pardoned", "--topic", "prisoner_release", "--histogram", "topic").stdout
    assert seed_analysed.article.title in table and "«pardoned»" in table
    assert "per topic:" in table and "1 stories match" in table
    assert newsmon_search(indexed, "--count", "--person", "Ihar Losik").stdout.strip() == "1 stories match"
    explained = newsmon_search(indexed, "--explain", "Belavia", "--person", "Ihar Losik").stdout
    assert explained.startswith(f"GET {indexed['articles']}/_search\n")
    [person] = json.loads(explained.split("\n", 1)[1])["query"]["bool"]["filter"]
    indexed, spelled = person["bool"]["should"]  # as indexed, or in another spelling (issue 17)
    assert indexed == {"term": {"persons": "Ihar Losik"}} and "person_name_keys" in spelled["terms"]


def test_migration_keeps_every_document_and_writers_keep_writing(es, indexed, seed_analysed):
    alias = indexed["articles"]
    story = article_document(seed_analysed)
    before = [(f"{n:032x}", story | {"article_id": f"{n:032x}"}) for n in range(300)]
    assert write_documents(es, alias, before) == []
    changed = copy.deepcopy(load_index_template("news-articles"))
    changed["template"]["mappings"]["properties"]["cluster_label"] = {"type": "keyword"}

    during = [(f"{n:032x}", story | {"article_id": f"{n:032x}", "title": "written during the migration"})
              for n in range(250, 400)]  # 50 rewrite copied documents, 100 are new

    def write_meanwhile():
        for start in range(0, len(during), 10):
            assert write_documents(es, alias, during[start:start + 10]) == []

    writer = threading.Thread(target=write_meanwhile)
    writer.start()
    moved = migrate(es, "news-articles", alias, template_body=changed)
    writer.join()
    es.indices.refresh(index=alias)
    assert list(es.indices.get_alias(name=alias)) == [f"{alias}-v2"] == [moved.new_index]
    assert es.count(index=alias)["count"] == 400 + 1  # the seed story, 300 before, 100 new during
    rewritten = es.get(index=alias, id=f"{260:032x}")["_source"]["title"]
    assert rewritten == "written during the migration"  # the copy never overwrote a newer write
    [mapping] = es.indices.get_mapping(index=alias).body.values()
    assert mapping["mappings"]["properties"]["cluster_label"]["type"] == "keyword"


def test_search_shows_control_characters_from_feeds_instead_of_obeying_them(es, indexed, seed_analysed):
    from tests.support.hostile import HOSTILE, raw_controls

    hostile = article_document(seed_analysed) | {"article_id": "f" * 32, "title": f"Belavia {HOSTILE}",
                                                  "source_name": "Wire\x1b[31m\r"}
    assert write_documents(es, indexed["articles"], [("f" * 32, hostile)]) == []
    es.indices.refresh(index=indexed["articles"])
    table = newsmon_search(indexed, "Belavia").stdout
    assert raw_controls(table) == []
    assert "Wire\\x1b[31m : Belavia Minsk\\x1b[2J" in table
    listed = newsmon_search(indexed, "Belavia", "--json").stdout
    assert raw_controls(listed) == []
    assert {hit["title"] for hit in json.loads(listed)["hits"]} >= {f"Belavia {HOSTILE}"}
