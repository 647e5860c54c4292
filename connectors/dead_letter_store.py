"""The dead-letter topic read back: the letters the pipeline wrote (``schemas/deadletter.schema.json``),
and their originals sent again to the topic they came from, once the pipeline is fixed.

Reading uses a consumer without a group at explicit offsets, up to the end offsets taken
when it starts: it never commits anything, least of all into the pipeline's group. A
replayed message is the original's key and value bytes, unchanged; the pipeline takes it
as new, and because an article's id comes from the article itself, what it derives from
it (the indexed article, its story, its alerts) is overwritten, not doubled.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from kafka import TopicPartition
from kafka.errors import KafkaError

from newsmon.analysis.messages import parse_time
from newsmon.connectors.kafka import make_consumer, make_producer
from newsmon.errors import NewsmonError
from newsmon.schemas import load_schema, problems
from newsmon.settings import Settings

STAGES: tuple[str, ...] = tuple(load_schema("deadletter")["properties"]["stage"]["enum"])
REPLAY_HEADER = "newsmon-replayed-from"  # on each replayed message: <dead-letter topic>/<P>=<O>
STALL_SECONDS = 30.0  # reading gives up when the topic yields nothing for this long


class DeadLetterError(NewsmonError):
    """The dead letters could not be read or replayed; the message names topic and position."""


@dataclass(frozen=True)
class Letter:
    """A dead letter as read from its topic: where it sits there, and what it says."""

    topic: str
    partition: int
    offset: int
    stage: str
    reason: str
    source_topic: str
    source_partition: int
    source_offset: int
    key: bytes | None
    value: bytes  # the original's bytes, or only their start when ``truncated``
    size: int  # bytes of the whole original
    truncated: bool
    article_id: str | None
    failed_at: datetime

    @property
    def position(self) -> str:
        """``PARTITION=OFFSET`` in the dead-letter topic, as ``--offset`` takes it."""
        return f"{self.partition}={self.offset}"

    @classmethod
    def from_record(cls, record: Any) -> Letter:
        """The letter in a Kafka record of the dead-letter topic; raises :class:`UnreadableLetter`."""
        where = f"{record.topic} {record.partition}={record.offset}"
        try:
            message = json.loads(record.value)
        except (TypeError, ValueError) as exc:
            reason = f"not JSON: {exc}"
            raise UnreadableLetter(record.topic, record.partition, record.offset, reason) from None
        found = problems("deadletter", message)
        if found:
            version = message.get("schema_version") if isinstance(message, Mapping) else None
            raise UnreadableLetter(record.topic, record.partition, record.offset,
                                   f"not a dead letter of schema version 2 (schema_version {version!r}): "
                                   + "; ".join(found[:3]))
        try:
            value = base64.b64decode(message["original_value"], validate=True)
            key = None if message["original_key"] is None else base64.b64decode(message["original_key"],
                                                                                  validate=True)
        except (binascii.Error, ValueError) as exc:
            raise UnreadableLetter(record.topic, record.partition, record.offset,
                                   f"original bytes are not valid base64: {exc}") from None
        if not message["original_truncated"] and (
                len(value) != message["original_size"]
                or hashlib.sha256(value).hexdigest() != message["original_sha256"]):
            raise UnreadableLetter(record.topic, record.partition, record.offset,
                                   "original_value does not match original_size and original_sha256 "
                                   f"(damaged letter at {where})")
        return cls(topic=record.topic, partition=record.partition, offset=record.offset,
                   stage=message["stage"], reason=message["reason"], source_topic=message["source_topic"],
                   source_partition=message["source_partition"], source_offset=message["source_offset"],
                   key=key, value=value, size=message["original_size"],
                   truncated=message["original_truncated"], article_id=message["article_id"],
                   failed_at=parse_time(message["failed_at"]))


class UnreadableLetter(DeadLetterError):  # noqa: N818 - a letter, not an error of the program
    """A record of the dead-letter topic that is not a dead letter newsmon can replay."""

    def __init__(self, topic: str, partition: int, offset: int, reason: str) -> None:
        self.topic, self.partition, self.offset, self.reason = topic, partition, offset, reason
        super().__init__(f"{topic} {partition}={offset}: {reason}")

    def __reduce__(self):
        return type(self), (self.topic, self.partition, self.offset, self.reason)

    @property
    def position(self) -> str:
        return f"{self.partition}={self.offset}"


def read_letters(settings: Settings, *, since: datetime | None = None,
                 positions: Mapping[int, Iterable[int]] | None = None) -> Iterator[Letter | UnreadableLetter]:
    """The records of ``settings.topic_deadletter`` in order per partition, each as a
    :class:`Letter` or, when it is none, an :class:`UnreadableLetter` (yielded, not raised).

    Everything up to the end offsets at the start, from ``since`` (by the records'
    timestamps) or from the beginning; or, with ``positions`` (partition → offsets), just
    those records, each of which must exist.
    """
    topic = settings.topic_deadletter
    consumer = make_consumer(settings, group_id=None, enable_auto_commit=False)
    try:
        partitions = consumer.partitions_for_topic(topic)
        if not partitions:
            msg = f"Kafka topic {topic} does not exist (no dead letter was ever written)"
            raise DeadLetterError(msg)
        tps = [TopicPartition(topic, p) for p in sorted(partitions)]
        consumer.assign(tps)
        first, end = consumer.beginning_offsets(tps), consumer.end_offsets(tps)
        if positions is not None:
            yield from _read_positions(consumer, topic, positions, first, end)
            return
        start = dict(first)
        if since is not None:
            found = consumer.offsets_for_times({tp: int(since.timestamp() * 1000) for tp in tps})
            start = {tp: end[tp] if found.get(tp) is None else found[tp].offset for tp in tps}
        for tp in tps:
            consumer.seek(tp, start[tp])
        yield from _read_ranges(consumer, {tp: (start[tp], end[tp]) for tp in tps if start[tp] < end[tp]})
    finally:
        consumer.close(autocommit=False)


def _read_ranges(consumer: Any, ranges: dict[TopicPartition, tuple[int, int]]
                 ) -> Iterator[Letter | UnreadableLetter]:
    """Records from each partition's start to its end (exclusive)."""
    remaining = dict(ranges)
    consumer.pause(*[tp for tp in consumer.assignment() if tp not in remaining])
    last_progress = time.monotonic()
    while remaining:
        batch = consumer.poll(timeout_ms=500)
        for tp, records in batch.items():
            if tp not in remaining:
                continue
            for record in records:
                if record.offset < remaining[tp][1]:
                    yield _letter(record)
        for tp in list(remaining):
            if consumer.position(tp) >= remaining[tp][1]:  # also past transaction markers
                del remaining[tp]
                consumer.pause(tp)
        if batch:
            last_progress = time.monotonic()
        elif time.monotonic() - last_progress > STALL_SECONDS:
            left = ", ".join(f"{tp.partition}={consumer.position(tp)} (end {end})"
                             for tp, (_, end) in remaining.items())
            msg = f"reading {next(iter(remaining)).topic} stalled for {STALL_SECONDS:.0f} s at {left}"
            raise DeadLetterError(msg)


