"""Benchmark: watch-list matching per article with 10, 1,000 and 100,000 entries, next to the
NER cost of the same articles measured in the same run.

Goal: with 100,000 entries, matching under 10% of NER time.

1. N synthetic wire stories (600-800 words, a headline, a dateline, several people each,
   named in full and then by surname, possessive or initials), from a fixed seed;
2. baseline: spaCy ``nlp.pipe`` over them with the model the pipeline loads
   (``load_model()``, every component on), ms/article; then the conversion the matcher's
   input needs (``sentences_of``, ``extract_entities``), printed apart;
3. a watch list of 100,000 distinct people whose names are drawn from given names and
   surnames of many languages (East Slavic ones romanised several ways, with feminine
   forms; Polish, German, Nordic, Romance, English, Arabic, Persian, Turkish, Greek,
   Caucasian, Indian, African, Chinese, Korean, Vietnamese, Japanese), with a few aliases,
   lists and topic filters; its prefixes of 10 and 1,000 entries. Some people the stories
   name are on each list, so there are hits;
4. the time to create the 100,000 entries (once); then for each size: the time to build
   ``WatchMatcher`` with the module's caches empty (printed apart), the memory the matcher
   keeps (resident-set growth) and its allocation peak (tracemalloc, in a second build with
   the caches emptied again), its pickled size (it is a Beam side input), and the
   ``mentions()`` time per article: the first pass, and the median of the passes after it.
   The ratio to NER uses the latter. Then, with the largest list, the matcher with and without
   its fuzzy readings (``fuzzy=False``), passes interleaved. Also: mentions per article by how
   they were read, and alerts per article (distinct entries matched), split into people the
   story names and others.

The stories and the names come from ``tests/support/synthetic_stories.py`` and
``tests/support/synthetic_names.py``. Run from the repository root:

    python -m bench.watch_matching [--articles 50] [--sizes 10,1000,100000] [--seed 20250912]
"""

from __future__ import annotations

import argparse
import gc
import pickle
import random
import resource
import statistics
import time
import tracemalloc
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from newsmon.analysis import article_words, name_matcher, name_patterns, spelling
from newsmon.analysis.entities import extract_entities
from newsmon.analysis.gazetteer import Gazetteer
from newsmon.analysis.name_matcher import WatchMatcher
from newsmon.analysis.nlp import load_model, model_id
from newsmon.analysis.text import sentences_of
from newsmon.analysis.watch_entries import WatchEntry
from tests.support.synthetic_names import Person, draw_name, watch_list
from tests.support.synthetic_stories import ROLES, story

GOAL = 0.10  # matching / NER with 100,000 entries
NEWSMAKERS = 80  # people the stories are about; some of them are watched


def rss_mib() -> float:
    """Resident set size now (Linux /proc; elsewhere the peak so far)."""
    statm = Path("/proc/self/statm")
    if statm.exists():
        pages = int(statm.read_text().split()[1])
        return pages * resource.getpagesize() / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**10


def clear_caches() -> None:
    """Empty the name-matching modules' look-up caches, so a build pays for filling them."""
    for module in (spelling, name_patterns, article_words, name_matcher):
        for value in vars(module).values():
            if callable(getattr(value, "cache_clear", None)):
                value.cache_clear()


@dataclass
class SizeResult:
    entries: int
    build_s: float
    retained_mib: float
    traced_mib: float | None
    traced_peak_mib: float | None
    pickled_mib: float
    first_ms: float
    steady_ms: float
    mentions: float
    watched_named: float
    watched_other: float
    readings: Counter[str]


