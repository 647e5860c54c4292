"""The labels of the topic-accuracy corpus, their train/dev/test split and the frozen test digest.

``bench/topic_labels.jsonl`` holds one row per passage of the corpus that
``bench/topic_corpus.py`` builds: ``{"hash", "source", "labels": {topic: bool}, "split"}``,
keyed by the sha256 of the normalised passage (the text itself stays outside the
repository). Labels follow ``docs/topics.md``. ``bench/topic_labels.test.sha256`` freezes
the test split: the digest of its sorted hashes and labels (:func:`test_digest`). Nothing
may tune on the test rows; the scorer refuses to score them when the digest differs.

    python -m bench.topic_labels            # counts per topic and split, and the digest check
    python -m bench.topic_labels --freeze   # write the digest (refused if one exists and differs)
"""

from __future__ import annotations

import argparse
import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path

TOPICS = ("prisoner_release", "sanctions_relief", "diplomatic_move")
SPLITS = ("train", "dev", "test")
HERE = Path(__file__).resolve().parent
LABELS_FILE = HERE / "topic_labels.jsonl"
DIGEST_FILE = HERE / "topic_labels.test.sha256"
# Of every five passages with the same label set (ordered by a seeded hash): three train,
# one dev, one test; so each split keeps the label mix (stratified 60/20/20).
SPLIT_PATTERN = ("train", "train", "train", "dev", "test")
SPLIT_SEED = "newsmon-topics-1"


class LabelsError(Exception):
    """The labels file or the frozen digest is not as expected."""


def assign_splits(labels: Mapping[str, Mapping[str, bool]]) -> dict[str, str]:
    """Split hashes stratified by label set; the same labels always give the same split."""
    strata: dict[tuple[bool, ...], list[str]] = {}
    for key, row in labels.items():
        strata.setdefault(tuple(bool(row[t]) for t in TOPICS), []).append(key)
    splits: dict[str, str] = {}
    for keys in strata.values():
        keys.sort(key=lambda k: hashlib.sha256(f"{SPLIT_SEED}:{k}".encode()).hexdigest())
        for index, key in enumerate(keys):
            splits[key] = SPLIT_PATTERN[index % len(SPLIT_PATTERN)]
    return splits


def load(path: Path = LABELS_FILE) -> list[dict]:
    rows = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            row = json.loads(line)
            if set(row["labels"]) != set(TOPICS) or row["split"] not in SPLITS:
                msg = (f"{path}:{number}: labels must name exactly {', '.join(TOPICS)}"
                       f" and split one of {SPLITS}")
                raise LabelsError(msg)
            rows.append(row)
    return rows


def test_digest(rows: Iterable[Mapping]) -> str:
    """sha256 over the test rows, sorted by hash: ``<hash> <0|1 per topic in TOPICS order>`` lines."""
    lines = sorted(f"{row['hash']} {''.join(str(int(row['labels'][t])) for t in TOPICS)}"
                   for row in rows if row["split"] == "test")
    return hashlib.sha256(("\n".join(lines) + "\n").encode()).hexdigest()


def check_frozen(rows: Iterable[Mapping], digest_file: Path = DIGEST_FILE) -> str:
    """The test digest, after checking it against the frozen one; :class:`LabelsError` if it differs."""
    digest = test_digest(rows)
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--freeze", action="store_true", help="write the test digest")
    args = parser.parse_args(argv)
    rows = load()
    table = counts(rows)
    print(f"{'':18}" + "".join(f"{s:>8}" for s in (*SPLITS, "all")))
    for name in ("passages", *TOPICS):
        values = [table[(name, s)] for s in SPLITS]
        print(f"{name:18}" + "".join(f"{v:8}" for v in (*values, sum(values))))
    digest = test_digest(rows)
    if args.freeze:
        if DIGEST_FILE.exists() and DIGEST_FILE.read_text(encoding="utf-8").split()[0] != digest:
            print(f"refused: {DIGEST_FILE} already freezes another test split")
            return 1
        DIGEST_FILE.write_text(f"{digest}  test rows of {LABELS_FILE.name}\n", encoding="utf-8")
        print(f"froze the test split: {digest}")
        return 0
    check_frozen(rows)
    print(f"test split matches the frozen digest {digest}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