def _read_positions(consumer: Any, topic: str, positions: Mapping[int, Iterable[int]],
                    first: dict[TopicPartition, int], end: dict[TopicPartition, int]
                    ) -> Iterator[Letter | UnreadableLetter]:
    wanted = sorted({(partition, offset) for partition, offsets in positions.items() for offset in offsets})
    for partition, offset in wanted:
        tp = TopicPartition(topic, partition)
        if tp not in end:
            msg = f"{topic} has no partition {partition} (it has {', '.join(str(p.partition) for p in end)})"
            raise DeadLetterError(msg)
        if not first[tp] <= offset < end[tp]:
            msg = (f"{topic} holds no record at {partition}={offset}: partition {partition} holds offsets "
                   f"{first[tp]} to {end[tp] - 1}" if end[tp] > first[tp] else
                   f"{topic} holds no record at {partition}={offset}: partition {partition} is empty")
            raise DeadLetterError(msg)
    found: dict[tuple[int, int], Letter | UnreadableLetter] = {}
    for partition, offset in wanted:  # fetched one by one: few, and anywhere in the topic
        tp = TopicPartition(topic, partition)
        consumer.pause(*[other for other in consumer.assignment() if other != tp])
        consumer.resume(tp)
        consumer.seek(tp, offset)
        record = _first_record(consumer, tp)
        if record is None or record.offset != offset:
            msg = f"{topic} holds no record at {partition}={offset} (removed by compaction, or a marker)"
            raise DeadLetterError(msg)
        found[(partition, offset)] = _letter(record)
    for position in wanted:
        yield found[position]


def _first_record(consumer: Any, tp: TopicPartition) -> Any:
    deadline = time.monotonic() + STALL_SECONDS
    while time.monotonic() < deadline:
        records = consumer.poll(timeout_ms=500).get(tp)
        if records:
            return records[0]
    return None


def _letter(record: Any) -> Letter | UnreadableLetter:
    try:
        return Letter.from_record(record)
    except UnreadableLetter as exc:
        return exc


@dataclass(frozen=True)
class Replayed:
    letter: Letter
    sent: bool  # False for a dry run
    partition: int | None = None  # where the original went again
    offset: int | None = None


def replay(settings: Settings, letters: Iterable[Letter], *, dry_run: bool = False) -> list[Replayed]:
    """Send each letter's original (key and value bytes, unchanged) to its source topic,
    waiting for Kafka to acknowledge every one; letters whose original was truncated are
    the caller's to leave out. With ``dry_run`` nothing is sent.
    """
    letters = list(letters)
    for letter in letters:
        if letter.truncated:
            msg = f"letter {letter.position} holds only part of its original: it cannot be replayed"
            raise ValueError(msg)
    if dry_run or not letters:
        return [Replayed(letter, sent=False) for letter in letters]
    producer = make_producer(settings)
    try:
        futures = []
        for letter in letters:
            origin = f"{letter.topic}/{letter.position}".encode()
            futures.append(producer.send(letter.source_topic, key=letter.key, value=letter.value,
                                         headers=[(REPLAY_HEADER, origin)]))
        producer.flush(settings.kafka_delivery_timeout + 5)
        done = []
        for letter, future in zip(letters, futures, strict=True):
            try:
                metadata = future.get(timeout=settings.kafka_delivery_timeout + 5)
            except KafkaError as exc:
                sent = [f"{r.letter.position}" for r in done]
                msg = (f"replaying letter {letter.position} to {letter.source_topic} failed: {exc}"
                       + (f"; already replayed: {', '.join(sent)}" if sent else ""))
                raise DeadLetterError(msg) from exc
            done.append(Replayed(letter, sent=True, partition=metadata.partition, offset=metadata.offset))
        return done
    finally:
        producer.close(timeout=10)


def existing_topics(settings: Settings, names: Iterable[str]) -> set[str]:
    """Those of ``names`` that exist in the cluster."""
    consumer = make_consumer(settings, group_id=None)
    try:
        return set(names) & set(consumer.topics())
    finally:
        consumer.close()
