"""The labelled topic corpus: labels by passage hash, their train/dev/test split, the frozen
test digest, and the passages' texts kept outside the repository.

``bench/topic_labels.jsonl`` holds one row per passage of the corpus that
``bench/topic_corpus.py`` builds: ``{"hash", "source", "round", "labels": {topic: bool}, "split"}``,
keyed by the sha256 of the normalised passage (``round``, the labelling round, is for
reports; a labels file of one's own may leave it out). Labels follow ``docs/topics.md``.
``bench/topic_labels.test.sha256`` freezes the test split: the digest of its sorted hashes
and labels (:func:`digest_of_test_split`). Nothing may tune on the test rows; scoring refuses them
when the digest differs. The texts are in ``$NEWSMON_CACHE/corpora/topic_corpus.jsonl``.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path

TOPICS = ("prisoner_release", "sanctions_relief", "diplomatic_move")
SPLITS = ("train", "dev", "test")
LABELS_FILE = Path("bench/topic_labels.jsonl")
DIGEST_FILE = Path("bench/topic_labels.test.sha256")
CORPUS_FILE = Path("corpora/topic_corpus.jsonl")  # under the cache folder
POOL_FILE = Path("corpora/topic_pool.jsonl")  # the unlabelled pool's texts, under the cache folder too
# Of every five passages with the same label set (ordered by a seeded hash): three train,
# one dev, one test; so each split keeps the label mix (stratified 60/20/20).
SPLIT_PATTERN = ("train", "train", "train", "dev", "test")
# Rounds labelled after the test split was frozen (the fifth on) go to train and dev alone, 75/25.
TRAIN_DEV_PATTERN = ("train", "train", "train", "dev")
SPLIT_SEED = "newsmon-topics-1"
BUILD_HINT = ("build it with: python -m bench.topic_corpus --source DIR "
              "(DIR holds the datasets; bench/topic_corpus.py's docstring says where to get each)")
POOL_HINT = "build it with: python -m bench.topic_pool --source DIR (the folder bench.topic_corpus reads)"


class LabelsError(Exception):
    """The labels, the frozen digest or the cached texts are not as expected."""


def assign_splits(labels: Mapping[str, Mapping[str, bool]],
                  pattern: tuple[str, ...] = SPLIT_PATTERN) -> dict[str, str]:
    """Split hashes stratified by label set, in ``pattern``'s shares; the same labels always
    give the same split.
    """
    strata: dict[tuple[bool, ...], list[str]] = {}
    for key, row in labels.items():
        strata.setdefault(tuple(bool(row[t]) for t in TOPICS), []).append(key)
    splits: dict[str, str] = {}
    for keys in strata.values():
        keys.sort(key=lambda k: hashlib.sha256(f"{SPLIT_SEED}:{k}".encode()).hexdigest())
        for index, key in enumerate(keys):
            splits[key] = pattern[index % len(pattern)]
    return splits


def load(path: Path = LABELS_FILE) -> list[dict]:
    if not path.exists():
        msg = f"no labels at {path} (run from the repository root, or name the file)"
        raise LabelsError(msg)
    rows = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            row = json.loads(line)
            if (set(row["labels"]) != set(TOPICS) or row["split"] not in SPLITS
                    or not isinstance(row.get("round", 1), int)):
                msg = (f"{path}:{number}: labels must name exactly {', '.join(TOPICS)}, split one of "
                       f"{SPLITS}, and round (optional) the labelling round as a whole number")
                raise LabelsError(msg)
            rows.append(row)
    return rows


def digest_of_test_split(rows: Iterable[Mapping]) -> str:
    """sha256 over the test rows, sorted by hash: ``<hash> <0|1 per topic in TOPICS order>`` lines."""
    lines = sorted(f"{row['hash']} {''.join(str(int(row['labels'][t])) for t in TOPICS)}"
                   for row in rows if row["split"] == "test")
    return hashlib.sha256(("\n".join(lines) + "\n").encode()).hexdigest()


def check_frozen(rows: Iterable[Mapping], digest_file: Path = DIGEST_FILE) -> str:
    """The test digest, after checking it against the frozen one; :class:`LabelsError` if it differs."""
    digest = digest_of_test_split(rows)
    if not digest_file.exists():
        msg = f"no frozen test digest at {digest_file}: run python -m bench.topic_labels --freeze first"
        raise LabelsError(msg)
    frozen = digest_file.read_text(encoding="utf-8").split()[0]
    if digest != frozen:
        msg = (f"the test split changed: its digest is {digest}, {digest_file} froze {frozen}. "
               "Test rows and their labels may not change once frozen")
        raise LabelsError(msg)
    return digest


def counts(rows: Iterable[Mapping]) -> Counter[tuple[str, str]]:
    result: Counter[tuple[str, str]] = Counter()
    for row in rows:
        result[("passages", row["split"])] += 1
        for topic in TOPICS:
            result[(topic, row["split"])] += int(row["labels"][topic])
    return result


def load_pool(path: Path) -> list[dict]:
    """The distillation pool's soft labels (``bench/topic_pool_labels.jsonl``, written by
    ``bench/topic_larger_encoder.py --label-pool``) as rows of split ``pool`` whose labels are
    the teacher's probabilities.
    """
    if not path.exists():
        msg = f"no pool labels at {path}"
        raise LabelsError(msg)
    rows = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            row = json.loads(line)
            scores = row.get("scores", {})
            if set(scores) != set(TOPICS) or not all(0.0 <= scores[t] <= 1.0 for t in TOPICS):
                msg = f"{path}:{number}: scores must give each of {', '.join(TOPICS)} a probability"
                raise LabelsError(msg)
            rows.append({"hash": row["hash"], "source": row["source"], "split": "pool", "labels": scores})
    return rows


def load_texts(path: Path, hashes: Iterable[str], hint: str = BUILD_HINT) -> dict[str, str]:
    """The cached text of each wanted hash; :class:`LabelsError` names the command to build it."""
    if not path.exists():
        msg = f"no passages at {path}: {hint}"
        raise LabelsError(msg)
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
               f"a dataset is missing or differs; {hint}")
        raise LabelsError(msg)
    return texts
