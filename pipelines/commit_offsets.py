"""CommitOffsets: record in Kafka what the pipeline has finished, so a restart resumes there.

A record is finished when its article is indexed or its dead letter acknowledged. Records
finish out of order, so per partition the step keeps the finished offsets above the
committed one and commits the end of the unbroken run whenever it moves (a commit costs
Kafka a millisecond; articles arrive by the tens per second): a restarted pipeline
re-reads what was in flight, never skips it. The reader commits
its start offsets when it starts, so the run always begins at the committed offset.

This assumes a partition's offsets are consecutive, as on a topic written without
transactions or compaction (``news.articles``). Records the topic's retention deleted
before the pipeline read them leave a gap no record will ever fill: once a hundred
finished offsets wait beyond the committed one, the step moves over what the topic no
longer holds (counted, and logged).
"""

from __future__ import annotations

import logging

import apache_beam as beam
from apache_beam.coders import VarIntCoder
from apache_beam.metrics import Metrics
from apache_beam.transforms.userstate import BagStateSpec, ReadModifyWriteStateSpec
from kafka import TopicPartition
from kafka.structs import OffsetAndMetadata

from newsmon.connectors.kafka import make_consumer, when_reachable
from newsmon.settings import Settings

log = logging.getLogger(__name__)
GAP_CHECK_AFTER = 100  # finished offsets waiting beyond the committed one before looking for a gap


def advance(next_offset: int, finished: set[int]) -> tuple[int, set[int]]:
    """Move ``next_offset`` over the unbroken run of ``finished`` offsets; returns the new
    next offset and the finished offsets still beyond it.
    """
    while next_offset in finished:
        finished.discard(next_offset)
        next_offset += 1
    return next_offset, {offset for offset in finished if offset > next_offset}


def committed_offset(consumer, tp: TopicPartition) -> int:
    committed = consumer.committed(tp)
    return committed if committed is not None else consumer.beginning_offsets([tp])[tp]


class _Commit(beam.DoFn):
    NEXT = ReadModifyWriteStateSpec("next", VarIntCoder())
    FINISHED = BagStateSpec("finished", VarIntCoder())

    def __init__(self, settings: Settings, group: str) -> None:
        self._settings = settings
        self._group = group
        self._skipped = Metrics.counter("CommitOffsets", "deleted_before_read")
        self._finished = Metrics.counter("CommitOffsets", "finished")
        self._commits = Metrics.counter("CommitOffsets", "commits")

    def setup(self) -> None:
        self._consumer = when_reachable(lambda: make_consumer(self._settings, group_id=self._group),
                                        what="the offsets committer")

    def teardown(self) -> None:
        self._consumer.close(autocommit=False)

    def process(self, element: tuple[str, int],
                next_state=beam.DoFn.StateParam(NEXT), finished_state=beam.DoFn.StateParam(FINISHED)):
        key, offset = element
        self._finished.inc()
        topic, _, partition = key.rpartition(":")
        tp = TopicPartition(topic, int(partition))
        next_offset = next_state.read()
        if next_offset is None:
            next_offset = when_reachable(lambda: committed_offset(self._consumer, tp),
                                         what=f"reading the committed offset of {key}")
        if offset < next_offset:
            return  # finished again (a replay); already committed
        moved, rest = advance(next_offset, set(finished_state.read()) | {offset})
        if moved == next_offset and len(rest) >= GAP_CHECK_AFTER:
            # Still stuck: records the topic's retention deleted before they were read never
            # finish. Move over what the topic no longer holds.
            earliest = when_reachable(lambda: self._consumer.beginning_offsets([tp])[tp],
                                      what=f"reading the earliest offset of {key}")
            if earliest > next_offset:
                log.warning("%s: offsets %d-%d were deleted by retention before they were read",
                            key, next_offset, earliest - 1)
                self._skipped.inc(earliest - next_offset)
                moved, rest = advance(earliest, rest | {offset})
        if moved != next_offset:
            when_reachable(lambda: self._consumer.commit({tp: OffsetAndMetadata(moved, "", -1)}),
                           what=f"committing {key}@{moved}")
            self._commits.inc()
            log.debug("committed %s@%d for group %s", key, moved, self._group)
        finished_state.clear()
        for pending in rest:
            finished_state.add(pending)
        next_state.write(moved)


class CommitOffsets(beam.PTransform):
    """Consumes ``(topic, partition, offset)`` of finished records."""

    def __init__(self, settings: Settings, group: str) -> None:
        super().__init__()
        self._settings = settings
        self._group = group

    def expand(self, finished):
        return (finished
                | "ByPartition" >> beam.Map(lambda position: (f"{position[0]}:{position[1]}", position[2]))
                | "Commit" >> beam.ParDo(_Commit(self._settings, self._group)))
