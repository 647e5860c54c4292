"""The watch list in the real Elasticsearch, the retro-search, alerts written exactly once
to Elasticsearch and Kafka, and the ``newsmon watch`` commands.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import uuid
from datetime import UTC, datetime
from importlib import resources

import apache_beam as beam
import pytest
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from newsmon.analysis.alerts import alert_id
from newsmon.analysis.messages import Alert
from newsmon.analysis.watch_entries import WatchEntry, load_watchlist_file
from newsmon.connectors.elasticsearch import setup_index, write_documents
from newsmon.connectors.kafka import ensure_topics, make_admin, make_consumer
from newsmon.connectors.watchlist_store import WatchlistStore, stories_naming
from newsmon.errors import ConfigError
from newsmon.pipelines import match_watchlist
from newsmon.pipelines.index_articles import article_document
from newsmon.pipelines.match_watchlist import ElasticsearchWatchlist, FixedWatchlist
from newsmon.pipelines.write_alerts import WriteAlerts
from newsmon.schemas import problems
from tests.support.commands import run_newsmon
from tests.support.pipeline import SEED_MESSAGE

EXAMPLE = resources.files("newsmon.seeds") / "watchlist.example.yaml"
WATCHED = {"Ihar Losik", "Maria Kalesnikava", "Ales Bialiatski", "Sviatlana Tsikhanouskaya",
           "Mikola Statkevich"}


def test_seed_alerts_name_each_watched_person_once(seed_analysed):
    alerts = seed_analysed.alerts
    assert {a.person for a in alerts} >= WATCHED
    assert len({a.alert_id for a in alerts}) == len(alerts)
    for alert in alerts:
        assert problems("alert", alert.to_message()) == []
        assert Alert.from_message(alert.to_message()) == alert
        assert alert.alert_id == alert_id(alert.entry_id, SEED_MESSAGE["article_id"])
        assert all(form in seed_analysed.text for form in alert.matched_forms)
        assert {"prisoner_release", "sanctions_relief", "diplomatic_move"} <= set(alert.topics)


def test_watch_entries_in_elasticsearch(es, aliases):
    store = WatchlistStore(es, aliases["watchlist"])
    assert store.entries() == []
    entries = load_watchlist_file(EXAMPLE)
    assert store.put(entries) == (len(entries), 0)
    first = store.entries()[0]
    later = dataclasses.replace(first, notes="updated", updated_at=datetime.now(UTC).replace(microsecond=0))
    assert store.put([later]) == (0, 1)
    stored = next(e for e in store.entries() if e.entry_id == first.entry_id)
    assert stored.notes == "updated" and stored.created_at == first.created_at
    assert {e.name for e in store.entries()} >= WATCHED
    removed = store.remove("Ihar Losik", "default")
    assert removed.name == "Ihar Losik" and "Ihar Losik" not in {e.name for e in store.entries()}
    with pytest.raises(ConfigError, match="no watch entry 'Nobody'"):
        store.remove("Nobody", "default")


def test_retro_search_confirms_each_hit(es, aliases, seed_analysed):
    setup_index(es, "news-articles", aliases["articles"])
    document = article_document(seed_analysed)
    assert write_documents(es, aliases["articles"], [(seed_analysed.article_id, document)]) == []
    es.indices.refresh(index=aliases["articles"])
    losik = WatchEntry.create("Ihar Losik")
    [story] = stories_naming(es, aliases["articles"], losik)
    assert story.article_id == SEED_MESSAGE["article_id"] and story.form == "Ihar Losik"
    assert "journalist" in story.evidence
    # Transliterated entries find the story too; a famous namesake of a word does not.
    assert stories_naming(es, aliases["articles"], WatchEntry.create("Svetlana Tikhanovskaya"))
    assert stories_naming(es, aliases["articles"], WatchEntry.create("George Washington")) == []


def test_alerts_are_written_once_whatever_the_replays(es, kafka, aliases, seed_analysed):
    topic = f"test.alerts.{uuid.uuid4().hex}"
    ensure_topics(kafka, [topic], partitions=1)
    settings = dataclasses.replace(kafka, topic_alerts=topic, es_index_alerts=aliases["alerts"])
    try:
        for _ in range(2):  # the second run is a replay: nothing new anywhere
            with TestPipeline() as pipeline:
                passed = pipeline | beam.Create([seed_analysed]) | WriteAlerts(settings)
                assert_that(passed.articles | beam.Map(lambda item: item.article_id),
                            equal_to([SEED_MESSAGE["article_id"]]))
        consumer = make_consumer(settings, topic, consumer_timeout_ms=3000, group_id=None)
        messages = [json.loads(r.value) for r in consumer]
        consumer.close()
        assert sorted(m["alert_id"] for m in messages) == sorted(a.alert_id for a in seed_analysed.alerts)
        es.indices.refresh(index=aliases["alerts"])
        stored = es.search(index=aliases["alerts"], size=100)["hits"]["hits"]
        assert len(stored) == len(seed_analysed.alerts)
        assert all(hit["_source"]["kafka_delivered"] for hit in stored)
    finally:
        admin = make_admin(kafka)
        admin.delete_topics([topic])
        admin.close()


def newsmon(env: dict, *args: str) -> subprocess.CompletedProcess:
    return run_newsmon(*args, env=env)


def test_watch_commands(es, aliases, tmp_path):
    env = os.environ | {"NEWSMON_ES_INDEX_WATCHLIST": aliases["watchlist"],
                        "NEWSMON_ES_INDEX_ARTICLES": aliases["articles"]}
    added = newsmon(env, "watch", "add", "Ihar Losik", "--list", "desk", "--topic", "prisoner_release")
    assert added.returncode == 0, added.stderr
    assert "watching Ihar Losik on list desk" in added.stdout and "0 indexed stories" in added.stdout
    imported = newsmon(env, "watch", "import", str(EXAMPLE))
    assert imported.returncode == 0, imported.stderr
    exported = newsmon(env, "watch", "export", "--format", "csv")
    assert exported.stdout.splitlines()[0].startswith("name,aliases,list")
    csv_file = tmp_path / "list.csv"
    csv_file.write_text(exported.stdout)
    assert "0 added" in newsmon(env, "watch", "import", str(csv_file)).stdout  # a round trip adds nothing
    listed = newsmon(env, "watch", "list", "--list", "desk")
    assert "Ihar Losik" in listed.stdout and "topics: prisoner_release" in listed.stdout
    assert newsmon(env, "watch", "remove", "Ihar Losik", "--list", "desk").returncode == 0
    assert "Ihar Losik" not in newsmon(env, "watch", "list", "--list", "desk").stdout


def test_alerts_list_shows_control_characters_from_feeds_instead_of_obeying_them(es, aliases, seed_analysed):
    from tests.support.hostile import HOSTILE, raw_controls

    setup_index(es, "news-alerts", aliases["alerts"])
    alert = seed_analysed.alerts[0].to_message() | {"title": HOSTILE, "evidence": ["\x1b[8mhidden\x1b[0m"],
                                       "alert_time": datetime.now(UTC).isoformat(timespec="seconds")}
    assert write_documents(es, aliases["alerts"], [(alert["alert_id"], alert)]) == []
    es.indices.refresh(index=aliases["alerts"])
    env = os.environ | {"NEWSMON_ES_INDEX_ALERTS": aliases["alerts"]}
    listed = newsmon(env, "alerts", "list")
    assert listed.returncode == 0, listed.stderr
    assert raw_controls(listed.stdout) == [] and "Minsk\\x1b[2J" in listed.stdout
    as_json = newsmon(env, "alerts", "list", "--json")
    assert raw_controls(as_json.stdout) == [] and json.loads(as_json.stdout)[0]["title"] == HOSTILE


class _Sources:
    """A watch-list source that reads Elasticsearch through whichever client is current."""

    def __init__(self, *sources) -> None:
        self.sources, self.calls = list(sources), 0

    def __call__(self):
        self.calls += 1
        return self.sources[0]()


def test_the_running_matcher_follows_the_watch_list(es, settings, aliases, seed_analysed, closed_port):
    """A running MatchWatchlist re-reads the list (here at every article instead of every
    30 s) and keeps its last copy while Elasticsearch cannot be read.
    """
    settings = dataclasses.replace(settings, es_index_watchlist=aliases["watchlist"])
    unreachable = dataclasses.replace(settings, es_url=f"http://127.0.0.1:{closed_port}")
    sources = _Sources(ElasticsearchWatchlist(settings), ElasticsearchWatchlist(unreachable))
    step = match_watchlist._Match(FixedWatchlist(sources), refresh_seconds=0)
    step.setup()
    article = dataclasses.replace(seed_analysed, alerts=())
    try:
        [out] = step.process(article)
        assert out.alerts == ()
        WatchlistStore(es, aliases["watchlist"]).put([WatchEntry.create("Ihar Losik")])
        [out] = step.process(article)
        assert [alert.person for alert in out.alerts] == ["Ihar Losik"]
        sources.sources.reverse()  # Elasticsearch goes away
        [out] = step.process(article)
        assert [alert.person for alert in out.alerts] == ["Ihar Losik"]
    finally:
        step.teardown()


def test_no_article_is_matched_before_the_watch_list_was_read(es, settings, aliases, seed_analysed,
                                                             closed_port):
    """A worker that starts while Elasticsearch is unreachable waits for the first read
    instead of matching against nobody (which would index the article without its alerts).
    """
    settings = dataclasses.replace(settings, es_index_watchlist=aliases["watchlist"])
    WatchlistStore(es, aliases["watchlist"]).put([WatchEntry.create("Ihar Losik")])
    unreachable = dataclasses.replace(settings, es_url=f"http://127.0.0.1:{closed_port}")
    sources = _Sources(ElasticsearchWatchlist(unreachable), ElasticsearchWatchlist(settings))

    def comes_back_on_the_third_try():
        if sources.calls == 2:
            sources.sources.reverse()
        return sources()

    step = match_watchlist._Match(FixedWatchlist(comes_back_on_the_third_try), refresh_seconds=30)
    step.setup()
    try:
        [out] = step.process(dataclasses.replace(seed_analysed, alerts=()))
    finally:
        step.teardown()
    assert sources.calls == 3
    assert [alert.person for alert in out.alerts] == ["Ihar Losik"]
