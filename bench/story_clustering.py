"""Score story grouping on real news labelled by story (``bench/story_corpus.py``).

Each part of the stream is replayed alone, in its order, through the core
(:func:`newsmon.analysis.stories.assign`, an in-memory store), and scored with B-cubed
precision, recall and F1 against the gold stories, next to baselines measured in the
same run:

- ``core: fixed IDF``: the pipeline's weighting, the packaged table
  (``seeds/story_idf.json.gz``, built by ``bench/story_idf.py`` from other news: nothing
  of this stream), at ``StoryConfig.threshold``;
- ``core: online IDF``: document frequencies learned from the stream as it arrives, at
  its own tuned threshold (``ONLINE_THRESHOLD``);
- ``core: fixed IDF, headline only``: the core given the headline alone, as many feeds carry;
- ``exact title``: articles with the same normalised headline form a story;
- ``near-duplicates``: the core with follow-ups switched off (MinHash/LSH only).

Reading: the lighter path, plain words (:func:`~newsmon.analysis.stories.profile_of_text`),
not spaCy: the source's texts are already lower-cased, stop-worded and lemmatised, so
spaCy could find no names in them and would only re-lemmatise (and the table's terms
are lower-cased lemmas, so they match). Entities and time play no part here.

    python -m bench.story_clustering [--part tune|test] [--stream FILE] [--grid [--idf fixed|online]]

Tune on ``tune`` (the default); ``test`` is for the one final report.

Chosen on ``tune``: with the fixed IDF the threshold 0.1 from 0.05/0.075/0.1/0.125/0.15/
0.2/0.25/0.3 (F1 0.836/0.851/0.887/0.882/0.879/0.849/0.795/0.740 with 8 lookup terms), then
12 article and 24 story lookup terms instead of 8 and 16 (F1 0.901; 16/32 and 20/48 gave
0.901 too; 100 story terms 0.888, 80 candidates 0.887: with too few lookup terms the right
story was never a candidate); with the online IDF 0.15 from 0.1/0.15/0.2/0.25/0.3. Figures
(one process, 2 shared cores), B-cubed P / R / F1, stories found vs gold:

==================================  ==========================  ==========================
method                              tune (8,016 items, 105)     test (3,093 items, 47)
==================================  ==========================  ==========================
core: fixed IDF (0.1)               0.905 / 0.896 / 0.901, 169  0.897 / 0.916 / 0.906, 77
core: online IDF (0.15)             0.942 / 0.813 / 0.873, 295  0.934 / 0.779 / 0.850, 160
core: fixed IDF, headline only      0.828 / 0.647 / 0.726, 281  0.857 / 0.629 / 0.726, 167
baseline: exact title               0.991 / 0.014 / 0.027       0.998 / 0.016 / 0.031
baseline: near-duplicates           0.990 / 0.013 / 0.026       0.997 / 0.015 / 0.030
==================================  ==========================  ==========================

The core runs at 290-410 articles/s here (MinHash included; spaCy not). Google News
snippets are short and lemmatised, so near-duplicates are rare in this set: it measures
follow-up grouping far more than syndication.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import time
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path

from newsmon.analysis import story_text
from newsmon.analysis.stories import InMemoryStoryStore, StoryConfig, assign, profile_of_text
from newsmon.analysis.story_idf import packaged_idf
from newsmon.settings import _default_cache

STREAM = _default_cache() / "corpora" / "story_stream.jsonl"
GRID = (0.05, 0.075, 0.1, 0.125, 0.15, 0.2, 0.25, 0.3)
ONLINE_THRESHOLD = 0.15  # the online IDF's own choice on ``tune`` (its weights run higher)


def bcubed(predicted: Sequence[str], gold: Sequence[str]) -> tuple[float, float, float]:
    """B-cubed precision, recall and F1 (Bagga & Baldwin 1998), averaged over items."""
    pairs = Counter(zip(predicted, gold, strict=True))
    by_predicted, by_gold = Counter(predicted), Counter(gold)
    precision = sum(n * n / by_predicted[p] for (p, _), n in pairs.items()) / len(gold)
    recall = sum(n * n / by_gold[g] for (_, g), n in pairs.items()) / len(gold)
    return precision, recall, 2 * precision * recall / (precision + recall)


def run_core(rows: list[dict], config: StoryConfig, *, headline_only: bool = False,
             idf: Callable[[str], float] | None = None) -> list[str]:
    """Labels from the core; ``idf`` fixed (the packaged table), or learned online when None."""
    store, frequencies = InMemoryStoryStore(config), story_text.DocumentFrequencies()
    labels = []
    for row in rows:
        body = "" if headline_only else row["body"]
        if idf is None:
            frequencies.add(story_text.content_words(story_text.words(f"{row['title']}\n{body}")))
        profile = profile_of_text(row["id"], row["title"], body, source=row["source"],
                                  published_at=datetime.fromisoformat(row["published_at"]),
                                  idf=idf or frequencies.idf, config=config)
        labels.append(assign(profile, store, config).story.story_id)
    return labels


def exact_title(rows: list[dict]) -> list[str]:
    return [" ".join(story_text.words(row["title"])) for row in rows]


def measure(name: str, rows: list[dict], method: Callable[[list[dict]], list[str]]) -> dict:
    started = time.perf_counter()
    predicted = method(rows)
    elapsed = time.perf_counter() - started
    precision, recall, f1 = bcubed(predicted, [row["cluster"] for row in rows])
    return {"method": name, "precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4),
            "stories": len(set(predicted)), "gold": len({row["cluster"] for row in rows}),
            "articles_per_s": round(len(rows) / elapsed) if elapsed else None}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stream", type=Path, default=STREAM)
    parser.add_argument("--part", choices=("tune", "test"), default="tune")
    parser.add_argument("--grid", action="store_true", help="try thresholds and term counts (tune part only)")
    parser.add_argument("--idf", choices=("fixed", "online"), default="fixed",
                        help="the IDF --grid tunes with")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    rows = [json.loads(line) for line in args.stream.read_text().splitlines() if line.strip()]
    rows = [row for row in rows if row["part"] == args.part]
    config = StoryConfig()
    fixed = packaged_idf()
    if args.grid:
        if args.part != "tune":
            parser.error("--grid tunes: only on the tune part")
        idf = fixed if args.idf == "fixed" else None
        for threshold, terms in itertools.product(GRID, (30,)):
            tried = dataclasses.replace(config, threshold=threshold, article_terms=terms)
            result = measure(f"idf={args.idf} threshold={threshold} article_terms={terms}", rows,
                             lambda r, c=tried: run_core(r, c, idf=idf))
            print(json.dumps(result), flush=True)
        return 0
    no_follow_ups = dataclasses.replace(config, threshold=float("inf"))
    online = dataclasses.replace(config, threshold=ONLINE_THRESHOLD)
    results = [
        measure(f"core: fixed IDF ({config.threshold})", rows, lambda r: run_core(r, config, idf=fixed)),
        measure(f"core: online IDF ({online.threshold})", rows, lambda r: run_core(r, online)),
        measure("core: fixed IDF, headline only", rows,
                lambda r: run_core(r, config, headline_only=True, idf=fixed)),
        measure("baseline: exact title", rows, exact_title),
        measure("baseline: near-duplicates only", rows, lambda r: run_core(r, no_follow_ups)),
    ]
    if args.json:
        print(json.dumps({"part": args.part, "articles": len(rows), "results": results}, indent=2))
        return 0
    print(f"part {args.part}: {len(rows)} articles, {results[0]['gold']} gold stories")
    print(f"{'method':34} {'B3 P':>6} {'B3 R':>6} {'B3 F1':>6} {'stories':>8} {'art/s':>7}")
    for result in results:
        print(f"{result['method']:34} {result['precision']:6.3f} {result['recall']:6.3f} {result['f1']:6.3f} "
              f"{result['stories']:8d} {result['articles_per_s'] or 0:7d}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
