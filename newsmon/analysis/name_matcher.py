"""Watch-list name matching: which watched people an article names, where, and how surely.

:class:`WatchMatcher` is built once from any number of watch entries
(:mod:`newsmon.analysis.watch_entries`) and finds them in one article: its text, spaCy's
sentences and token tags (:mod:`newsmon.analysis.text`) and its resolved entities
(:mod:`newsmon.analysis.entities`) as context. Names are compared by spelling key
(:mod:`newsmon.analysis.spelling`); the index maps each surname key to its entries, so an
article costs one dictionary look-up per capitalised word, whatever the number of entries.

How much a mention counts (:data:`CONFIDENCE`, best first): the full name; a one-word alias;
initials and surname; the surname alone where the full name is elsewhere in the article;
the surname alone tagged as a person by the model; a distinctive (East Slavic) surname alone;
any other surname alone that nobody else in the article bears (the small model tags many a
surname in a headline ORG, or a noun).
One letter off (a letter added, left out, replaced, or two swapped; rapidfuzz's OSA
distance): a given name of five letters or more before the surname (by spelling key); a
surname of six after the full given name, or alone where the article names the person in
full (by key or as written). Such a match is marked ``fuzzy`` and keeps the form as written.
A surname alone that is also a common word or a place ("Bush" fires, "Brown" bears,
"Washington" the city) needs the full name or a person reading of that very word; a name
inside a longer name of something else ("Trump Tower", "George Washington Bridge") or after
another person's given name ("Melania Trump" for Donald Trump) does not count at all.

Pure code: no Beam, no Elasticsearch, no model.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from newsmon.analysis.article_words import (
    NON_PERSON_TYPES,
    ArticleWords,
    TextWord,
    adjacent,
    name_sequence,
    text_words,
)
from newsmon.analysis.entities import Entity
from newsmon.analysis.name_patterns import (
    FEMININE_END,
    SPELLING,
    NamePattern,
    NameWord,
    deletions,
    given_spelling,
    one_letter_off,
    patterns_of,
)
from newsmon.analysis.spelling import fold, given_groups, spelling_key, split_name
from newsmon.analysis.text import Sentence
from newsmon.analysis.watch_entries import WatchEntry
from newsmon.analysis.word_lists import word_lists
from newsmon.errors import ConfigError

# Confidence of the best reading of a mention, before the spelling factor (below). The
# order is the contract: full name > alias > initials > surname after the full name >
# surname tagged PERSON > distinctive surname alone > any other surname alone.
CONFIDENCE = {
    "full": 1.0,
    "alias": 0.9,
    "initials": 0.8,
    "surname_after_full": 0.6,
    "person_surname": 0.4,
    "distinctive_surname": 0.3,
    "lone_surname": 0.25,
}
EXTRA_NAME_FACTOR = 0.98  # per middle name or initial the entry does not have
MAX_RUN = 5  # given names, initials and titles looked at before a surname
NEAR_MIN_LENGTH = 6  # surname keys this long may be met one letter off (after the full given name, or
# alone in an article that names the person in full); the word read may be one letter shorter
# ("Clark" for Clarke), but two five-letter surnames one letter apart are two names (Brown, Brawn)
DISTINCTIVE_VARIANT_LENGTH = 8  # an East Slavic surname this long counts alone in a generated spelling too
LONE_MIN_LENGTH = 5  # a surname alone, spelled other than in the entry, has this many letters at least


@dataclass(frozen=True)
class Match:
    """A watched person named in an article.

    ``form`` is the name as written (``text[start:end]``, without a possessive "'s"),
    ``evidence`` the sentence it stands in, ``confidence`` in (0, 1] (:data:`CONFIDENCE`
    times the spelling factor), ``reason`` how the mention was read.
    """

    entry: WatchEntry
    form: str
    evidence: str
    confidence: float
    reason: str
    start: int
    end: int
    fuzzy: bool = False  # a word of the name was read one letter off every spelling of it


@dataclass(frozen=True)
class _Hit:
    entry: int
    kind: str
    factor: float
    start: int
    end: int
    reason: str

    @property
    def fuzzy(self) -> bool:
        """Read one letter off: the factor is SPELLING["near"] (times EXTRA_NAME_FACTOR per
        extra name, at most two), below every other spelling's with as many extra names.
        """
        return self.factor <= SPELLING["near"]


class WatchMatcher:
    """Finds the entries of a watch list in articles; build once, match many.

    Surnames (and one-word aliases) are indexed by spelling key, with the sound variants of
    East Slavic names; a capitalised word of the article that hits the index is read with
    the words before it (given names, initials, titles) and checked against the article's
    entities and token tags. Safe to share between threads (the only state it changes after
    construction is a look-up cache); picklable, so it can be a Beam side input.
    """

    def __init__(self, entries: Iterable[WatchEntry], *, fuzzy: bool = True) -> None:
        """``fuzzy=False`` (the baseline of ``bench/name_accuracy.py``) leaves out every
        reading one letter off and the surnames alone read without the model's help: any
        surname nobody else in the article bears, a long East Slavic one in a sound variant.
        """
        self._fuzzy = fuzzy
        self._entries: tuple[WatchEntry, ...] = tuple(entries)
        seen: set[str] = set()
        for entry in self._entries:
            if not isinstance(entry, WatchEntry):
                msg = f"entries must be WatchEntry objects, got {type(entry).__name__}"
                raise ConfigError(msg)
            if entry.entry_id in seen:
                msg = f"watch entry {entry.name!r} on list {entry.list_name!r} is given twice"
                raise ConfigError(msg)
            seen.add(entry.entry_id)
        self._patterns: list[NamePattern] = []
        index: dict[str, list[int]] = defaultdict(list)
        names: dict[str, set[str]] = defaultdict(set)
        for number, entry in enumerate(self._entries):
            for pattern in patterns_of(number, entry, fuzzy=fuzzy):
                self._patterns.append(pattern)
                for key in pattern.surname.keys:
                    index[key].append(len(self._patterns) - 1)
                    names[key].add(entry.name.casefold())
        self._index = dict(index)
        # one letter off a surname's own spelling, as written or by key: the index of their
        # single deletions (a typo inside a digraph, "Teikhanouskaya", moves the key further)
        near: dict[str, set[int]] = defaultdict(set)
        for number, pattern in enumerate(self._patterns):
            key = spelling_key(pattern.surname.folded)
            if fuzzy and len(key) >= NEAR_MIN_LENGTH:
                for variant in deletions(key) | deletions(pattern.surname.folded):
                    near[variant].add(number)
        self._near = {variant: tuple(sorted(numbers)) for variant, numbers in near.items()}
        self._near_seen: dict[str, tuple[int, ...]] = {}  # memo of _near_patterns
        # how many different watched names share a surname key (a surname alone is then ambiguous)
        self._shared = {key: len(found) for key, found in names.items() if len(found) > 1}
        # watched people's given names: alone, "Paul" is not Rand Paul
        self._given_keys = frozenset(spelling_key(pattern.given[0].folded)
                                     for pattern in self._patterns if pattern.given)

    @property
    def entries(self) -> tuple[WatchEntry, ...]:
        return self._entries

    def _near_patterns(self, folded: str, key: str) -> tuple[int, ...]:
        """Patterns whose surname is one edit from ``folded`` or its ``key`` (with the same
        first letter and grammatical gender).
        """
        if len(key) < NEAR_MIN_LENGTH - 1 or not self._fuzzy:
            return ()
        known = self._near_seen.get(folded)
        if known is not None:
            return known
        if len(self._near_seen) > 100_000:
            self._near_seen.clear()
        found: set[int] = set()
        for variant in deletions(key) | deletions(folded):
            found.update(self._near.get(variant, ()))
        feminine = key.endswith(FEMININE_END)
        known = tuple(sorted(number for number in found
                             if one_letter_off(folded, key, self._patterns[number].surname.folded, feminine)))
        self._near_seen[folded] = known
        return known

    def __len__(self) -> int:
        return len(self._entries)

    # -- public API -----------------------------------------------------------------------

    def match(self, text: str, sentences: Sequence[Sentence], entities: Sequence[Entity], *,
              topics: Collection[str] = (), source: str | None = None,
              language: str | None = None) -> list[Match]:
        """The best mention of each entry the article names (at most one per entry), in
        text order. Of equally good mentions the first counts.

        ``text`` is the analysed text (title, blank line, body; offsets refer to it),
        ``sentences`` and ``entities`` its analysis. Both may be empty: then full names,
        initials and aliases still match, and a surname alone only after its full name or
        when it is a distinctive East Slavic one. ``topics``, ``source`` and ``language``
        are the article's, checked against each entry's filters.
        """
        best: dict[int, Match] = {}
        for number, found in self._find(text, sentences, entities, topics, source, language):
            current = best.get(number)
            if current is None or (found.confidence, -found.start) > (current.confidence, -current.start):
                best[number] = found
        return sorted(best.values(), key=lambda m: (m.start, m.entry.entry_id))

    def mentions(self, text: str, sentences: Sequence[Sentence], entities: Sequence[Entity], *,
                 topics: Collection[str] = (), source: str | None = None,
                 language: str | None = None) -> list[Match]:
        """Every accepted mention of every entry, in text order (to highlight them)."""
        found = [m for _, m in self._find(text, sentences, entities, topics, source, language)]
        return sorted(found, key=lambda m: (m.start, m.entry.entry_id))

    # -- reading one article --------------------------------------------------------------

    def _find(self, text: str, sentences: Sequence[Sentence], entities: Sequence[Entity],
              topics: Collection[str], source: str | None,
              language: str | None) -> Iterator[tuple[int, Match]]:
        if isinstance(topics, str):
            msg = "topics must be a collection of topic names, got a string"
            raise TypeError(msg)
        article = ArticleWords(text, sentences, entities, text_words(text))
        accepted: dict[int, bool] = {}

        def passes(entry: int) -> bool:
            if entry not in accepted:
                accepted[entry] = self._entries[entry].accepts(topics, source, language)
            return accepted[entry]

        hits: list[_Hit] = []
        bare: list[tuple[TextWord, NamePattern, int, bool]] = []
        for word in article.words:
            if len(word.text) < 2 or not word.text[:1].isupper():
                continue
            word.folded = fold(word.text)
            word.key = spelling_key(word.folded)
            numbers = self._index.get(word.key)
            near = numbers is None
            if near:
                numbers = self._near_patterns(word.folded, word.key)
            for number in numbers:
                pattern = self._patterns[number]
                if not passes(pattern.entry):
                    continue
                read = self._read(article, word, pattern, near=near)
                if isinstance(read, _Hit):
                    hits.append(read)
                elif read is not None:
                    bare.append((word, pattern, read, near))
        named = {hit.entry for hit in hits}
        for word, pattern, start, near in bare:
            if near and pattern.entry not in named:
                continue  # one letter off alone counts only after the full name: spare the weighing
            hit = self._read_bare(article, word, pattern, start, named, near=near)
            if hit is not None:
                hits.append(hit)
        hits += self._entity_hits(article, {hit.entry for hit in hits}, passes)
        # one reading per entry and span: the name and an alias may both read a mention
        best: dict[tuple[int, int, int], _Hit] = {}
        for hit in hits:
            place = (hit.entry, hit.start, hit.end)
            if place not in best or CONFIDENCE[hit.kind] * hit.factor > \
                    CONFIDENCE[best[place].kind] * best[place].factor:
                best[place] = hit
        for hit in best.values():
            confidence = round(min(1.0, CONFIDENCE[hit.kind] * hit.factor), 4)
            yield hit.entry, Match(entry=self._entries[hit.entry], form=text[hit.start:hit.end],
                                   evidence=article.evidence(hit.start, hit.end), confidence=confidence,
                                   reason=hit.reason, start=hit.start, end=hit.end, fuzzy=hit.fuzzy)

    def _read(self, article: ArticleWords, word: TextWord, pattern: NamePattern, *,
              near: bool = False) -> _Hit | int | None:
        """Read a surname hit with the words before it: a full-name, initials or alias hit;
        the start of a bare surname (with its particles) to weigh once the whole article is
        read; or None when the name is someone's or something else's. A ``near`` surname
        (one letter off every known spelling) counts after the full given name, or alone in an
        article that names the person in full (see :meth:`_read_bare`).
        """
        words, text = article.words, article.text
        following = article.following(word)
        suffix = fold(following.text) if following is not None else None
        if (suffix in word_lists().generational or pattern.suffix is not None) and suffix != pattern.suffix:
            return None  # "Donald Trump Jr." is not Donald Trump, nor the other way round
        first = word.index
        for particle in reversed(pattern.particles):
            if first > 0 and fold(words[first - 1].text) == particle and adjacent(text, words[first - 1],
                                                                                   words[first]):
                first -= 1
            else:
                break
        run: list[TextWord] = []
        j = first - 1
        while j >= 0 and len(run) < MAX_RUN and words[j].text[:1].isupper() \
                and adjacent(text, words[j], words[j + 1]):
            if not words[j].folded:
                words[j].folded = fold(words[j].text)
                words[j].key = spelling_key(words[j].folded)
            run.insert(0, words[j])
            j -= 1
        surname_spelling = (SPELLING["near"] if near else
                            pattern.surname.spelling(word.folded, word.key) or SPELLING["variant"])
        for offset in range(len(run)) if pattern.given else ():
            sequence = run[offset:]
            read = _read_given(sequence, pattern.given)
            if read is None:
                continue
            kind, spelling = read
            if offset > 0 and kind == "initials" and _foreign_given(article, run[offset - 1], pattern):
                return None  # another person's given name: "Lyndon B. Johnson" is not Boris Johnson
            if kind == "initials" and _initial_of_another(article, sequence[0], word, pattern):
                return None  # "Yuliia Bahdanenko ... Y. Bahdanenko" is Yuliia, not a watched Yury
            if near and (kind != "full" or spelling < SPELLING["variant"]):
                return None
            spelling = min(spelling, surname_spelling)
            extras = max(0, len(sequence) - len(pattern.given))
            start = sequence[0].start
            if article.inside_longer_thing(start, word.end, word):
                return None
            label = "full name" if kind == "full" else "initials and surname"
            return _Hit(pattern.entry, kind, spelling * EXTRA_NAME_FACTOR ** extras, start, word.end,
                        f"{label} of {pattern.written!r}{_spelling_note(spelling)}")
        if near and not pattern.given:
            return None  # a one-word name one letter off is too often another word
        # later given names before the surname belong to it: "García Márquez", "W. Bush"
        while run and _later_given(run[-1], pattern):
            first = run.pop().index
        if run and article.name_like(run[-1]):
            return None  # another person's given name: "Melania Trump" is not Donald Trump
        start = words[first].start
        if article.inside_longer_thing(start, word.end, word):
            return None
        if not pattern.given and not near and not article.false_friend(word, pattern.slavic):
            kind, label = ("alias", "alias") if pattern.alias else ("full", "name")
            return _Hit(pattern.entry, kind, surname_spelling, start, word.end,
                        f"{label} {pattern.written!r}{_spelling_note(surname_spelling)}")
        return start

    def _read_bare(self, article: ArticleWords, word: TextWord, pattern: NamePattern, start: int,
                   named: set[int], *, near: bool = False) -> _Hit | None:
        """Weigh a surname standing alone (or after a title) against its context. A ``near``
        one (one letter off every spelling of the entry's) counts only in an article that
        names the person in full.
        """
        end = word.end
        spelling = SPELLING["near"] if near else (pattern.surname.spelling(word.folded, word.key)
                                                  or SPELLING["variant"])
        resolved = False
        single_person = False
        other_type = False
        inside_other = False  # inside a longer name of a non-person ("Carson Pirie Scott")
        for mention_start, mention_end, entity in article.overlapping(start, end):
            if entity.type != "PERSON":
                other_type = True
                inside_other = inside_other or mention_start < start or mention_end > end
                continue
            canonical = split_name(entity.name)
            if len(canonical) == 1:
                single_person = True
                continue
            if spelling_key(canonical[-1]) != word.key:
                continue  # a span the surname does not end ("Lukashenko Frees" in a headline)
            reading = _same_person(name_sequence(canonical[:-1]), pattern)
            if reading is False:
                return None  # resolved within the article to another person of this surname
            resolved = resolved or reading is True
        token = None
        if article.sentences:
            _, token = article.token_at(word.start)
        if token is not None and token.ent_type in NON_PERSON_TYPES:
            other_type = True
        proper = token is None or token.pos == "PROPN"
        tagged_person = single_person or resolved or (token is not None and token.ent_type == "PERSON")
        person_reading = tagged_person and not other_type and (
            token is None or (token.pos == "PROPN" and token.dep not in ("compound", "amod", "nmod")))
        false_friend = article.false_friend(word, pattern.slavic)
        written = repr(pattern.written)
        if resolved or pattern.entry in named:
            if false_friend and not person_reading:
                return None
            if near and (not proper or inside_other or word.key in self._given_keys):
                return None  # one letter off, it must at least read as a name of its own
            how = "resolved to the full name by entity extraction" if resolved else "full name in the article"
            return _Hit(pattern.entry, "surname_after_full", spelling, start, end,
                        f"surname of {written}, {how}{_spelling_note(spelling)}")
        if near or pattern.suffix is not None:
            return None
        if any(_foreign_given(article, given, pattern, strict=True)
               for given in article.given_before(word.key)):
            return None  # "Oleg Navalny ... Navalny said": the surname of another person named in full
        if word.key in self._shared:
            return None  # a surname alone that several watched people bear: which of them is unknowable
        if word.key in self._given_keys or (spelling < SPELLING["exact"]
                                            and len(word.folded) < LONE_MIN_LENGTH):
            return None  # "Paul" alone is not Rand Paul; "Ros Coward" is not Wilbur Ross
        # a common word, or a generated sound variant, needs a person reading of the word itself
        # ("Bush fires", "Lasik clinics" are tagged PERSON too)
        plain = not false_friend and spelling >= SPELLING["romanisation"]
        if tagged_person and not other_type and (person_reading or plain):
            return _Hit(pattern.entry, "person_surname", spelling, start, end,
                        f"surname of {written} alone, tagged as a person{_spelling_note(spelling)}")
        # a distinctive surname alone counts as the analyst wrote it (or another romanisation of
        # that); a generated sound variant only when long ("Tikhanovskaya": no English word)
        nominal = token is None or token.pos in ("PROPN", "NOUN")  # many an unknown name reads as a noun
        if pattern.slavic and not false_friend and not inside_other and nominal and (
                (len(word.folded) >= 5 and spelling >= SPELLING["romanisation"] and (proper or self._fuzzy))
                or (self._fuzzy and len(word.folded) >= DISTINCTIVE_VARIANT_LENGTH)):
            return _Hit(pattern.entry, "distinctive_surname", spelling, start, end,
                        f"distinctive surname of {written} alone{_spelling_note(spelling)}")
        if (self._fuzzy and token is not None and nominal and not inside_other
                and len(word.folded) >= LONE_MIN_LENGTH and spelling >= SPELLING["romanisation"]
                and article.stands_alone_as_name(word, token, false_friend=false_friend)):
            return _Hit(pattern.entry, "lone_surname", spelling, start, end,
                        f"surname of {written} alone, nobody else of that name in the article"
                        f"{_spelling_note(spelling)}")
        return None

    def _entity_hits(self, article: ArticleWords, named: set[int], passes: Any) -> list[_Hit]:
        """Entries found only through the canonical name of a PERSON entity (a gazetteer name,
        say, or a full name the text scan could not read).
        """
        hits = []
        for entity in article.entities:
            canonical = split_name(entity.name)
            if entity.type != "PERSON" or len(canonical) < 2:
                continue
            for number in self._index.get(spelling_key(canonical[-1]), ()):
                pattern = self._patterns[number]
                if pattern.entry in named or not pattern.given or not passes(pattern.entry):
                    continue
                read = _read_given(name_sequence(canonical[:-1]), pattern.given)
                if read is None or read[0] == "initials":
                    continue  # initials are read (and checked against the article) by the text scan
                mention = entity.mentions[0]
                named.add(pattern.entry)
                hits.append(_Hit(pattern.entry, "surname_after_full", read[1], mention.start, mention.end,
                                 f"PERSON entity {entity.name!r} is {pattern.written!r}"))
        return hits


def _foreign_given(article: ArticleWords, word: TextWord, pattern: NamePattern, *,
                   strict: bool = False) -> bool:
    """Whether ``word``, just before initials of the entry, is another person's given name
    or initial: name-like, and neither a form of one of the entry's given names nor its initial.
    ``strict`` (for a surname elsewhere in the article): a listed given name or a word the
    model tags as a person, not an initial nor any proper noun ("Kremlin Critic Navalny").
    """
    if any(given_spelling(word.folded, word.key, part) is not None
           or (word.initial and word.text.upper() in part.initials) for part in pattern.given):
        return False
    if not strict:
        return word.initial or article.name_like(word)
    if word.initial or not article.name_like(word):
        return False
    if spelling_key(word.folded) in given_groups():
        return True
    _, token = article.token_at(word.start) if article.sentences else (None, None)
    return token is not None and token.ent_type == "PERSON"


def _initial_of_another(article: ArticleWords, initial: TextWord, surname: TextWord,
                        pattern: NamePattern) -> bool:
    """Whether the article names in full another person of this surname whose given name
    has this initial: after "Yuliia Bahdanenko", "Y. Bahdanenko" is her, as the press writes
    (and after "María González Muñoz", "M. Muñoz").
    """
    letter = fold(initial.text)[:1]
    for word in article.words:
        if word.key != surname.key or word is surname:
            continue
        j = word.index - 1
        while j >= 0 and word.index - j <= MAX_RUN and article.words[j].text[:1].isupper() \
                and adjacent(article.text, article.words[j], article.words[j + 1]):
            given = article.words[j]
            given.folded = given.folded or fold(given.text)
            given.key = given.key or spelling_key(given.folded)
            if not given.initial and given.folded[:1] == letter \
                    and _foreign_given(article, given, pattern, strict=True):
                return True
            j -= 1
    return False


def _later_given(word: TextWord, pattern: NamePattern) -> bool:
    """Whether ``word`` is one of the entry's given names after the first (or its initial)."""
    return any(given_spelling(word.folded, word.key, part) is not None
               or (word.initial and word.text.upper() in part.initials) for part in pattern.given[1:])


def _same_person(given: list[TextWord], pattern: NamePattern) -> bool | None:
    """Whether the given names of another full name are the entry's: True, False (another
    person), or None when they are only the entry's later given names ("W." of "W. Bush").
    """
    if not pattern.given:
        return True
    if _read_given(given, pattern.given) is not None:
        return True
    while given and _later_given(given[-1], pattern):
        given = given[:-1]
    return None if not given else False


def _spelling_note(spelling: float) -> str:
    if spelling >= SPELLING["exact"]:
        return ""
    if spelling >= SPELLING["romanisation"]:
        return ", another romanisation"
    if spelling >= SPELLING["variant"]:
        return ", a transliteration variant"
    return ", spelled differently"


def _read_given(sequence: Sequence[TextWord], given: Sequence[NameWord]) -> tuple[str, float] | None:
    """Read the words before a surname as the entry's given names: ``("full" | "initials", spelling)``.

    The first word must be the first given name (or its initial); the rest may be further
    given names or initials of the entry, in order, or up to two middle names or initials
    the entry does not list ("Donald J. Trump"). When the entry lists a middle name or initial
    of its own, an initial it does not list is another person's ("George H. W. Bush" is not
    George W. Bush), and so is a name written where the entry's own would stand.
    """
    if not given or not sequence:
        return None
    first = sequence[0]
    if first.initial:
        if first.text.upper() not in given[0].initials:
            return None
        kind, spelling = "initials", SPELLING["exact"]
    else:
        found = given_spelling(first.folded, first.key, given[0])
        if found is None:
            return None
        kind, spelling = "full", found
    position, extras = 1, 0
    for word in sequence[1:]:
        for offset, part in enumerate(given[position:], start=position):
            if word.initial and word.text.upper() in part.initials:
                position = offset + 1
                break
            if not word.initial and (found := given_spelling(word.folded, word.key, part)) is not None:
                spelling = min(spelling, found)
                position = offset + 1
                break
        else:
            extras += 1
            if extras > 2 or (word.initial and len(given) > 1):
                return None
    if extras and position < len(given):
        return None  # a name where the entry has another: "María González Muñoz" is not María Ortiz Muñoz
    return kind, spelling
