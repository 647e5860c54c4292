"""Benchmark: topic-tagging accuracy on real reporting, next to a keyword baseline in the same run.

The passages come from public news datasets (``bench/topic_corpus.py`` extracts them into
``$NEWSMON_CACHE/corpora/``); the labels, keyed by the sha256 of each passage, are in
``bench/topic_labels.jsonl`` and follow ``docs/topics.md``. For the chosen split (``test``
by default, whose labels must match the frozen digest ``bench/topic_labels.test.sha256``)
this prints per-topic precision, recall and F1 of

1. the rules tagger the pipeline runs: ``TopicRules.load()`` and ``tag_topics`` over
   ``sentences_of(nlp(text))``, each passage read as a one-item article (its first
   sentence as the title), with the model ``load_model()`` gives;
2. a naive keyword tagger: a topic when the passage contains one of its words (for
   sanctions relief, a relief word and a sanctions word).

``--errors`` lists the rules tagger's false positives and false negatives (hash and the
first 100 characters); ``--errors keywords`` the baseline's. Run from the repository root::

    python -m bench.topic_accuracy [--split test|dev|train] [--errors [rules|keywords]]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.topic_corpus import corpus_path
from bench.topic_labels import SPLITS, TOPICS, LabelsError, check_frozen, load

BUILD_HINT = ("build it with: python -m bench.topic_corpus --source DIR "
              "(DIR holds the datasets; bench/topic_corpus.py's docstring says where to get each)")
# The baseline's words: what a user would type into a keyword filter, nothing more.
KEYWORDS = {
    "prisoner_release": re.compile(
        r"\b(freed|frees|released|releases|pardon(ed|s)?|amnesty|prisoner (swap|exchange)"
        r"|swap of prisoners)\b", re.IGNORECASE),
    "diplomatic_move": re.compile(
        r"\b(visit(s|ed|ing)?|summit|talks|met|meets|ambassador|envoy|embassy|diplomat(s|ic)?|treaty"
        r"|accord|phone call|telephone)\b", re.IGNORECASE),
}
RELIEF_WORDS = re.compile(r"\b(lift(s|ed|ing)?|eas(e|es|ed|ing)|suspend(s|ed)?|waive[sd]?|relax(es|ed)?"
                          r"|end(s|ed)?)\b", re.IGNORECASE)
SANCTION_WORDS = re.compile(r"\b(sanctions?|embargo(es)?)\b", re.IGNORECASE)


class CorpusMissingError(Exception):
    """The cached passages are not there (or not all of them)."""


@dataclass(frozen=True)
class Scores:
    true_positives: int
    false_positives: int
    false_negatives: int

    @property
    def precision(self) -> float:
        found = self.true_positives + self.false_positives
        return self.true_positives / found if found else 0.0

    @property
    def recall(self) -> float:
        wanted = self.true_positives + self.false_negatives
        return self.true_positives / wanted if wanted else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def load_texts(path: Path, hashes: Iterable[str]) -> dict[str, str]:
    """The cached text of each wanted hash; :class:`CorpusMissingError` names the command to build it."""
    if not path.exists():
        msg = f"no topic corpus at {path}: {BUILD_HINT}"
        raise CorpusMissingError(msg)
    wanted = set(hashes)
    texts: dict[str, str] = {}
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            if row["hash"] in wanted:
                texts[row["hash"]] = row["text"]
    missing = wanted - texts.keys()
    if missing:
        msg = (f"{len(missing)} labelled passages are not in {path} (e.g. {sorted(missing)[0]}): "
               f"a dataset is missing or differs; {BUILD_HINT}")
        raise CorpusMissingError(msg)
    return texts


def keyword_topics(text: str) -> set[str]:
    found = {topic for topic, pattern in KEYWORDS.items() if pattern.search(text)}
    if RELIEF_WORDS.search(text) and SANCTION_WORDS.search(text):
        found.add("sanctions_relief")
    return found


def rules_tagger() -> tuple[Callable[[str], set[str]], str]:
    """The pipeline's tagger as a function of one passage, and what it is (model and rules version)."""
    from newsmon.analysis.nlp import load_model, model_id
    from newsmon.analysis.text import sentences_of
    from newsmon.analysis.topics import TopicRules, tag_topics

    nlp = load_model()
    rules = TopicRules.load()

    def tag(text: str) -> set[str]:
        return {t.name for t in tag_topics(sentences_of(nlp(text)), rules)} & set(TOPICS)

    return tag, f"{model_id(nlp)}, topic rules {rules.version}"


