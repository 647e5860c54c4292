"""A round trip through every real part: the seed article through Kafka, the real pipeline
and Elasticsearch.

The seed article is produced to a throw-away topic and the real pipeline (every step:
parse, spaCy, topics, watch list, index) runs on it as a backfill (``--stop end``) into
throw-away indices, then a search finds it. Topics and indices are removed afterwards.
"""

from __future__ import annotations

import dataclasses
import json
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources

from newsmon.analysis.messages import Article
from newsmon.connectors.article import article_id
from newsmon.connectors.elasticsearch import check_elasticsearch, drop_index, make_client
from newsmon.connectors.kafka import check_kafka, ensure_topics, make_admin, make_producer, pipeline_topics
from newsmon.deploy.local_service import Progress
from newsmon.errors import NewsmonError
from newsmon.settings import Settings

SEED_ARTICLE = "000_4d60d75d12f4f40c.txt"
SEED_URL = "https://newsmon.invalid/seed/belarus-frees-52-prisoners"


@dataclass(frozen=True)
class SmokeResult:
    runner: str
    document_id: str
    title: str
    topics: tuple[str, ...]
    seconds_to_searchable: float


def seed_article() -> Article:
    text = (resources.files("newsmon.seeds") / SEED_ARTICLE).read_text(encoding="utf-8")
    now = datetime.now(UTC).replace(microsecond=0)
    return Article(article_id=article_id(SEED_URL, feed_url="", guid=None), url=SEED_URL, guid=None,
                   title="Belarus frees 52 prisoners after Trump appeal", summary=None, content=text,
                   source_name="newsmon smoke", feed_url="https://newsmon.invalid/seed/rss", published_at=now,
                   published_at_estimated=False, fetched_at=now, language="en")


def run_smoke(settings: Settings, progress: Progress, timeout: float = 180.0) -> SmokeResult:
    from newsmon.pipelines import article_pipeline

    check_kafka(settings)
    check_elasticsearch(settings)
    suffix = uuid.uuid4().hex[:10]
    smoke = dataclasses.replace(
        settings, topic_articles=f"newsmon.smoke.articles.{suffix}",
        topic_alerts=f"newsmon.smoke.alerts.{suffix}",
        topic_deadletter=f"newsmon.smoke.deadletter.{suffix}",
        es_index_articles=f"newsmon-smoke-articles-{suffix}",
        es_index_alerts=f"newsmon-smoke-alerts-{suffix}",
        es_index_watchlist=f"newsmon-smoke-watchlist-{suffix}",
        es_index_stories=f"newsmon-smoke-stories-{suffix}")
    topics = pipeline_topics(smoke)
    ensure_topics(smoke, topics, partitions=1)
    es = make_client(smoke)
    article = seed_article()
    try:
        producer = make_producer(smoke)
        producer.send(smoke.topic_articles, key=article.article_id.encode(),
                      value=json.dumps(article.to_message()).encode()).get(30)
        producer.close()
        progress(f"smoke: seed article produced to Kafka topic {smoke.topic_articles}")
        started = time.monotonic()
        running = article_pipeline.run(smoke, ["--start", "earliest", "--stop", "end"])
        progress(f"smoke: the pipeline runs on {running.runner} until the topic's end")
        if not running.wait(timeout):
            running.cancel()
            msg = f"smoke: the pipeline did not finish within {timeout:.0f}s"
            raise NewsmonError(msg)
        if running.error is not None:
            msg = f"smoke: the pipeline failed: {running.error}"
            raise NewsmonError(msg)
        es.indices.refresh(index=smoke.es_index_articles)
        hits = es.search(index=smoke.es_index_articles,
                         query={"match": {"content": "Lukashenko prisoners"}})["hits"]["hits"]
        if not hits:
            msg = f"smoke: the pipeline finished but the article is not in {smoke.es_index_articles}"
            raise NewsmonError(msg)
        found = hits[0]["_source"]
        return SmokeResult(running.runner, hits[0]["_id"], found["title"],
                           tuple(topic["name"] for topic in found["topics"]), time.monotonic() - started)
    finally:
        for alias in (smoke.es_index_articles, smoke.es_index_alerts, smoke.es_index_watchlist,
                      smoke.es_index_stories):
            drop_index(es, alias)
        es.close()
        admin = make_admin(smoke)
        admin.delete_topics(topics)
        admin.close()
