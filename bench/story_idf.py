"""Build the fixed IDF table of story grouping (``seeds/story_idf.json.gz``) from real news.

Story grouping weighs an article's terms by an inverse document frequency. In the
pipeline the IDF must not depend on what a worker happened to see, so it is a fixed
table shipped with the package: how many documents of a news collection contain each
content lemma. Only these counts are committed; the texts stay outside the repository,
under ``$NEWSMON_CACHE/sources/`` (as root ``/var/cache/newsmon/sources/``).

Sources (the copies ``bench/topic_corpus.py`` documents, with their provenance and
licences), read from ``--source DIR``; a missing folder is skipped and said so. A
document is one article, headline plus body, the way the pipeline reads one:

``bbc/<category>/NNN.txt``
    BBC News dataset (Greene & Cunningham 2006): 2,225 articles of 2004-2005.
``reuters21578/reut2-0NN.sgm``
    Reuters-21578 (1987 newswire): every story with a body, its title as the headline.
``isot_bodies/*.csv``
    Reuters articles of 2016-2017 from the ISOT Fake News Dataset's real-news half
    (samples; a headline seen twice is counted once).
``ag_news/test.csv``
    AG's News test split (2004-2005): title and description, 7,600 items.
``bbc_rss/Combined_News_DJIA.csv``
    BBC News RSS items of 2022-2024: title and description.
``isot_titles/True.csv``, ``reuters_2016/reuters_headlines.csv``, ``fwd_news/headlines.json``
    Headlines alone (Reuters 2016-2017, Reuters 2016, news subreddits 2022), as
    headline-only feeds deliver them; a headline already counted with its article is
    skipped.

Not read: ``gsdmm_news``, the story-clustering benchmark's own stream (its test part
must not inform anything tuned), nor ``corpora/topic_corpus.jsonl`` (sentences of the
sources above, already counted).

Terms are what :func:`newsmon.analysis.stories.profile_of` compares: spaCy's lower-cased
lemmas of content words (nouns, proper nouns, verbs, adjectives; stop words and
one-letter lemmas out) of the headline and of the lead (the first ``LEAD_WORDS`` content
lemmas), read by the same model with its parser and recogniser off (they do not change
parts of speech or lemmas). Kept: terms in at least ``MIN_DF`` documents. Run from the
repository root (a few minutes on one core)::

    python -m bench.story_idf [--source DIR] [--out seeds/story_idf.json.gz]
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import re
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from bench.topic_corpus import DATELINE, REUTERS_DOC, normalise
from newsmon.analysis import story_text
from newsmon.analysis.nlp import load_model
from newsmon.analysis.story_idf import FORMAT, IDF_FILE
from newsmon.analysis.text import sentences_of
from newsmon.settings import _default_cache

MIN_DF = 2
MAX_CHARS = 1200  # the lead's first paragraphs: what follow-ups share; keeps the build to minutes
OUT = Path(__file__).resolve().parents[1] / "seeds" / IDF_FILE

Document = tuple[str, str]  # headline, body


def _bbc(folder: Path) -> Iterator[Document]:
    for path in sorted(folder.glob("*/*.txt")):
        head, _, body = path.read_text(encoding="latin-1").partition("\n")
        yield head, body


def _reuters(folder: Path) -> Iterator[Document]:
    for path in sorted(folder.glob("reut2-*.sgm")):
        for match in REUTERS_DOC.finditer(path.read_bytes().decode("latin-1")):
            doc = match.group(2)
            body = re.search(r"<BODY>(.*?)</BODY>", doc, re.DOTALL)
            if body is None:
                continue
            title = re.search(r"<TITLE>(.*?)</TITLE>", doc, re.DOTALL)
            text = re.sub(r"\s*Reuter\s*&#3;\s*$", "", body.group(1))
            yield (title.group(1) if title else ""), text


def _isot_bodies(folder: Path) -> Iterator[Document]:
    csv.field_size_limit(10_000_000)
    for path in sorted(folder.glob("*.csv")):
        with path.open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                yield row["title"], DATELINE.sub("", row["text"].strip())


def _ag_news(folder: Path) -> Iterator[Document]:
    with (folder / "test.csv").open(encoding="utf-8", newline="") as handle:
        for row in csv.reader(handle):
            title, description = (re.sub(r"(?<!&)#(\d+);", r"&#\1;", part.replace("\\", " "))
                                  for part in row[1:])
            yield re.sub(r"\s*\([A-Za-z .]+\)$", "", title.strip()), description


def _bbc_rss(folder: Path) -> Iterator[Document]:
    with (folder / "Combined_News_DJIA.csv").open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            yield row["title"], row["description"]


def _isot_titles(folder: Path) -> Iterator[Document]:
    with (folder / "True.csv").open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        column = "title" if "title" in (reader.fieldnames or ()) else "text"
        for row in reader:
            yield row[column], ""


def _reuters_2016(folder: Path) -> Iterator[Document]:
    with (folder / "reuters_headlines.csv").open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            yield re.sub(r"[\s:-]+$", "", row["text"].strip()), ""


def _fwd_news(folder: Path) -> Iterator[Document]:
    for item in json.loads((folder / "headlines.json").read_text(encoding="utf-8")):
        yield re.sub(r"\s+[|–—-]\s+[A-Z][\w .&']{1,40}$", "", item["title"].strip()), ""


# Articles first, so a headline met again alone is recognised and skipped.
READERS = {"bbc": _bbc, "reuters21578": _reuters, "isot_bodies": _isot_bodies, "ag_news": _ag_news,
           "bbc_rss": _bbc_rss, "isot_titles": _isot_titles, "reuters_2016": _reuters_2016,
           "fwd_news": _fwd_news}


def documents(source_dir: Path, counts: Counter[str]) -> Iterator[Document]:
    seen: set[str] = set()
    for name, reader in READERS.items():
        folder = source_dir / name
        if not folder.is_dir():
            print(f"skipped {name}: no folder {folder}", file=sys.stderr)
            continue
        for title, body in reader(folder):
            title, body = normalise(title), body.strip()
            key = title.lower()
            if not title or key in seen:
                continue
            seen.add(key)
            counts[name] += 1
            yield title, body[:MAX_CHARS]


def terms_of(doc) -> set[str]:
    """The document's terms as ``profile_of`` finds them (the headline ends at the first blank line)."""
    title_end = doc.text.find("\n\n")
    title_end = len(doc.text) if title_end < 0 else title_end
    title, lead = story_text.lemmas_of(sentences_of(doc), title_end=title_end)
    return set(title) | set(lead)


