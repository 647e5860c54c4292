"""The labels of the topic-accuracy corpus, their train/dev/test split and the frozen test digest.

``bench/topic_labels.jsonl`` holds one row per passage of the corpus that
``bench/topic_corpus.py`` builds: ``{"hash", "source", "round", "labels": {topic: bool}, "split"}``,
keyed by the sha256 of the normalised passage (the text itself stays outside the
repository). Labels follow ``docs/topics.md``. ``bench/topic_labels.test.sha256`` freezes
the test split: the digest of its sorted hashes and labels (:func:`digest_of_test_split`). Nothing
may tune on the test rows; the scorer refuses to score them when the digest differs.

    python -m bench.topic_labels            # counts per topic and split, and the digest check
    python -m bench.topic_labels --freeze   # write the digest (refused if one exists and differs)
"""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path

from newsmon.topic_labels import SPLITS, TOPICS, check_frozen, counts, digest_of_test_split, load

HERE = Path(__file__).resolve().parent
LABELS_FILE = HERE / "topic_labels.jsonl"
DIGEST_FILE = HERE / "topic_labels.test.sha256"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--freeze", action="store_true", help="write the test digest")
    args = parser.parse_args(argv)
    rows = load(LABELS_FILE)
    table = counts(rows)
    print(f"{'':18}" + "".join(f"{s:>8}" for s in (*SPLITS, "all")))
    for name in ("passages", *TOPICS):
        values = [table[(name, s)] for s in SPLITS]
        print(f"{name:18}" + "".join(f"{v:8}" for v in (*values, sum(values))))
    by_round = Counter(row.get("round") for row in rows)
    shown = ", ".join(f"{n}: {by_round[n]:,}" for n in sorted(by_round, key=str))
    print(f"passages by labelling round: {shown}")
    digest = digest_of_test_split(rows)
    if args.freeze:
        if DIGEST_FILE.exists() and DIGEST_FILE.read_text(encoding="utf-8").split()[0] != digest:
            print(f"refused: {DIGEST_FILE} already freezes another test split")
            return 1
        DIGEST_FILE.write_text(f"{digest}  test rows of {LABELS_FILE.name}\n", encoding="utf-8")
        print(f"froze the test split: {digest}")
        return 0
    check_frozen(rows, DIGEST_FILE)
    print(f"test split matches the frozen digest {digest}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
