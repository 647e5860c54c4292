"""Stories in the pipeline, against the real Elasticsearch (and Kafka end to end): the
Elasticsearch store gives what the in-memory one gives, also to a fresh process, and sees
its own writes at once; ClusterStories puts two reworded copies of one wire report from two
outlets in one story and an unrelated report in another; the watched person named in both
copies is alerted once.
"""

from __future__ import annotations

import dataclasses
import json
import uuid
from datetime import timedelta

from apache_beam import Create, Map
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import BeamAssertException, assert_that

from newsmon.analysis.stories import InMemoryStoryStore, StoryConfig, assign, story_id_for
from newsmon.analysis.watch_entries import WatchEntry
from newsmon.connectors.story_store import ElasticsearchStoryStore
from newsmon.connectors.watchlist_store import WatchlistStore
from newsmon.pipelines import article_pipeline
from newsmon.pipelines.cluster_stories import ClusterStories
from newsmon.pipelines.match_watchlist import FixedWatchlist, MatchWatchlist
from tests.support.pipeline import analysed, message, produce, search, wait_for
from tests.test_alerts_e2e import alerts_in, finished, kafka_alerts
from tests.test_stories import BELARUS, T0, UNRELATED, WIRE, WIRE_COPY, profile, stream

CONFIG = StoryConfig()
WATCHED = "Mikola Statkevich"  # named in both copies of the wire report

WIRE_MESSAGE = message("https://wire.example.com/belarus-frees-52-prisoners",
                       "Belarus frees 52 prisoners after Trump appeal", WIRE)
COPY_MESSAGE = message("https://courier.example.org/world/lukashenko-releases-detainees",
                       "Lukashenko releases 52 detainees after US request", WIRE_COPY) | {
    "source_name": "Daily Courier", "feed_url": "https://courier.example.org/rss"}
UNRELATED_MESSAGE = message("https://wire.example.com/lisbon-floods",
                            "Heavy rain floods Lisbon streets as storm hits Portugal", UNRELATED)
MESSAGES = (WIRE_MESSAGE, COPY_MESSAGE, UNRELATED_MESSAGE)


def test_the_elasticsearch_store_assigns_as_the_in_memory_one_and_reads_back(es, aliases):
    store = ElasticsearchStoryStore(es, aliases["stories"], CONFIG)
    store.setup()
    memory = InMemoryStoryStore(CONFIG)
    # No refresh between articles: the store's own writes are seen through its cache.
    assert [assign(item, store, CONFIG).story.story_id for item in stream()] == [
        assign(item, memory, CONFIG).story.story_id for item in stream()] == [
        story_id_for("wire-1"), story_id_for("lusa-1"), story_id_for("wire-1"), story_id_for("wire-1")]

    # A fresh store (another process, an empty cache) reads the same stories back.
    es.indices.refresh(index=aliases["stories"])
    fresh = ElasticsearchStoryStore(es, aliases["stories"], CONFIG)
    for article_id in ("wire-1", "lusa-1", "courier-7", "bbc-2"):
        assert fresh.story_of(article_id) == memory.story_of(article_id)
    assert fresh.story_of("nobody") is None
    probe = stream()[2]
    keys = probe.band_keys + probe.lookup_keys(CONFIG)
    window = {"since": T0 - timedelta(days=7), "until": T0 + timedelta(days=7), "limit": CONFIG.candidates}
    assert fresh.candidates(keys, **window) == memory.candidates(keys, **window)
    later = {"since": T0 + timedelta(days=30), "until": T0 + timedelta(days=40), "limit": 40}
    assert fresh.candidates(keys, **later) == []
    assert assign(stream()[3], fresh, CONFIG).reason == "known"

    document = es.get(index=aliases["stories"], id=story_id_for("wire-1"))["_source"]
    assert document["article_ids"] == ["wire-1", "courier-7", "bbc-2"]
    assert (document["article_count"], document["source_count"]) == (3, 3)
    assert document["sources"] == ["BBC", "Daily Courier", "Reuters"]
    assert document["headline"] == "Belarus frees 52 prisoners after Trump appeal"
    assert {"Alexander Lukashenko", "Mikola Statkevich"} <= set(document["persons"])
    assert "Vilnius" in document["places"]
    query = {"term": {"persons": "Mikola Statkevich"}}
    hits = es.search(index=aliases["stories"], query=query)["hits"]["hits"]
    assert [hit["_id"] for hit in hits] == [story_id_for("wire-1")]


