"""Benchmark: articles from Kafka to searchable in Elasticsearch, through the streaming
pipeline on DirectRunner (Prism), next to the raw ceiling measured in the same run:
spaCy's ``nlp.pipe`` over the same texts with the same components.

1. ceiling: ``nlp.pipe`` alone over the N texts, articles/s;
2. throughput: N articles produced at once; articles/s from the first produce until the
   last is indexed (the pipeline is warmed up first: Prism started, model loaded);
3. latency: articles produced at half that rate for a while; for each, the time from
   produce until a search finds it; p50 and p95.

    python bench/pipeline_throughput.py [--articles 300] [--latency-seconds 40]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import random
import statistics
import threading
import time
import uuid
from datetime import UTC, datetime

from newsmon.analysis.messages import Article
from newsmon.analysis.nlp import load_model
from newsmon.analysis.text import article_text
from newsmon.connectors.article import article_id
from newsmon.connectors.elasticsearch import drop_index, make_client
from newsmon.connectors.kafka import ensure_topics, make_admin, make_producer
from newsmon.pipelines import article_pipeline
from newsmon.pipelines.extract_entities import UNUSED_COMPONENTS
from newsmon.settings import Settings

PEOPLE = ["Anna Petrova", "Tomas Novak", "Lina Haddad", "Oleksandr Melnyk", "Grace Okafor", "Jonas Berg",
          "Maria Santos", "Dmitri Volkov", "Aisha Rahman", "Pierre Laurent", "Yuki Tanaka", "Ahmed Saleh"]
PLACES = ["Warsaw", "Vilnius", "Minsk", "Kyiv", "Riga", "Geneva", "Brussels", "Istanbul", "Tbilisi", "Baku"]
ORGS = ["the European Union", "the United Nations", "the Red Cross", "NATO", "the OSCE", "the World Bank"]
SENTENCES = [
    "{p1} said on {day} that talks with officials in {c1} had made progress toward the release of detainees.",
    "The government in {c1} pardoned {n} prisoners, including two journalists, according to {o1}.",
    "{o1} welcomed the decision and urged authorities to free all remaining political prisoners.",
    "Officials in {c2} said sanctions on the national airline would be eased to let it buy spare parts.",
    "{p2}, who led the delegation, told reporters the embassy in {c1} could reopen within months.",
    "Critics said the move fell far short of what had been promised and called for further pressure.",
    "Relatives gathered outside the prison in {c2} early in the morning, hoping to see those released.",
    "The foreign ministry in {c1} did not respond to a request for comment on {day}.",
    "Trade between the two countries has fallen sharply since restrictions were imposed in {year}.",
    "{p1} met {p2} in {c2} for two hours, the first such meeting in years, a spokesperson said.",
    "Analysts in {c2} said the agreement showed a shift in policy after years of isolation.",
    "Markets reacted calmly, with the currency little changed against the dollar by midday.",
    "{o2} said it would monitor the situation and report to member states next month.",
    "Human rights groups estimate that more than {n}00 people remain behind bars for political reasons.",
]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]


def news_text(rng: random.Random) -> tuple[str, str]:
    """A title and a body of about 700 words, in the style of a wire story."""
    p1, p2 = rng.sample(PEOPLE, 2)
    c1, c2 = rng.sample(PLACES, 2)
    o1, o2 = rng.sample(ORGS, 2)
    values = {"p1": p1, "p2": p2, "c1": c1, "c2": c2, "o1": o1, "o2": o2, "day": rng.choice(DAYS),
              "n": rng.randint(3, 60), "year": rng.randint(2014, 2023)}
    paragraphs = [" ".join(rng.choice(SENTENCES).format(**values) for _ in range(4)) for _ in range(12)]
    title = f"{c1} frees {values['n']} prisoners after talks with {o1.removeprefix('the ')}"
    return title, "\n".join(paragraphs)


def messages(count: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    now = datetime.now(UTC)
    result = []
    for _ in range(count):
        title, body = news_text(rng)
        url = f"https://bench.example.com/{uuid.uuid4().hex}"
        result.append(Article(article_id=article_id(url, feed_url="", guid=None), url=url, guid=None,
                              title=title, summary=None, content=body, source_name="Bench Wire",
                              feed_url="https://bench.example.com/rss", published_at=now,
                              published_at_estimated=False, fetched_at=now, language="en").to_message())
    return result


def indexed_count(es, alias: str) -> int:
    if not es.indices.exists_alias(name=alias):
        return 0
    return es.count(index=alias)["count"]


def produce_and_wait(settings, es, batch: list[dict], already: int, timeout: float = 900) -> float:
    producer = make_producer(settings)
    started = time.perf_counter()
    for message in batch:
        producer.send(settings.topic_articles, key=message["article_id"].encode(),
                      value=json.dumps(message).encode())
    producer.flush()
    producer.close()
    while indexed_count(es, settings.es_index_articles) < already + len(batch):
        if time.perf_counter() - started > timeout:
            msg = f"only {indexed_count(es, settings.es_index_articles) - already} of {len(batch)} indexed"
            raise RuntimeError(msg)
        time.sleep(0.2)
    return time.perf_counter() - started


def latencies(settings, es, batch: list[dict], rate: float) -> list[float]:
    """Produce at ``rate``/s; a watcher records when a search first finds each article."""
    produced: dict[str, float] = {}
    found: dict[str, float] = {}
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            pending = [i for i in produced if i not in found]
            if pending:
                hits = es.search(index=settings.es_index_articles, query={"ids": {"values": pending}},
                                 size=len(pending), source=False)["hits"]["hits"]
                now = time.perf_counter()
                for hit in hits:
                    found.setdefault(hit["_id"], now)
            time.sleep(0.05)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    producer = make_producer(settings)
    for message in batch:
        producer.send(settings.topic_articles, key=message["article_id"].encode(),
                      value=json.dumps(message).encode()).get(30)
        produced[message["article_id"]] = time.perf_counter()
        time.sleep(1 / rate)
    producer.close()
    deadline = time.perf_counter() + 120
    while len(found) < len(produced) and time.perf_counter() < deadline:
        time.sleep(0.2)
    done.set()
    watcher.join()
    return [found[i] - produced[i] for i in produced if i in found]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=300)
    parser.add_argument("--latency-seconds", type=float, default=40)
    args = parser.parse_args()

    batch = messages(args.articles, seed=1)
    texts = [article_text(m) for m in batch]
    words = sum(len(t.split()) for t in texts) / len(texts)
    nlp = load_model(disable=UNUSED_COMPONENTS)
    started = time.perf_counter()
    for _ in nlp.pipe(texts, batch_size=32):
        pass
    ceiling = len(texts) / (time.perf_counter() - started)
    print(f"{len(texts)} articles of about {words:.0f} words")
    print(f"ceiling, spaCy nlp.pipe alone ({', '.join(nlp.pipe_names)}): {ceiling:.1f} articles/s")
    del nlp

    suffix = uuid.uuid4().hex[:8]
    settings = dataclasses.replace(Settings.load(), topic_articles=f"bench.articles.{suffix}",
                                   topic_deadletter=f"bench.deadletter.{suffix}",
                                   es_index_articles=f"bench-articles-{suffix}")
    ensure_topics(settings, [settings.topic_articles, settings.topic_deadletter], partitions=1)
    es = make_client(settings)
    result = article_pipeline.run(settings, ["--start", "earliest", "--consumer_group", f"bench-{suffix}"])
    try:
        warm = messages(20, seed=2)
        print(f"warming up (Prism, model): {produce_and_wait(settings, es, warm, 0):.1f}s")
        elapsed = produce_and_wait(settings, es, batch, len(warm))
        rate = len(batch) / elapsed
        print(f"pipeline, Kafka to indexed: {rate:.1f} articles/s ({len(batch)} in {elapsed:.1f}s)")
        print(f"ratio to the ceiling: {rate / ceiling:.2f} (goal >= 0.8)")
        half = rate / 2
        sample = messages(max(10, int(half * args.latency_seconds)), seed=3)
        times = sorted(latencies(settings, es, sample, half))
        p50 = statistics.median(times)
        p95 = times[min(len(times) - 1, int(0.95 * len(times)))]
        print(f"latency produce → searchable at {half:.1f} articles/s ({len(times)}/{len(sample)} found): "
              f"p50 {p50:.2f}s, p95 {p95:.2f}s (goal p95 < 2s)")
    finally:
        result.cancel()
        drop_index(es, settings.es_index_articles)
        admin = make_admin(settings)
        admin.delete_topics([settings.topic_articles, settings.topic_deadletter])
        admin.close()


if __name__ == "__main__":
    main()
