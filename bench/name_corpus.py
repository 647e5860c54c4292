"""Build the name-matching corpus: real news excerpts that name (or nearly name) watched people.

The texts stay outside the repository, under ``$NEWSMON_CACHE/corpora/name_corpus.jsonl``;
the repository keeps this script, the watch list (:data:`WATCH`), the labels keyed by the
sha256 of each normalised excerpt (``bench/name_labels.jsonl``) and the scorer
(``bench/name_accuracy.py``). The sources are those of ``bench/topic_corpus.py`` (same
folders under ``--source``, same readers; see its docstring for where each copy comes from).

An excerpt is one headline-only item, or for an article (BBC, Reuters bodies) its headline,
its first sentence and the sentence before the one selected, then that sentence: the
lede is where wire copy names a person in full, the later sentence where it uses the surname
alone. Selection, seeded and deterministic:

``typo``
    every excerpt with a watched given name before a word one edit (a letter added, left
    out or replaced, or two neighbours swapped) from its surname, or such a word before the
    surname ("Lindsay Graham", "Chuck Shumer", "John Terry"), at most :data:`PER_WORD` per
    pair; and every excerpt with a capitalised word one edit from a word of five letters or
    more of a watched name, rare in the sources (in at most :data:`RARE` documents), not a
    watched word itself nor that word with an "s", in an article that also holds another
    word of that person's name ("Preibus", "Junker"), at most :data:`PER_WORD` per word.
``near``, ``word``
    samples of the other excerpts with such a rare word (the first of each word): a name
    ("Kerrey", "Jucker", "Hailey") or an English word, written in lower case somewhere in the
    sources ("Surgeon", "Garage"): false friends, mostly.
``surname``
    a sample of excerpts with a watched surname that no other word of a watched name
    precedes, and without that person's given name ("Tillerson said", "Mueller probe").
``full``, ``nobody``
    samples of excerpts that name a watched person in full, and of article ends naming none.

Run from the repository root::

    python -m bench.name_corpus --source DIR [--seed 13] [--out FILE]
"""

from __future__ import annotations

import argparse
import random
import re
import sys
from collections import Counter, defaultdict
from pathlib import Path

from rapidfuzz.distance import OSA

from bench.topic_corpus import NEW_READERS, READERS, normalise, text_hash, usable, write_rows
from newsmon.settings import _default_cache

CORPUS_FILE = "name_corpus.jsonl"
SEED = 13
RARE = 8  # a misspelling is rare: at most this many documents of all sources hold the word
PER_WORD = 2
SAMPLES = {"near": 50, "word": 10, "surname": 45, "full": 20, "nobody": 15}
ARTICLES = {"bbc", "isot_bodies", "reuters21578"}  # sources whose passages are sentences of one article
# The people an analyst of world politics in 2004-2024 might watch, many of them named in
# the sources; the scorer builds its watch list from these names alone.
WATCH = (
    "Donald Trump", "Hillary Clinton", "Barack Obama", "Vladimir Putin", "Angela Merkel", "Theresa May",
    "Emmanuel Macron", "Recep Tayyip Erdogan", "Kim Jong Un", "Xi Jinping", "Benjamin Netanyahu",
    "Tony Blair", "Gordon Brown", "George W. Bush", "Boris Johnson", "Rex Tillerson", "Mitch McConnell",
    "Paul Ryan", "Bernie Sanders", "Robert Mueller", "Jeff Sessions", "James Comey", "Michael Flynn",
    "Rodrigo Duterte", "Bashar al-Assad", "Hassan Rouhani", "Jacob Zuma", "Mahmoud Abbas",
    "Nicolas Maduro", "Volodymyr Zelensky", "Alexander Lukashenko", "Jeremy Corbyn", "Michael Howard",
    "Charles Kennedy", "Mariano Rajoy", "Carles Puigdemont", "Shinzo Abe", "Justin Trudeau", "Mike Pence",
    "Paul Manafort", "Ted Cruz", "Elon Musk", "Nancy Pelosi", "Chuck Schumer", "Jared Kushner",
    "Steve Bannon", "Steven Mnuchin", "Marco Rubio", "Mitt Romney", "Joe Biden", "John Kerry", "Roy Moore",
    "Sergei Lavrov", "Enrique Pena Nieto", "Nikki Haley", "Kellyanne Conway", "Sean Spicer",
    "Reince Priebus", "Jim Mattis", "Kamala Harris", "Alexei Navalny", "Lindsey Graham", "Elizabeth Warren",
    "Ben Carson", "Betsy DeVos", "Scott Pruitt", "Jens Stoltenberg", "Jean-Claude Juncker",
    "Michel Barnier", "Donald Tusk", "Nigel Farage", "Michael Gove", "Nicola Sturgeon", "Tim Kaine",
    "John McCain", "Jeb Bush", "Anthony Scaramucci", "Rand Paul", "Susan Collins", "Lisa Murkowski",
    "Bob Corker", "Jeff Flake", "Adam Schiff", "Devin Nunes", "David Blunkett", "Jack Straw",
    "Charles Clarke", "Robert Kilroy-Silk", "Wilbur Ross", "Bill Clinton",
)
WORD = re.compile(r"\b[A-Z][a-z]+(?:-[A-Z][a-z]+)?\b")
PAIR = re.compile(r"\b([A-Z][a-z]+) ([A-Z][A-Za-z]+)\b")


