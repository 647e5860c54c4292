"""ExtractEntities, TagTopics and MatchWatchlist as PTransforms: TestPipeline and assert_that
on the seed article (MatchWatchlist from a fixed watch list, and from the real Elasticsearch);
an article a step fails on leaves as a dead letter and the others pass.
"""

import dataclasses

import pytest
from apache_beam import CoGroupByKey, Create, Map
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import BeamAssertException, assert_that, equal_to

from newsmon.analysis.watch_entries import load_watchlist_file
from newsmon.connectors.watchlist_store import WatchlistStore
from newsmon.pipelines.extract_entities import ExtractEntities
from newsmon.pipelines.match_watchlist import ElasticsearchWatchlist, FixedWatchlist, MatchWatchlist
from newsmon.pipelines.tag_topics import TagTopics
from tests.support.pipeline import EXAMPLE_WATCHLIST, SEED_MESSAGE, parsed, record

SEED_PERSONS = {"Alexander Lukashenko", "Donald Trump", "Vladimir Putin", "Mikola Statkevich", "John Coale",
                "Ihar Losik", "Ales Bialiatski", "Maria Kalesnikava", "Sviatlana Tsikhanouskaya"}
WATCHED_IN_SEED = {"Ihar Losik", "Maria Kalesnikava", "Ales Bialiatski", "Sviatlana Tsikhanouskaya",
                   "Mikola Statkevich", "Alexander Lukashenko"}


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
            assert local.text.startswith(local.article.title) and local.sentences
            assert local.provenance["model"].startswith("en_core_web_sm")
            if article_id == SEED_MESSAGE["article_id"]:
                assert {e.name for e in local.entities if e.type == "PERSON"} >= SEED_PERSONS
                assert {"Belavia", "European Union"} <= {e.name for e in local.entities if e.type == "ORG"}

    with TestPipeline() as pipeline:
        articles = pipeline | Create([parsed(SEED_MESSAGE), parsed(other, 1)])
        by_mode = {mode: ((articles | f"Extract{mode}" >> ExtractEntities(processes=processes)).articles
                          | f"Key{mode}" >> Map(lambda item: (item.article_id, item)))
                   for mode, processes in (("in_process", 1), ("in_children", 2))}
        assert_that(by_mode | CoGroupByKey(), check)


def test_tag_topics_tags_the_seed_with_evidence_alike_in_process_and_in_children(seed_analysed):
    def check(by_mode):
        [(_, tagged)] = by_mode
        [local], [child] = tagged["in_process"], tagged["in_children"]
        assert (child.topics, child.provenance) == (local.topics, local.provenance)
        assert {topic.name for topic in local.topics} == {
            "prisoner_release", "sanctions_relief", "diplomatic_move"}
        assert all(topic.evidence and topic.score > 0 for topic in local.topics)
        assert local.provenance["topic_rules"]

    with TestPipeline() as pipeline:
        untagged = pipeline | Create([dataclasses.replace(seed_analysed, topics=(), alerts=())])
        by_mode = {mode: ((untagged | f"Tag{mode}" >> TagTopics(processes=processes)).articles
                          | f"Key{mode}" >> Map(lambda item: (item.article_id, item)))
                   for mode, processes in (("in_process", 1), ("in_children", 2))}
        assert_that(by_mode | CoGroupByKey(), check)


def _check_seed_alerts(item):
    assert sorted(alert.person for alert in item.alerts) == sorted(WATCHED_IN_SEED)
    assert len({alert.alert_id for alert in item.alerts}) == len(WATCHED_IN_SEED)
    assert all(alert.article_id == SEED_MESSAGE["article_id"] for alert in item.alerts)
    assert item.sentences == () and item.text == ""  # no later step needs the analysis


def test_match_watchlist_raises_one_alert_per_watched_person(seed_analysed):
    with TestPipeline() as pipeline:
        unmatched = dataclasses.replace(seed_analysed, alerts=())
        source = FixedWatchlist(load_watchlist_file(EXAMPLE_WATCHLIST))
        matched = pipeline | Create([unmatched]) | MatchWatchlist(source)
        assert_that(matched.articles, _one(_check_seed_alerts))


def test_match_watchlist_reads_the_watch_list_in_elasticsearch(es, settings, aliases, seed_analysed):
    settings = dataclasses.replace(settings, es_index_watchlist=aliases["watchlist"])
    store = WatchlistStore(es, aliases["watchlist"])
    store.setup()
    store.put(load_watchlist_file(EXAMPLE_WATCHLIST))
    es.indices.refresh(index=aliases["watchlist"])
    with TestPipeline() as pipeline:
        unmatched = dataclasses.replace(seed_analysed, alerts=())
        matched = pipeline | Create([unmatched]) | MatchWatchlist(ElasticsearchWatchlist(settings))
        assert_that(matched.articles, _one(_check_seed_alerts))


@pytest.mark.parametrize("processes", [1, 2])
def test_an_article_a_step_fails_on_is_dead_lettered_alone(seed_analysed, processes):
    """A token without text (a corrupt analysis) breaks the topic tagger: that article
    leaves as a dead letter, the seed goes on, whether tagged in the worker or in children.
    """
    sentence = seed_analysed.sentences[0]
    broken_token = dataclasses.replace(sentence.tokens[0], text=None)
    broken_sentence = dataclasses.replace(sentence, tokens=(broken_token, *sentence.tokens[1:]))
    poison = dataclasses.replace(seed_analysed, sentences=(broken_sentence,), topics=(), alerts=(),
                                 record=record(b"poison", offset=7))
    good = dataclasses.replace(seed_analysed, topics=(), alerts=())
    with TestPipeline() as pipeline:
        tagged = pipeline | Create([good, poison]) | TagTopics(processes=processes)
        assert_that(tagged.articles | "Ids" >> Map(lambda item: item.record.offset), equal_to([0]),
                    label="articles")
        assert_that(tagged.deadletter | "Why" >> Map(lambda letter: (letter.stage, letter.record.offset,
                                                                    letter.reason.split(":")[0])),
                    equal_to([("topics", 7, "AttributeError")]), label="deadletter")
