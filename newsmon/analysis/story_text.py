"""What story grouping compares of an article: a MinHash signature of its wording and a
short weighted list of its terms.

Near-duplicates (one wire report under thirty mastheads, a reworded headline, different
boilerplate) share most word 5-grams of the normalised text, so the Jaccard similarity of
their shingle sets is high; a MinHash signature (``datasketch``) estimates it from 64 ints,
kept as a plain tuple so a store can hold it as JSON. LSH splits the signature into 16
bands of 4 rows: two texts share a band key with probability 1 - (1 - J^4)^16 (0.5 at
J = 0.5, 0.98 at J = 0.75, 0.06 at J = 0.25), so a store finds duplicate candidates by
exact band-key lookups (a dict here, a ``terms`` query in Elasticsearch).

Follow-ups reword everything, so they are compared by their terms instead: content lemmas
of the title and lead (spaCy's reading when there is one, plain words otherwise),
weighted by sublinear term frequency times an inverse document frequency.
"""

from __future__ import annotations

import hashlib
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence

from datasketch import MinHash

from newsmon.analysis.text import Sentence

NUM_PERM = 64
BANDS, ROWS = 16, 4  # NUM_PERM = BANDS * ROWS; collision probability 0.5 at Jaccard 0.5
SHINGLE_WORDS = 5
MINHASH_SEED = 13  # part of the stored format: signatures made with another seed do not compare
LEAD_WORDS = 250  # follow-ups share the who/what/where of the lead; later paragraphs wander
TITLE_WEIGHT = 2  # a title word counts as much as two lead words
CONTENT_POS = frozenset({"NOUN", "PROPN", "VERB", "ADJ"})

_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")
# Lines that are furniture, not reporting: they differ between outlets carrying one report.
_BOILERPLATE = re.compile(
    r"^\s*(?:(?:read|see) (?:more|also)\b.*|click here\b.*|advertisement|share (?:this|on)\b.*"
    r"|(?:copyright|©)\b.*|all rights reserved\.?|sign up\b.*|follow us\b.*|related:?.*)\s*$",
    re.IGNORECASE | re.MULTILINE)
_DATELINE = re.compile(r"^[A-Z][A-Za-z .,'-]{1,40}\((?:Reuters|AP|AFP|dpa)\)\s*[-—–]\s*", re.MULTILINE)

STOP_WORDS = frozenset("""
a about above after again against all also am an and any are as at be because been before being
below between both but by can could did do does doing down during each few for from further had
has have having he her here hers herself him himself his how i if in into is it its itself just
me more most my myself no nor not now of off on once only or other our ours ourselves out over
own same she should so some such than that the their theirs them themselves then there these
they this those through to too under until up very was we were what when where which while who
whom why will with would you your yours yourself yourselves said says say told new one two year
years mr mrs ms s t don won u according like get got make made may might must per via
""".split())


def words(text: str) -> list[str]:
    """The text's words, lower-cased, without punctuation, datelines or boilerplate lines."""
    text = unicodedata.normalize("NFKC", text)
    text = _BOILERPLATE.sub(" ", _DATELINE.sub("", text))
    return [word.replace("’", "'") for word in _WORD.findall(text.lower())]


def shingles(tokens: Sequence[str], size: int = SHINGLE_WORDS) -> set[str]:
    """Word n-grams; a text shorter than ``size`` words is one shingle."""
    if len(tokens) <= size:
        return {" ".join(tokens)} if tokens else set()
    return {" ".join(tokens[i:i + size]) for i in range(len(tokens) - size + 1)}


def signature(title: str, body: str = "") -> tuple[int, ...]:
    """The MinHash signature of the title and body's word 5-grams, as plain ints."""
    minhash = MinHash(num_perm=NUM_PERM, seed=MINHASH_SEED)
    minhash.update_batch([shingle.encode() for shingle in sorted(shingles(words(f"{title}\n{body}")))])
    return tuple(int(value) for value in minhash.hashvalues)


def band_keys(sig: Sequence[int]) -> tuple[str, ...]:
    """One key per LSH band: two signatures sharing a key are near-duplicate candidates."""
    keys = []
    for band in range(BANDS):
        rows = ",".join(str(value) for value in sig[band * ROWS:(band + 1) * ROWS])
        keys.append(f"{band:02d}{hashlib.blake2b(rows.encode(), digest_size=8).hexdigest()}")
    return tuple(keys)


def estimated_jaccard(a: Sequence[int], b: Sequence[int]) -> float:
    if not a or len(a) != len(b):
        return 0.0
    return sum(x == y for x, y in zip(a, b, strict=True)) / len(a)


def content_words(tokens: Iterable[str]) -> list[str]:
    return [token for token in tokens if len(token) > 1 and token not in STOP_WORDS and not token.isdigit()]


def lemmas_of(sentences: Sequence[Sentence], title_end: int, lead_words: int = LEAD_WORDS
              ) -> tuple[list[str], list[str]]:
    """Content lemmas of spaCy's reading: those of the title (before ``title_end``) and of the lead."""
    title, lead = [], []
    for sentence in sentences:
        for token in sentence.tokens:
            if token.pos not in CONTENT_POS:
                continue
            lemma = token.lemma.strip()
            if not _WORD.fullmatch(lemma) or len(lemma) < 2 or lemma in STOP_WORDS:
                continue
            if token.start < title_end:
                title.append(lemma)
            elif len(lead) < lead_words:
                lead.append(lemma)
    return title, lead


def term_counts(title_terms: Iterable[str], lead_terms: Iterable[str]) -> Counter[str]:
    counts: Counter[str] = Counter()
    for term in title_terms:
        counts[term] += TITLE_WEIGHT
    counts.update(lead_terms)
    return counts


def weigh(counts: Mapping[str, int], idf: Callable[[str], float], top: int) -> tuple[tuple[str, float], ...]:
    """The ``top`` terms by (1 + log tf) * idf, L2-normalised, heaviest first (ties by term)."""
    weights = {term: (1.0 + math.log(count)) * idf(term) for term, count in counts.items() if count > 0}
    norm = math.sqrt(sum(w * w for w in weights.values())) or 1.0
    ranked = sorted(weights.items(), key=lambda item: (-item[1], item[0]))[:top]
    return tuple((term, round(weight / norm, 6)) for term, weight in ranked)


def cosine(a: Mapping[str, float], b: Mapping[str, float]) -> float:
    if len(a) > len(b):
        a, b = b, a
    dot = sum(weight * b.get(term, 0.0) for term, weight in a.items())
    if not dot:
        return 0.0
    return dot / (math.sqrt(sum(w * w for w in a.values())) * math.sqrt(sum(w * w for w in b.values())))


class DocumentFrequencies:
    """Online document frequencies for IDF: each article counted once as it arrives.

    Mutable and per process: the benchmark's and the tests' IDF. A pipeline with several
    workers would use a fixed table (learned from a corpus) so that weights do not depend
    on which worker saw what.
    """

    def __init__(self) -> None:
        self.documents = 0
        self.frequencies: Counter[str] = Counter()

    def add(self, terms: Iterable[str]) -> None:
        self.documents += 1
        self.frequencies.update(set(terms))

    def idf(self, term: str) -> float:
        return math.log((self.documents + 1) / (self.frequencies[term] + 1)) + 1.0
