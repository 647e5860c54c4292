"""The feed poller: every feed on its own schedule, new articles into Kafka exactly once.

Worker threads download and parse feeds (a slow feed holds one worker, never the
others); the main thread sends the new articles and, once Kafka has acknowledged them,
records them as seen together with the feed's new ETag/Last-Modified. Until then nothing
is recorded: if Kafka is down the feed is fetched again in full later and its articles
are sent then. Errors back off exponentially; 429/503 ``Retry-After`` is honoured.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import random
import resource
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, ThreadPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from kafka.errors import KafkaError
from kafka.future import Future as KafkaFuture

from newsmon.connectors.feed_parse import NotAFeedError, ParsedFeed, parse_feed
from newsmon.connectors.feed_store import FeedStatus, FeedStore
from newsmon.connectors.full_text import page_text
from newsmon.connectors.http_fetch import Fetcher, FetchError, FetchLimits
from newsmon.connectors.kafka import make_producer
from newsmon.errors import ServiceUnavailableError
from newsmon.lifeline import exit_with_parent
from newsmon.schemas import problems
from newsmon.settings import Settings

log = logging.getLogger(__name__)
MAX_BACKOFF = timedelta(hours=6)
MAX_RETRY_AFTER = timedelta(hours=24)
KAFKA_RETRY = timedelta(seconds=30)
PROGRESS_EVERY = 10.0  # seconds
PARSER_MEMORY = 2 * 1024**3  # bytes of address space a parser process may use


def start_parser() -> None:
    """Run in each parser process as it starts: it ends with the poller (which may be killed
    with no chance to stop it), and a hostile feed that makes the parser grow gets a
    MemoryError there instead of exhausting the machine.
    """
    exit_with_parent()
    resource.setrlimit(resource.RLIMIT_AS, (PARSER_MEMORY, PARSER_MEMORY))


@dataclass
class PollOutcome:
    """What one poll of one feed produced (built in a worker thread)."""

    status: FeedStatus
    polled_at: datetime
    messages: list[dict] = field(default_factory=list)  # new articles, schema-valid
    items: int | None = None
    rejected: int = 0
    etag: str | None = None
    last_modified: str | None = None
    not_modified: bool = False
    warning: str | None = None
    error: str | None = None
    retry_after: float | None = None


@dataclass
class PollerStats:
    polls: int = 0
    failed_polls: int = 0
    not_modified: int = 0
    articles_sent: int = 0
    articles_rejected: int = 0
    articles_unacknowledged: int = 0

    def line(self) -> str:
        return (f"{self.polls} polls ({self.not_modified} not modified, {self.failed_polls} failed), "
                f"{self.articles_sent} articles sent, {self.articles_rejected} rejected, "
                f"{self.articles_unacknowledged} not acknowledged by Kafka")


@dataclass
class _Sending:
    outcome: PollOutcome
    futures: dict[str, KafkaFuture]  # article_id → Kafka's acknowledgement


def next_poll_at(outcome: PollOutcome, *, failed: bool) -> datetime:
    """The feed's interval (±10 % jitter, so feeds drift apart); doubled per consecutive
    error up to six hours; never sooner than the server's ``Retry-After``.
    """
    delay = outcome.status.spec.poll_interval
    if failed:
        delay = min(delay * 2 ** min(outcome.status.consecutive_errors, 16), MAX_BACKOFF)
    if outcome.retry_after is not None:
        # capped before it becomes a timedelta: a server's "Retry-After: 1e30" overflows one
        delay = max(delay, timedelta(seconds=min(outcome.retry_after, MAX_RETRY_AFTER.total_seconds())))
    return outcome.polled_at + delay * random.uniform(0.9, 1.1)


class FeedPoller:
    def __init__(self, settings: Settings, store: FeedStore, *,
                 progress: Callable[[str], None] | None = None) -> None:
        self.settings = settings
        self.store = store
        self.stats = PollerStats()
        self._progress = progress or (lambda message: None)
        limits = FetchLimits(timeout=settings.fetch_timeout, max_bytes=settings.fetch_max_bytes,
                             max_redirects=settings.fetch_max_redirects)
        self._feeds = Fetcher(limits, pool_size=settings.feed_concurrency)
        self._pages = Fetcher(limits, guard=True, allowed_networks=settings.fetch_allowed_networks,
                              pool_size=settings.feed_concurrency)
        self._parsers: ProcessPoolExecutor | None = None
        self._parsers_lock = threading.Lock()
        self._producer = None
        self._sending: list[_Sending] = []
        self._in_flight: set[str] = set()  # article ids sent but not yet acknowledged

    # -- in a worker thread ------------------------------------------------------------------

    def poll(self, status: FeedStatus) -> PollOutcome:
        """Fetch and parse one feed; never raises (a failure is the outcome's ``error``)."""
        feed = status.spec
        outcome = PollOutcome(status=status, polled_at=datetime.now(UTC))
        try:
            result = self._feeds.get(feed.url, etag=status.etag, last_modified=status.last_modified)
            if result.status == 304:
                outcome.not_modified = True
                outcome.etag, outcome.last_modified = status.etag, status.last_modified
                return outcome
            parsed = self._parse(result.body, feed=feed, url=result.url, content_type=result.content_type,
                                 fetched_at=outcome.polled_at)
        except (FetchError, NotAFeedError) as exc:
            outcome.error = str(exc)
            outcome.retry_after = getattr(exc, "retry_after", None)
            return outcome
        except Exception as exc:  # noqa: BLE001 - one broken feed must not stop the poller
            log.exception("feed %s: unexpected error while reading it", feed.url)
            outcome.error = f"unexpected {type(exc).__name__}: {exc}"
            return outcome
        outcome.etag, outcome.last_modified = result.etag, result.last_modified
        outcome.items, outcome.rejected, outcome.warning = parsed.items, len(parsed.rejected), parsed.warning
        unseen = self.store.unseen(m["article_id"] for m in parsed.messages)
        outcome.messages = [m for m in parsed.messages if m["article_id"] in unseen]
        if feed.full_text or self.settings.full_text_all_feeds:
            for message in outcome.messages:
                self._add_full_text(message)
        return outcome

    def _parse(self, body: bytes, **arguments) -> ParsedFeed:
        """Parse in a worker process when there are any: parsing is CPU work, and in
        processes it runs beside the sending (and a parser that dies takes one feed with it,
        not the poller).
        """
        if not self.settings.feed_parse_processes:
            return parse_feed(body, **arguments)
        with self._parsers_lock:
            if self._parsers is None:
                self._parsers = ProcessPoolExecutor(self.settings.feed_parse_processes,
                                                    mp_context=multiprocessing.get_context("spawn"),
                                                    initializer=start_parser)
            parsers = self._parsers
        try:
            return parsers.submit(parse_feed, body, **arguments).result()
        except BrokenProcessPool as exc:
            with self._parsers_lock:
                if self._parsers is parsers:
                    self._parsers = None
            parsers.shutdown(wait=False, cancel_futures=True)
            msg = "the feed parser process died reading this feed (out of memory?)"
            raise NotAFeedError(msg) from exc

    def _add_full_text(self, message: dict) -> None:
        if not message["url"]:
            return
        text = page_text(self._pages, message["url"])
        longer = text and len(text) > len(message["content"] or "")
        if longer and not problems("article", message | {"content": text}):
            message["content"] = text

    # -- in the main thread ---------------------------------------------------------------

    def run(self, *, once: bool = False, stop: threading.Event | None = None) -> PollerStats:
        """Poll until ``stop`` is set; with ``once``, every enabled feed once, then wait for Kafka."""
        stop = stop or threading.Event()
        last_progress = time.monotonic()
        with ThreadPoolExecutor(self.settings.feed_concurrency, thread_name_prefix="feed") as workers:
            running: dict[Future, str] = {}
            if once:
                for status in self._enabled():
                    running[workers.submit(self.poll, status)] = status.spec.url
            while running or not (once or stop.is_set()):
                if not once and not stop.is_set():
                    now = datetime.now(UTC)
                    # A feed is not polled again while its last poll's articles wait for Kafka:
                    # the new poll would skip them as in flight yet store the feed's new
                    # ETag/Last-Modified, and should they fail (or the poller die) the next
                    # poll would be a 304 and they would never be sent.
                    busy = set(running.values()) | {s.outcome.status.spec.url for s in self._sending}
                    for status in self._enabled():
                        due = status.next_poll_at is None or status.next_poll_at <= now
                        if due and status.spec.url not in busy:
                            running[workers.submit(self.poll, status)] = status.spec.url
                done, _ = wait(running, timeout=0.5, return_when=FIRST_COMPLETED)
                if not running:
                    stop.wait(0.5)
                for future in done:
                    running.pop(future)
                    self._dispatch(future.result())
                self._settle()
                if time.monotonic() - last_progress > PROGRESS_EVERY:
                    last_progress = time.monotonic()
                    self._progress(f"feeds: {self.stats.line()}")
        self._flush()
        return self.stats

    def close(self) -> None:
        if self._producer is not None:
            self._producer.close(timeout=10)
            self._producer = None
        self._feeds.close()
        if self._parsers is not None:
            self._parsers.shutdown(cancel_futures=True)
            self._parsers = None
        self._pages.close()

    def _enabled(self) -> list[FeedStatus]:
        return [status for status in self.store.statuses() if status.spec.enabled]

    def _dispatch(self, outcome: PollOutcome) -> None:
        feed = outcome.status.spec
        self.stats.polls += 1
        self.stats.articles_rejected += outcome.rejected
        if outcome.error:
            self.stats.failed_polls += 1
            log.warning("feed %s: %s", feed.url, outcome.error)
            self.store.record_failure(feed.url, polled_at=outcome.polled_at, error=outcome.error,
                                      next_poll_at=next_poll_at(outcome, failed=True))
            return
        if outcome.not_modified:
            self.stats.not_modified += 1
        futures: dict[str, KafkaFuture] = {}
        try:
            for message in outcome.messages:
                article_id = message["article_id"]
                if article_id in self._in_flight:
                    continue  # the same story from another feed, already on its way
                futures[article_id] = self._send(message)
                self._in_flight.add(article_id)
        except (KafkaError, ServiceUnavailableError) as exc:
            failed = KafkaFuture()
            failed.failure(exc)
            futures["(not sent)"] = failed
        self._sending.append(_Sending(outcome, futures))

    def _send(self, message: dict) -> KafkaFuture:
        if self._producer is None:
            self._producer = make_producer(self.settings)
        value = json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        return self._producer.send(self.settings.topic_articles, key=message["article_id"].encode(),
                                   value=value)

    def _settle(self) -> None:
        """Record every poll whose articles Kafka has answered for."""
        still = []
        for sending in self._sending:
            if all(future.is_done for future in sending.futures.values()):
                self._record(sending)
            else:
                still.append(sending)
        self._sending = still

    def _record(self, sending: _Sending) -> None:
        outcome, feed = sending.outcome, sending.outcome.status.spec
        acknowledged = [i for i, f in sending.futures.items() if f.succeeded()]
        failures = [f.exception for f in sending.futures.values() if f.failed()]
        self._in_flight.difference_update(sending.futures)
        self.stats.articles_sent += len(acknowledged)
        if not failures:
            self.store.record_success(
                feed.url, polled_at=outcome.polled_at, next_poll_at=next_poll_at(outcome, failed=False),
                etag=outcome.etag, last_modified=outcome.last_modified, items_in_feed=outcome.items,
                sent=acknowledged, rejected=outcome.rejected, warning=outcome.warning)
            return
        # Keep the old validators: the next poll fetches the feed in full and re-sends the rest.
        unacknowledged = len(sending.futures) - len(acknowledged)
        self.stats.articles_unacknowledged += unacknowledged
        error = f"Kafka did not acknowledge {unacknowledged} article(s): {failures[0]}"
        log.warning("feed %s: %s", feed.url, error)
        self.store.record_failure(feed.url, polled_at=outcome.polled_at, error=error,
                                  next_poll_at=outcome.polled_at + KAFKA_RETRY, sent=acknowledged)
        if self._producer is not None:  # start afresh: an idempotent producer's sequence is spoiled
            self._producer.close(timeout=0)
            self._producer = None

    def _flush(self) -> None:
        if self._producer is not None:
            try:
                self._producer.flush(timeout=self.settings.kafka_delivery_timeout + 5)
            except KafkaError as exc:
                log.warning("Kafka flush: %s", exc)
        self._settle()
