"""The partition reader during a broker outage (no services needed): a request that fails
with a retriable Kafka error checkpoints the partition for a later try instead of failing
the bundle, which on Prism would end the streaming job.
"""

from __future__ import annotations

import pytest
from apache_beam.io.restriction_trackers import OffsetRange
from apache_beam.io.watermark_estimators import ManualWatermarkEstimator
from apache_beam.runners.sdf_utils import RestrictionTrackerView, ThreadsafeRestrictionTracker
from kafka.errors import KafkaTimeoutError, TopicAuthorizationFailedError

from newsmon.pipelines.kafka_read import MAX_OFFSET, PartitionRead, _PartitionTracker, _ReadPartition
from newsmon.settings import Settings


class BrokerDown:
    """A consumer whose broker stopped answering after the poll."""

    def __init__(self, error: Exception) -> None:
        self.error = error

    def assign(self, partitions) -> None:
        pass

    def seek(self, tp, offset) -> None:
        pass

    def poll(self, **_) -> dict:
        return {}

    def end_offsets(self, partitions) -> dict:
        raise self.error

    def position(self, tp) -> int:
        raise self.error


def read(error: Exception):
    reader = _ReadPartition(Settings())
    reader._consumer = BrokerDown(error)
    tracker = ThreadsafeRestrictionTracker(_PartitionTracker(OffsetRange(7, MAX_OFFSET)))
    watermark = ManualWatermarkEstimator(None)
    element = PartitionRead("news.articles", 0, 7)
    records = list(reader.process(element, tracker=RestrictionTrackerView(tracker), watermark=watermark))
    return records, tracker, watermark


def test_an_unanswered_request_reads_the_partition_again_later():
    records, tracker, watermark = read(KafkaTimeoutError("Failed to get offsets by timestamps in 30000 ms"))
    assert records == []
    residual, _ = tracker.deferred_status()
    assert residual.start == 7  # nothing claimed, nothing skipped
    assert watermark.current_watermark() is None  # time does not move on while the broker is away


def test_an_error_waiting_cannot_fix_still_fails():
    with pytest.raises(TopicAuthorizationFailedError):
        read(TopicAuthorizationFailedError("not allowed"))
