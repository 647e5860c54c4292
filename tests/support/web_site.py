"""A ``newsmon web`` server for tests, on data the pipeline's own steps wrote: articles run
through ClusterStories, MatchWatchlist, WriteAlerts and IndexArticles (Beam's
TestPipeline) into this test's own topics and indices.
"""

from __future__ import annotations

import dataclasses
import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from newsmon.analysis.watch_entries import load_watchlist_file
from newsmon.connectors.elasticsearch import drop_index
from newsmon.connectors.kafka import ensure_topics, make_admin
from newsmon.connectors.watchlist_store import WatchlistStore
from newsmon.settings import Settings
from tests.support.pipeline import EXAMPLE_WATCHLIST, SEED, analysed, message

SEED_TITLE = "Belarus frees 52 prisoners after Trump appeal"
SEED_MESSAGE = message("https://wire.example.com/belarus-frees-52", SEED_TITLE, SEED)
COPY_MESSAGE = message("https://courier.example.org/world/belarus-frees-52", SEED_TITLE, SEED) | {
    "source_name": "Daily Courier", "feed_url": "https://courier.example.org/rss"}
HOSTILE_TITLE = ('<script>window.pwned = 1</script><img src=x onerror="window.pwned = 2"> '
                 "Ihar Losik released")
HOSTILE_MESSAGE = message(
    "https://hostile.example.net/losik", HOSTILE_TITLE,
    "MINSK, Dec 1 (Hostile Wire) - Belarusian blogger Ihar Losik was released from prison on Monday, "
    "his lawyer said. Losik had served more than four years of a fifteen-year sentence.") | {
    "source_name": "Hostile Wire", "feed_url": "https://hostile.example.net/rss",
    # a month after the seed: a story of its own (past the quiet period), so a new alert
    "published_at": "2026-12-25T12:00:00Z", "fetched_at": "2026-12-25T12:00:00Z"}


def isolated_settings(settings: Settings) -> Settings:
    suffix = uuid.uuid4().hex[:10]
    topics = {f"topic_{kind}": f"test.{kind}.{suffix}" for kind in ("articles", "deadletter", "alerts")}
    indices = {f"es_index_{kind}": f"test-{kind}-{suffix}"
               for kind in ("articles", "alerts", "watchlist", "stories")}
    return dataclasses.replace(settings, **topics, **indices)


def through_the_pipeline(settings: Settings, *messages: dict) -> None:
    """Run the pipeline's steps after TagTopics on ``messages`` (the example watch list)."""
    from apache_beam import Create
    from apache_beam.testing.test_pipeline import TestPipeline

    from newsmon.pipelines.cluster_stories import ClusterStories
    from newsmon.pipelines.index_articles import IndexArticles
    from newsmon.pipelines.match_watchlist import FixedWatchlist, MatchWatchlist
    from newsmon.pipelines.write_alerts import WriteAlerts

    # analyse() also matched the example watch list: undone, MatchWatchlist matches here.
    items = [dataclasses.replace(analysed(json.dumps(m)), alerts=()) for m in messages]
    entries = load_watchlist_file(EXAMPLE_WATCHLIST)
    with TestPipeline() as pipeline:
        clustered = pipeline | Create(items) | ClusterStories(settings)
        matched = clustered.articles | MatchWatchlist(FixedWatchlist(entries))
        written = matched.articles | WriteAlerts(settings)
        _ = written.articles | IndexArticles(settings)


@contextmanager
def pipeline_data(settings: Settings, es) -> Iterator[Settings]:
    """Own topics and indices holding the seed story twice (two sources, one story), its
    alerts and the example watch list; everything removed afterwards.
    """
    settings = isolated_settings(settings)
    topics = [settings.topic_articles, settings.topic_deadletter, settings.topic_alerts]
    ensure_topics(settings, topics, partitions=1)
    try:
        through_the_pipeline(settings, SEED_MESSAGE, COPY_MESSAGE)
        WatchlistStore(es, settings.es_index_watchlist).put(load_watchlist_file(EXAMPLE_WATCHLIST))
        for alias in (settings.es_index_articles, settings.es_index_alerts, settings.es_index_stories):
            es.indices.refresh(index=alias)
        yield settings
    finally:
        for alias in (settings.es_index_articles, settings.es_index_alerts, settings.es_index_watchlist,
                      settings.es_index_stories):
            drop_index(es, alias)
        admin = make_admin(settings)
        admin.delete_topics(topics)
        admin.close()
