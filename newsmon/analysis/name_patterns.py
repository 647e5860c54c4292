"""A watch entry's name and aliases as patterns to match: given names, particles, surname.

Each word of a pattern carries the spelling keys it is matched by (its own, and for East
Slavic names those of its sound variants and of the other forms of a listed given name),
each with a factor saying how closely a word with that key is written like the entry.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

from rapidfuzz.distance import OSA

from newsmon.analysis.spelling import (
    NAME_WORD,
    fold,
    given_alternatives,
    looks_slavic,
    sound_variants,
    spelling_key,
)
from newsmon.analysis.watch_entries import WatchEntry
from newsmon.analysis.word_lists import word_lists

# How closely the words were written like the entry: exactly (after folding); a
# romanisation of the same spelling key; a generated sound variant or a table given name;
# one letter off every known spelling (a given name; or a surname, after the full given name).
SPELLING = {"exact": 1.0, "romanisation": 0.97, "variant": 0.93, "near": 0.88}


@dataclass(frozen=True)
class NameWord:
    """One word of a name pattern: folded spelling, accepted keys and their spelling factor."""

    folded: str
    keys: Mapping[str, float]
    initials: frozenset[str]
    near: bool = True  # a given name may also match one letter off its keys (WatchMatcher(fuzzy=...))

    def spelling(self, folded: str, key: str) -> float | None:
        if folded == self.folded:
            return SPELLING["exact"]
        return self.keys.get(key)


@dataclass(frozen=True)
class NamePattern:
    """The name or one alias of an entry, ready to match: given names, particles, surname."""

    entry: int
    written: str
    given: tuple[NameWord, ...]
    particles: tuple[str, ...]
    surname: NameWord
    suffix: str | None  # "jr", "iii": the entry is the one with it
    alias: bool
    slavic: bool


FEMININE_END = ("a", "Я")  # how a key of a feminine name ends (Я stands for ya)


def _keys_of(folded: str, slavic: bool) -> dict[str, float]:
    """Spelling keys a word of a name is matched by: its own, then its sound variants."""
    keys: dict[str, float] = {}
    for cost, variant in (sound_variants(folded) if slavic else ((0, folded),)):
        keys.setdefault(spelling_key(variant), SPELLING["romanisation"] if cost == 0 else SPELLING["variant"])
    return keys


# Other letters the initial of a romanised given name may be written with ("E." / "Y." for
# Yevgeny / Evgeny), by the first letters of the name.
_INITIAL_ALTERNATIVES = {"kh": "KHC", "ch": "CHK", "ts": "TC", "ye": "YE", "e": "EY", "y": "YIJ", "i": "IYJ",
                         "j": "JYI", "v": "VW", "w": "WV"}


def _given_word(word: str, slavic: bool, fuzzy: bool) -> NameWord:
    folded = fold(word)
    keys = _keys_of(folded, slavic)
    names = [folded, *given_alternatives(folded)]
    if slavic:
        names += [variant for _, variant in sound_variants(folded)]
    for other in names[1:]:
        keys.setdefault(spelling_key(other), SPELLING["variant"])
    initials: set[str] = set()
    for name in names:
        initials.add(name[:1].upper())
        initials.update(_INITIAL_ALTERNATIVES.get(name[:2], _INITIAL_ALTERNATIVES.get(name[:1], "")))
    return NameWord(folded, keys, frozenset(initials), near=fuzzy)


def edits(a: str, b: str, limit: int) -> int:
    """The edits from ``a`` to ``b`` (a letter inserted, left out or replaced, or two neighbours
    swapped: "Nicoals"), or ``limit + 1`` when there are more than ``limit``. rapidfuzz's OSA distance.
    """
    return OSA.distance(a, b, score_cutoff=limit)


def _near(key: str, word: NameWord) -> bool:
    """A given name one letter off its listed spellings by spelling key: an unlisted
    romanisation, or a typo.

    Five letters at least, same first letter, and the same grammatical gender (Alexandra is
    not Alexander). By key only: as written, common given names are too often one letter
    apart (Maria, Marta; with 100,000 entries, a third more alerts for people a story does
    not name).
    """
    if not word.near or len(key) < 5:
        return False
    feminine = key.endswith(FEMININE_END)
    return any(other[:1] == key[:1] and other.endswith(FEMININE_END) == feminine
               and edits(key, other, 1) <= 1 for other in word.keys)


def one_letter_off(folded: str, key: str, surname: str, feminine: bool) -> bool:
    """Whether a word (``folded``, ``key``) is one edit from a surname (folded) by key or as
    written, with the same first letter and grammatical gender.
    """
    other = spelling_key(surname)
    if other.endswith(FEMININE_END) != feminine or not (other[:1] == key[:1] or surname[:1] == folded[:1]):
        return False
    return edits(key, other, 1) <= 1 or edits(folded, surname, 1) <= 1


def given_spelling(folded: str, key: str, word: NameWord) -> float | None:
    spelling = word.spelling(folded, key)
    if spelling is None and _near(key, word):
        spelling = SPELLING["near"]
    return spelling


def patterns_of(number: int, entry: WatchEntry, *, fuzzy: bool = True) -> list[NamePattern]:
    """The name and aliases of an entry as patterns. A one-word alias close to the surname
    ("Lukashenka" for Alexander Lukashenko) is another spelling of the surname, not a name
    that counts on its own; other one-word aliases (nicknames) do count on their own.
    """
    main = _pattern(number, entry.name, alias=False, fuzzy=fuzzy)
    patterns = [main] if main is not None else []
    surname_keys = dict(main.surname.keys) if main is not None else {}
    for alias in entry.aliases:
        pattern = _pattern(number, alias, alias=True, fuzzy=fuzzy)
        if pattern is None:
            continue
        if main is not None and main.given and not pattern.given and not pattern.particles:
            own = spelling_key(pattern.surname.folded)
            if own in surname_keys or edits(own, spelling_key(main.surname.folded), 2) <= 2:
                for key in pattern.surname.keys:
                    surname_keys.setdefault(key, SPELLING["variant"])
                continue
        patterns.append(pattern)
    if main is not None and len(surname_keys) > len(main.surname.keys):
        patterns[0] = NamePattern(entry=number, written=main.written, given=main.given,
                                  particles=main.particles,
                                  surname=NameWord(main.surname.folded, surname_keys, frozenset()),
                                  suffix=main.suffix, alias=False, slavic=main.slavic)
    return patterns


def _pattern(number: int, written: str, *, alias: bool, fuzzy: bool) -> NamePattern | None:
    """One name as a pattern: given names, then the surname, with what is written before it
    as part of it ("von der" Leyen, "Kara-" Murza) and a generational suffix ("Jr.").
    """
    text = unicodedata.normalize("NFC", written)
    found = list(NAME_WORD.finditer(text))
    words = [match.group().rstrip(".") for match in found]
    hyphened = [index > 0 and text[found[index - 1].end():match.start()] == "-"
                for index, match in enumerate(found)]
    suffix = None
    lists = word_lists()
    if len(words) >= 3 and fold(words[-1]) in lists.generational:
        suffix, words, hyphened = fold(words[-1]), words[:-1], hyphened[:-1]
    if not words:
        return None
    particles: list[str] = []
    while len(words) >= 2 and (hyphened[-1] or (len(words) >= 3 and words[-2][:1].islower()
                                                and fold(words[-2]) in lists.particles)):
        particles.insert(0, fold(words.pop(-2)))
        hyphened.pop(-1)
    folded = [fold(word) for word in words]
    slavic = looks_slavic(folded)
    surname = folded[-1]
    return NamePattern(entry=number, written=written,
                       given=tuple(_given_word(word, slavic, fuzzy) for word in words[:-1]),
                       particles=tuple(particles),
                       surname=NameWord(surname, _keys_of(surname, slavic), frozenset()),
                       suffix=suffix, alias=alias, slavic=slavic)


def deletions(key: str) -> set[str]:
    """``key`` and every form of it with one letter left out."""
    return {key, *(key[:i] + key[i + 1:] for i in range(len(key)))}