def corpus_path(cache: Path | None = None) -> Path:
    """Where the corpus is kept: ``$NEWSMON_CACHE/corpora/name_corpus.jsonl``."""
    import os
    root = cache or Path(os.environ.get("NEWSMON_CACHE") or _default_cache())
    return root / "corpora" / CORPUS_FILE


def documents(source_dir: Path) -> dict[str, list[str]]:
    """Every document of the sources as its passages (normalised), in reading order."""
    found: dict[str, list[str]] = {}
    for name, reader in {**READERS, **NEW_READERS}.items():
        folder = source_dir / name
        if not folder.is_dir():
            print(f"skipped {name}: no folder {folder} (see bench/topic_corpus.py)", file=sys.stderr)
            continue
        for passage in reader(folder):
            key = passage.source.rsplit("#", 1)[0] if name in ARTICLES else passage.source
            found.setdefault(key, []).append(normalise(passage.text))
    return found


def excerpt(passages: list[str], index: int) -> str:
    """The headline, the first sentence, the sentence before ``index``, and that one."""
    if len(passages) == 1:
        return passages[0]
    head = passages[0].rstrip()
    chosen = sorted({1, index - 1, index} - {0} if index > 0 else {1})
    body = " ".join(passages[i] for i in chosen if 0 < i < len(passages))
    return f"{head}\n\n{body}" if head and body else head or body


def build(source_dir: Path, *, seed: int = SEED) -> tuple[list[dict[str, str]], Counter[str]]:
    docs = documents(source_dir)
    spread: Counter[str] = Counter()
    lower: set[str] = set()  # the words written in lower case somewhere: common words
    for passages in docs.values():
        whole = " ".join(passages)
        spread.update(set(WORD.findall(whole)))
        lower.update(re.findall(r"\b[a-z]+\b", whole))
    people = [name.replace("-", " ").split() for name in WATCH]
    watched = {word for words in people for word in words if word[:1].isupper()}
    near: dict[str, set[str]] = defaultdict(set)  # rare word -> watched words one edit away
    for word in spread:
        if spread[word] > RARE or word in watched or word[:-1] in watched:
            continue
        for target in watched:
            if len(target) >= 5 and abs(len(word) - len(target)) <= 1 and OSA.distance(word, target) <= 1:
                near[word].add(target)
    surnames = {words[-1]: words[:-1] for words in people}
    full_names = [(words[0], words[-1]) for words in people if len(words) > 1]
    partners: dict[str, set[str]] = defaultdict(set)  # a watched word -> the other words of its names
    for words in people:
        for word in words:
            partners[word].update(other for other in words if other != word and len(other) >= 3)
    rows: dict[str, dict[str, str]] = {}
    counts: Counter[str] = Counter()
    per_word: Counter[str] = Counter()
    pools: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for key in sorted(docs):
        passages = docs[key]
        for index, passage in enumerate(passages):
            if not usable(passage) and len(passages) == 1:
                continue
            words = WORD.findall(passage)
            for given, surname in PAIR.findall(passage):
                pair = f"{given} {surname}"
                if per_word[pair] < PER_WORD and any(
                        (given == first and surname != last and OSA.distance(surname, last) == 1)
                        or (surname == last and given != first and len(first) >= 4
                            and OSA.distance(given, first) == 1) for first, last in full_names):
                    per_word[pair] += 1
                    _keep(rows, excerpt(passages, index), key, "typo", counts)
            typos = [word for word in words if word in near]
            if typos:
                text = excerpt(passages, index)
                whole = " ".join(passages)
                for word in typos:
                    if per_word[word] >= PER_WORD:
                        continue
                    per_word[word] += 1
                    # with the rest of the person's name in the article: a misspelling, or a
                    # close name next to the person's; otherwise a sample of false friends
                    if any(other in whole for target in near[word] for other in partners[target]):
                        _keep(rows, text, key, "typo", counts)
                    else:
                        pools["word" if word.lower() in lower else "near"].append((text, key))
                continue
            lone = [i for i, word in enumerate(words) if word in surnames
                    and (i == 0 or not (words[i - 1] in watched or words[i - 1] in surnames[word]))]
            text = excerpt(passages, index)
            if lone and not any(" ".join(surnames[words[i]]) in text for i in lone):
                pools["surname"].append((text, key))
            elif any(name in passage for name in WATCH):
                pools["full"].append((text, key))
            elif not (set(words) & watched) and index == len(passages) - 1:
                pools["nobody"].append((text, key))
    rng = random.Random(seed)
    for kind, size in SAMPLES.items():
        pool = pools[kind]
        for text, key in rng.sample(pool, min(size, len(pool))):
            _keep(rows, text, key, kind, counts)
    return sorted(rows.values(), key=lambda row: row["hash"]), counts


def _keep(rows: dict[str, dict[str, str]], text: str, source: str, kind: str, counts: Counter[str]) -> None:
    key = text_hash(text)
    if key not in rows:
        rows[key] = {"hash": key, "text": text, "source": source, "selected": kind}
        counts[kind] += 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", type=Path, required=True, help="folder holding the dataset folders")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--out", type=Path, default=None,
                        help=f"default: $NEWSMON_CACHE/corpora/{CORPUS_FILE}")
    args = parser.parse_args(argv)
    if not args.source.is_dir():
        parser.error(f"--source {args.source} is not a folder")
    rows, counts = build(args.source, seed=args.seed)
    out = args.out or corpus_path()
    write_rows(out, rows)
    for key, value in sorted(counts.items()):
        print(f"{key:10} {value:5}")
    print(f"wrote {len(rows)} excerpts to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
