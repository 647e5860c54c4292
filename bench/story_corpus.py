"""Build the story-clustering stream: real news items labelled with the story they belong to.

The texts stay outside the repository: sources under ``$NEWSMON_CACHE/sources/`` (as root
``/var/cache/newsmon/sources/``), the built stream at ``$NEWSMON_CACHE/corpora/story_stream.jsonl``.
The labels are in the source itself, so the repository keeps only this script, the hash
of the frozen test part (``bench/story_labels.test.sha256``) and the scorer
(``bench/story_clustering.py``).

Source, read from ``--source DIR``:

``gsdmm_news/T`` and ``gsdmm_news/TS``
    The "News" set of Yin & Wang, "A Dirichlet Multinomial Mixture Model-based Approach
    for Short Text Clustering" (KDD 2014): 11,109 Google News items gathered on
    27 November 2013, each labelled with the Google News story it was listed under
    (152 stories; the label is Google's grouping of articles about one event). ``T`` holds
    the headlines, ``TS`` the headline followed by the snippet, in the same order, one JSON
    object ``{"text": ..., "cluster": N}`` a line. The texts were preprocessed by the
    authors: lower-cased, stop words and numbers removed, words lemmatised. A copy:
    ``git clone https://github.com/jackyin12/GSDMM`` at commit
    1b344d9de28faee43ec0df0c3cf7ea57737fe14e, files ``data/T`` (775,753 bytes, sha256
    28388aef0bf780e90bbc5bcc022beb1d73836a9216bcd4598145ebc7ca1f618c) and ``data/TS``
    (2,547,497 bytes, sha256 19d0b3a177bf4a4e4bf06e4c1a0c7b2db4143144d713e884645e2c273ec8dbc5).
    No licence is stated with the copy; the headlines and snippets belong to their
    publishers and are used here for research evaluation only, never redistributed.

The source has no publication times. The items keep the file's order (it is not sorted
by story) and get 27 November 2013 plus 0.1 s per item, so time plays (almost) no part.

Split: by story, so no story is in both parts. A story is in the test part when the
sha256 of ``gsdmm-news:<cluster>`` is below 30% of the hash space (about 45 stories);
the test part was frozen (its hash written) before any threshold was tuned. Run from the
repository root::

    python -m bench.story_corpus [--source DIR] [--out FILE]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from newsmon.settings import _default_cache

STREAM_FILE = "story_stream.jsonl"
TEST_HASH_FILE = Path(__file__).with_name("story_labels.test.sha256")
TEST_SHARE = 0.3
CRAWLED = datetime(2013, 11, 27, tzinfo=UTC)


def part_of(cluster: str) -> str:
    digest = int(hashlib.sha256(f"gsdmm-news:{cluster}".encode()).hexdigest(), 16)
    return "test" if digest < TEST_SHARE * 2 ** 256 else "tune"


def read_gsdmm(folder: Path) -> list[dict]:
    titles = [json.loads(line) for line in (folder / "T").read_text().splitlines() if line.strip()]
    fulls = [json.loads(line) for line in (folder / "TS").read_text().splitlines() if line.strip()]
    if len(titles) != len(fulls):
        message = f"{folder}: T and TS differ in length ({len(titles)} vs {len(fulls)})"
        raise SystemExit(message)
    rows = []
    for index, (title, full) in enumerate(zip(titles, fulls, strict=True)):
        if title["cluster"] != full["cluster"]:
            message = f"{folder}: line {index + 1}: T and TS disagree on the story"
            raise SystemExit(message)
        head, text = title["text"].strip(), full["text"].strip()
        body = text[len(head):].strip() if text.startswith(head) else text
        cluster = str(full["cluster"])
        rows.append({"id": hashlib.sha256(f"{index}\n{text}".encode()).hexdigest()[:16],
                     "source": "gsdmm_news", "title": head, "body": body, "cluster": f"gsdmm:{cluster}",
                     "published_at": (CRAWLED + timedelta(milliseconds=100 * index)).isoformat(),
                     "part": part_of(cluster)})
    return rows


def test_hash(rows: list[dict]) -> str:
    """The sha256 of the test part: its rows' ids and stories, sorted."""
    lines = sorted(f"{row['id']}\t{row['cluster']}" for row in rows if row["part"] == "test")
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", type=Path, default=_default_cache() / "sources")
    parser.add_argument("--out", type=Path, default=_default_cache() / "corpora" / STREAM_FILE)
    args = parser.parse_args(argv)
    rows = read_gsdmm(args.source / "gsdmm_news")
    digest = test_hash(rows)
    if TEST_HASH_FILE.exists():
        frozen = TEST_HASH_FILE.read_text().split()[0]
        if frozen != digest:
            print(f"test part changed: {digest} != frozen {frozen}", file=sys.stderr)
            return 1
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("w") as out:
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    for part in ("tune", "test"):
        chosen = [row for row in rows if row["part"] == part]
        print(f"{part}: {len(chosen)} items, {len({row['cluster'] for row in chosen})} stories")
    print(f"test part sha256 {digest}\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