def score(predicted: Mapping[str, set[str]], gold: Mapping[str, Mapping[str, bool]], topic: str) -> Scores:
    tp = sum(1 for h, labels in gold.items() if labels[topic] and topic in predicted[h])
    fp = sum(1 for h, labels in gold.items() if not labels[topic] and topic in predicted[h])
    fn = sum(1 for h, labels in gold.items() if labels[topic] and topic not in predicted[h])
    return Scores(tp, fp, fn)


def print_table(results: Sequence[tuple[str, Mapping[str, set[str]]]],
                gold: Mapping[str, Mapping[str, bool]]) -> None:
    header = f"{'topic':18}{'positives':>10}"
    for name, _ in results:
        header += f" | {name + ' P':>14}{'R':>6}{'F1':>6}"
    print(header)
    for topic in TOPICS:
        line = f"{topic:18}{sum(labels[topic] for labels in gold.values()):>10}"
        for _, predicted in results:
            s = score(predicted, gold, topic)
            line += f" | {s.precision:>14.2f}{s.recall:>6.2f}{s.f1:>6.2f}"
        print(line)


def print_errors(predicted: Mapping[str, set[str]], gold: Mapping[str, Mapping[str, bool]],
                 texts: Mapping[str, str], *, name: str) -> None:
    for topic in TOPICS:
        for kind, wanted in (("false positive", False), ("false negative", True)):
            rows = [h for h, labels in sorted(gold.items())
                    if labels[topic] is wanted and (topic in predicted[h]) is not wanted]
            print(f"\n{name}, {topic}, {kind}s: {len(rows)}")
            for h in rows:
                print(f"  {h[:16]}  {texts[h][:100]}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--split", choices=SPLITS, default="test")
    parser.add_argument("--errors", nargs="?", const="rules", choices=("rules", "keywords"),
                        help="list the errors of the rules tagger (default) or of the keyword baseline")
    parser.add_argument("--corpus", type=Path, default=None, help="default: $NEWSMON_CACHE/corpora/")
    args = parser.parse_args(argv)
    try:
        rows = load()
        digest = check_frozen(rows)  # a changed test split is refused whichever split is scored
        rows = [row for row in rows if row["split"] == args.split]
        texts = load_texts(args.corpus or corpus_path(), (row["hash"] for row in rows))
    except (LabelsError, CorpusMissingError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    gold = {row["hash"]: row["labels"] for row in rows}

    started = time.perf_counter()
    tag, what = rules_tagger()
    loaded = time.perf_counter()
    rules_predicted = {h: tag(texts[h]) for h in gold}
    tagged = time.perf_counter()
    keyword_predicted = {h: keyword_topics(texts[h]) for h in gold}

    print(f"split {args.split}: {len(gold)} passages (test digest {digest[:16]}, frozen)")
    print(f"rules tagger: {what}; model load {loaded - started:.1f} s, "
          f"{1000 * (tagged - loaded) / max(len(gold), 1):.1f} ms/passage\n")
    print_table([("rules", rules_predicted), ("keywords", keyword_predicted)], gold)
    if args.errors:
        chosen = rules_predicted if args.errors == "rules" else keyword_predicted
        print_errors(chosen, gold, texts, name=args.errors)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
