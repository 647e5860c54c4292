"""Alert delivery: hand each alert to the notifiers of its watch list, outside the pipeline.

:class:`Dispatcher` routes an alert to the notifiers of its ``list`` and of ``"*"``, at once
or held for the list's digest, and reports every notifier's outcome; :func:`run_delivery`
is the loop that reads ``news.alerts`` with a consumer group and commits an offset only
once every alert before it has been handed to all its notifiers. What users see (digest
periods, redeliveries, what a crash resends): ``docs/alerts-delivery.md``.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import logging
import threading
import time
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from kafka import TopicPartition
from kafka.errors import CommitFailedError, KafkaError
from kafka.structs import OffsetAndMetadata

from newsmon.connectors.kafka import make_consumer
from newsmon.connectors.notifier_config import DeliveryConfig, ListConfig
from newsmon.connectors.notifiers import DeliveryError, Notifier
from newsmon.schemas import problems
from newsmon.settings import Settings

log = logging.getLogger(__name__)

OnResult = Callable[[list[str], str, bool, "str | None"], None]
REMEMBER_IDS = 100_000  # alert ids kept to recognise redeliveries (about 10 MB)
DIGEST_MAX_ALERTS = 100  # a digest with more alerts is sent as several messages
POLL_RECORDS = 10  # records per poll: each may cost a notifier's retries before the next poll
MAX_POLL_INTERVAL_MS = 15 * 60 * 1000  # Kafka evicts a consumer that does not poll for this long
PROGRESS_EVERY = 10.0  # seconds


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
    duplicates: int = 0  # alert ids already seen by this process
    unrouted: int = 0  # alerts of a list with no notifiers (and no "*")
    delivered: int = 0  # messages a notifier delivered
    failed: int = 0  # messages a notifier gave up on
    digests: int = 0  # digest messages flushed (counted once, however many notifiers)

    def line(self) -> str:
        return ", ".join(f"{spec.name} {getattr(self, spec.name)}" for spec in dataclasses.fields(self))


class _Pending:
    """An alert waiting for its routes (its list's, and "*"'s) to hand it over."""

    __slots__ = ("on_handled", "routes")

    def __init__(self, routes: int, on_handled: Callable[[], None] | None) -> None:
        self.routes = routes
        self.on_handled = on_handled

    def done(self) -> None:
        self.routes -= 1
        if self.routes == 0 and self.on_handled is not None:
            self.on_handled()


@dataclass
class _Digest:
    due: float
    alerts: list[dict[str, Any]] = field(default_factory=list)
    waiting: list[_Pending] = field(default_factory=list)


class Dispatcher:
    """Routes alerts to the notifiers of their list and of ``"*"``: at once, or held for a
    digest whose period starts with the first alert held. A failing notifier never stops
    the others; an alert id seen again is delivered once per process.

    ``clock`` (seconds, monotonic) times digests; ``sleep`` is what notifiers wait with
    between retries (both injectable for tests). Not thread-safe: one delivery loop.
    """

    def __init__(self, config: DeliveryConfig, *, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep, on_result: OnResult | None = None,
                 remember: int = REMEMBER_IDS) -> None:
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
        # Copies: each dispatcher has its own retry state and sleeping function, and the
        # caller's configuration is left as it was.
        self._notifiers: dict[str, tuple[Notifier, ...]] = {
            name: tuple(dataclasses.replace(notifier, sleep=sleep) for notifier in route.notifiers)
            for name, route in config.lists.items()
        }
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._digests: dict[str, _Digest] = {}
        self.stats = DeliveryStats()

    def submit(self, alert: Mapping[str, Any], *, on_handled: Callable[[], None] | None = None) -> bool:
        """Deliver ``alert`` now, or hold it for its list's digest. ``on_handled`` is called
        once the alert has been handed to every notifier that applies (at once for a
        duplicate or an alert no notifier wants). Returns False for those two.
        """
        if not isinstance(alert, Mapping):
            msg = f"an alert is a mapping, got {type(alert).__name__}"
            raise TypeError(msg)
        alert_id, list_name = alert.get("alert_id"), alert.get("list")
        if not isinstance(alert_id, str) or not isinstance(list_name, str):
            msg = f"an alert needs string alert_id and list, got {alert_id!r} and {list_name!r}"
            raise ValueError(msg)
        if alert_id in self._seen:
            self._seen.move_to_end(alert_id)
            self.stats.duplicates += 1
            log.debug("alert %s already handled by this process; not sent again", alert_id)
            _call(on_handled)
            return False
        self._seen[alert_id] = None
        if len(self._seen) > self._remember:
            self._seen.popitem(last=False)
        routes = self._config.routes(list_name)
        if not routes:
            self.stats.unrouted += 1
            log.debug("alert %s: no notifiers for list %r", alert_id, list_name)
            _call(on_handled)
            return False
        self.stats.alerts += 1
        alert = copy.deepcopy(dict(alert))  # held for a digest: the caller may reuse its dict
        pending = _Pending(len(routes), on_handled)
        for route in routes:
            if route.digest_seconds > 0:
                digest = self._digests.get(route.name)
                if digest is None:
                    digest = self._digests[route.name] = _Digest(due=self._clock() + route.digest_seconds)
                digest.alerts.append(alert)
                digest.waiting.append(pending)
            else:
                self._send(route, [alert])
                pending.done()
        return True

    def flush(self, now: float | None = None, *, force: bool = False) -> int:
        """Send the digests that are due at ``now`` (default: the clock), or all with
        ``force``; returns how many digest messages were sent.
        """
        now = self._clock() if now is None else now
        sent = 0
        for name, digest in list(self._digests.items()):
            if not (force or digest.due <= now):
                continue
            del self._digests[name]
            route = self._config.lists[name]
            for start in range(0, len(digest.alerts), DIGEST_MAX_ALERTS):
                self._send(route, digest.alerts[start:start + DIGEST_MAX_ALERTS])
                sent += 1
            for pending in digest.waiting:
                pending.done()
        self.stats.digests += sent
        return sent

    def next_due(self) -> float | None:
        """When (on the clock) the next digest is due; None when none is held."""
        return min((digest.due for digest in self._digests.values()), default=None)

    @property
    def held(self) -> int:
        """Alerts held for digests."""
        return sum(len(digest.alerts) for digest in self._digests.values())

    def _send(self, route: ListConfig, alerts: list[dict[str, Any]]) -> None:
        ids = [alert["alert_id"] for alert in alerts]
        for notifier in self._notifiers[route.name]:
            error = None
            try:
                notifier.deliver(alerts)
            except DeliveryError as exc:
                error = str(exc)
            except Exception as exc:  # noqa: BLE001 - one broken notifier must not stop the others
                log.exception("%s: unexpected error delivering %s", notifier.description, _shown(ids))
                error = f"unexpected {type(exc).__name__}: {exc}"
            if error is None:
                self.stats.delivered += 1
            else:
                self.stats.failed += 1
            try:
                self._on_result(list(ids), notifier.description, error is None, error)
            except Exception:  # noqa: BLE001 - a failing status store must not stop delivery
                log.exception("on_result failed for %s by %s", _shown(ids), notifier.description)


def _call(callback: Callable[[], None] | None) -> None:
    if callback is not None:
        callback()


class _Offsets:
    """Per partition, the offsets read but not yet handled; what may be committed is the
    lowest of those, or the offset after the last one read when none is pending. This
    works with gaps in the offsets too, as transactional producers leave.
    """

    def __init__(self) -> None:
        self._pending: defaultdict[TopicPartition, set[int]] = defaultdict(set)
        self._next: dict[TopicPartition, int] = {}
        self._committed: dict[TopicPartition, int] = {}

    def begin(self, tp: TopicPartition, offset: int) -> bool:
        """False when ``offset`` is already pending (read again after a rebalance)."""
        if offset in self._pending[tp]:
            return False
        self._pending[tp].add(offset)
        self._next[tp] = max(self._next.get(tp, 0), offset + 1)
        return True

    def finish(self, tp: TopicPartition, offset: int) -> None:
        self._pending[tp].discard(offset)

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


def run_delivery(settings: Settings, config: DeliveryConfig, *, group: str = "newsmon-notifier",
                 stop: threading.Event, progress: Callable[[str], None] | None = None,
                 on_result: OnResult | None = None, start: Literal["earliest", "latest"] = "earliest",
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep,
                 progress_every: float = PROGRESS_EVERY) -> DeliveryStats:
    """Deliver the alerts of ``settings.topic_alerts`` until ``stop`` is set. A record that is
    not an alert is logged (topic, partition, offset), counted and skipped; an alert held for
    a digest holds back its partition's commit until the digest is sent. ``start`` is where
    a group with no committed offset begins. Pending digests are sent, and offsets
    committed, before it returns the counts.
    """
    if start not in ("earliest", "latest"):
        msg = f"start must be 'earliest' or 'latest', got {start!r}"
        raise ValueError(msg)
    dispatcher = Dispatcher(config, clock=clock, sleep=sleep, on_result=on_result)
    stats = dispatcher.stats
    offsets = _Offsets()
    consumer = make_consumer(settings, settings.topic_alerts, group_id=group, enable_auto_commit=False,
                             auto_offset_reset=start, max_poll_records=POLL_RECORDS,
                             max_poll_interval_ms=MAX_POLL_INTERVAL_MS)
    log.info("delivering alerts from Kafka topic %s (group %s) to the notifiers of %d list(s)",
             settings.topic_alerts, group, len(config.lists))
    last_progress = time.monotonic()
    try:
        while not stop.is_set():
            wait = 1.0
            due = dispatcher.next_due()
            if due is not None:
                wait = min(wait, max(0.0, due - clock()))
            batch = consumer.poll(timeout_ms=int(wait * 1000))
            for records in batch.values():
                for record in records:
                    if stop.is_set():
                        break  # the rest is not marked as read: a restart reads it again
                    _handle(record, dispatcher, offsets)
            dispatcher.flush()
            _commit(consumer, offsets)
            if progress is not None and time.monotonic() - last_progress > progress_every:
                last_progress = time.monotonic()
                progress(f"delivery: {stats.line()}, held for digests {dispatcher.held}")
        dispatcher.flush(force=True)
        _commit(consumer, offsets)
    finally:
        consumer.close(autocommit=False)
    log.info("alert delivery stopped: %s", stats.line())
    return stats


def _handle(record: Any, dispatcher: Dispatcher, offsets: _Offsets) -> None:
    tp = TopicPartition(record.topic, record.partition)
    offset = record.offset
    dispatcher.stats.received += 1
    if not offsets.begin(tp, offset):
        return  # still held for a digest since it was first read
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
    dispatcher.submit(value, on_handled=lambda: offsets.finish(tp, offset))


def _commit(consumer: Any, offsets: _Offsets) -> None:
    todo = offsets.committable(consumer.assignment())
    if not todo:
        return
    try:
        consumer.commit({tp: OffsetAndMetadata(offset, "", -1) for tp, offset in todo.items()})
    except CommitFailedError as exc:
        log.warning("offsets not committed (the group rebalanced); alerts since the last commit will "
                    "be read again, and those this process already handled are skipped: %s", exc)
    except KafkaError as exc:
        log.warning("offsets not committed, retrying on the next round: %s", exc)
    else:
        offsets.committed(todo)
        log.debug("committed %s", {f"{tp.topic}:{tp.partition}": offset for tp, offset in todo.items()})