def measure(entries: list[WatchEntry], analysed: list, named: list[frozenset[str]], rounds: int,
            traced: bool) -> SizeResult:
    gc.collect()
    clear_caches()
    before = rss_mib()
    started = time.perf_counter()
    matcher = WatchMatcher(entries)
    build_s = time.perf_counter() - started
    gc.collect()
    retained = rss_mib() - before
    pickled = len(pickle.dumps(matcher, protocol=pickle.HIGHEST_PROTOCOL)) / 2**20
    traced_mib = traced_peak = None
    if traced:
        clear_caches()
        tracemalloc.start()
        again = WatchMatcher(entries)
        traced_now, traced_top = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        del again
        traced_mib, traced_peak = traced_now / 2**20, traced_top / 2**20
    passes = []
    found = []
    for _ in range(rounds + 1):
        started = time.perf_counter()
        found = [matcher.mentions(text, sentences, entities, topics=("prisoner_release",))
                 for text, sentences, entities in analysed]
        passes.append((time.perf_counter() - started) * 1000 / len(analysed))
    return SizeResult(entries=len(entries), build_s=build_s, retained_mib=retained,
                      traced_mib=traced_mib, traced_peak_mib=traced_peak, pickled_mib=pickled,
                      first_ms=passes[0], steady_ms=statistics.median(passes[1:]),
                      mentions=sum(len(f) for f in found) / len(found),
                      watched_named=sum(len({m.entry.entry_id for m in f if m.entry.name in people})
                                        for f, people in zip(found, named, strict=True)) / len(found),
                      watched_other=sum(len({m.entry.entry_id for m in f if m.entry.name not in people})
                                        for f, people in zip(found, named, strict=True)) / len(found),
                      readings=Counter(reading(m.reason) for f in found for m in f))


READINGS = (("full name", "full name"), ("initials", "initials"), ("alias", "one-word alias"),
            ("name ", "one-word name"), ("distinctive surname", "distinctive surname alone"))


def reading(reason: str) -> str:
    """How a mention was read, from its reason (see newsmon.analysis.name_matcher.CONFIDENCE)."""
    for prefix, label in READINGS:
        if reason.startswith(prefix):
            return label
    return "surname alone tagged PERSON" if "tagged as a person" in reason else "surname after the full name"


