"""Benchmark: judging one window for spikes (``newsmon stories --trending``) over a week of
indexed articles, next to a plain count of the same 25 hours in the same run.

The documents are made by IndexArticles' ``article_document`` from synthetic wire
articles, spread over seven days at a steady rate, each with one of a dozen topics, two
of ``--persons`` people and one of ``--stories`` stories. Into the last hour go bursts
that must spike: one topic, one person and one story at ``--burst`` articles each. Printed:
the latency of :func:`~newsmon.connectors.spike_store.detect_spikes` (two aggregation
searches and the headline lookup), the baseline count's, their ratio, and whether the
bursts were found. Load and speed only: accuracy is not measured on synthetic text.

    python -m bench.spike_detection [--documents 100000] [--persons 2000] [--stories 5000] [--runs 50]
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import random
import statistics
import time
import uuid
from datetime import UTC, datetime, timedelta

from newsmon.analysis.entities import Entity, Mention
from newsmon.analysis.spikes import SpikeConfig, Window
from newsmon.analysis.topics import TopicTag
from newsmon.connectors.elasticsearch import drop_index, make_client, setup_index, write_documents
from newsmon.connectors.spike_store import detect_spikes
from newsmon.pipelines.index_articles import article_document
from newsmon.settings import Settings
from tests.support.pipeline import parsed
from tests.support.stories import messages

TOPICS = [f"topic_{n}" for n in range(12)]


def documents(count: int, persons: int, stories: int, burst: int, window: Window, rng: random.Random):
    """``(id, document)`` pairs: ``count`` spread over the week before the window's end, then the bursts."""
    templates = [parsed(m) for m in messages(20, seed=3)]
    people = [f"Person {n}" for n in range(persons)]
    week = timedelta(days=7)

    def make(n: int, at: datetime, topic: str, names: list[str], story: str) -> tuple[str, dict]:
        base = rng.choice(templates)
        article_id = f"{n:032x}"
        item = dataclasses.replace(
            base, article=dataclasses.replace(base.article, article_id=article_id, published_at=at),
            topics=(TopicTag(topic, 0.9, ("evidence",)),), story_id=story,
            entities=tuple(Entity(name, "PERSON", (Mention(name, 0, len(name)),)) for name in names))
        return article_id, article_document(item)

    for n in range(count):
        at = window.end - week + week * rng.random()
        yield make(n, at, rng.choice(TOPICS), rng.sample(people, 2), f"{rng.randrange(stories):032x}")
    for n in range(count, count + burst):  # all three bursts in the same articles
        at = window.start + (window.end - window.start) * rng.random()
        yield make(n, at, "breaking_topic", ["Breaking Person", rng.choice(people)], "b" * 32)


def timed(call, runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return sorted(times)


def p95(times: list[float]) -> float:
    return times[int(0.95 * (len(times) - 1))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--documents", type=int, default=100_000)
    parser.add_argument("--persons", type=int, default=2000)
    parser.add_argument("--stories", type=int, default=5000)
    parser.add_argument("--burst", type=int, default=40)
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()

    suffix = uuid.uuid4().hex[:8]
    settings = dataclasses.replace(Settings.load(), es_index_articles=f"bench-spikes-articles-{suffix}",
                                   es_index_stories=f"bench-spikes-stories-{suffix}")
    config = SpikeConfig()
    window = Window.ending(datetime.now(UTC), config)
    es = make_client(settings, request_timeout=120)
    setup_index(es, "news-articles", settings.es_index_articles)
    try:
        started = time.perf_counter()
        made = documents(args.documents, args.persons, args.stories, args.burst, window, random.Random(7))
        while chunk := list(itertools.islice(made, 2000)):
            refused = write_documents(es, settings.es_index_articles, chunk)
            if refused:
                msg = f"Elasticsearch refused documents: {refused[:3]}"
                raise SystemExit(msg)
        es.indices.refresh(index=settings.es_index_articles)
        count = es.count(index=settings.es_index_articles)["count"]
        print(f"indexed {count:,} articles over 7 days in {time.perf_counter() - started:.0f}s "
              f"({args.persons:,} people, {args.stories:,} stories, {len(TOPICS)} topics)")

        span = {"range": {"published_at": {"gte": window.baseline_start.isoformat(),
                                           "lt": window.end.isoformat()}}}
        baseline = timed(lambda: es.count(index=settings.es_index_articles, query=span), args.runs)
        spikes = detect_spikes(es, settings, window, config)
        judged = timed(lambda: detect_spikes(es, settings, window, config), args.runs)
        print(f"count of the 25 h (baseline):  p50 {statistics.median(baseline):6.1f} ms, "
              f"p95 {p95(baseline):6.1f} ms")
        ratio = statistics.median(judged) / statistics.median(baseline)
        print(f"judging one window for spikes: p50 {statistics.median(judged):6.1f} ms, "
              f"p95 {p95(judged):6.1f} ms   p50 / baseline p50: {ratio:.1f}")
        found = {(spike.kind, spike.key) for spike in spikes}
        wanted = {("topic", "breaking_topic"), ("person", "Breaking Person"), ("story", "b" * 32)}
        print(f"{len(spikes)} spikes in the window; the 3 bursts found: {wanted <= found}; "
              f"others: {sorted(found - wanted)[:5]}")
    finally:
        drop_index(es, settings.es_index_articles)


if __name__ == "__main__":
    main()
