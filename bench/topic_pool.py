"""Build the unlabelled pool the topic encoder learns from by distillation.

A larger encoder, fine-tuned on the train split (``bench/topic_larger_encoder.py --label-pool``),
scores these passages; the packaged MiniLM encoder then learns from those scores beside the
gold labels (``newsmon topics train-encoder --pool``), so it takes in some of what the larger
one learned at none of its run-time cost.

The pool is drawn from the corpus sources (``bench/topic_corpus.py``), by the same pre-filter
groups, with a seeded sample per group (``CAPS``): most passages of each source are far from
every topic, and a pool of those would teach little. Left out: every labelled passage (up to
case and punctuation), and any passage sharing 80% of its words with a test passage, so the
test split stays unseen. The texts go to ``$NEWSMON_CACHE/corpora/topic_pool.jsonl``
(``{"hash", "source", "group", "text"}``), outside the repository like the corpus's::

    python -m bench.topic_pool --source DIR
"""

from __future__ import annotations

import argparse
import random
import re
import sys
from pathlib import Path

from bench import topic_corpus as corpus
from bench.topic_labels import LABELS_FILE
from newsmon.topic_labels import POOL_FILE, load, load_texts

CAPS = {"sanctions_relief": 2000, "prisoner_release": 2000, "diplomatic_move": 2500, "hard_negative": 1000,
        "other": 500}
SEED = 7
READERS = {**corpus.READERS, **corpus.NEW_READERS, **corpus.V3_READERS, **corpus.V6_READERS}


def pool_path(cache: Path | None = None) -> Path:
    return corpus.corpus_path(cache).with_name(POOL_FILE.name)


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z0-9]+", text.lower()))


def build(source_dir: Path, rows: list[dict], texts: dict[str, str], *, seed: int = SEED) -> list[dict]:
    """The pool: per group, a seeded sample of the sources' unlabelled passages."""
    labelled = {corpus.near_key(text) for text in texts.values()}
    test_words = [words for row in rows if row["split"] == "test" if (words := _words(texts[row["hash"]]))]
    groups: dict[str, list[tuple[str, str]]] = {}
    seen: set[str] = set()
    for name, reader in READERS.items():
        if not (source_dir / name).is_dir():
            print(f"{name}: no folder under {source_dir}, skipped", file=sys.stderr)
            continue
        for passage in reader(source_dir / name):
            key = corpus.near_key(passage.text)
            if not corpus.usable(passage.text) or key in labelled or key in seen:
                continue
            seen.add(key)
            groups.setdefault(corpus.group(passage.text), []).append((name, passage.text))
    rng, pool = random.Random(seed), []
    for name, cap in CAPS.items():
        members = groups.get(name, [])
        rng.shuffle(members)
        taken = 0
        for source, text in members:
            if taken >= cap:
                break
            words = _words(text)
            if any(len(words & test) >= 0.8 * min(len(words), len(test)) for test in test_words):
                continue
            pool.append({"hash": corpus.text_hash(text), "source": source, "group": name, "text": text})
            taken += 1
        print(f"{name}: {taken:,} of {len(members):,}", file=sys.stderr)
    return pool


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", type=Path, required=True, help="folder holding the dataset folders")
    parser.add_argument("--out", type=Path, default=None, help=f"default: $NEWSMON_CACHE/{POOL_FILE}")
    args = parser.parse_args(argv)
    rows = load(LABELS_FILE)
    texts = load_texts(corpus.corpus_path(), (row["hash"] for row in rows))
    pool = build(args.source, rows, texts)
    out = args.out or pool_path()
    corpus.write_rows(out, pool)
    print(f"wrote {len(pool):,} passages to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
