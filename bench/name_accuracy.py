"""Watch-list name matching on real reporting: precision and recall, fuzzy readings vs none.

The excerpts are real news text (``bench/name_corpus.py`` builds them under
``$NEWSMON_CACHE/corpora/name_corpus.jsonl``); their labels, keyed by the sha256 of each
excerpt, are in ``bench/name_labels.jsonl``: the watched people (of ``bench.name_corpus.WATCH``)
an analyst reading the excerpt would resolve with confidence, and a category:

``typo``             a watched name written one letter off ("Chuck Shumer", "Lindsay Graham")
``transliteration``  another romanisation ("Zelenskiy", "Zelenskyi")
``false_friend``     a close name or word of something or someone else ("John Terry",
                     "Bob Kerrey", "Jucker", "Surgeon"), with or without watched people
``surname``          a watched surname alone, with no full name in the excerpt
``full_name``        watched people named in full
``none``             nobody watched

Labelling policy: as ``tests/names/labelled.yaml`` (a surname alone counts where the
excerpt makes the person clear; a relative or namesake never counts; two watched people of
one surname and nothing to tell them apart: neither). Labels were written before either
matcher was run on the excerpts.

Every excerpt goes through the model the pipeline loads (sentences, token tags, entities
with the packaged gazetteer), then through two matchers built from the same watch list:
``WatchMatcher(entries)`` and the baseline ``WatchMatcher(entries, fuzzy=False)`` (spelling
keys and transliterations only, no edit-distance readings). Scored over (excerpt, person)
pairs; printed per category, with every error, and the matching time of each matcher.

    python -m bench.name_accuracy [--corpus FILE] [--errors]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bench.name_corpus import WATCH, corpus_path
from bench.topic_corpus import text_hash
from newsmon.analysis.entities import extract_entities
from newsmon.analysis.gazetteer import Gazetteer
from newsmon.analysis.name_matcher import WatchMatcher
from newsmon.analysis.nlp import load_model
from newsmon.analysis.text import sentences_of
from newsmon.analysis.watch_entries import WatchEntry

LABELS_FILE = Path(__file__).with_name("name_labels.jsonl")
CATEGORIES = ("typo", "transliteration", "false_friend", "surname", "full_name", "none")
NOW = datetime(2025, 9, 12, 8, 30, tzinfo=UTC)
ROUNDS = 5


@dataclass
class Tally:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    def add(self, expected: set[str], found: set[str]) -> None:
        self.tp += len(expected & found)
        self.fp += len(found - expected)
        self.fn += len(expected - found)

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0


def load(corpus: Path) -> list[tuple[dict, str]]:
    """The labelled items with their text; exits with a clear message when the corpus is missing."""
    if not corpus.is_file():
        sys.exit(f"no corpus at {corpus}: build it with python -m bench.name_corpus --source DIR")
    texts = {}
    with corpus.open(encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            texts[row["hash"]] = row["text"]
    items, absent = [], 0
    with LABELS_FILE.open(encoding="utf-8") as handle:
        for line in handle:
            label = json.loads(line)
            text = texts.get(label["hash"])
            if text is None or text_hash(text) != label["hash"]:
                absent += 1
                continue
            items.append((label, text))
    if absent:
        print(f"warning: {absent} labelled excerpts are not in {corpus} (another build?)", file=sys.stderr)
    return items


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=None,
                        help="default: $NEWSMON_CACHE/corpora/name_corpus.jsonl")
    parser.add_argument("--errors", action="store_true", help="print every excerpt a matcher got wrong")
    args = parser.parse_args(argv)
    items = load(args.corpus or corpus_path())
    nlp = load_model()
    gazetteer = Gazetteer.load()
    started = time.perf_counter()
    analysed = []
    for (_, text), doc in zip(items, nlp.pipe([text for _, text in items], batch_size=32), strict=True):
        analysed.append((text, sentences_of(doc), extract_entities(doc, gazetteer)))
    model_ms = (time.perf_counter() - started) * 1000 / len(items)
    entries = [WatchEntry.create(name, now=NOW) for name in WATCH]
    matchers = {"fuzzy": WatchMatcher(entries), "baseline": WatchMatcher(entries, fuzzy=False)}
    tallies: dict[str, dict[str, Tally]] = {name: defaultdict(Tally) for name in matchers}
    cost: dict[str, float] = {}
    errors: list[str] = []
    for name, matcher in matchers.items():
        found_all = [matcher.match(*one) for one in analysed]  # also warms the caches
        passes = []
        for _ in range(ROUNDS):
            started = time.perf_counter()
            for one in analysed:
                matcher.match(*one)
            passes.append((time.perf_counter() - started) * 1000 / len(items))
        cost[name] = statistics.median(passes)
        for (label, text), found in zip(items, found_all, strict=True):
            expected, names = set(label["expected"]), {m.entry.name for m in found}
            tallies[name][label["category"]].add(expected, names)
            tallies[name]["overall"].add(expected, names)
            if args.errors and names != expected:
                extra = [f"{m.entry.name} as {m.form!r} ({m.reason})" for m in found
                         if m.entry.name not in expected]
                errors.append(f"[{name}, {label['category']}] {text[:300]!r}\n"
                              f"    missed {sorted(expected - names)}\n    extra  {extra}")
    print(f"{len(items)} labelled excerpts of real reporting, {sum(len(i[0]['expected']) for i in items)} "
          f"(excerpt, person) pairs; watch list of {len(entries)} people")
    print(f"{'category':<16} {'pairs':>5}  {'fuzzy P':>7} {'R':>6}  {'baseline P':>10} {'R':>6}")
    for category in (*CATEGORIES, "overall"):
        f, b = tallies["fuzzy"][category], tallies["baseline"][category]
        print(f"{category:<16} {f.tp + f.fn:>5}  {f.precision:>7.3f} {f.recall:>6.3f}  "
              f"{b.precision:>10.3f} {b.recall:>6.3f}   (fuzzy TP/FP/FN {f.tp}/{f.fp}/{f.fn}, "
              f"baseline {b.tp}/{b.fp}/{b.fn})")
    f, b = tallies["fuzzy"]["overall"], tallies["baseline"]["overall"]
    print(f"recall {f.recall:.3f} vs {b.recall:.3f} baseline (ratio {f.recall / b.recall:.3f}); "
          f"precision {f.precision:.3f} vs {b.precision:.3f} (ratio {f.precision / b.precision:.3f})")
    print(f"matching: {cost['fuzzy']:.3f} ms/excerpt vs {cost['baseline']:.3f} ms baseline "
          f"(ratio {cost['fuzzy'] / cost['baseline']:.2f}); the model: {model_ms:.1f} ms/excerpt")
    for line in errors:
        print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
