"""Watch-list name matching measured on a labelled set (``tests/names/labelled.yaml``).

Every text goes through the real model the pipeline uses (sentences, token tags, entities
with the packaged gazetteer) and is matched against the set's fixed watch list, built from
the names alone (aliases only where the file gives a form that cannot be derived). Scored
over (text, watched person) pairs, overall and per category. Run with ``-s`` to see the
table and every error.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from newsmon.analysis.entities import extract_entities
from newsmon.analysis.gazetteer import Gazetteer
from newsmon.analysis.name_matcher import Match, WatchMatcher
from newsmon.analysis.nlp import load_model
from newsmon.analysis.text import sentences_of
from newsmon.analysis.watch_entries import WatchEntry

LABELLED = Path(__file__).parent / "names" / "labelled.yaml"
CATEGORIES = ("full_name", "transliteration", "diacritics", "possessive", "initials", "surname_after_full",
              "surname_only", "false_friend", "none")
NOW = datetime(2025, 9, 12, 8, 30, tzinfo=UTC)
# Floors below what the matcher reaches on this set (see the printed table), so that a
# regression fails while a spaCy patch release that moves a tag or two does not. Reached
# when written: precision 0.977, recall 0.910 overall; after the fixes it revealed, 0.994 and 0.931;
# with surnames alone that nobody else bears and long sound variants alone (issue 13), 0.995 and 0.979.
FLOORS = {"precision": 0.95, "recall": 0.9}
# Recall per category (reached: 1.0, 0.955, 1.0, 1.0, 1.0, 1.0, 0.935). A surname alone
# is the weak spot: "the Trump administration" (a modifier) is not enough on its own, and a
# surname several watched people bear is nobody's (see the errors printed).
CATEGORY_RECALL = {"full_name": 0.95, "transliteration": 0.9, "diacritics": 0.9, "possessive": 0.9,
                   "initials": 0.9, "surname_after_full": 0.95, "surname_only": 0.85}
# Alerts on texts where nobody (or only somebody else) is watched: 3 when written, now 1.
MAX_FALSE_ALERTS = 3


@dataclass(frozen=True)
class Outcome:
    text: str
    category: str
    expected: frozenset[str]
    matches: tuple[Match, ...]

    @property
    def found(self) -> frozenset[str]:
        return frozenset(match.entry.name for match in self.matches)


@dataclass(frozen=True)
class Scores:
    texts: int
    tp: int
    fp: int
    fn: int

    @property
    def precision(self) -> float | None:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else None

    @property
    def recall(self) -> float | None:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else None


def load_labelled() -> dict:
    return yaml.safe_load(LABELLED.read_text(encoding="utf-8"))


def watch_entries(document: dict) -> list[WatchEntry]:
    return [WatchEntry.create(item["name"], aliases=item.get("aliases", ()), now=NOW)
            for item in document["watch"]]


@pytest.fixture(scope="module")
def run() -> tuple[list[Outcome], float]:
    """Every labelled text through the model and the matcher; also the seconds it took."""
    document = load_labelled()
    items = document["items"]
    started = time.perf_counter()
    nlp = load_model()
    gazetteer = Gazetteer.load()
    matcher = WatchMatcher(watch_entries(document))
    texts = [item["text"] for item in items]
    outcomes = []
    for item, doc in zip(items, nlp.pipe(texts, batch_size=64), strict=True):
        found = matcher.match(item["text"], sentences_of(doc), extract_entities(doc, gazetteer))
        outcomes.append(Outcome(text=item["text"], category=item["category"],
                                expected=frozenset(item["expected"]), matches=tuple(found)))
    return outcomes, time.perf_counter() - started


def score(outcomes: list[Outcome]) -> Scores:
    return Scores(texts=len(outcomes),
                  tp=sum(len(o.expected & o.found) for o in outcomes),
                  fp=sum(len(o.found - o.expected) for o in outcomes),
                  fn=sum(len(o.expected - o.found) for o in outcomes))


def _figure(value: float | None) -> str:
    return f"{value:.3f}" if value is not None else "-"


def report(outcomes: list[Outcome], seconds: float) -> str:
    by_category: dict[str, list[Outcome]] = defaultdict(list)
    for outcome in outcomes:
        by_category[outcome.category].append(outcome)
    lines = [f"\n{len(outcomes)} labelled texts, model + matching in {seconds:.1f} s",
             f"{'category':<19} {'texts':>5} {'pairs':>5} {'TP':>4} {'FP':>4} {'FN':>4} "
             f"{'precision':>9} {'recall':>7}"]
    rows = [(category, score(by_category[category])) for category in CATEGORIES]
    rows.append(("overall (micro)", score(outcomes)))
    for name, s in rows:
        lines.append(f"{name:<19} {s.texts:>5} {s.tp + s.fn:>5} {s.tp:>4} {s.fp:>4} {s.fn:>4} "
                     f"{_figure(s.precision):>9} {_figure(s.recall):>7}")
    wrong = [o for o in outcomes if o.found != o.expected]
    lines.append(f"errors ({len(wrong)} texts):")
    for o in wrong:
        lines.append(f"  [{o.category}] {o.text!r}")
        for name in sorted(o.expected - o.found):
            lines.append(f"      missed {name}")
        for match in o.matches:
            if match.entry.name not in o.expected:
                lines.append(f"      extra  {match.entry.name}: {match.form!r} "
                             f"({match.confidence}, {match.reason})")
    return "\n".join(lines)


def test_labelled_set_is_large_and_covers_every_category():
    document = load_labelled()
    items = document["items"]
    assert len(items) >= 150
    assert len({item["text"] for item in items}) == len(items), "duplicate texts"
    names = {entry.name for entry in watch_entries(document)}
    assert len(names) == len(document["watch"]) >= 12
    for item in items:
        assert set(item) <= {"text", "category", "expected", "note"}, item
        assert item["category"] in CATEGORIES, item
        assert isinstance(item["expected"], list) and set(item["expected"]) <= names, item
    for category in CATEGORIES:
        assert sum(item["category"] == category for item in items) >= 10, category
    assert sum(not item["expected"] for item in items) >= 60
    assert sum(len(item["expected"]) > 1 for item in items) >= 15
    # aliases only for a form that cannot be derived from the name
    assert sum(bool(entry.get("aliases")) for entry in document["watch"]) <= 2


def test_precision_and_recall(run):
    outcomes, seconds = run
    print(report(outcomes, seconds))
    overall = score(outcomes)
    assert overall.precision >= FLOORS["precision"], f"precision {overall.precision:.3f}"
    assert overall.recall >= FLOORS["recall"], f"recall {overall.recall:.3f}"
    for category, floor in CATEGORY_RECALL.items():
        recall = score([o for o in outcomes if o.category == category]).recall
        assert recall is not None and recall >= floor, f"{category} recall {recall}"
    negatives = [o for o in outcomes if o.category in ("false_friend", "none")]
    assert score(negatives).fp <= MAX_FALSE_ALERTS, f"{score(negatives).fp} false alerts on negatives"
