"""Benchmark: what ClusterStories adds per article with 100,000 live stories in Elasticsearch,
next to spaCy's reading of the same articles measured in the same run.

1. ``--stories`` live stories are written to a throwaway ``news-stories`` alias through the
   pipeline's own store code (:func:`~newsmon.connectors.story_store.story_document`), all
   inside the quiet period of the articles that follow, so every one is a candidate by time
   (the worst case). Their terms are drawn from the packaged IDF table by document frequency
   (common news words often, rare ones seldom: the shape of real term lists), their people
   and organisations from a pool of 20,000, and each has a MinHash signature of its own words.
2. ``--articles`` synthetic wire stories (``tests/support/stories.py``, about 700 words) are
   read by spaCy as the pipeline reads them; that time per article is the baseline.
3. The same articles are then assigned one by one with the pipeline's core
   (:func:`~newsmon.analysis.stories.assign`) against the Elasticsearch store, as
   ClusterStories does: profile, lookups, scoring, the write. Printed: p50/p95 ms per
   article and the ratio of the mean to spaCy's mean (goal < 0.15).

Memory per live story: the index's store size per story, the JSON of a story document, and
the Python memory of one cached :class:`~newsmon.analysis.stories.Story` (the store keeps
the stories it saved in the last minute).

    python -m bench.story_cost [--stories 100000] [--articles 200]
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import statistics
import time
import tracemalloc
import uuid
from datetime import datetime, timedelta

from newsmon.analysis.analyse import Analyser, text_of, with_reading
from newsmon.analysis.messages import AnalysedArticle, Article, KafkaRecord
from newsmon.analysis.stories import StoryConfig, add_article, assign, open_story, profile_of, profile_of_text
from newsmon.analysis.story_idf import packaged_idf
from newsmon.connectors.elasticsearch import drop_index, make_client, write_documents
from newsmon.connectors.story_store import ElasticsearchStoryStore, story_document
from newsmon.settings import Settings
from tests.support.stories import messages

CHUNK = 2000
SOURCES = [f"Source {n}" for n in range(40)]


def synthetic_stories(count: int, now: datetime, config: StoryConfig, rng: random.Random):
    """Live stories with real-shaped term lists, one to five articles each."""
    idf = packaged_idf()
    vocabulary = sorted(idf.frequencies, key=idf.frequencies.get, reverse=True)[:20000]
    cumulative = list(itertools.accumulate(idf.frequencies[term] for term in vocabulary))
    people = [f"person:Person {n}" for n in range(15000)] + [f"org:Organisation {n}" for n in range(5000)]
    for n in range(count):
        seen = now - timedelta(minutes=rng.randint(0, 6 * 24 * 60))
        title = " ".join(rng.choices(vocabulary, cum_weights=cumulative, k=8))
        body = " ".join(rng.choices(vocabulary, cum_weights=cumulative, k=60))
        profile = profile_of_text(f"bench-{n}", title, body, source=rng.choice(SOURCES), published_at=seen,
                                  idf=idf, entities=rng.sample(people, 4), config=config)
        story = open_story(profile, config)
        for extra in range(rng.randint(0, 4)):
            more = profile_of_text(f"bench-{n}-{extra}", title, body + f" {extra}",
                                   source=rng.choice(SOURCES), published_at=seen + timedelta(minutes=extra),
                                   idf=idf, entities=rng.sample(people, 3), config=config)
            story = add_article(story, more, config)
        yield story


def analysed_articles(count: int, analyser: Analyser) -> tuple[list[AnalysedArticle], float]:
    """The bench articles as ExtractEntities leaves them, and spaCy's seconds per article."""
    items = [AnalysedArticle(record=KafkaRecord("news.articles", 0, 0, None, json.dumps(m).encode(), 0),
                             article=Article.from_message(m)) for m in messages(count, seed=33)]
    texts = [text_of(item) for item in items]
    analyser.read(texts[:5])  # warm up
    started = time.perf_counter()
    readings = analyser.read(texts)
    seconds = (time.perf_counter() - started) / count
    return [with_reading(item, text, reading, analyser.provenance)
            for item, text, reading in zip(items, texts, readings, strict=True)], seconds


def story_bytes(stories: list) -> float:
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    copies = [type(s).from_dict(json.loads(json.dumps(s.to_dict()))) for s in stories]
    used = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    return used / len(copies)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stories", type=int, default=100_000)
    parser.add_argument("--articles", type=int, default=200)
    args = parser.parse_args()

    settings, config, rng = Settings.load(), StoryConfig(), random.Random(7)
    client = make_client(settings)
    alias = f"bench-stories-{uuid.uuid4().hex[:8]}"
    analyser = Analyser()
    items, spacy_seconds = analysed_articles(args.articles, analyser)
    now = max(item.article.published_at for item in items)
    store = ElasticsearchStoryStore(client, alias, config)
    try:
        store.setup()
        started, chunk, sample = time.perf_counter(), [], []
        for n, story in enumerate(synthetic_stories(args.stories, now, config, rng), 1):
            chunk.append((story.story_id, story_document(story, config)))
            if n % 100 == 0:
                sample.append(story)
            if len(chunk) == CHUNK or n == args.stories:
                refused = write_documents(client, alias, chunk)
                assert not refused, refused[:3]
                chunk = []
                print(f"  {n:,} stories written ({time.perf_counter() - started:.0f}s)", flush=True)
        client.indices.refresh(index=alias)
        stats = client.indices.stats(index=alias, metric="store")["_all"]["primaries"]["store"]
        live = client.count(index=alias)["count"]
        print(f"{live:,} live stories written in {time.perf_counter() - started:.0f}s")

        times, reasons = [], {}
        idf = packaged_idf()
        for item in items:
            begun = time.perf_counter()
            assignment = assign(profile_of(item, idf, config), store, config)
            times.append(time.perf_counter() - begun)
            reasons[assignment.reason] = reasons.get(assignment.reason, 0) + 1
        times.sort()
        mean = statistics.fmean(times)
        print(f"{args.articles} articles of about 700 words; assignments: {reasons}")
        print(f"baseline, spaCy's reading: {spacy_seconds * 1000:.1f} ms per article")
        p50, p95 = times[len(times) // 2], times[int(0.95 * (len(times) - 1))]
        print(f"ClusterStories at {live:,} live stories: mean {mean * 1000:.1f} ms, "
              f"p50 {p50 * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms per article")
        print(f"ratio to spaCy: {mean / spacy_seconds:.3f} (goal < 0.15)")
        documents = [story_document(story, config) for story in sample]
        print(f"memory per live story: {stats['size_in_bytes'] / live / 1024:.1f} KiB in the index, "
              f"{statistics.fmean(len(json.dumps(d)) for d in documents) / 1024:.1f} KiB of JSON, "
              f"{story_bytes(sample) / 1024:.1f} KiB as a cached Story")
    finally:
        drop_index(client, alias)
        client.close()


if __name__ == "__main__":
    main()
