"""Benchmark: search latency over 100,000 indexed stories, next to match_all on the same index.

The documents are produced by the pipeline's own code (spaCy analysis, entities, topics,
``article_document``) from ``--distinct`` synthetic wire stories, then spread over
``--documents`` ids, 90 days and a dozen sources. The queries are the ones
``newsmon search`` builds (``build_search``): free text with a topic and a time range,
and a person filter; the baseline is a plain match_all on the same index in the same run.
Also printed: the index size per document.

    python -m bench.search_latency [--documents 100000] [--distinct 200] [--queries 200]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import random
import statistics
import time
import uuid
from datetime import UTC, datetime, timedelta

from newsmon.analysis.analyse import Analyser, text_of, with_reading, with_topics
from newsmon.analysis.messages import AnalysedArticle, Article, KafkaRecord
from newsmon.analysis.topic_tagger import TopicTagger
from newsmon.connectors.elasticsearch import drop_index, make_client, setup_index, write_documents
from newsmon.connectors.search import SearchRequest, build_search
from newsmon.pipelines.index_articles import article_document
from newsmon.settings import Settings
from tests.support.stories import PEOPLE, messages

SOURCES = ["Baltic Wire", "Europe Desk", "Global Agency", "Capital Times", "Daily Courier", "News Today",
           "World Report", "Eastern Post", "Morning Herald", "Evening Star", "City Press", "The Ledger"]
TOPICS = ["prisoner_release", "sanctions_relief", "diplomatic_move"]
WORDS = ["prisoners", "talks", "sanctions", "embassy", "airline", "journalists", "delegation", "pardoned"]


def pipeline_documents(count: int) -> list[dict]:
    """Documents made by the pipeline's steps from ``count`` synthetic stories."""
    analyser, tagger = Analyser(), TopicTagger.load()
    items = [AnalysedArticle(record=KafkaRecord("news.articles", 0, 0, None, json.dumps(m).encode(), 0),
                             article=Article.from_message(m)) for m in messages(count, seed=21)]
    texts = [text_of(item) for item in items]
    readings = analyser.read(texts)
    return [article_document(with_topics(with_reading(item, text, reading, analyser.provenance), tagger))
            for item, text, reading in zip(items, texts, readings, strict=True)]


def index_stories(es, alias: str, templates: list[dict], count: int, rng: random.Random,
                  now: datetime) -> None:
    """``count`` documents made of ``templates`` over 90 days and a dozen sources, force-merged."""
    started = time.perf_counter()
    for start in range(0, count, 2000):
        chunk = []
        for n in range(start, min(start + 2000, count)):
            article_id = f"{n:032x}"
            published = now - timedelta(minutes=rng.randint(0, 90 * 24 * 60))
            chunk.append((article_id, rng.choice(templates) | {
                "article_id": article_id, "story_id": article_id, "source_name": rng.choice(SOURCES),
                "published_at": published.strftime("%Y-%m-%dT%H:%M:%SZ")}))
        refused = write_documents(es, alias, chunk)
        if refused:
            msg = f"Elasticsearch refused documents: {refused[:3]}"
            raise SystemExit(msg)
    es.indices.refresh(index=alias)
    es.indices.forcemerge(index=alias, max_num_segments=1)
    elapsed = time.perf_counter() - started
    indexed = es.count(index=alias)["count"]
    size = es.indices.stats(index=alias)["_all"]["primaries"]["store"]["size_in_bytes"]
    print(f"indexed {indexed:,} documents in {elapsed:.0f}s ({indexed / elapsed:,.0f}/s); "
          f"index {size / 1e6:.0f} MB, {size / indexed:,.0f} bytes per document")


def timed(es, index: str, body: dict, runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        es.search(index=index, **body)
        times.append((time.perf_counter() - started) * 1000)
    return sorted(times)


def p95(times: list[float]) -> float:
    return times[int(0.95 * (len(times) - 1))]


def percentiles(times: list[float]) -> str:
    return f"p50 {statistics.median(times):6.1f} ms, p95 {p95(times):6.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--documents", type=int, default=100_000)
    parser.add_argument("--distinct", type=int, default=200)
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()

    started = time.perf_counter()
    templates = pipeline_documents(args.distinct)
    print(f"{len(templates)} distinct pipeline documents in {time.perf_counter() - started:.0f}s")
    settings = dataclasses.replace(Settings.load(), es_index_articles=f"bench-search-{uuid.uuid4().hex[:8]}")
    alias = settings.es_index_articles
    es = make_client(settings, request_timeout=120)
    setup_index(es, "news-articles", alias)
    rng = random.Random(5)
    now = datetime.now(UTC).replace(microsecond=0)
    try:
        index_stories(es, alias, templates, args.documents, rng, now)

        baseline = timed(es, alias, {"query": {"match_all": {}}, "size": 20}, args.queries)
        print(f"match_all (baseline):                    {percentiles(baseline)}")
        text_topic = []
        for _ in range(args.queries):
            request = SearchRequest(text=" ".join(rng.sample(WORDS, 2)), topics=(rng.choice(TOPICS),),
                                    since=now - timedelta(days=rng.choice((1, 7, 30))))
            text_topic += timed(es, alias, build_search(request), 1)
        text_topic.sort()
        print(f"free text + topic + time range:          {percentiles(text_topic)}   "
              f"p95 / match_all p95: {p95(text_topic) / p95(baseline):.1f}")
        person = []
        for _ in range(args.queries):
            person += timed(es, alias, build_search(SearchRequest(persons=(rng.choice(PEOPLE),))), 1)
        person.sort()
        print(f"person filter, newest first:             {percentiles(person)}   "
              f"p95 / match_all p95: {p95(person) / p95(baseline):.1f}")
    finally:
        drop_index(es, alias)


if __name__ == "__main__":
    main()
