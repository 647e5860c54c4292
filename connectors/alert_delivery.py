"""Alert delivery: hand each alert to the notifiers of its watch list, outside the pipeline.

:class:`Dispatcher` routes an alert to the notifiers of its ``list`` and of ``"*"``, at once
or held for the list's digest, reports every notifier's outcome, and keeps a message whose
endpoint is down (refused, timed out, 5xx, 408, 429) to try it again until it gets
through; :func:`run_delivery` is the loop that reads ``news.alerts`` with a consumer group
and commits an offset only once every alert before it is done with (delivered, or refused
for good), pausing a partition while one of its alerts waits. Delivery records in
``news-alerts`` (``delivery_records``) keep a restart from sending an alert twice to a
notifier. What users see (digest periods, outages, what a crash resends):
``docs/alerts-delivery.md``.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import logging
import threading
import time
from collections import OrderedDict, defaultdict, deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from kafka import TopicPartition
from kafka.errors import CommitFailedError, KafkaError
from kafka.structs import OffsetAndMetadata

from newsmon import backoff
from newsmon.connectors.delivery_records import (
    AlertIndexRecords,
    DeliveryRecords,
    RecordsUnavailableError,
    Revision,
    revision_of,
)
from newsmon.connectors.kafka import make_consumer
from newsmon.connectors.notifier_config import DeliveryConfig
from newsmon.connectors.notifiers import BACKOFF_BASE, BACKOFF_CAP, DeliveryError, Notifier
from newsmon.connectors.webhook_notifier import safe_url
from newsmon.schemas import problems
from newsmon.settings import Secret, Settings

log = logging.getLogger(__name__)

OnResult = Callable[[list[str], str, bool, "str | None"], None]
REMEMBER_IDS = 100_000  # alert revisions kept to recognise redeliveries (about 20 MB)
DIGEST_MAX_ALERTS = 100  # a digest with more alerts is sent as several messages
POLL_RECORDS = 10  # records per poll: each may cost a notifier's retries before the next poll
MAX_POLL_INTERVAL_MS = 15 * 60 * 1000  # Kafka evicts a consumer that does not poll for this long
PROGRESS_EVERY = 10.0  # seconds
MAX_PAUSE = 3600.0  # the longest Retry-After honoured between two tries of a message
DEFAULT_GROUP = "newsmon-notifier"


def log_result(alert_ids: list[str], notifier: str, ok: bool, error: str | None) -> None:
    """The default ``on_result``: a log line per notifier and message."""
    if ok:
        log.info("alert(s) %s delivered by %s", _shown(alert_ids), notifier)
    else:
        log.warning("alert(s) %s NOT delivered by %s: %s", _shown(alert_ids), notifier, error)


def _shown(alert_ids: list[str]) -> str:
    return ", ".join(alert_ids[:5]) + (f" and {len(alert_ids) - 5} more" if len(alert_ids) > 5 else "")


@dataclass
class DeliveryStats:
    received: int = 0  # Kafka records read
    invalid: int = 0  # records skipped: not JSON, or not an alert per the schema
    alerts: int = 0  # alerts accepted for delivery
    duplicates: int = 0  # alert revisions already seen by this process
    unrouted: int = 0  # alerts of a list with no notifiers (and no "*")
    delivered: int = 0  # messages a notifier delivered
    failed: int = 0  # messages refused for good (or failing unexpectedly): reported, not retried
    retried: int = 0  # times a message was put back to wait for its endpoint
    already_delivered: int = 0  # alerts left out of a message: its notifier had them (records)
    digests: int = 0  # digest messages flushed (counted once, however many notifiers)

    def line(self) -> str:
        return ", ".join(f"{spec.name} {getattr(self, spec.name)}" for spec in dataclasses.fields(self))


class _Pending:
    """An alert waiting for its messages (one per notifier of its list and of "*") to be done
    with: delivered, or refused for good. ``callbacks`` run then, once.
    """

    __slots__ = ("callbacks", "remaining")

    def __init__(self, remaining: int) -> None:
        self.remaining = remaining
        self.callbacks: list[Callable[[], None]] = []

    @property
    def finished(self) -> bool:
        return self.remaining <= 0

    def then(self, callback: Callable[[], None] | None) -> None:
        """Run ``callback`` once this alert is done with (at once if it is)."""
        if callback is None:
            return
        if self.finished:
            callback()
        else:
            self.callbacks.append(callback)

    def done(self) -> None:
        self.remaining -= 1
        if self.remaining == 0:
            callbacks, self.callbacks = self.callbacks, []
            for callback in callbacks:
                callback()


@dataclass
class _Digest:
    due: float
    alerts: list[tuple[dict[str, Any], _Pending]] = field(default_factory=list)


@dataclass(eq=False)
class _Message:
    """One message for one notifier: an alert, or part of a digest; with what it owes."""

    route: str
    notifier: Notifier
    items: list[tuple[dict[str, Any], _Pending]]
    failures: int = 0  # attempts failed so far (or rounds the records could not be read)
    due: float = 0.0  # when to try again, while waiting

    @property
    def ids(self) -> list[str]:
        return [alert["alert_id"] for alert, _ in self.items]

    @property
    def revisions(self) -> list[Revision]:
        return [revision_of(alert) for alert, _ in self.items]


class Dispatcher:
    """Routes alerts to the notifiers of their list and of ``"*"``: at once, or held for a
    digest whose period starts with the first alert held. A failing notifier never stops
    the others; an alert revision (``alert_id`` and ``revision``) seen again is delivered
    once per process, and with ``records`` once per notifier across restarts too.

    A message a notifier could not deliver for a reason waiting can fix (its attempts spent
    on refused connections, timeouts, 5xx, 408, 429) waits and is tried again, once per
    wait, the waits doubling on from the notifier's attempts (:func:`newsmon.backoff.delay`,
    at least the server's Retry-After) up to 30 s, until it gets through; its alerts are not
    handled (``on_handled``) meanwhile. :meth:`retry` runs what is due. A message refused for
    good (or failing unexpectedly) is reported failed and its alerts are handled.

    ``clock`` (seconds, monotonic) times digests and waits; ``sleep`` is what notifiers wait
    with between attempts (both injectable for tests). Not thread-safe: one delivery loop.
    """

    def __init__(self, config: DeliveryConfig, *, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], bool | None] = time.sleep, on_result: OnResult | None = None,
                 remember: int = REMEMBER_IDS, records: DeliveryRecords | None = None) -> None:
        if not isinstance(config, DeliveryConfig):
            msg = (f"config must be a DeliveryConfig (notifier_config.load_config), "
                   f"got {type(config).__name__}")
            raise TypeError(msg)
        if remember < 1:
            msg = f"remember must be at least 1, got {remember}"
            raise ValueError(msg)
        self._config = config
        self._clock = clock
        self._on_result = log_result if on_result is None else on_result
        self._remember = remember
        self._records = records
        # Copies: each dispatcher has its own retry state and sleeping function, and the
        # caller's configuration is left as it was.
        self._notifiers: dict[str, tuple[Notifier, ...]] = {
            name: tuple(dataclasses.replace(notifier, sleep=sleep) for notifier in route.notifiers)
            for name, route in config.lists.items()
        }
        self._seen: OrderedDict[Revision, _Pending] = OrderedDict()
        self._digests: dict[str, _Digest] = {}
        self._waiting: list[_Message] = []
        self.stats = DeliveryStats()

    def submit(self, alert: Mapping[str, Any], *, on_handled: Callable[[], None] | None = None) -> bool:
        """Deliver ``alert`` now, or hold it for its list's digest. ``on_handled`` is called
        once every notifier that applies is done with it: delivered, or refused for good (at
        once for an alert no notifier wants; for an alert revision seen before, when that one is).
        Returns False for those two.
        """
        if not isinstance(alert, Mapping):
            msg = f"an alert is a mapping, got {type(alert).__name__}"
            raise TypeError(msg)
        alert_id, list_name = alert.get("alert_id"), alert.get("list")
        if not isinstance(alert_id, str) or not isinstance(list_name, str):
            msg = f"an alert needs string alert_id and list, got {alert_id!r} and {list_name!r}"
            raise ValueError(msg)
        key = revision_of(alert)
        if not isinstance(key[1], int) or isinstance(key[1], bool) or key[1] < 1:
            msg = f"an alert's revision is a whole number from 1, got {key[1]!r}"
            raise ValueError(msg)
        seen = self._seen.get(key)
        if seen is not None:
            self._seen.move_to_end(key)
            self.stats.duplicates += 1
            log.debug("alert %s revision %d already handled by this process; not sent again", *key)
            seen.then(on_handled)  # read twice while still on its way: handled with the first
            return False
        routes = [(route, self._notifiers[route.name]) for route in self._config.routes(list_name)]
        messages = sum(len(notifiers) for _, notifiers in routes)
        pending = _Pending(messages)
        self._seen[key] = pending
        if len(self._seen) > self._remember:
            self._seen.popitem(last=False)
        if messages == 0:
            self.stats.unrouted += 1
            log.debug("alert %s: no notifiers for list %r", alert_id, list_name)
            pending.then(on_handled)
            return False
        self.stats.alerts += 1
        alert = copy.deepcopy(dict(alert))  # held for a digest: the caller may reuse its dict
        for route, notifiers in routes:
            if route.digest_seconds > 0:
                digest = self._digests.get(route.name)
                if digest is None:
                    digest = self._digests[route.name] = _Digest(due=self._clock() + route.digest_seconds)
                digest.alerts.append((alert, pending))
            else:
                for notifier in notifiers:
                    self._run(_Message(route.name, notifier, [(alert, pending)]))
        pending.then(on_handled)
        return True

    def flush(self, now: float | None = None, *, force: bool = False) -> int:
        """Send the digests that are due at ``now`` (default: the clock), or all with
        ``force``; returns how many digest messages were sent (counted once, however many
        notifiers).
        """
        now = self._clock() if now is None else now
        sent = 0
        for name, digest in list(self._digests.items()):
            if not (force or digest.due <= now):
                continue
            del self._digests[name]
            for start in range(0, len(digest.alerts), DIGEST_MAX_ALERTS):
                chunk = digest.alerts[start:start + DIGEST_MAX_ALERTS]
                for notifier in self._notifiers[name]:
                    self._run(_Message(name, notifier, list(chunk)))
                sent += 1
        self.stats.digests += sent
        return sent

    def retry(self, now: float | None = None) -> int:
        """Try again the waiting messages that are due at ``now`` (default: the clock);
        returns how many were tried.
        """
        now = self._clock() if now is None else now
        due = sorted((message for message in self._waiting if message.due <= now), key=lambda m: m.due)
        for message in due:
            self._waiting.remove(message)
            self._run(message)
        return len(due)

    def next_due(self) -> float | None:
        """When (on the clock) the next digest or retry is due; None when nothing waits."""
        dues = [digest.due for digest in self._digests.values()] + [m.due for m in self._waiting]
        return min(dues, default=None)

    @property
    def held(self) -> int:
        """Alerts held for digests."""
        return sum(len(digest.alerts) for digest in self._digests.values())

    @property
    def waiting(self) -> int:
        """Messages waiting to be tried again."""
        return len(self._waiting)

    @property
    def waiting_ids(self) -> set[str]:
        """The alerts of the messages waiting to be tried again."""
        return {alert_id for message in self._waiting for alert_id in message.ids}

    def _run(self, message: _Message) -> None:
        """One go at ``message``: done with, or waiting to be tried again."""
        notifier = message.notifier
        if self._records is not None:
            try:
                already = self._records.delivered(message.revisions, notifier.description)
            except RecordsUnavailableError as exc:
                self._wait(message, 1, str(exc), None)
                return
            if already:
                log.info("alert(s) %s already delivered by %s (before a restart); not sent again",
                         _shown(sorted(alert_id for alert_id, _ in already)), notifier.description)
                self.stats.already_delivered += len(already)
                for alert, pending in message.items:
                    if revision_of(alert) in already:
                        pending.done()
                message.items = [(a, p) for a, p in message.items if revision_of(a) not in already]
                if not message.items:
                    return
        alerts = [alert for alert, _ in message.items]
        # The first go gets the notifier's attempts; a message tried again gets one per wait.
        attempts = None if message.failures == 0 else 1
        error = None
        try:
            notifier.deliver(alerts, attempts=attempts)
        except DeliveryError as exc:
            if not exc.permanent:
                self._wait(message, exc.attempts, exc.reason, exc.retry_after)
                return
            error = str(exc)
        except Exception as exc:  # noqa: BLE001 - one broken notifier must not stop the others
            log.exception("%s: unexpected error delivering %s", notifier.description, _shown(message.ids))
            error = f"unexpected {type(exc).__name__}: {exc}"
        self._done(message, error)

    def _wait(self, message: _Message, failures: int, reason: str, retry_after: float | None) -> None:
        message.failures += failures
        if retry_after is not None:
            retry_after = min(retry_after, MAX_PAUSE)
        wait = backoff.delay(message.failures, base=BACKOFF_BASE, cap=BACKOFF_CAP, retry_after=retry_after)
        message.due = self._clock() + wait
        self._waiting.append(message)
        self.stats.retried += 1
        log.warning("alert(s) %s not delivered by %s yet (%s); trying again in %.0f s, and until then "
                    "neither they nor the alerts after them are committed",
                    _shown(message.ids), message.notifier.description, reason, wait)

    def _done(self, message: _Message, error: str | None) -> None:
        ids, name = message.ids, message.notifier.description
        if error is None:
            self.stats.delivered += 1
        else:
            self.stats.failed += 1
        try:
            self._on_result(list(ids), name, error is None, error)
        except Exception:  # noqa: BLE001 - a failing status store must not stop delivery
            log.exception("on_result failed for %s by %s", _shown(ids), name)
        if self._records is not None:
            try:
                self._records.record(message.revisions, name, error is None, error)
            except RecordsUnavailableError as exc:
                # Not worth holding the alerts for: it only matters if this process stops
                # before their offsets are committed, and then they may be sent twice.
                log.warning("%s; if delivery restarts before committing them they may be sent again", exc)
        for _, pending in message.items:
            pending.done()


class _Offsets:
    """Per partition, the offsets read but not yet handled (with their alert ids); what may
    be committed is the lowest of those, or the offset after the last one read when none is
    pending. This works with gaps in the offsets too, as transactional producers leave.
    """

    def __init__(self) -> None:
        self._pending: defaultdict[TopicPartition, dict[int, str | None]] = defaultdict(dict)
        self._next: dict[TopicPartition, int] = {}
        self._committed: dict[TopicPartition, int] = {}

    def begin(self, tp: TopicPartition, offset: int) -> bool:
        """False when ``offset`` is already pending (read again after a rebalance)."""
        if offset in self._pending[tp]:
            return False
        self._pending[tp][offset] = None
        self._next[tp] = max(self._next.get(tp, 0), offset + 1)
        return True

    def label(self, tp: TopicPartition, offset: int, alert_id: str) -> None:
        if offset in self._pending[tp]:
            self._pending[tp][offset] = alert_id

    def finish(self, tp: TopicPartition, offset: int) -> None:
        self._pending[tp].pop(offset, None)

    def blocked(self, tp: TopicPartition, waiting: set[str]) -> bool:
        """Whether an alert read from ``tp`` waits for its endpoint."""
        return bool(waiting) and any(alert_id in waiting for alert_id in self._pending[tp].values())

    def forget(self, tp: TopicPartition) -> None:
        """``tp`` went to another consumer: it reads on from the committed offset."""
        self._pending.pop(tp, None)
        self._next.pop(tp, None)
        self._committed.pop(tp, None)

    def committable(self, assigned: Iterable[TopicPartition]) -> dict[TopicPartition, int]:
        todo = {}
        for tp in assigned:
            if tp not in self._next:
                continue
            offset = min(self._pending[tp]) if self._pending[tp] else self._next[tp]
            if self._committed.get(tp) != offset:
                todo[tp] = offset
        return todo

    def committed(self, offsets: Mapping[TopicPartition, int]) -> None:
        self._committed.update(offsets)


def run_delivery(settings: Settings, config: DeliveryConfig, *, group: str = DEFAULT_GROUP,
                 stop: threading.Event, progress: Callable[[str], None] | None = None,
                 on_result: OnResult | None = None, start: Literal["earliest", "latest"] = "earliest",
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], bool | None] | None = None,
                 progress_every: float | None = None,
                 records: DeliveryRecords | None = None) -> DeliveryStats:
    """Deliver the alerts of ``settings.topic_alerts`` until ``stop`` is set; returns the counts.

    Offsets are committed only past alerts every notifier is done with (delivered, or
    refused for good). An alert waiting for its endpoint stops its partition there (paused;
    the records already read wait in memory) while the loop keeps polling, so that Kafka
    keeps the consumer in its group, and tries it again as :class:`Dispatcher` says; an
    alert held for a digest holds back its partition's commit until the digest is sent.
    A record that is not an alert is logged (topic, partition, offset), counted and skipped.
    ``start`` is where a group with no committed offset begins. ``records`` (default: the
    ``deliveries`` of ``settings.es_index_alerts``) keeps a restart from sending an alert
    twice to one notifier. ``sleep`` defaults to ``stop.wait``, so a stop cuts a notifier's
    waits short. Before it returns, held digests are sent and offsets committed. Kafka
    errors it cannot wait out are raised.
    """
    if start not in ("earliest", "latest"):
        msg = f"start must be 'earliest' or 'latest', got {start!r}"
        raise ValueError(msg)
    progress_every = PROGRESS_EVERY if progress_every is None else progress_every
    own_records = records is None
    records = AlertIndexRecords.from_settings(settings) if records is None else records
    dispatcher = Dispatcher(config, clock=clock, sleep=stop.wait if sleep is None else sleep,
                            on_result=on_result, records=records)
    stats = dispatcher.stats
    offsets = _Offsets()
    backlog: defaultdict[TopicPartition, deque[Any]] = defaultdict(deque)  # read, not yet submitted
    try:
        consumer = make_consumer(settings, settings.topic_alerts, group_id=group, enable_auto_commit=False,
                                 auto_offset_reset=start, max_poll_records=POLL_RECORDS,
                                 max_poll_interval_ms=MAX_POLL_INTERVAL_MS)
    except BaseException:
        if own_records:
            records.close()
        raise
    log.info("delivering alerts from Kafka topic %s (group %s) to the notifiers of %d list(s)",
             settings.topic_alerts, group, len(config.lists))
    last_progress = time.monotonic()
    try:
        while not stop.is_set():
            _forget_revoked(consumer, backlog, offsets)
            wait = 1.0
            due = dispatcher.next_due()
            if due is not None:
                wait = min(wait, max(0.0, due - clock()))
            for tp, fetched in consumer.poll(timeout_ms=int(wait * 1000)).items():
                backlog[tp].extend(fetched)
            dispatcher.retry()
            _submit_backlog(backlog, dispatcher, offsets, stop)
            dispatcher.flush()
            _pause_blocked(consumer, backlog)
            _commit(consumer, offsets)
            if progress is not None and time.monotonic() - last_progress >= progress_every:
                last_progress = time.monotonic()
                progress(f"delivery: {stats.line()}, held for digests {dispatcher.held}, "
                         f"waiting to retry {dispatcher.waiting}")
        dispatcher.flush(force=True)
        _commit(consumer, offsets)
    finally:
        consumer.close(autocommit=False)
        if own_records:
            records.close()
    if dispatcher.waiting:
        log.warning("alert delivery stopped with %d message(s) waiting for their endpoint: their alerts "
                    "were not committed and are delivered when it starts again", dispatcher.waiting)
    log.info("alert delivery stopped: %s", stats.line())
    return stats


def redact(text: str, settings: Settings, config: DeliveryConfig) -> str:
    """``text`` without the secrets of ``settings`` and ``config`` (passwords, keys, webhook
    secrets, the paths of webhook URLs), for an error shown to the user.
    """
    secrets = [getattr(settings, name) for name in ("kafka_sasl_password", "es_api_key", "es_password")]
    for route in config.lists.values():
        for notifier in route.notifiers:
            secrets += [getattr(notifier, name, None) for name in ("secret", "password")]
            url = getattr(notifier, "url", None)
            if isinstance(url, str):
                text = text.replace(url, safe_url(url) + "/…")
    for secret in secrets:
        if isinstance(secret, Secret) and secret.reveal():
            text = text.replace(secret.reveal(), "********")
    return text


def _forget_revoked(consumer: Any, backlog: dict[TopicPartition, deque[Any]], offsets: _Offsets) -> None:
    assigned = consumer.assignment()
    for tp in [tp for tp in backlog if tp not in assigned]:
        del backlog[tp]
        offsets.forget(tp)


def _submit_backlog(backlog: dict[TopicPartition, deque[Any]], dispatcher: Dispatcher, offsets: _Offsets,
                    stop: threading.Event) -> None:
    """Submit the records read, in order per partition, up to one that waits for its endpoint."""
    for tp, queue in backlog.items():
        while queue and not stop.is_set() and not offsets.blocked(tp, dispatcher.waiting_ids):
            _handle(queue.popleft(), dispatcher, offsets)


def _pause_blocked(consumer: Any, backlog: dict[TopicPartition, deque[Any]]) -> None:
    """Fetch nothing more for a partition with records still waiting to be submitted."""
    assigned = consumer.assignment()
    blocked = {tp for tp, queue in backlog.items() if queue and tp in assigned}
    paused = consumer.paused()
    if blocked - paused:
        consumer.pause(*(blocked - paused))
    if paused - blocked:
        consumer.resume(*(paused - blocked))


def _handle(record: Any, dispatcher: Dispatcher, offsets: _Offsets) -> None:
    tp = TopicPartition(record.topic, record.partition)
    offset = record.offset
    dispatcher.stats.received += 1
    if not offsets.begin(tp, offset):
        return  # still on its way since it was first read
    try:
        value = json.loads(record.value)
    except (TypeError, ValueError) as exc:
        found = [f"not JSON: {exc}"]
    else:
        found = problems("alert", value)
    if found:
        dispatcher.stats.invalid += 1
        log.warning("skipped an invalid alert at %s partition %d offset %d: %s",
                    record.topic, record.partition, offset, "; ".join(found[:3]))
        offsets.finish(tp, offset)
        return
    offsets.label(tp, offset, value["alert_id"])
    dispatcher.submit(value, on_handled=lambda: offsets.finish(tp, offset))


def _commit(consumer: Any, offsets: _Offsets) -> None:
    todo = offsets.committable(consumer.assignment())
    if not todo:
        return
    try:
        consumer.commit({tp: OffsetAndMetadata(offset, "", -1) for tp, offset in todo.items()})
    except CommitFailedError as exc:
        log.warning("offsets not committed (the group rebalanced); alerts since the last commit will "
                    "be read again, and those already delivered are not sent twice: %s", exc)
    except KafkaError as exc:
        log.warning("offsets not committed, retrying on the next round: %s", exc)
    else:
        offsets.committed(todo)
        log.debug("committed %s", {f"{tp.topic}:{tp.partition}": offset for tp, offset in todo.items()})