def test_the_cache_answers_until_the_index_can(es, aliases):
    now = [0.0]
    store = ElasticsearchStoryStore(es, aliases["stories"], CONFIG, cache_seconds=60, clock=lambda: now[0])
    store.setup()
    first = assign(profile("wire-1", "Belarus frees 52 prisoners after Trump appeal", WIRE, entities=BELARUS),
                   store, CONFIG)
    copy = profile("courier-7", "Lukashenko releases 52 detainees after US request", WIRE_COPY,
                   at=T0 + timedelta(hours=3), source="Daily Courier", entities=BELARUS)
    assert store.story_of("wire-1") == first.story  # before any refresh
    joined = assign(copy, store, CONFIG)
    assert joined.reason == "duplicate" and joined.story.story_id == first.story.story_id
    now[0] = 61.0  # the cache forgets; the index answers with the newest version
    assert store.cached() == {}
    es.indices.refresh(index=aliases["stories"])
    assert store.story_of("wire-1") == store.story_of("courier-7") == joined.story


class _CountingSearches:
    """The client, counting its ``msearch`` requests (every story lookup is one)."""

    def __init__(self, client) -> None:
        self.client, self.msearches = client, 0

    def msearch(self, **kwargs):
        self.msearches += 1
        return self.client.msearch(**kwargs)

    def __getattr__(self, name: str):
        return getattr(self.client, name)


def test_a_batch_looks_up_at_once_and_writes_when_it_ends_and_assigns_as_one_at_a_time(es, aliases):
    memory = InMemoryStoryStore(CONFIG)
    expected = [assign(item, memory, CONFIG) for item in stream()]
    wire, lusa, courier, bbc = stream()
    client = _CountingSearches(es)
    store = ElasticsearchStoryStore(client, aliases["stories"], CONFIG)
    store.setup()

    with store.batch([wire, lusa, wire]) as written:
        got = [assign(item, store, CONFIG) for item in (wire, lusa, wire)]  # the last: a replay
        es.indices.refresh(index=aliases["stories"])
        assert es.count(index=aliases["stories"])["count"] == 0  # nothing written yet
    assert [(a.story, a.reason) for a in got] == [
        (expected[0].story, "new"), (expected[1].story, "new"), (expected[0].story, "known")]
    assert client.msearches == 2  # who is assigned, then the candidates of the two others
    assert written.refused == {}
    es.indices.refresh(index=aliases["stories"])
    assert es.count(index=aliases["stories"])["count"] == 2

    # Another process (an empty cache): the next batch, with a replay of the first.
    client = _CountingSearches(es)
    fresh = ElasticsearchStoryStore(client, aliases["stories"], CONFIG)
    with fresh.batch([courier, bbc, lusa]):
        got = [assign(item, fresh, CONFIG) for item in (courier, bbc, lusa)]
    assert [(a.story, a.reason) for a in got] == [
        (expected[2].story, expected[2].reason), (expected[3].story, expected[3].reason),
        (expected[1].story, "known")]
    # and once more for the follow-up: its prepared answer held the story the copy had just joined
    assert client.msearches == 2 + 1
    es.indices.refresh(index=aliases["stories"])
    for article_id in ("wire-1", "lusa-1", "courier-7", "bbc-2"):
        assert ElasticsearchStoryStore(es, aliases["stories"], CONFIG).story_of(article_id) == (
            memory.story_of(article_id))


def _analysed(*messages: dict):
    """As TagTopics leaves them (analysed() also matched the example watch list: undone)."""
    return [dataclasses.replace(analysed(json.dumps(m)), alerts=()) for m in messages]


