"""MatchWatchlist: which watched people each article names, as alerts.

Each worker keeps a matcher built from a watch-list source and rebuilds it every
``refresh_seconds`` (30 s), so an entry added with ``newsmon watch add`` is matched within
a minute without restarting the job. No article is matched before the list was read once:
a worker that starts while Elasticsearch is unreachable waits for it (matching against
nobody would index the articles without their alerts). Later failures keep the last copy.

Beam's slowly-updating side input (PeriodicImpulse into a singleton) would say the same,
but Prism, the local runner, does not deliver a re-triggered global-window side input to
a streaming ParDo, so the refresh lives in the DoFn, and the source is a small picklable
object: :class:`ElasticsearchWatchlist` in the pipeline, :class:`FixedWatchlist` in tests.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime

import apache_beam as beam
from apache_beam.metrics import Metrics
from elasticsearch import ApiError, TransportError

from newsmon import backoff
from newsmon.analysis.analyse import with_alerts
from newsmon.analysis.messages import AnalysedArticle
from newsmon.analysis.name_matcher import WatchMatcher
from newsmon.analysis.watch_entries import WatchEntry
from newsmon.connectors.elasticsearch import make_client
from newsmon.connectors.watchlist_store import WatchlistStore
from newsmon.pipelines.dead_letters import DEAD_LETTER, dead_letter
from newsmon.settings import Settings

log = logging.getLogger(__name__)
STAGE = "watchlist"
REFRESH_SECONDS = 30.0


class ElasticsearchWatchlist:
    """The watch entries in Elasticsearch (``news-watchlist``), read by each worker."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._store: WatchlistStore | None = None

    def __call__(self) -> list[WatchEntry]:
        if self._store is None:
            self._client = make_client(self._settings)
            self._store = WatchlistStore(self._client, self._settings.es_index_watchlist)
        return self._store.entries()

    def close(self) -> None:
        if self._store is not None:
            self._client.close()
            self._store = None

    def __getstate__(self) -> dict:
        return {"_settings": self._settings, "_store": None}  # a client does not travel to workers


class FixedWatchlist:
    """Entries given up front, or a callable returning them (tests, one-off runs)."""

    def __init__(self, entries: list[WatchEntry] | Callable[[], list[WatchEntry]]) -> None:
        self._entries = entries

    def __call__(self) -> list[WatchEntry]:
        return list(self._entries() if callable(self._entries) else self._entries)

    def close(self) -> None:
        pass


def _retryable(error: BaseException) -> bool:
    return isinstance(error, ApiError | TransportError)


class _Match(beam.DoFn):
    def __init__(self, source, refresh_seconds: float) -> None:
        self._source = source
        self._refresh_seconds = refresh_seconds
        self._alerts = Metrics.counter("MatchWatchlist", "alerts")
        self._entries = Metrics.gauge("MatchWatchlist", "entries")

    def setup(self) -> None:
        self._matcher: WatchMatcher | None = None
        self._loaded_at = float("-inf")

    def teardown(self) -> None:
        self._source.close()

    def _refresh(self) -> WatchMatcher:
        if self._matcher is None:  # the first read: wait for it, however long it takes
            self._matcher = WatchMatcher(backoff.patiently(
                self._source, what="reading the watch list", retry_if=_retryable, log=log))
            self._loaded_at = time.monotonic()
        elif time.monotonic() - self._loaded_at >= self._refresh_seconds:
            try:
                self._matcher = WatchMatcher(self._source())
            except (ApiError, TransportError) as exc:
                log.warning("watch list not refreshed, matching with the %d entries read before: %s",
                            len(self._matcher), exc)
            self._loaded_at = time.monotonic()
        self._entries.set(len(self._matcher))
        return self._matcher

    def process(self, item: AnalysedArticle):
        matcher = self._refresh()
        try:
            matched = with_alerts(item, matcher, alert_time=datetime.now(UTC))
        except Exception as exc:  # noqa: BLE001 - one article's failure is its own dead letter
            yield dead_letter(item, STAGE, exc)
            return
        self._alerts.inc(len(matched.alerts))
        # The analysis has served its last step: later steps need not carry it around.
        yield dataclasses.replace(matched, sentences=(), text="")


class MatchWatchlist(beam.PTransform):
    """Returns outputs ``articles`` (AnalysedArticle with their alerts) and ``deadletter``."""

    def __init__(self, source, *, refresh_seconds: float = REFRESH_SECONDS) -> None:
        super().__init__()
        self._source = source
        self._refresh_seconds = refresh_seconds

    def expand(self, articles):
        return articles | "Match" >> beam.ParDo(_Match(self._source, self._refresh_seconds)).with_outputs(
            DEAD_LETTER, main="articles")
