"""One streaming pipeline per consumer group, held through Kafka's own group membership.

The pipeline reads partitions it assigns itself and commits finished offsets as a plain
offset store, so two pipelines given the same ``--consumer_group`` would both read every
partition and overwrite each other's commits. While a pipeline runs, its launcher is the
only member of the group ``<group>.lock``; a second pipeline finds that member and refuses
to start. A killed holder's membership ends with its session (6 s), so a restart after a
crash waits that long at most.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid

from kafka import KafkaConsumer
from kafka.errors import KafkaError

from newsmon.connectors.kafka import make_admin, make_consumer
from newsmon.errors import ConfigError, ServiceUnavailableError
from newsmon.settings import Settings

log = logging.getLogger(__name__)
SESSION_TIMEOUT_MS = 6_000  # the broker's smallest allowed (group.min.session.timeout.ms)
WAIT_SECONDS = 15.0  # for a killed holder's session to end
COORDINATOR_WAIT_SECONDS = 60.0  # for a broker that just started to load its groups


class _LeavingTheLock(logging.Filter):
    """kafka-python logs an ERROR when the broker no longer knows a member that leaves (it
    restarted meanwhile). For the lock's group that changes nothing: the member is gone
    either way, so the line goes to this module's debug log instead.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        if record.levelno >= logging.ERROR and "LeaveGroup request" in text and (
                ".lock" in text or "newsmon-pipeline@" in text):
            log.debug("%s", text)
            return False
        return True


logging.getLogger("kafka.coordinator").addFilter(_LeavingTheLock())


class GroupLockedError(ConfigError):
    """Another pipeline runs in the consumer group."""


class GroupLock:
    def __init__(self, settings: Settings, group: str, topic: str) -> None:
        self._settings = settings
        self.group = f"{group}.lock"
        self._topic = topic
        self._name = f"newsmon-pipeline@{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self._consumer: KafkaConsumer | None = None
        self._stop = threading.Event()
        self._guard = threading.Lock()  # kafka-python's consumer is not thread-safe

    def _members(self) -> list[str]:
        """The group's members. A broker that has just started answers "coordinator not
        available" until it has loaded its groups: that is waited out, up to a minute.
        """
        deadline = time.monotonic() + COORDINATOR_WAIT_SECONDS
        while True:
            admin = make_admin(self._settings)
            try:
                found = admin.describe_groups([self.group])[self.group]
                return [member.get("client_id", "?") for member in found.get("members", [])]
            except KafkaError as exc:
                if not exc.retriable:
                    raise
                if time.monotonic() > deadline:
                    msg = (f"Kafka could not say who holds consumer group {self.group!r} within "
                           f"{COORDINATOR_WAIT_SECONDS:.0f}s: {exc}")
                    raise ServiceUnavailableError(msg) from exc
                log.info("group lock %s: %s; asking again", self.group, exc)
            finally:
                admin.close()
            time.sleep(1)

    def acquire(self, wait_seconds: float = WAIT_SECONDS) -> None:
        """Become the group's one member, or raise :class:`GroupLockedError` after ``wait_seconds``.

        A join that does not take while nobody else is a member (a broker that has just
        restarted can leave a new member waiting on a dead one) is tried again with a new
        consumer, for up to a minute more; then Kafka is reported unavailable.
        """
        deadline = time.monotonic() + wait_seconds
        while True:
            others = self._members()
            if not others:
                self._join()
                members = self._members()
                if members == [self._name]:
                    threading.Thread(target=self._heartbeat, name="newsmon-group-lock", daemon=True).start()
                    return
                self._leave()  # joined at the same moment as another: both step back, then retry
                others = [member for member in members if member != self._name]
            if not others:
                if time.monotonic() > deadline + COORDINATOR_WAIT_SECONDS:
                    msg = (f"Kafka did not let this pipeline join consumer group {self.group!r}, "
                           "although no other member is in it; is the broker still recovering?")
                    raise ServiceUnavailableError(msg)
                log.info("group lock %s: the join did not take and nobody else holds it; trying again",
                         self.group)
            elif time.monotonic() > deadline:
                group = self.group.removesuffix(".lock")
                msg = (f"another pipeline runs in consumer group {group!r} ({', '.join(others)}); "
                       "stop it first, or give this one its own --consumer_group")
                raise GroupLockedError(msg)
            time.sleep(1)

    def _join(self) -> None:
        consumer = make_consumer(self._settings, group_id=self.group, client_id=self._name,
                                 session_timeout_ms=SESSION_TIMEOUT_MS, heartbeat_interval_ms=2_000)
        consumer.subscribe([self._topic])
        deadline = time.monotonic() + 30
        while not consumer.assignment() and time.monotonic() < deadline:
            consumer.poll(timeout_ms=200, max_records=1)
        consumer.pause(*consumer.assignment())  # a member, never a reader
        self._consumer = consumer

    def _heartbeat(self) -> None:
        """Poll now and then: a member that stops polling is dropped from the group."""
        while not self._stop.wait(1.0):
            with self._guard:
                if self._consumer is None:
                    return
                try:
                    self._consumer.pause(*self._consumer.assignment())
                    self._consumer.poll(timeout_ms=0, max_records=1)
                except Exception as exc:  # noqa: BLE001 - the broker restarting; the next poll rejoins
                    log.debug("group lock %s: %s", self.group, exc)

    def _leave(self) -> None:
        with self._guard:
            consumer, self._consumer = self._consumer, None
            if consumer is not None:
                consumer.close(autocommit=False)

    def release(self) -> None:
        self._stop.set()
        self._leave()