def test_cluster_stories_groups_copies_and_the_alert_is_one_per_story(es, settings, aliases):
    settings = dataclasses.replace(settings, es_index_stories=aliases["stories"])
    items = _analysed(*MESSAGES)
    entry = WatchEntry.create(WATCHED, list_name="desk")

    def check(rows):
        by_article = {article_id: (story_id, alerts) for article_id, story_id, alerts in rows}
        wire, copy, other = (by_article[m["article_id"]] for m in MESSAGES)
        if not (wire[0] and wire[0] == copy[0] != other[0]):
            msg = f"stories: {by_article}"
            raise BeamAssertException(msg)
        if not (len(wire[1]) == 1 and wire[1] == copy[1] and other[1] == ()):
            msg = f"alerts: {by_article}"
            raise BeamAssertException(msg)

    with TestPipeline() as pipeline:
        clustered = pipeline | Create(items) | ClusterStories(settings)
        matched = clustered.articles | MatchWatchlist(FixedWatchlist([entry]))
        rows = matched.articles | Map(lambda item: (item.article_id, item.story_id,
                                                    tuple((a.alert_id, a.story_id) for a in item.alerts)))
        assert_that(rows, check)
    es.indices.refresh(index=aliases["stories"])
    assert es.count(index=aliases["stories"])["count"] == 2
    # each story carries the union of its articles' topics, as TagTopics tagged them
    stories = {hit["_id"]: hit["_source"]["topics"]
               for hit in es.search(index=aliases["stories"], size=10)["hits"]["hits"]}
    topics = [sorted({topic.name for topic in item.topics}) for item in items]
    assert topics[0]  # the wire report is tagged
    assert sorted(stories.values()) == sorted([sorted({*topics[0], *topics[1]}), topics[2]])


def test_one_wire_story_in_two_feeds_is_one_story_and_one_alert_end_to_end(isolated, es):
    settings, group = isolated, f"test-{uuid.uuid4().hex[:8]}"
    WatchlistStore(es, settings.es_index_watchlist).put([WatchEntry.create(WATCHED, list_name="desk")])
    produce(settings, WIRE_MESSAGE, COPY_MESSAGE, UNRELATED_MESSAGE, COPY_MESSAGE)  # the last: a replay
    result = article_pipeline.run(settings, ["--consumer_group", group])
    try:
        wait_for(lambda: finished(settings, group), "the pipeline to finish the four records")
    finally:
        result.cancel()
    articles = {hit["_id"]: hit["_source"]["story_id"] for hit in search(es, settings, {"match_all": {}})}
    wire, copy, other = (articles[m["article_id"]] for m in MESSAGES)
    # The story is named after whichever copy was assigned first (the partition's order, unless
    # the spaCy processes handed them on in another).
    first = WIRE_MESSAGE if wire == story_id_for(WIRE_MESSAGE["article_id"]) else COPY_MESSAGE
    assert wire == copy == story_id_for(first["article_id"])
    assert other == story_id_for(UNRELATED_MESSAGE["article_id"])

    es.indices.refresh(index=settings.es_index_stories)
    hits = es.search(index=settings.es_index_stories)["hits"]["hits"]
    stories = {hit["_id"]: hit["_source"] for hit in hits}
    assert set(stories) == {wire, other}
    assert sorted(stories[wire]["article_ids"]) == sorted(m["article_id"] for m in MESSAGES[:2])
    assert stories[wire]["sources"] == ["Daily Courier", "Example Wire"]

    alerts = alerts_in(es, settings)
    assert [(a["person"], a["story_id"], a["article_id"]) for a in alerts] == [
        (WATCHED, wire, first["article_id"])]
    # The copy updated the alert (the replayed copy did not count twice) and sent nothing.
    assert sorted(alerts[0]["article_ids"]) == sorted(m["article_id"] for m in MESSAGES[:2])
    assert alerts[0]["article_count"] == 2 and alerts[0]["sources"] == ["Daily Courier", "Example Wire"]
    assert [a["alert_id"] for a in kafka_alerts(settings)] == [alerts[0]["alert_id"]]