def fuzzy_cost(entries: list[WatchEntry], analysed: list, rounds: int) -> tuple[float, float]:
    """ms/article of ``WatchMatcher(entries)`` and of ``WatchMatcher(entries, fuzzy=False)``
    (no reading one letter off, no surname alone but the model's), passes interleaved so that
    the load of a shared machine weighs on both alike; medians after a warm-up pass.
    """
    matchers = (WatchMatcher(entries), WatchMatcher(entries, fuzzy=False))
    passes: tuple[list[float], list[float]] = ([], [])
    for round_ in range(rounds + 1):
        for matcher, times in zip(matchers, passes, strict=True):
            started = time.perf_counter()
            for one in analysed:
                matcher.mentions(*one)
            if round_:
                times.append((time.perf_counter() - started) * 1000 / len(analysed))
    return statistics.median(passes[0]), statistics.median(passes[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=50, help="synthetic articles (default 50)")
    parser.add_argument("--sizes", default="10,1000,100000", help="watch-list sizes, comma-separated")
    parser.add_argument("--rounds", type=int, default=5, help="timed matching passes after the first")
    parser.add_argument("--ner-rounds", type=int, default=2, help="timed nlp.pipe passes (median)")
    parser.add_argument("--seed", type=int, default=20250912)
    parser.add_argument("--no-tracemalloc", action="store_true",
                        help="skip the second, traced build that measures the allocation peak")
    args = parser.parse_args()
    sizes = sorted(int(size) for size in args.sizes.split(","))
    if args.articles < 1 or not sizes or sizes[0] < 1:
        parser.error("--articles and every size must be positive")

    rng = random.Random(args.seed)
    newsmakers = []
    for _ in range(NEWSMAKERS):
        name, short = draw_name(rng)
        newsmakers.append(Person(name, short, rng.choice(ROLES)))
    texts, named = zip(*(story(rng, newsmakers) for _ in range(args.articles)), strict=True)
    counts = [len(text.split()) for text in texts]
    print(f"articles: {len(texts)}, {statistics.mean(counts):.0f} words on average "
          f"(min {min(counts)}, max {max(counts)}), seed {args.seed}")

    nlp = load_model()
    gazetteer = Gazetteer.load()
    list(nlp.pipe(texts[:3]))  # warm up
    passes = []
    for _ in range(args.ner_rounds):
        started = time.perf_counter()
        docs = list(nlp.pipe(texts, batch_size=32))
        passes.append((time.perf_counter() - started) * 1000 / len(texts))
    ner_ms = statistics.median(passes)
    started = time.perf_counter()
    analysed = [(text, sentences_of(doc), tuple(extract_entities(doc, gazetteer)))
                for text, doc in zip(texts, docs, strict=True)]
    convert_ms = (time.perf_counter() - started) * 1000 / len(texts)
    del docs
    print(f"model {model_id(nlp)}: {', '.join(nlp.pipe_names)}")
    print(f"NER baseline, nlp.pipe: {ner_ms:.1f} ms/article (median of {len(passes)} passes: "
          f"{', '.join(f'{ms:.1f}' for ms in passes)})")
    print(f"sentences_of + extract_entities (the matcher's input, not in the ratio): "
          f"{convert_ms:.1f} ms/article")

    started = time.perf_counter()
    everyone = watch_list(sizes[-1], newsmakers, random.Random(args.seed + 1))
    create_all = time.perf_counter() - started
    surnames = Counter(entry.name.split()[-1].casefold() for entry in everyone)
    common = ", ".join(f"{word} {count}" for word, count in surnames.most_common(3))
    print(f"watch list: {len(everyone):,} distinct entries created in {create_all:.1f} s "
          f"({create_all / len(everyone) * 1e6:.0f} µs each), {len(surnames):,} distinct last words "
          f"(most common: {common}); smaller lists are its prefixes\n")

    results = [measure(everyone[:size], analysed, list(named), args.rounds, not args.no_tracemalloc)
               for size in sizes]
    header = (f"{'entries':>8} {'build s':>8} {'RSS +MiB':>9} {'traced MiB':>10} {'peak MiB':>9} "
              f"{'pickle MiB':>10} {'mentions':>8} {'alerts':>11} {'first ms':>9} {'ms/article':>10} "
              f"{'/ NER':>7}")
    print(header)
    for r in results:
        traced = f"{r.traced_mib:>10.1f} {r.traced_peak_mib:>9.1f}" if r.traced_mib is not None else \
            f"{'-':>10} {'-':>9}"
        print(f"{r.entries:>8,} {r.build_s:>8.2f} {r.retained_mib:>9.1f} {traced} {r.pickled_mib:>10.2f} "
              f"{r.mentions:>8.1f} {r.watched_named:>5.1f} + {r.watched_other:<5.1f}{r.first_ms:>9.2f} "
              f"{r.steady_ms:>10.2f} {r.steady_ms / ner_ms:>7.1%}")
    for r in results:
        shares = ", ".join(f"{label} {count / len(texts):.1f}" for label, count in r.readings.most_common())
        print(f"{r.entries:>8,} entries, mentions per article by reading: {shares or 'none'}")
    print("build s: WatchMatcher(entries), caches cold; RSS +MiB: resident growth it leaves (index and "
          "caches); traced/peak: tracemalloc of a second build; mentions: per article; alerts: entries "
          "matched per article, people the story names + others (mostly other bearers of a surname the "
          "story names); "
          "first ms: the first pass over the articles; ms/article: median of the next passes")
    largest = results[-1]
    verdict = "met" if largest.steady_ms / ner_ms < GOAL else "NOT met"
    print(f"goal: with {largest.entries:,} entries, matching under {GOAL:.0%} of NER time: {verdict} "
          f"({largest.steady_ms:.2f} ms vs {ner_ms:.1f} ms per article, "
          f"ratio {largest.steady_ms / ner_ms:.1%}; first pass {largest.first_ms / ner_ms:.1%})")
    fuzzy_ms, plain_ms = fuzzy_cost(everyone[:largest.entries], analysed, args.rounds)
    print(f"fuzzy readings (one letter off, surnames alone) with {largest.entries:,} entries: "
          f"{fuzzy_ms:.2f} ms vs {plain_ms:.2f} ms per article without (fuzzy=False), "
          f"ratio {fuzzy_ms / plain_ms:.2f}")


if __name__ == "__main__":
    main()
