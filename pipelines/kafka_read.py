"""Read Kafka topics in Beam with Python alone: one Splittable DoFn restriction per partition.

Each partition is an offset range; an unbounded read's range ends at ``MAX_OFFSET`` and
the DoFn checkpoints itself (``defer_remainder``) after every poll, so a runner can
persist progress and resume after a restart. A bounded read (a ``stop`` position) ends
when every partition reached its stop offset: used for backfills and tests.

Positions (see :func:`parse_position`) are resolved to offsets once, when the read
starts: ``earliest``, ``latest``, ``committed`` (a consumer group's offsets), ``end``
(the end when the read starts), a point in time (the first message at or after it), or
explicit ``PARTITION=OFFSET`` pairs.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import apache_beam as beam
from apache_beam.io.restriction_trackers import OffsetRange, OffsetRestrictionTracker
from apache_beam.io.watermark_estimators import ManualWatermarkEstimator
from apache_beam.metrics import Metrics
from apache_beam.transforms.core import RestrictionProvider
from apache_beam.utils.timestamp import Duration, Timestamp
from kafka import TopicPartition
from kafka.errors import KafkaError
from kafka.structs import OffsetAndMetadata

from newsmon.analysis.messages import KafkaRecord
from newsmon.connectors.kafka import make_consumer, when_reachable, worth_waiting
from newsmon.errors import ConfigError
from newsmon.moments import parse_moment
from newsmon.settings import Settings

_LOG = logging.getLogger(__name__)
MAX_OFFSET = 2**63 - 1
IDLE_RECHECK = Duration(seconds=1)
START_NAMES = ("committed", "earliest", "latest")
STOP_NAMES = ("end",)

# A position: one of the names above, a time in epoch milliseconds, or {partition: offset}.
Position = str | int | dict[int, int]


def parse_position(text: str, option: str = "--start") -> Position:
    """A position as typed: a name, ``PARTITION=OFFSET[,...]``, ``2h``/``7d`` ago or an ISO time."""
    names = STOP_NAMES if option == "--stop" else START_NAMES
    text = text.strip()
    if text in names:
        return text
    if "=" in text:
        try:
            pairs = [part.split("=") for part in text.split(",")]
            return {int(partition): int(offset) for partition, offset in pairs}
        except ValueError as exc:
            msg = f"{option} offsets are PARTITION=OFFSET pairs such as 0=120,1=80, got {text!r}"
            raise ConfigError(msg) from exc
    try:
        return int(parse_moment(text, option).timestamp() * 1000)
    except ConfigError as exc:
        msg = (f"{option} takes {', '.join(names)}, PARTITION=OFFSET[,...], a time ago such as 2h or 7d, "
               f"or an ISO time such as 2026-11-20T08:00Z; got {text!r}")
        raise ConfigError(msg) from exc


@dataclass(frozen=True)
class PartitionRead:
    """What to read of one partition: offsets ``[start, stop)``; ``stop=None`` reads forever."""

    topic: str
    partition: int
    start: int
    stop: int | None = None


class _PartitionTracker(OffsetRestrictionTracker):
    """Splits only to checkpoint: a partition is read in order by one reader.

    Runners such as Prism also ask for fractional splits to balance work; halving an
    unbounded offset range would hand a reader a start offset Kafka does not have.
    """

    def try_split(self, fraction_of_remainder):
        if fraction_of_remainder != 0:
            return None
        return super().try_split(0)


class _PartitionRestrictions(RestrictionProvider):
    def initial_restriction(self, element: PartitionRead) -> OffsetRange:
        return OffsetRange(element.start, MAX_OFFSET if element.stop is None else element.stop)

    def create_tracker(self, restriction: OffsetRange) -> OffsetRestrictionTracker:
        return _PartitionTracker(restriction)

    def restriction_size(self, element: PartitionRead, restriction: OffsetRange) -> int:
        return restriction.size()

    def split(self, element: PartitionRead, restriction: OffsetRange):
        yield restriction  # a partition is read in order, by one reader


_RESTRICTIONS = _PartitionRestrictions()
_WATERMARKS = ManualWatermarkEstimator.default_provider()


class _ListPartitions(beam.DoFn):
    """Expands topics into one :class:`PartitionRead` each partition, at run time."""

    def __init__(self, settings: Settings, topics: tuple[str, ...], start: Position,
                 stop: Position | None, group: str | None) -> None:
        self._settings = settings
        self._topics = topics
        self._start = start
        self._stop = stop
        self._group = group

    def process(self, _impulse: bytes):
        consumer = make_consumer(self._settings, group_id=self._group)
        try:
            for topic in self._topics:
                partitions = consumer.partitions_for_topic(topic)
                if not partitions:
                    msg = f"Kafka topic {topic!r} does not exist (or has no partitions)"
                    raise ValueError(msg)
                tps = [TopicPartition(topic, p) for p in sorted(partitions)]
                starts = _resolve(consumer, tps, self._start, "--start")
                if self._stop is None:
                    if self._group:  # an unbounded run begins at the group's committed offsets
                        consumer.commit({tp: OffsetAndMetadata(starts[tp], "", -1) for tp in tps})
                    stops = dict.fromkeys(tps)
                else:
                    stops = {tp: max(offset, starts[tp])
                             for tp, offset in _resolve(consumer, tps, self._stop, "--stop").items()}
                _LOG.info("reading %s: %s", topic, ", ".join(
                    f"{tp.partition}: {starts[tp]}→{'∞' if stops[tp] is None else stops[tp]}" for tp in tps))
                for tp in tps:
                    if starts[tp] != stops[tp]:  # an empty bounded range has nothing to read
                        yield PartitionRead(topic, tp.partition, starts[tp], stops[tp])
        finally:
            consumer.close(autocommit=False)


def _resolve(consumer, tps: list[TopicPartition], position: Position,
             option: str) -> dict[TopicPartition, int]:
    """The offset ``position`` names in each partition, within what the topic retains."""
    earliest = consumer.beginning_offsets(tps)
    end = consumer.end_offsets(tps)
    if position == "earliest":
        return earliest
    if position in ("latest", "end"):
        return end
    if position == "committed":
        committed = {tp: consumer.committed(tp) for tp in tps}
        # A committed offset the topic no longer retains falls back to the earliest retained.
        return {tp: earliest[tp] if committed[tp] is None else max(committed[tp], earliest[tp]) for tp in tps}
    if isinstance(position, int):  # the first message at or after this time, else the end
        found = consumer.offsets_for_times(dict.fromkeys(tps, position))
        return {tp: end[tp] if found[tp] is None else found[tp].offset for tp in tps}
    named = {tp.partition for tp in tps}
    if set(position) != named:
        msg = (f"{option} gives offsets for partitions {sorted(position)} but {tps[0].topic} has "
               f"partitions {sorted(named)}: give one offset for each")
        raise ConfigError(msg)
    return {tp: min(max(position[tp.partition], earliest[tp]), end[tp]) for tp in tps}


class _ReadPartition(beam.DoFn):
    """Polls one assigned partition; claims each offset before emitting its record."""

    def __init__(self, settings: Settings, poll_timeout_ms: int = 500, max_records: int = 500) -> None:
        self._settings = settings
        self._poll_timeout_ms = poll_timeout_ms
        self._max_records = max_records
        self._records = Metrics.counter("ReadKafka", "records")

    def setup(self) -> None:
        self._consumer = when_reachable(lambda: make_consumer(self._settings, enable_auto_commit=False),
                                        what="the partition reader")

    def teardown(self) -> None:
        self._consumer.close()

    @beam.DoFn.unbounded_per_element()
    def process(self, element: PartitionRead,
                tracker=beam.DoFn.RestrictionParam(_RESTRICTIONS),
                watermark=beam.DoFn.WatermarkEstimatorParam(_WATERMARKS)):
        tp = TopicPartition(element.topic, element.partition)
        try:
            self._consumer.assign([tp])
            self._consumer.seek(tp, tracker.current_restriction().start)
            batch = self._consumer.poll(timeout_ms=self._poll_timeout_ms,
                                        max_records=self._max_records).get(tp, [])
        except KafkaError as exc:
            self._later(tracker, tp, exc)
            return
        for message in batch:
            if not tracker.try_claim(message.offset):
                return
            event_time = Timestamp.of(message.timestamp / 1000)
            if watermark.current_watermark() is None or event_time > watermark.current_watermark():
                watermark.set_watermark(event_time)
            self._records.inc()
            yield beam.window.TimestampedValue(
                KafkaRecord(message.topic, message.partition, message.offset, message.key,
                            message.value, message.timestamp), event_time)
        if batch:
            tracker.defer_remainder()
            return
        try:
            end = self._consumer.end_offsets([tp])[tp]
            position = self._consumer.position(tp)
        except KafkaError as exc:
            self._later(tracker, tp, exc)
            return
        stop = tracker.current_restriction().stop
        if stop != MAX_OFFSET and position >= stop:
            tracker.try_claim(stop)  # bounded read finished (gaps such as control records at the end)
            return
        if position >= end:
            # Caught up: nothing older can still arrive from this partition, let time move on.
            now = Timestamp.of(time.time())
            if watermark.current_watermark() is None or now > watermark.current_watermark():
                watermark.set_watermark(now)
        tracker.defer_remainder(IDLE_RECHECK)

    @staticmethod
    def _later(tracker, tp: TopicPartition, error: KafkaError) -> None:
        """The broker restarting or not answering: read again later instead of failing the
        bundle (which ends a streaming job on Prism); the watermark stays where it was.
        """
        if not worth_waiting(error):
            raise error
        _LOG.warning("%s[%d]: %s: %s; reading again in %.0fs", tp.topic, tp.partition, type(error).__name__,
                     error, IDLE_RECHECK.micros / 1e6)
        tracker.defer_remainder(IDLE_RECHECK)


class ReadKafkaRecords(beam.PTransform):
    """Read :class:`KafkaRecord` s from topics, from ``start`` to ``stop`` (unbounded when ``None``).

    ``start`` and ``stop`` are positions (:func:`parse_position`); ``start="committed"``
    reads from the offsets ``group`` committed (earliest where none). An unbounded read
    with a ``group`` commits its start offsets for it when the pipeline starts; a bounded
    one leaves the group alone. Partitions are listed at start, one reader each.
    """

    def __init__(self, settings: Settings, topics: list[str] | tuple[str, ...], *,
                 start: Position = "earliest", stop: Position | None = None,
                 group: str | None = None) -> None:
        super().__init__()
        if isinstance(topics, str):
            msg = f"topics must be a list, got a string {topics!r}"
            raise TypeError(msg)
        if isinstance(start, str) and start not in START_NAMES:
            msg = f"start must be one of {', '.join(START_NAMES)}, a time or offsets, got {start!r}"
            raise ValueError(msg)
        if isinstance(stop, str) and stop not in STOP_NAMES:
            msg = f"stop must be 'end', a time or offsets, got {stop!r}"
            raise ValueError(msg)
        if start == "committed" and not group:
            msg = "start='committed' needs the consumer group whose offsets to use"
            raise ValueError(msg)
        if len(topics) > 1 and (isinstance(start, dict) or isinstance(stop, dict)):
            msg = "offsets by partition need a single topic"
            raise ValueError(msg)
        self._settings = settings
        self._topics = tuple(topics)
        self._start = start
        self._stop = stop
        self._group = group

    def expand(self, pbegin):
        return (
            pbegin
            | "Impulse" >> beam.Impulse()
            | "ListPartitions" >> beam.ParDo(
                _ListPartitions(self._settings, self._topics, self._start, self._stop, self._group))
            | "ReadPartitions" >> beam.ParDo(_ReadPartition(self._settings))
        )
