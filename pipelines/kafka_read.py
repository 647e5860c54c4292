"""Read Kafka topics in Beam with Python alone: one Splittable DoFn restriction per partition.

Each partition is an offset range; an unbounded read's range ends at ``MAX_OFFSET`` and
the DoFn checkpoints itself (``defer_remainder``) after every poll, so a runner can
persist progress and resume after a restart. A bounded read (``stop_offsets``) ends when
every partition reached its stop offset: used for backfills and tests.
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
from kafka.structs import OffsetAndMetadata

from newsmon.connectors.kafka import make_consumer
from newsmon.settings import Settings

_LOG = logging.getLogger(__name__)
MAX_OFFSET = 2**63 - 1
IDLE_RECHECK = Duration(seconds=1)


@dataclass(frozen=True)
class KafkaRecord:
    """One message as read: where it came from, its key and value bytes, its timestamp."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    timestamp_ms: int


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

    def __init__(self, settings: Settings, topics: tuple[str, ...], start: str,
                 stop_at_end: bool, group: str | None) -> None:
        self._settings = settings
        self._topics = topics
        self._start = start
        self._stop_at_end = stop_at_end
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
                starts = self._starts(consumer, tps)
                if self._group:  # the run begins at the group's committed offsets
                    consumer.commit({tp: OffsetAndMetadata(starts[tp], "", -1) for tp in tps})
                ends = consumer.end_offsets(tps) if self._stop_at_end else {}
                for tp in tps:
                    yield PartitionRead(topic, tp.partition, starts[tp], ends.get(tp))
        finally:
            consumer.close(autocommit=False)

    def _starts(self, consumer, tps: list[TopicPartition]) -> dict[TopicPartition, int]:
        earliest = consumer.beginning_offsets(tps)
        if self._start == "earliest":
            return earliest
        if self._start == "latest":
            return consumer.end_offsets(tps)
        committed = {tp: consumer.committed(tp) for tp in tps}
        # A committed offset the topic no longer retains falls back to the earliest retained.
        return {tp: max(committed[tp], earliest[tp]) if committed[tp] is not None else earliest[tp]
                for tp in tps}


class _ReadPartition(beam.DoFn):
    """Polls one assigned partition; claims each offset before emitting its record."""

    def __init__(self, settings: Settings, poll_timeout_ms: int = 500, max_records: int = 500) -> None:
        self._settings = settings
        self._poll_timeout_ms = poll_timeout_ms
        self._max_records = max_records
        self._records = Metrics.counter("ReadKafka", "records")

    def setup(self) -> None:
        self._consumer = make_consumer(self._settings, enable_auto_commit=False)

    def teardown(self) -> None:
        self._consumer.close()

    @beam.DoFn.unbounded_per_element()
    def process(self, element: PartitionRead,
                tracker=beam.DoFn.RestrictionParam(_RESTRICTIONS),
                watermark=beam.DoFn.WatermarkEstimatorParam(_WATERMARKS)):
        tp = TopicPartition(element.topic, element.partition)
        position = tracker.current_restriction().start
        self._consumer.assign([tp])
        self._consumer.seek(tp, position)
        batch = self._consumer.poll(timeout_ms=self._poll_timeout_ms,
                                    max_records=self._max_records).get(tp, [])
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
        end = self._consumer.end_offsets([tp])[tp]
        stop = tracker.current_restriction().stop
        if stop != MAX_OFFSET and self._consumer.position(tp) >= stop:
            tracker.try_claim(stop)  # bounded read finished (gaps such as control records at the end)
            return
        if self._consumer.position(tp) >= end:
            # Caught up: nothing older can still arrive from this partition, let time move on.
            now = Timestamp.of(time.time())
            if watermark.current_watermark() is None or now > watermark.current_watermark():
                watermark.set_watermark(now)
        tracker.defer_remainder(IDLE_RECHECK)


class ReadKafkaRecords(beam.PTransform):
    """Read :class:`KafkaRecord` s from topics, unbounded unless ``stop_at_end``.

    ``start`` is ``"earliest"``, ``"latest"`` or ``"committed"`` (the offsets ``group``
    committed, earliest where none). With a ``group``, the start offsets are committed for
    it when the pipeline starts. Partitions are listed at start, one reader each.
    """

    def __init__(self, settings: Settings, topics: list[str] | tuple[str, ...], *,
                 start: str = "earliest", stop_at_end: bool = False, group: str | None = None) -> None:
        super().__init__()
        if isinstance(topics, str):
            msg = f"topics must be a list, got a string {topics!r}"
            raise TypeError(msg)
        if start not in ("earliest", "latest", "committed"):
            msg = f"start must be 'earliest', 'latest' or 'committed', got {start!r}"
            raise ValueError(msg)
        if start == "committed" and not group:
            msg = "start='committed' needs the consumer group whose offsets to use"
            raise ValueError(msg)
        self._settings = settings
        self._topics = tuple(topics)
        self._start = start
        self._stop_at_end = stop_at_end
        self._group = group

    def expand(self, pbegin):
        return (
            pbegin
            | "Impulse" >> beam.Impulse()
            | "ListPartitions" >> beam.ParDo(
                _ListPartitions(self._settings, self._topics, self._start, self._stop_at_end, self._group))
            | "ReadPartitions" >> beam.ParDo(_ReadPartition(self._settings))
        )
