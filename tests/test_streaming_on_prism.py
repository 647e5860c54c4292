"""An unbounded Splittable DoFn reading a real Kafka topic, on DirectRunner handed to Prism."""

import json
import time

import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions

from newsmon.connectors.kafka import ensure_topics, make_admin, make_consumer, make_producer
from newsmon.pipelines.kafka_read import ReadKafkaRecords
from newsmon.pipelines.running import RunningPipeline


class _Forward(beam.DoFn):
    """Writes each record read to another topic, so the test can see what streamed through."""

    def __init__(self, settings, topic):
        self._settings = settings
        self._topic = topic

    def setup(self):
        self._producer = make_producer(self._settings)

    def process(self, record):
        payload = {"offset": record.offset, "value": record.value.decode()}
        self._producer.send(self._topic, json.dumps(payload).encode()).get(30)

    def teardown(self):
        self._producer.close()


def test_unbounded_kafka_read_streams_on_prism(kafka, topic):
    out_topic = topic + ".out"
    ensure_topics(kafka, [out_topic], partitions=1)
    producer = make_producer(kafka)
    for i in range(3):
        producer.send(topic, f"before-{i}".encode())
    producer.flush(30)

    pipeline = beam.Pipeline(options=PipelineOptions(flags=[], runner="DirectRunner", streaming=True))
    _ = (pipeline
         | "Read" >> ReadKafkaRecords(kafka, [topic])
         | "Forward" >> beam.ParDo(_Forward(kafka, out_topic)))
    result = RunningPipeline(pipeline.run())
    try:
        assert result.runner == "DirectRunner on Prism"
        # Messages produced while the job runs arrive too: the read is unbounded.
        time.sleep(2)
        for i in range(3):
            producer.send(topic, f"after-{i}".encode())
        producer.flush(30)

        consumer = make_consumer(kafka, out_topic, group_id=None)
        seen: dict[int, str] = {}
        deadline = time.monotonic() + 90
        while len(seen) < 6 and time.monotonic() < deadline:
            for records in consumer.poll(timeout_ms=1000).values():
                for record in records:
                    payload = json.loads(record.value)
                    seen[payload["offset"]] = payload["value"]
        consumer.close()
    finally:
        result.cancel()
        producer.close()
        admin = make_admin(kafka)
        admin.delete_topics([out_topic])
        admin.close()
    assert seen == {0: "before-0", 1: "before-1", 2: "before-2",
                    3: "after-0", 4: "after-1", 5: "after-2"}
