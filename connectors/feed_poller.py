"""The feed poller: every feed on its own schedule, new articles into Kafka exactly once.

Worker threads download and parse feeds (a slow feed holds one worker, never the
others); the main thread sends the new articles and, once Kafka has acknowledged them,
records them as seen together with the feed's new ETag/Last-Modified. Until then nothing
is recorded: if Kafka is down the feed is fetched again in full later and its articles
are sent then. A feed is not polled again while Kafka has not yet answered for its last
poll's articles, and its validators move on only when every article of the poll is
acknowledged or was already seen (an article another feed is sending at the same time
counts once that send is acknowledged). Errors back off exponentially; 429/503
``Retry-After`` is honoured.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from kafka.errors import KafkaError, KafkaTimeoutError
from kafka.future import Future as KafkaFuture

from newsmon.backoff import delay
from newsmon.connectors.article import fit_message
from newsmon.connectors.feed_parse import NotAFeedError, ParsedFeed, parse_feed
from newsmon.connectors.feed_store import FeedStatus, FeedStore
from newsmon.connectors.full_text import NoFullText, main_text_within, page_text
from newsmon.connectors.http_fetch import Fetcher, FetchError, FetchLimits
from newsmon.connectors.kafka import make_producer
from newsmon.connectors.worker_processes import WorkerProcesses
from newsmon.errors import ServiceUnavailableError
from newsmon.schemas import problems
from newsmon.settings import Settings

log = logging.getLogger(__name__)
MAX_BACKOFF = timedelta(hours=6)
MAX_RETRY_AFTER = timedelta(hours=24)
KAFKA_RETRY = timedelta(seconds=30)  # the first retry of a feed whose articles Kafka did not take
MESSAGE_MARGIN = 16 * 1024  # bytes under the producer's max_request_size left for Kafka's framing
PROGRESS_EVERY = 10.0  # seconds
# Beyond its budget, an extraction's process is stopped from outside after this much more
# (the budget's own timer cannot interrupt a long call into C; a process also takes time to start).
EXTRACTION_GRACE = 30.0


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
    articles_truncated: int = 0

    def line(self) -> str:
        truncated = f" ({self.articles_truncated} truncated to fit)" if self.articles_truncated else ""
        return (f"{self.polls} polls ({self.not_modified} not modified, {self.failed_polls} failed), "
                f"{self.articles_sent} articles sent{truncated}, {self.articles_rejected} rejected, "
                f"{self.articles_unacknowledged} not acknowledged by Kafka")


@dataclass
class _Sending:
    outcome: PollOutcome
    futures: dict[str, KafkaFuture]  # article_id → Kafka's acknowledgement of this poll's send
    # Articles of this poll that another feed's poll was already sending: this feed's
    # validators wait for those acknowledgements too.
    shared: dict[str, KafkaFuture] = field(default_factory=dict)

    def futures_all(self) -> list[KafkaFuture]:
        return [*self.futures.values(), *self.shared.values()]


def next_poll_at(outcome: PollOutcome, *, failed: bool) -> datetime:
    """The feed's interval with ±10 % jitter (so feeds drift apart); after an error the
    one backoff policy (:func:`newsmon.backoff.delay`): the interval doubled per consecutive
    error up to six hours; never sooner than the server's ``Retry-After`` (capped at a day).
    """
    jitter = random.uniform(0.9, 1.1)
    interval = outcome.status.spec.poll_interval.total_seconds() * jitter
    retry_after = None
    if outcome.retry_after is not None:
        retry_after = min(outcome.retry_after, MAX_RETRY_AFTER.total_seconds())
    if failed:
        seconds = delay(outcome.status.consecutive_errors + 1, base=interval,
                        cap=MAX_BACKOFF.total_seconds() * jitter, retry_after=retry_after)
    else:
        seconds = max(interval, retry_after or 0.0)
    return outcome.polled_at + timedelta(seconds=seconds)


def kafka_retry_at(outcome: PollOutcome) -> datetime:
    """When to read a feed again whose articles Kafka did not all take: 30 s, doubled per
    consecutive failure (:func:`newsmon.backoff.delay`) up to the feed's own interval. The
    feed is not at fault, so it is never read less often than usual, and the articles go out
    soon after Kafka is back; a failure that persists stops costing a full download every 30 s.
    """
    jitter = random.uniform(0.9, 1.1)
    cap = max(outcome.status.spec.poll_interval, KAFKA_RETRY).total_seconds() * jitter
    seconds = delay(outcome.status.consecutive_errors + 1, base=KAFKA_RETRY.total_seconds() * jitter, cap=cap)
    return outcome.polled_at + timedelta(seconds=seconds)


def _failed(exc: BaseException) -> KafkaFuture:
    future = KafkaFuture()
    future.failure(exc)
    return future


def _close_producer(producer, timeout: float) -> None:
    """Close a producer, waiting up to ``timeout`` for its records in flight; never raises."""
    try:
        producer.close(timeout=timeout)
    except Exception as exc:  # noqa: BLE001 - a producer that will not close must not end the poller
        log.warning("Kafka producer did not close within %gs: %s", timeout, exc)


class FeedPoller:
    def __init__(self, settings: Settings, store: FeedStore, *,
                 progress: Callable[[str], None] | None = None) -> None:
        self.settings = settings
        self.store = store
        self.stats = PollerStats()
        self._progress = progress or (lambda message: None)
        limits = FetchLimits(timeout=settings.fetch_timeout, max_bytes=settings.fetch_max_bytes,
                             max_redirects=settings.fetch_max_redirects)
        # Feed lists and feeds are untrusted alike: a feed URL or its redirect must not reach
        # into loopback or private networks any more than an article link may.
        self._feeds = Fetcher(limits, guard=True, allowed_networks=settings.fetch_allowed_networks,
                              pool_size=settings.feed_concurrency)
        self._pages = Fetcher(limits, guard=True, allowed_networks=settings.fetch_allowed_networks,
                              pool_size=settings.feed_concurrency)
        self._parsers = (WorkerProcesses(settings.feed_parse_processes, name="feed parser")
                         if settings.feed_parse_processes else None)
        # Full text is always extracted in a process, under a budget, even where feeds are parsed
        # in threads; the processes start with the first feed that wants full text.
        self._extractors = WorkerProcesses(max(1, settings.feed_parse_processes),
                                           name="full-text extraction")
        self._producer = None
        self._retiring: list[threading.Thread] = []  # producers closing once their records are answered
        self._sending: list[_Sending] = []
        self._in_flight: dict[str, KafkaFuture] = {}  # article id → its send, until recorded

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
        if self._parsers is None:
            return parse_feed(body, **arguments)
        try:
            return self._parsers.call(parse_feed, body, **arguments)
        except BrokenProcessPool as exc:
            msg = "the feed parser process died reading this feed (out of memory?)"
            raise NotAFeedError(msg) from exc

    def _add_full_text(self, message: dict) -> None:
        if not message["url"]:
            return
        text = page_text(self._pages, message["url"], extract=self._extract)
        longer = text and len(text) > len(message["content"] or "")
        if longer and not problems("article", message | {"content": text}):
            message["content"] = text

    def _extract(self, html: bytes, url: str) -> str | None:
        seconds = self.settings.full_text_timeout
        try:
            return self._extractors.call(main_text_within, html, url, seconds,
                                         timeout=seconds + EXTRACTION_GRACE)
        except TimeoutError as exc:
            msg = f"extraction did not stop within {seconds + EXTRACTION_GRACE:g}s; its process was stopped"
            raise NoFullText(msg) from exc
        except BrokenProcessPool as exc:
            msg = "the extracting process died (out of memory?)"
            raise NoFullText(msg) from exc

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
        """Release everything; never raises (it runs on the way out of ``feeds run``)."""
        producer, self._producer = self._producer, None
        if producer is not None:
            _close_producer(producer, timeout=10)
        deadline = time.monotonic() + self.settings.kafka_delivery_timeout + 5
        for thread in self._retiring:
            thread.join(timeout=max(0.0, deadline - time.monotonic()))
        self._retiring = []
        self._feeds.close()
        if self._parsers is not None:
            self._parsers.close()
        self._extractors.close()
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
        shared: dict[str, KafkaFuture] = {}
        for index, message in enumerate(outcome.messages):
            article_id = message["article_id"]
            if article_id in self._in_flight:  # the same story from another feed, on its way
                shared[article_id] = self._in_flight[article_id]
                continue
            try:
                futures[article_id] = self._send(message)
            except (KafkaTimeoutError, ServiceUnavailableError) as exc:
                # Kafka is not answering: each further send would block as long, and fail alike.
                for unsent in outcome.messages[index:]:
                    futures.setdefault(unsent["article_id"], _failed(exc))
                break
            except (KafkaError, ValueError) as exc:
                # This one message was refused; the feed's other articles still go out.
                log.warning("feed %s: article %s not sent: %s", feed.url, message["url"] or article_id, exc)
                futures[article_id] = _failed(exc)
                continue
            self._in_flight[article_id] = futures[article_id]
        self._sending.append(_Sending(outcome, futures, shared))

    def _send(self, message: dict) -> KafkaFuture:
        if self._producer is None:
            self._producer = make_producer(self.settings)
        # Content may be longer than a Kafka message can be: cut to fit and flagged, never refused.
        limit = self._producer.config["max_request_size"] - MESSAGE_MARGIN
        fitted, value = fit_message(message, limit)
        if fitted is not message:
            self.stats.articles_truncated += 1
            log.info("feed %s: article %s cut from %s to %s characters of content to fit in a Kafka "
                     "message", message["feed_url"], message["url"] or message["article_id"],
                     f"{len(message['content']):,}", f"{len(fitted['content']):,}")
        return self._producer.send(self.settings.topic_articles, key=message["article_id"].encode(),
                                   value=value)

    def _settle(self) -> None:
        """Record every poll whose articles Kafka has answered for."""
        still = []
        for sending in self._sending:
            if all(future.is_done for future in sending.futures_all()):
                self._record(sending)
            else:
                still.append(sending)
        self._sending = still

    def _record(self, sending: _Sending) -> None:
        outcome, feed = sending.outcome, sending.outcome.status.spec
        acknowledged = [i for i, f in sending.futures.items() if f.succeeded()]
        own_failures = [f.exception for f in sending.futures.values() if f.failed()]
        shared_failures = [f.exception for f in sending.shared.values() if f.failed()]
        for article_id, future in sending.futures.items():
            if self._in_flight.get(article_id) is future:
                del self._in_flight[article_id]
        self.stats.articles_sent += len(acknowledged)
        if not own_failures and not shared_failures:
            self.store.record_success(
                feed.url, polled_at=outcome.polled_at, next_poll_at=next_poll_at(outcome, failed=False),
                etag=outcome.etag, last_modified=outcome.last_modified, items_in_feed=outcome.items,
                sent=acknowledged, rejected=outcome.rejected, warning=outcome.warning)
            return
        # Keep the old validators: the next poll fetches the feed in full and re-sends the rest.
        self.stats.articles_unacknowledged += len(own_failures)  # a shared one counts for its sender
        failures = own_failures + shared_failures
        error = f"Kafka did not acknowledge {len(failures)} article(s): {failures[0]}"
        log.warning("feed %s: %s", feed.url, error)
        self.store.record_failure(feed.url, polled_at=outcome.polled_at, error=error,
                                  next_poll_at=kafka_retry_at(outcome), sent=acknowledged)
        if own_failures:
            self._retire_producer()

    def _retire_producer(self) -> None:
        """Start afresh with a new producer (after a failed batch an idempotent producer may
        refuse every later send), closing the old one in the background: other feeds' records
        still in flight on it are answered as usual, and nothing here blocks or raises.
        """
        producer, self._producer = self._producer, None
        if producer is None:
            return
        self._retiring = [thread for thread in self._retiring if thread.is_alive()]
        thread = threading.Thread(target=_close_producer, name="kafka-producer-close", daemon=True,
                                  args=(producer, self.settings.kafka_delivery_timeout + 5))
        thread.start()
        self._retiring.append(thread)

    def _flush(self) -> None:
        """Wait until Kafka has answered for every record sent (by the current producer and
        by retiring ones), then record the results.
        """
        deadline = time.monotonic() + self.settings.kafka_delivery_timeout + 5
        if self._producer is not None:
            try:
                self._producer.flush(timeout=self.settings.kafka_delivery_timeout + 5)
            except KafkaError as exc:
                log.warning("Kafka flush: %s", exc)
        for thread in self._retiring:
            thread.join(timeout=max(0.0, deadline - time.monotonic()))
        self._settle()