def build(source_dir: Path) -> dict:
    nlp = load_model(disable=("parser", "ner"))
    nlp.add_pipe("sentencizer")  # sentences_of needs boundaries; they do not change the lemmas
    counts: Counter[str] = Counter()
    frequencies: Counter[str] = Counter()
    total, started = 0, time.monotonic()
    texts = (f"{title}\n\n{body}" if body else title for title, body in documents(source_dir, counts))
    for doc in nlp.pipe(texts, batch_size=256):
        frequencies.update(terms_of(doc))
        total += 1
        if total % 5000 == 0:
            print(f"{total} documents, {time.monotonic() - started:.0f}s", file=sys.stderr, flush=True)
    df = {term: n for term, n in sorted(frequencies.items()) if n >= MIN_DF}
    return {"format": FORMAT, "documents": total, "min_df": MIN_DF, "sources": dict(counts), "df": df}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", type=Path, default=_default_cache() / "sources")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    table = build(args.source)
    data = json.dumps(table, ensure_ascii=False, separators=(",", ":")).encode()
    args.out.write_bytes(gzip.compress(data, compresslevel=9, mtime=0))
    print(f"{args.out}: {table['documents']} documents, {len(table['df'])} terms "
          f"(df >= {MIN_DF}), {args.out.stat().st_size} bytes; {table['sources']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
