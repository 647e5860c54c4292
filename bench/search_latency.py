"""Benchmark: search latency over 100,000 indexed stories, next to match_all on the same index
and next to the plain search of before issue 17 on an index without its fields.

The documents are produced by the pipeline's own code (spaCy analysis, entities, topics,
``article_document``) from ``--distinct`` synthetic wire stories, then spread over
``--documents`` ids, 90 days and a dozen sources. Two indices hold them: "before", the
documents without the search fields of issue 17 (lemmas, folded letters, spellings of
names), searched with the plain query (``--exact``, canonical person names); and "after",
the documents as the pipeline writes them now, searched as ``newsmon search`` does now
(every form of the words, ``--person`` in any spelling). The queries are the ones
``newsmon search`` builds (``build_search``): free text with a topic and a time range, and
a person filter; the baseline is a plain match_all on the same index in the same run.
Also printed: the index size per document, before and after.

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
from newsmon.analysis.search_terms import (
    FOLDED_FIELDS,
    KEY_FIELDS,
    LEMMA_FIELDS,
    NAME_KEYS_FIELD,
    SPELLINGS_FIELD,
)
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
DERIVED = {*LEMMA_FIELDS.values(), *FOLDED_FIELDS.values(), *KEY_FIELDS.values(), SPELLINGS_FIELD,
           NAME_KEYS_FIELD}


def pipeline_documents(count: int) -> list[dict]:
    """Documents made by the pipeline's steps from ``count`` synthetic stories."""
    analyser, tagger = Analyser(), TopicTagger.load()
    items = [AnalysedArticle(record=KafkaRecord("news.articles", 0, 0, None, json.dumps(m).encode(), 0),
                             article=Article.from_message(m)) for m in messages(count, seed=21)]
    texts = [text_of(item) for item in items]
    readings = analyser.read(texts)
    return [article_document(with_topics(with_reading(item, text, reading, analyser.provenance), tagger))
            for item, text, reading in zip(items, texts, readings, strict=True)]


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


def fill(es, alias: str, templates: list[dict], count: int, now: datetime) -> tuple[int, float]:
    """``count`` documents from ``templates`` under ``alias``, merged: (documents, bytes on disk)."""
    rng = random.Random(5)
    setup_index(es, "news-articles", alias)
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
    print(f"{alias}: {indexed:,} documents in {elapsed:.0f}s ({indexed / elapsed:,.0f}/s); "
          f"index {size / 1e6:.0f} MB, {size / indexed:,.0f} bytes per document")
    return indexed, size / indexed


def searches(es, alias: str, requests: list[SearchRequest]) -> list[float]:
    """Milliseconds of each request."""
    times = []
    for request in requests:
        started = time.perf_counter()
        es.search(index=alias, **build_search(request))
        times.append((time.perf_counter() - started) * 1000)
    return sorted(times)


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
    plain_templates = [{key: value for key, value in t.items() if key not in DERIVED} for t in templates]
    settings = Settings.load()
    suffix = uuid.uuid4().hex[:8]
    before, after = f"bench-search-before-{suffix}", f"bench-search-after-{suffix}"
    es = make_client(settings, request_timeout=120)
    now = datetime.now(UTC).replace(microsecond=0)
    try:
        _, size_before = fill(es, before, plain_templates, args.documents, now)
        _, size_after = fill(es, after, templates, args.documents, now)
        print(f"index size per story: {size_before:,.0f} → {size_after:,.0f} bytes "
              f"({size_after / size_before:.2f}x)")
        rng = random.Random(7)
        text_topic = [SearchRequest(text=" ".join(rng.sample(WORDS, 2)), topics=(rng.choice(TOPICS),),
                                    since=now - timedelta(days=rng.choice((1, 7, 30))))
                      for _ in range(args.queries)]
        person = [SearchRequest(persons=(rng.choice(PEOPLE),)) for _ in range(args.queries)]
        for alias in (before, after):  # warm both the same way before timing
            searches(es, alias, text_topic[:20] + person[:20])
        baseline = timed(es, after, {"query": {"match_all": {}}, "size": 20}, args.queries)
        print(f"match_all (baseline):                    {percentiles(baseline)}")
        for label, requests in (("free text + topic + time range", text_topic),
                                ("person filter, newest first", person)):
            exact = [dataclasses.replace(request, exact=True) for request in requests]
            plain = searches(es, before, exact)
            now_ = searches(es, after, requests)
            print(f"{label + ', before:':<41}{percentiles(plain)}   p95 / match_all p95: "
                  f"{p95(plain) / p95(baseline):.1f}")
            print(f"{label + ', now:':<41}{percentiles(now_)}   p95 / match_all p95: "
                  f"{p95(now_) / p95(baseline):.1f}   p95 now / before: {p95(now_) / p95(plain):.2f}")
    finally:
        drop_index(es, before)
        drop_index(es, after)


if __name__ == "__main__":
    main()
