"""Bounded Kafka reads (backfills): from/to offsets, from/to times, committed→end, on real Kafka."""

import time
import uuid
from datetime import UTC, datetime

import apache_beam as beam
import pytest
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.testing.util import assert_that, equal_to
from kafka import TopicPartition
from kafka.structs import OffsetAndMetadata

from newsmon.connectors.kafka import ensure_topics, make_admin, make_consumer, make_producer
from newsmon.errors import ConfigError
from newsmon.pipelines.article_pipeline import JOB_SERVER_TIMEOUT, ArticlePipelineOptions, pipeline_options
from newsmon.pipelines.kafka_read import ReadKafkaRecords, _resolve, parse_position

# Message timestamps: BASE_MS + i minutes. Recent ones: Kafka deletes messages stamped
# longer ago than the topic's retention (7 days), whenever its retention check runs.
BASE_MS = (int(time.time()) // 60 - 60) * 60_000


@pytest.fixture
def two_partitions(kafka):
    """A fresh topic with two partitions holding ``p<partition>-<i>`` for i in 0..4, a minute apart."""
    name = f"test.{uuid.uuid4().hex}"
    ensure_topics(kafka, [name], partitions=2)
    producer = make_producer(kafka)
    for i in range(5):
        for partition in (0, 1):  # one at a time and acknowledged: offset i holds message i
            sent = producer.send(name, f"p{partition}-{i}".encode(), partition=partition,
                                 timestamp_ms=BASE_MS + i * 60_000).get(30)
            assert (sent.partition, sent.offset) == (partition, i)
    producer.close()
    yield name
    admin = make_admin(kafka)
    admin.delete_topics([name])
    admin.close()


def _read(settings, topic, **positions) -> None:
    """Run a bounded read to completion on DirectRunner; it must read exactly ``expected``."""
    expected = positions.pop("expected")
    pipeline = beam.Pipeline(options=PipelineOptions(flags=[], runner="DirectRunner"))
    values = (pipeline
              | ReadKafkaRecords(settings, [topic], **positions)
              | beam.Map(lambda record: record.value.decode()))
    assert_that(values, equal_to(expected))
    pipeline.run().wait_until_finish()


def test_a_read_between_offsets_stops_by_itself(kafka, two_partitions):
    _read(kafka, two_partitions, start={0: 1, 1: 3}, stop={0: 3, 1: 5},
          expected=["p0-1", "p0-2", "p1-3", "p1-4"])


def test_a_read_between_times_takes_the_messages_stamped_in_that_window(kafka, two_partitions):
    start = parse_position(datetime.fromtimestamp((BASE_MS + 60_000) / 1000, UTC).isoformat())
    stop = parse_position(datetime.fromtimestamp((BASE_MS + 3 * 60_000) / 1000, UTC).isoformat(), "--stop")
    _read(kafka, two_partitions, start=start, stop=stop, expected=["p0-1", "p0-2", "p1-1", "p1-2"])


def test_a_backfill_from_committed_offsets_leaves_the_group_alone(kafka, two_partitions):
    group = f"test-{uuid.uuid4().hex}"
    consumer = make_consumer(kafka, group_id=group)
    tps = [TopicPartition(two_partitions, p) for p in (0, 1)]
    consumer.commit({tps[0]: OffsetAndMetadata(4, "", -1), tps[1]: OffsetAndMetadata(2, "", -1)})
    _read(kafka, two_partitions, start="committed", stop="end", group=group,
          expected=["p0-4", "p1-2", "p1-3", "p1-4"])
    assert [consumer.committed(tp) for tp in tps] == [4, 2]
    consumer.close()


def test_positions_resolve_within_what_the_topic_holds(kafka, two_partitions):
    consumer = make_consumer(kafka)
    tps = [TopicPartition(two_partitions, p) for p in (0, 1)]
    try:
        assert _resolve(consumer, tps, "end", "--stop") == dict.fromkeys(tps, 5)
        assert _resolve(consumer, tps, {0: 99, 1: 2}, "--stop") == {tps[0]: 5, tps[1]: 2}
        assert _resolve(consumer, tps, BASE_MS + 10 * 60_000, "--start") == dict.fromkeys(tps, 5)
        with pytest.raises(ConfigError, match=r"partitions \[0\] but .* has partitions \[0, 1\]"):
            _resolve(consumer, tps, {0: 1}, "--start")
    finally:
        consumer.close()


def test_positions_as_typed():
    assert parse_position("committed") == "committed"
    assert parse_position("end", "--stop") == "end"
    assert parse_position("0=120, 1=80") == {0: 120, 1: 80}
    eight_am = datetime(2026, 11, 20, 8, tzinfo=UTC)
    assert parse_position("2026-11-20T08:00Z") == int(eight_am.timestamp() * 1000)
    now_ms = datetime.now(UTC).timestamp() * 1000
    assert abs(parse_position("2h") - (now_ms - 2 * 3600 * 1000)) < 5000
    with pytest.raises(ConfigError, match="--stop takes end, PARTITION=OFFSET"):
        parse_position("latest", "--stop")
    with pytest.raises(ConfigError, match="PARTITION=OFFSET pairs"):
        parse_position("0=x")


def test_the_pipeline_streams_unless_given_a_stop():
    assert pipeline_options([]).view_as(ArticlePipelineOptions).stop is None
    assert pipeline_options([]).view_as(beam.options.pipeline_options.StandardOptions).streaming
    backfill = pipeline_options(["--start", "7d", "--stop", "end"])
    assert not backfill.view_as(beam.options.pipeline_options.StandardOptions).streaming
    with pytest.raises(SystemExit):
        pipeline_options(["--stop", "tomorrow"]).view_as(ArticlePipelineOptions)


def test_the_job_service_streams_outlive_beams_default_timeout():
    # Beam ends the job's state and message streams at --job_server_timeout (300 s by
    # default), which stopped every streaming run after five minutes.
    timeout = beam.options.pipeline_options.PortableOptions
    assert pipeline_options([]).view_as(timeout).job_server_timeout == JOB_SERVER_TIMEOUT
    assert pipeline_options(["--job_server_timeout", "60"]).view_as(timeout).job_server_timeout == 60
    assert pipeline_options(["--job-server-timeout=90"]).view_as(timeout).job_server_timeout == 90
