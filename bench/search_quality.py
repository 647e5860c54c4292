"""Benchmark: search quality on labelled queries, normalised search vs the plain query.

The labelled queries (``bench/search_queries.yaml``: word forms, spellings, diacritics,
people and topics) run against one index holding the demo stories, the name-matching
texts of ``tests/names/labelled.yaml`` and real reporting, the passages of the topic corpus
(``bench/topic_corpus.py``; train and dev rows only), each made into its document by the
pipeline's own code. Each query runs twice in the same run: as ``newsmon search`` runs it
now (lemmas, folded letters, spellings of names; ``--person`` in any spelling) and as
it ran before issue 17 (``--exact``: the words as typed, the person's canonical name only).
A query about the demo stories alone searches among them (``--source``), the others search
everything.
Printed per kind and overall: recall@10 (relevant stories in the first ten over the
relevant ones, at most ten) and MRR (1 / rank of the first relevant story in the first
ten), sorted by relevance.

The demo stories and the name-matching texts were written for newsmon; the topic queries
are scored on real reporting only. Without the corpus (build it with
``python -m bench.topic_corpus --source DIR --out FILE``) the topic queries are skipped
and the run says so.

    python -m bench.search_quality [--corpus FILE] [--queries bench/search_queries.yaml]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
import uuid
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml

from bench.topic_corpus import corpus_path
from newsmon.analysis.analyse import Analyser, text_of, with_reading, with_topics
from newsmon.analysis.messages import AnalysedArticle, Article, KafkaRecord
from newsmon.analysis.topic_tagger import TopicTagger
from newsmon.connectors.article import article_id
from newsmon.connectors.elasticsearch import drop_index, make_client, setup_index, write_documents
from newsmon.connectors.search import SearchRequest, build_search
from newsmon.pipelines.index_articles import article_document
from newsmon.settings import Settings
from newsmon.topic_labels import load as load_topic_labels

HERE = Path(__file__).resolve().parent
QUERIES = HERE / "search_queries.yaml"
NAMES = HERE.parent / "tests" / "names" / "labelled.yaml"
TOPIC_LABELS = HERE / "topic_labels.jsonl"
DEMO_KEYS = {"seed": "Belarus frees 52", "eu": "EU extends", "envoys": "Envoys meet",
             "lawyers": "Lawyers for", "hockey": "Ice hockey"}
DEMO_SOURCES = ("Baltic Wire", "Europe Desk")
DEPTH = 10
START = datetime(2025, 1, 1, tzinfo=UTC)


@dataclasses.dataclass(frozen=True)
class Labelled:
    query: str
    kind: str
    relevant: frozenset[str]  # article ids
    person_filter: bool
    demo_only: bool  # about the demo stories alone: searched among them


def _message(url: str, title: str, content: str | None, number: int) -> dict:
    published = START + timedelta(minutes=number)
    return Article(article_id=article_id(url, feed_url="", guid=None), url=url, guid=None, title=title,
                   summary=None, content=content, source_name="Bench", feed_url="https://bench.example/rss",
                   published_at=published, published_at_estimated=False, fetched_at=published,
                   language="en").to_message()


def _first_sentence(text: str) -> tuple[str, str | None]:
    """A headline and a body: the first line (or whole passage) and the rest."""
    head, _, rest = text.partition("\n\n")
    return head.strip(), rest.strip() or None


@dataclasses.dataclass
class Collections:
    messages: list[dict]  # to index: demo stories, name-matching texts, passages
    demo: dict[str, str]  # demo key → article id
    by_person: dict[str, set[str]]  # canonical name → ids of the texts naming them
    by_topic: dict[str, set[str]]  # topic → ids of the passages labelled with it
    sizes: dict[str, int]


def collections(corpus: Path | None) -> Collections:
    """The three collections, as article messages, and what is relevant to whom."""
    from tests.support.demo_documents import demo_messages

    messages = list(demo_messages())
    demo = {key: next(m["article_id"] for m in messages if m["title"].startswith(prefix))
            for key, prefix in DEMO_KEYS.items()}
    sizes = {"demo stories": len(messages)}
    by_person: dict[str, set[str]] = defaultdict(set)
    names = yaml.safe_load(NAMES.read_text(encoding="utf-8"))["items"]
    sizes["name-matching texts"] = len(names)
    for number, item in enumerate(names):
        title, body = _first_sentence(item["text"])
        message = _message(f"https://names.example/{number}", title, body, len(messages))
        messages.append(message)
        for person in item["expected"]:
            by_person[person].add(message["article_id"])
    by_topic: dict[str, set[str]] = defaultdict(set)
    if corpus is not None:
        labels = {row["hash"]: row for row in load_topic_labels(TOPIC_LABELS) if row["split"] != "test"}
        with corpus.open(encoding="utf-8") as lines:
            for line in lines:
                passage = json.loads(line)
                row = labels.get(passage["hash"])
                if row is None:
                    continue
                url = f"https://corpus.example/{passage['hash']}"
                message = _message(url, passage["text"], None, len(messages))
                messages.append(message)
                for topic, on in row["labels"].items():
                    if on:
                        by_topic[topic].add(message["article_id"])
    sizes["passages of real reporting"] = len(messages) - sum(sizes.values())
    return Collections(messages, demo, by_person, by_topic, sizes)


def documents(messages: list[dict]) -> list[tuple[str, dict]]:
    analyser, tagger = Analyser(), TopicTagger.load()
    items = [AnalysedArticle(record=KafkaRecord("news.articles", 0, n, None, json.dumps(m).encode(), 0),
                             article=Article.from_message(m)) for n, m in enumerate(messages)]
    texts = [text_of(item) for item in items]
    found = []
    for start in range(0, len(items), 256):
        readings = analyser.read(texts[start:start + 256])
        found += [(item.article_id, article_document(with_topics(with_reading(item, text, reading,
                                                                               analyser.provenance), tagger)))
                  for item, text, reading in zip(items[start:start + 256], texts[start:start + 256], readings,
                                                 strict=True)]
    return found


def labelled_queries(path: Path, demo: dict[str, str], by_person: dict[str, set[str]],
                     by_topic: dict[str, set[str]]) -> tuple[list[Labelled], int]:
    """The queries with their relevant ids, and how many were left out (no relevant story indexed)."""
    chosen, skipped = [], 0
    for entry in yaml.safe_load(path.read_text(encoding="utf-8"))["queries"]:
        relevant = {demo[key] for key in entry.get("stories", [])}
        relevant |= by_person.get(entry.get("person", ""), set())
        relevant |= by_topic.get(entry.get("topic", ""), set())
        if not relevant:
            skipped += 1
            continue
        chosen.append(Labelled(entry["query"], entry["kind"], frozenset(relevant),
                               person_filter=entry.get("filter") == "person",
                               demo_only=not (entry.get("person") or entry.get("topic"))))
    return chosen, skipped


def ranked(es, index: str, labelled: Labelled, *, plain: bool) -> list[str]:
    sources = DEMO_SOURCES if labelled.demo_only else ()
    if labelled.person_filter:
        request = SearchRequest(persons=(labelled.query,), sources=sources, size=DEPTH, exact=plain)
    else:
        request = SearchRequest(text=labelled.query, sources=sources, sort="relevance", size=DEPTH,
                                exact=plain)
    return [hit["_id"] for hit in es.search(index=index, **build_search(request))["hits"]["hits"]]


def scores(found: list[str], relevant: frozenset[str]) -> tuple[float, float]:
    """recall@10 (relevant found over the relevant ones, at most ten) and reciprocal rank."""
    hits = [rank for rank, doc in enumerate(found[:DEPTH], 1) if doc in relevant]
    return len(hits) / min(DEPTH, len(relevant)), (1 / hits[0] if hits else 0.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=None,
                        help="the topic corpus (default $NEWSMON_CACHE/corpora/topic_corpus.jsonl)")
    parser.add_argument("--queries", type=Path, default=QUERIES)
    parser.add_argument("--each", action="store_true", help="also print each query's scores")
    args = parser.parse_args()
    corpus = args.corpus or corpus_path()
    if not corpus.exists():
        print(f"no topic corpus at {corpus}: the topic queries over real reporting are skipped")
        corpus = None

    started = time.perf_counter()
    found = collections(corpus)
    docs = documents(found.messages)
    print(f"{len(docs):,} documents made by the pipeline's code in {time.perf_counter() - started:.0f}s ("
          + ", ".join(f"{count:,} {name}" for name, count in found.sizes.items()) + ")")
    queries, skipped = labelled_queries(args.queries, found.demo, found.by_person, found.by_topic)
    print(f"{len(queries)} labelled queries" + (f" ({skipped} without a relevant story here, left out)"
                                                 if skipped else ""))
    settings = Settings.load()
    es = make_client(settings, request_timeout=120)
    index = f"bench-quality-{uuid.uuid4().hex[:8]}"
    try:
        setup_index(es, "news-articles", index)
        refused = write_documents(es, index, docs)
        if refused:
            msg = f"Elasticsearch refused documents: {refused[:3]}"
            raise SystemExit(msg)
        es.indices.refresh(index=index)
        table: dict[tuple[str, str], list[tuple[float, float]]] = defaultdict(list)
        for labelled in queries:
            for system, plain in (("plain", True), ("normalised", False)):
                score = scores(ranked(es, index, labelled, plain=plain), labelled.relevant)
                table[(labelled.kind, system)].append(score)
                table[("all", system)].append(score)
            if args.each:
                last = [table[(labelled.kind, system)][-1] for system in ("plain", "normalised")]
                print(f"  {labelled.kind:<10} {labelled.query:<30} {len(labelled.relevant):>4} relevant   "
                      + "   ".join(f"R@10 {recall:.2f} RR {rank:.2f}" for recall, rank in last))
    finally:
        drop_index(es, index)
    print(f"\n{'kind':<11}{'queries':>8}   {'recall@10 plain → normalised':>30}   "
          f"{'MRR plain → normalised':>24}")
    for kind in sorted({kind for kind, _ in table}, key=lambda k: (k == "all", k)):
        plain, normalised = table[(kind, "plain")], table[(kind, "normalised")]
        recall = [sum(s[0] for s in runs) / len(runs) for runs in (plain, normalised)]
        mrr = [sum(s[1] for s in runs) / len(runs) for runs in (plain, normalised)]
        print(f"{kind:<11}{len(plain):>8}   {recall[0]:>17.3f} → {recall[1]:.3f}"
              f"{'' if not recall[0] else f' ({recall[1] / recall[0]:.2f}x)':>9}"
              f"   {mrr[0]:>11.3f} → {mrr[1]:.3f}{'' if not mrr[0] else f' ({mrr[1] / mrr[0]:.2f}x)'}")


if __name__ == "__main__":
    main()
