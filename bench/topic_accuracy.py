"""Benchmark: topic-tagging accuracy on real reporting, four taggers measured in the same run.

The passages come from public news datasets (``bench/topic_corpus.py`` extracts them into
``$NEWSMON_CACHE/corpora/``); the labels, keyed by the sha256 of each passage, are in
``bench/topic_labels.jsonl`` and follow ``docs/topics.md``. For the chosen split (``test``
by default, whose labels must match the frozen digest ``bench/topic_labels.test.sha256``)
this prints per-topic precision, recall and F1 of

1. the tagger the pipeline runs (``TopicTagger.load()``: the learned model of
   ``seeds/topic_model.json.gz`` with the rules, and the fine-tuned encoder of
   ``seeds/topic_encoder.npz`` where its base weights are installed), each passage read as
   a one-item article (its first sentence as the title), with the model ``load_model()``
   gives;
2. ``linear``: the same without the encoder (as where its base weights are not installed);
3. the rules alone (``seeds/topic_rules.yaml``, as the pipeline ran them before the model);
4. a naive keyword tagger: a topic when the passage contains one of its words (for
   sanctions relief, a relief word and a sanctions word);

and the time spaCy and each tagger take per passage. ``--errors`` lists the pipeline
tagger's false positives and false negatives (hash and the first 100 characters);
``--errors linear``, ``--errors rules`` or ``--errors keywords`` another's. Run from the repository root::

    python -m bench.topic_accuracy [--split test|dev|train] [--errors [learned|linear|rules|keywords]]
        [--model FILE] [--encoder FILE|off]
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from bench.topic_corpus import corpus_path
from bench.topic_labels import DIGEST_FILE, LABELS_FILE
from newsmon.topic_labels import SPLITS, TOPICS, LabelsError, check_frozen, load, load_texts
from newsmon.topic_training import score

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
NAMES = ("learned", "linear", "rules", "keywords")
ROUNDS = {"rounds 1-2": (1, 2), "round 3": (3,), "round 4": (4,)}


def keyword_topics(text: str) -> set[str]:
    found = {topic for topic, pattern in KEYWORDS.items() if pattern.search(text)}
    if RELIEF_WORDS.search(text) and SANCTION_WORDS.search(text):
        found.add("sanctions_relief")
    return found


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
    parser.add_argument("--errors", nargs="?", const="learned", choices=NAMES,
                        help="list the errors of the pipeline's tagger (default), the rules or the keywords")
    parser.add_argument("--corpus", type=Path, default=None, help="default: $NEWSMON_CACHE/corpora/")
    parser.add_argument("--model", type=Path, default=None,
                        help="the learned model to score (default: the packaged seeds/topic_model.json.gz)")
    parser.add_argument("--encoder", default=None,
                        help="the encoder's adapter file, or `off` (default: the packaged "
                        "seeds/topic_encoder.npz)")
    args = parser.parse_args(argv)
    try:
        rows = load(LABELS_FILE)
        digest = check_frozen(rows, DIGEST_FILE)  # a changed test split is refused whichever split is scored
        rows = [row for row in rows if row["split"] == args.split]
        texts = load_texts(args.corpus or corpus_path(), (row["hash"] for row in rows))
    except LabelsError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    gold = {row["hash"]: row["labels"] for row in rows}
    labelled_in = {row["hash"]: row["round"] for row in rows}
    hashes = list(gold)

    from newsmon.analysis.nlp import load_model, model_id
    from newsmon.analysis.text import sentences_of
    from newsmon.analysis.topic_tagger import TopicTagger

    nlp, learned = load_model(), TopicTagger.load(model=args.model, encoder=args.encoder)
    linear = TopicTagger(rules=learned.rules, model=learned.model)
    rules_only = TopicTagger(rules=learned.rules)
    started = time.perf_counter()
    docs = nlp.pipe([texts[h] for h in hashes], batch_size=64)
    read = dict(zip(hashes, (sentences_of(doc) for doc in docs), strict=True))
    seconds = {"spaCy": time.perf_counter() - started}
    predicted = {}
    for name, tagger in (("learned", learned), ("linear", linear), ("rules", rules_only)):
        started = time.perf_counter()
        predicted[name] = {h: {tag.name for tag in tagger.tag(read[h])} & set(TOPICS) for h in hashes}
        seconds[name] = time.perf_counter() - started
    predicted["keywords"] = {h: keyword_topics(texts[h]) for h in hashes}

    print(f"split {args.split}: {len(gold)} passages (test digest {digest[:16]}, frozen)")
    print(f"learned: {learned.provenance}; spaCy {model_id(nlp)}")
    each = ", ".join(f"{name} {1000 * s / max(len(gold), 1):.2f} ms" for name, s in seconds.items())
    share = seconds["learned"] / seconds["spaCy"]
    print(f"per passage: {each}; the learned tagger costs {share:.1%} of spaCy's time\n")
    results = [(name, predicted[name]) for name in NAMES]
    print_table(results, gold)
    # Each labelling round's passages apart (round 3 is one Tehran daily above all, round 4 wire
    # reporting), so figures stay comparable with those measured before a round joined the split.
    for part, rounds in ROUNDS.items():
        subset = {h: labels for h, labels in gold.items() if labelled_in[h] in rounds}
        if subset and len(subset) < len(gold):
            print(f"\n{part}: {len(subset)} passages")
            print_table(results, subset)
    if args.errors:
        print_errors(predicted[args.errors], gold, texts, name=args.errors)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
