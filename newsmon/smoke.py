"""A round trip through every real part: Kafka → Beam streaming on Prism → Elasticsearch.

The seed article is produced to a throw-away topic, a streaming pipeline on Beam's
DirectRunner (which hands it to Prism) reads it and indexes it, and a search finds it.
The topic and index are removed afterwards.
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from dataclasses import dataclass
from importlib import resources

import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions

from newsmon.connectors.elasticsearch import check_elasticsearch, make_client
from newsmon.connectors.kafka import check_kafka, ensure_topics, make_admin, make_producer
from newsmon.deploy.local_service import Progress
from newsmon.errors import NewsmonError
from newsmon.pipelines.index_documents import IndexDocuments
from newsmon.pipelines.kafka_read import ReadKafkaRecords
from newsmon.pipelines.running import RunningPipeline
from newsmon.settings import Settings

SEED_ARTICLE = "000_4d60d75d12f4f40c.txt"


@dataclass(frozen=True)
class SmokeResult:
    runner: str
    document_id: str
    title: str
    seconds_to_searchable: float


def seed_document() -> dict[str, str]:
    text = (resources.files("newsmon.seeds") / SEED_ARTICLE).read_text(encoding="utf-8")
    title = text.split(". ", 1)[0].split(": ", 1)[-1]
    return {"id": hashlib.sha256(text.encode()).hexdigest()[:20], "title": title, "text": text}


def _decode(record) -> dict:
    return json.loads(record.value)


def run_smoke(settings: Settings, progress: Progress, timeout: float = 180.0) -> SmokeResult:
    suffix = uuid.uuid4().hex[:10]
    topic, index = f"newsmon.smoke.{suffix}", f"newsmon-smoke-{suffix}"
    document = seed_document()
    check_kafka(settings)
    check_elasticsearch(settings)
    es = make_client(settings)
    ensure_topics(settings, [topic], partitions=1)
    es.indices.create(index=index, mappings={"properties": {"title": {"type": "text"},
                                                            "text": {"type": "text"}}})
    result = None
    try:
        producer = make_producer(settings)
        producer.send(topic, key=document["id"].encode(), value=json.dumps(document).encode()).get(30)
        producer.close()
        progress(f"smoke: seed article produced to Kafka topic {topic}")

        options = PipelineOptions(flags=[], runner="DirectRunner", streaming=True)
        pipeline = beam.Pipeline(options=options)
        _ = (pipeline
             | "ReadSmokeTopic" >> ReadKafkaRecords(settings, [topic])
             | "Decode" >> beam.Map(_decode)
             | "Index" >> IndexDocuments(settings, index))
        started = time.monotonic()
        result = RunningPipeline(pipeline.run())
        runner = result.runner
        progress(f"smoke: streaming pipeline started ({runner}); waiting for the article in {index}")
        while time.monotonic() - started < timeout:
            if es.indices.exists(index=index):
                hits = es.search(index=index, query={"match": {"text": "Lukashenko prisoners"}})
                if hits["hits"]["total"]["value"]:
                    found = hits["hits"]["hits"][0]
                    return SmokeResult(runner, found["_id"], found["_source"]["title"],
                                       time.monotonic() - started)
            time.sleep(0.5)
        msg = f"smoke: the article did not reach Elasticsearch index {index} within {timeout:.0f}s"
        raise NewsmonError(msg)
    finally:
        if result is not None:
            result.cancel()
        es.indices.delete(index=index, ignore_unavailable=True)
        admin = make_admin(settings)
        admin.delete_topics([topic])
        admin.close()
        es.close()
