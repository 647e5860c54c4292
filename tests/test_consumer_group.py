"""What the pipeline records in its consumer group: one pipeline per group, and commits that
move past records the topic's retention deleted before they were read.
"""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import time
import uuid

import apache_beam as beam
import pytest
from apache_beam.testing.test_pipeline import TestPipeline
from kafka import TopicPartition
from kafka.structs import OffsetAndMetadata

from newsmon.connectors.kafka import make_admin, make_consumer, make_producer
from newsmon.connectors.kafka_group_lock import GroupLock, GroupLockedError
from newsmon.pipelines import article_pipeline
from newsmon.pipelines.commit_offsets import CommitOffsets


def committed(settings, group: str, tp: TopicPartition) -> int | None:
    consumer = make_consumer(settings, group_id=group)
    try:
        return consumer.committed(tp)
    finally:
        consumer.close(autocommit=False)


def test_commits_move_past_records_deleted_before_they_were_read(kafka, topic):
    tp, group = TopicPartition(topic, 0), f"test-{uuid.uuid4().hex[:8]}"
    producer = make_producer(kafka)
    for i in range(150):
        producer.send(topic, f"m{i}".encode(), partition=0)
    producer.flush(30)
    producer.close()
    consumer = make_consumer(kafka, group_id=group)
    consumer.commit({tp: OffsetAndMetadata(10, "", -1)})  # the pipeline had finished 0-9
    consumer.close(autocommit=False)
    admin = make_admin(kafka)
    admin.delete_records({tp: 30})  # retention: 10-29 are gone before the pipeline read them
    admin.close()
    with TestPipeline() as pipeline:
        _ = (pipeline | beam.Create([(topic, 0, offset) for offset in range(30, 150)])
             | CommitOffsets(kafka, group))
    assert committed(kafka, group, tp) == 150


def test_one_pipeline_per_consumer_group(kafka, topic):
    group = f"test-{uuid.uuid4().hex[:8]}"
    first = GroupLock(kafka, group, topic)
    first.acquire()
    try:
        with pytest.raises(GroupLockedError, match=f"another pipeline runs in consumer group '{group}'"):
            GroupLock(kafka, group, topic).acquire(wait_seconds=2)
        settings = dataclasses.replace(kafka, topic_articles=topic)
        with pytest.raises(GroupLockedError):
            article_pipeline.run(settings, ["--consumer_group", group])  # refused before it starts
    finally:
        first.release()
    second = GroupLock(kafka, group, topic)
    second.acquire(wait_seconds=5)
    second.release()


HOLD = """
import sys, time
from newsmon.connectors.kafka_group_lock import GroupLock
from newsmon.settings import Settings
GroupLock(Settings.load(), sys.argv[1], sys.argv[2]).acquire()
print("held", flush=True)
time.sleep(600)
"""


def test_a_killed_pipeline_frees_its_group_within_its_session(kafka, topic):
    group = f"test-{uuid.uuid4().hex[:8]}"
    holder = subprocess.Popen([sys.executable, "-c", HOLD, group, topic], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(GroupLockedError):
            GroupLock(kafka, group, topic).acquire(wait_seconds=1)
    finally:
        holder.kill()
        holder.wait()
    started = time.monotonic()
    lock = GroupLock(kafka, group, topic)
    lock.acquire()  # waits out the killed holder's session
    lock.release()
    assert time.monotonic() - started < 15
