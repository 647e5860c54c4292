"""MatchWatchlist: which watched people each article names, as alerts.

Each worker keeps a matcher built from the watch entries in Elasticsearch and rebuilds it
every 30 s, so an entry added with ``newsmon watch add`` is matched within a minute
without restarting the job; when Elasticsearch cannot be read the last copy is kept.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from datetime import UTC, datetime

import apache_beam as beam
from apache_beam.metrics import Metrics
from elasticsearch import ApiError, TransportError

from newsmon.analysis.alerts import alerts_for
from newsmon.analysis.messages import AnalysedArticle
from newsmon.analysis.name_matcher import WatchMatcher
from newsmon.connectors.elasticsearch import make_client
from newsmon.connectors.watchlist_store import WatchlistStore
from newsmon.settings import Settings

log = logging.getLogger(__name__)
REFRESH_SECONDS = 30.0


class _Match(beam.DoFn):
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._alerts = Metrics.counter("MatchWatchlist", "alerts")
        self._entries = Metrics.gauge("MatchWatchlist", "entries")

    def setup(self) -> None:
        self._client = make_client(self._settings)
        self._store = WatchlistStore(self._client, self._settings.es_index_watchlist)
        self._matcher = WatchMatcher([])
        self._loaded_at = float("-inf")

    def teardown(self) -> None:
        self._client.close()

    def _refresh(self) -> None:
        if time.monotonic() - self._loaded_at < REFRESH_SECONDS:
            return
        try:
            self._matcher = WatchMatcher(self._store.entries())
            self._entries.set(len(self._matcher))
        except (ApiError, TransportError) as exc:
            log.warning("watch list not refreshed, matching with the %d entries read before: %s",
                        len(self._matcher), exc)
        self._loaded_at = time.monotonic()

    def process(self, item: AnalysedArticle):
        self._refresh()
        article = item.article
        topics = [topic["name"] for topic in item.topics]
        mentions = self._matcher.mentions(item.text, item.sentences, item.entities, topics=topics,
                                          source=article["source_name"], language=article["language"])
        alerts = alerts_for(article, topics, mentions, alert_time=datetime.now(UTC)) if mentions else []
        self._alerts.inc(len(alerts))
        # The analysis has served its last step: later steps need not carry it around.
        yield dataclasses.replace(item, alerts=tuple(alerts), sentences=(), text="")


class MatchWatchlist(beam.PTransform):
    def __init__(self, settings: Settings) -> None:
        super().__init__()
        self._settings = settings

    def expand(self, articles):
        return articles | "Match" >> beam.ParDo(_Match(self._settings))
