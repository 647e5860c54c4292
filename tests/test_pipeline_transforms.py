"""ExtractEntities, TagTopics and MatchWatchlist as PTransforms: TestPipeline and assert_that
on the seed article (MatchWatchlist reads its watch list from the real Elasticsearch).
"""

import dataclasses
import json

from apache_beam import CoGroupByKey, Create, Map
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import BeamAssertException, assert_that

from newsmon.analysis.messages import AnalysedArticle
from newsmon.analysis.watch_entries import load_watchlist_file
from newsmon.connectors.watchlist_store import WatchlistStore
from newsmon.pipelines.extract_entities import ExtractEntities
from newsmon.pipelines.match_watchlist import MatchWatchlist
from newsmon.pipelines.tag_topics import TagTopics
from tests.pipeline_outputs import EXAMPLE_WATCHLIST
from tests.test_pipeline_e2e import SEED_MESSAGE
from tests.test_pipeline_steps import record

SEED_PERSONS = {"Alexander Lukashenko", "Donald Trump", "Vladimir Putin", "Mikola Statkevich", "John Coale",
                "Ihar Losik", "Ales Bialiatski", "Maria Kalesnikava", "Sviatlana Tsikhanouskaya"}
WATCHED_IN_SEED = {"Ihar Losik", "Maria Kalesnikava", "Ales Bialiatski", "Sviatlana Tsikhanouskaya",
                   "Mikola Statkevich", "Alexander Lukashenko"}


def _parsed(message: dict, offset: int = 0) -> AnalysedArticle:
    return AnalysedArticle(record=record(json.dumps(message).encode(), offset=offset), article=message)


def _one(check):
    """An assert_that matcher for a PCollection of exactly one element."""
    def match(actual):
        if len(actual) != 1:
            msg = f"expected one element, got {len(actual)}"
            raise BeamAssertException(msg)
        check(actual[0])
    return match


def test_extract_entities_names_the_seed_people_alike_in_process_and_in_children():
    other = SEED_MESSAGE | {
        "article_id": "b" * 16, "title": "Talks in Vilnius",
        "content": "Lithuanian Foreign Minister Kestutis Budrys met envoys in Vilnius on Monday."}

    def check(joined):
        assert sorted(key for key, _ in joined) == sorted([SEED_MESSAGE["article_id"], "b" * 16])
        for article_id, analyses in joined:
            [local], [child] = analyses["in_process"], analyses["in_children"]
            assert (child.entities, child.sentences, child.provenance) == (
                local.entities, local.sentences, local.provenance)
            assert local.text.startswith(local.article["title"]) and local.sentences
            assert local.provenance["model"].startswith("en_core_web_sm")
            if article_id == SEED_MESSAGE["article_id"]:
                assert {e.name for e in local.entities if e.type == "PERSON"} >= SEED_PERSONS
                assert {"Belavia", "European Union"} <= {e.name for e in local.entities if e.type == "ORG"}

    with TestPipeline() as pipeline:
        articles = pipeline | Create([_parsed(SEED_MESSAGE), _parsed(other, 1)])
        by_mode = {mode: (articles
                          | f"Extract{mode}" >> ExtractEntities(processes=processes)
                          | f"Key{mode}" >> Map(lambda item: (item.article_id, item)))
                   for mode, processes in (("in_process", 1), ("in_children", 2))}
        assert_that(by_mode | CoGroupByKey(), check)


def test_tag_topics_tags_the_seed_with_evidence(seed_analysed):
    def check(item):
        assert {topic["name"] for topic in item.topics} == {
            "prisoner_release", "sanctions_relief", "diplomatic_move"}
        assert all(topic["evidence"] and topic["score"] > 0 for topic in item.topics)
        assert item.provenance["topic_rules"]

    with TestPipeline() as pipeline:
        untagged = dataclasses.replace(seed_analysed, topics=(), alerts=())
        assert_that(pipeline | Create([untagged]) | TagTopics(), _one(check))


def test_match_watchlist_raises_one_alert_per_watched_person(es, settings, aliases, seed_analysed):
    settings = dataclasses.replace(settings, es_index_watchlist=aliases["watchlist"])
    store = WatchlistStore(es, aliases["watchlist"])
    store.setup()
    store.put(load_watchlist_file(EXAMPLE_WATCHLIST))
    es.indices.refresh(index=aliases["watchlist"])

    def check(item):
        assert sorted(alert["person"] for alert in item.alerts) == sorted(WATCHED_IN_SEED)
        assert len({alert["alert_id"] for alert in item.alerts}) == len(WATCHED_IN_SEED)
        assert all(alert["article_id"] == SEED_MESSAGE["article_id"] for alert in item.alerts)
        assert item.sentences == () and item.text == ""  # no later step needs the analysis

    with TestPipeline() as pipeline:
        unmatched = dataclasses.replace(seed_analysed, alerts=())
        assert_that(pipeline | Create([unmatched]) | MatchWatchlist(settings), _one(check))
