"""Named entities of one article, each listed once under a canonical name with all its mentions.

spaCy's small English model finds the spans; this module makes them fit to search and
watch on. A mention's name is cleaned of what leaks into spans (surrounding punctuation,
possessives "Lukashenko's" / "Belarus'", a leading "the", titles "President", "Mr.");
within the article a surname alone ("Lukashenko") resolves to the one full name that
ends with it ("Alexander Lukashenko"); the type of a name is voted over its mentions, so
one mistaken tag does not split an entity; and the gazetteer (:mod:`newsmon.analysis.gazetteer`)
gives well-known entities their canonical name and type ("EU" → European Union, ORG;
the airline Belavia is an ORG, not a place). Forms the model found once, and gazetteer
names, are then looked for where the model missed them (datelines, a surname it let slip).

Types kept: PERSON, ORG, GPE and LOC. GPE (countries, cities, states) and LOC (other
places: regions, seas, mountains) stay distinct, as spaCy labels them, and both go to
the ``places`` field of an indexed article (:data:`INDEX_FIELDS`). NORP (nationalities,
religious and political groups: "Belarusian", "Russian") is dropped: it is neither a
person, an organisation nor a place, and turning demonyms into countries would count
every "Russian" as a mention of Russia. Other labels (FAC, PRODUCT, dates, numbers) are
dropped too unless the gazetteer names the span.

Everything here is plain Python on a parsed ``Doc``: no Beam, no model loading.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from newsmon.analysis.gazetteer import Gazetteer, normalise_name, spellings_pattern
from newsmon.analysis.word_lists import word_lists

ENTITY_TYPES = ("PERSON", "ORG", "GPE", "LOC")
# A name tagged with two types equally often takes the earlier one here. The small model
# tags capitalised words it cannot place as ORG, so ORG loses every tie.
TYPE_PRIORITY = ("PERSON", "GPE", "LOC", "ORG")
INDEX_FIELDS = {"PERSON": "persons", "ORG": "organisations", "GPE": "places", "LOC": "places"}
# Titles, offices, generational suffixes and the other word lists: seeds/name_words.yaml.
DETERMINERS = frozenset({"the", "a", "an"})
_POSSESSIVE_END = re.compile(r"(?:['’]s|['’])$")


@dataclass(frozen=True)
class Mention:
    """Where an entity is named: ``text`` is exactly ``analysed_text[start:end]``."""

    text: str
    start: int
    end: int

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "start": self.start, "end": self.end}


@dataclass(frozen=True)
class Entity:
    """One entity of an article: canonical name, type, and every mention in text order."""

    name: str
    type: str
    mentions: tuple[Mention, ...]

    @property
    def count(self) -> int:
        return len(self.mentions)

    @property
    def index_field(self) -> str:
        """The field of an indexed article this entity's name goes to: persons, organisations, places."""
        return INDEX_FIELDS[self.type]

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "type": self.type, "count": self.count,
                "mentions": [mention.to_dict() for mention in self.mentions]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Entity:
        mentions = tuple(Mention(text=m["text"], start=m["start"], end=m["end"]) for m in data["mentions"])
        return cls(name=data["name"], type=data["type"], mentions=mentions)


def index_fields(entities: Iterable[Entity]) -> dict[str, list[str]]:
    """Canonical names by indexed field, ``{"persons": [...], "organisations": [...], "places": [...]}``."""
    fields: dict[str, list[str]] = {name: [] for name in dict.fromkeys(INDEX_FIELDS.values())}
    for entity in entities:
        names = fields[entity.index_field]
        if entity.name not in names:
            names.append(entity.name)
    return fields


# --- extraction ------------------------------------------------------------------------


@dataclass(slots=True)
class _Found:
    """A mention on its way to an entity; the name and type change as evidence comes in."""

    start: int
    end: int
    name: str
    label: str
    fixed: bool = False  # name and type come from the gazetteer


def _word(token: Any) -> str:
    return token.text.lower().replace("’", "'").rstrip(".")


def _is_title(token: Any) -> bool:
    lists = word_lists()
    return _word(token) in lists.titles or _word(token) in lists.title_modifiers


def _longest_line(tokens: list[Any]) -> list[Any]:
    """A span running across a line break (a heading into its paragraph): its longest line."""
    lines: list[list[Any]] = [[]]
    for token in tokens:
        if "\n" in token.text:
            lines.append([])
        else:
            lines[-1].append(token)
    return max(lines, key=lambda line: sum(token.is_alpha for token in line))


def _title_length(tokens: list[Any]) -> int:
    """How many leading tokens are a title: "Former US President", "Secretary of State"."""
    i, after_title, offices = 0, False, word_lists().offices
    while i < len(tokens):
        word = _word(tokens[i])
        nxt = tokens[i + 1] if i + 1 < len(tokens) else None
        if _is_title(tokens[i]) or (tokens[i].is_punct and after_title):
            i, after_title = i + 1, True
        elif word == "of" and after_title and nxt is not None and _word(nxt) in offices:
            i += 2
            while i < len(tokens) and _word(tokens[i]) in offices:
                i += 1
        elif nxt is not None and _is_title(nxt) and (tokens[i].pos_ == "ADJ" or tokens[i].text.isupper()):
            i += 1  # "Belarusian President", "US President"
        else:
            break
    return i


def _is_office(ent: Any, tokens: list[Any]) -> bool:
    """The "State" of "Secretary of State" or the "Interior" of "Interior Minister" is part of
    a title, not an organisation.
    """
    doc, first, last = ent.doc, tokens[0].i, tokens[-1].i
    lists = word_lists()
    if not all(_word(token) in lists.offices for token in tokens):
        return False
    return ((first >= 2 and doc[first - 1].lower_ == "of" and _is_title(doc[first - 2]))
            or (last + 1 < len(doc) and _word(doc[last + 1]) in lists.titles))


def _bounds(tokens: list[Any]) -> tuple[int, int]:
    start, end = tokens[0].idx, tokens[-1].idx + len(tokens[-1].text)
    possessive = _POSSESSIVE_END.search(tokens[-1].text)
    if possessive and possessive.start() > 0:  # "Belarus’s" left in one token
        end -= len(possessive.group())
    return start, end


def _from_model(ent: Any, gazetteer: Gazetteer, text: str) -> _Found | None:
    """A model span as a mention: trimmed, canonicalised, with the gazetteer applied."""
    doc, label = ent.doc, ent.label_
    tokens = _longest_line(list(ent))
    while tokens and (tokens[0].is_punct or tokens[0].is_space):
        tokens.pop(0)
    while tokens and (tokens[-1].is_punct or tokens[-1].is_space or tokens[-1].tag_ == "POS"
                      or _POSSESSIVE_END.fullmatch(tokens[-1].text)):
        tokens.pop()
    if not tokens:
        return None

    def found(tokens: list[Any], label: str) -> _Found | None:
        start, end = _bounds(tokens)
        name = normalise_name(text[start:end])
        if end <= start or not any(char.isalpha() for char in name):
            return None
        entry = gazetteer.lookup(name)
        if entry is not None:
            return _Found(start, end, entry.name, entry.type, fixed=True)
        if label not in ENTITY_TYPES or name == name.lower() != name.upper():
            return None  # a name has a capital somewhere ("von der Leyen"); "café" is no name
        return _Found(start, end, name, label)

    # the name as written first: "The Hague" is a gazetteer name, "the EU" is not
    candidate = found(tokens, label)
    if candidate is not None and candidate.fixed:
        return candidate
    while len(tokens) > 1 and tokens[0].lower_ in DETERMINERS:
        tokens.pop(0)
    if label == "PERSON" or _word(tokens[0]) in word_lists().honorifics:
        titled = _title_length(tokens)
        if titled:
            label, tokens = "PERSON", tokens[titled:]
            if not tokens or (len(tokens) == 1 and _word(tokens[0]) in word_lists().generational):
                return None  # a title alone names nobody
    elif label == "ORG" and _is_office(ent, tokens):
        return None
    elif label in ("ORG", "GPE", "LOC") and _after_title(doc, tokens):
        label = "PERSON"  # "Chancellor Olaf Scholz" tagged ORG
    return found(tokens, label)


def _after_title(doc: Any, tokens: list[Any]) -> bool:
    """The span names a person: capitalised words after a capitalised title ("Chancellor Olaf
    Scholz"), or a full name after a lower-case one ("Ukraine's president, Volodymyr Zelenskiy").
    """
    first = tokens[0].i
    if first == 0 or not all(token.text[:1].isupper() for token in tokens if token.is_alpha):
        return False
    before = doc[first - 1]
    if before.text[:1].isupper():
        return _word(before) in word_lists().titles
    if before.text == "," and first >= 2:
        before = doc[first - 2]
    return len(tokens) >= 2 and before.is_lower and _word(before) in word_lists().appositives


def _vote(found: list[_Found]) -> dict[str, str]:
    """Each name's type: the gazetteer's, else the one most of its mentions were tagged with."""
    labels: dict[str, Counter[str]] = defaultdict(Counter)
    fixed: dict[str, str] = {}
    for mention in found:
        labels[mention.name][mention.label] += 1
        if mention.fixed:
            fixed[mention.name] = mention.label
    return {name: fixed.get(name) or min(counts, key=lambda t: (-counts[t], TYPE_PRIORITY.index(t)))
            for name, counts in labels.items()}


def _merge_capitals(found: list[_Found]) -> None:
    """A name in capitals ("VILNIUS" in a dateline) is the same name written normally elsewhere."""
    by_upper: dict[str, set[str]] = defaultdict(set)
    for mention in found:
        if not mention.name.isupper():
            by_upper[mention.name.upper()].add(mention.name)
    for mention in found:
        written = by_upper.get(mention.name, set())
        if not mention.fixed and mention.name.isupper() and len(written) == 1:
            mention.name = next(iter(written))


def _capitalised_place(name: str) -> bool:
    """A place written in capitals ("NEW YORK" in a dateline) rather than an abbreviation
    ("USSR", "UAE"): four letters or more, and a vowel after the first letter of every word.
    """
    return (name.isupper() and sum(char.isalpha() for char in name) >= 4
            and all(any(char in "AEIOUY" for char in word[1:]) for word in name.split()))


def _generational(words: list[str]) -> str | None:
    last = words[-1].lower().rstrip(".")
    return last if len(words) >= 3 and last in word_lists().generational else None


def _surname(name: str) -> str:
    words = name.split()
    return words[-2] if _generational(words) else words[-1]


def _same_person(short: str, full: str) -> bool:
    """``short`` could be written for ``full``: same first name (or its initial), same
    generation, the rest of its words found in order in ``full``.
    """
    a, b = short.split(), full.split()
    if _generational(a) != _generational(b):
        return False

    def same(x: str, y: str) -> bool:
        return x == y or (len(x) == 2 and x[1] == "." and y.startswith(x[0]))

    if not same(a[0], b[0]):
        return False
    rest = iter(b[1:])
    return all(any(same(x, y) for y in rest) for x in a[1:])


def _resolve_names(found: list[_Found], types: dict[str, str]) -> dict[str, str]:
    """Within the article, shorter forms of a person's name become the fullest form.

    Full names (two words or more) that share a surname merge only when all of them can be
    one person ("Alexander Lukashenko", "Alexander G. Lukashenko"); two different people
    ("Melania Trump", "Donald Trump") leave their surname alone. A bare surname (or the end
    of a name, "von der Leyen") then joins the fullest name unless its mentions were mostly
    tagged as something else ("Washington" the city beside "George Washington").
    Returns surname → full name for the surnames that are not ambiguous.
    """
    by_surname: dict[str, list[str]] = defaultdict(list)
    for name, kind in sorted(types.items()):
        if kind == "PERSON" and len(name.split()) >= 2:
            by_surname[_surname(name)].append(name)
    renames: dict[str, str] = {}
    fullest_of: dict[str, str] = {}
    for surname, names in by_surname.items():
        fullest = max(names, key=lambda n: (len(n.split()), len(n), n))
        if all(_same_person(name, fullest) for name in names):
            fullest_of[surname] = fullest
            renames.update({name: fullest for name in names if name != fullest})
    for mention in found:
        mention.name = renames.get(mention.name, mention.name)

    full_counts = Counter(mention.name for mention in found)
    fixed_names = {mention.name for mention in found if mention.fixed}
    votes: dict[str, Counter[str]] = defaultdict(Counter)
    for mention in found:
        if mention.name not in fixed_names:
            votes[mention.name][mention.label] += 1
    merged: dict[str, str] = {}
    for name, counts in votes.items():
        fullest = fullest_of.get(name.split()[-1])
        if fullest is None or fullest == name or not fullest.endswith(" " + name):
            continue
        counts = counts + Counter({"PERSON": full_counts[fullest]})
        if counts["PERSON"] >= max(counts.values()):
            merged[name] = fullest
    for mention in found:
        if mention.name in merged:
            mention.name, mention.label = merged[mention.name], "PERSON"
    return fullest_of


def _name_like(token: Any) -> bool:
    """A capitalised word used as a name: tagged a proper noun, in capitals, capitalised
    mid-sentence, or the subject of a sentence it starts ("Zelenskyy urged", tagged NOUN).
    """
    return (token.pos_ == "PROPN" or token.text.isupper() or not token.is_sent_start
            or token.dep_.startswith("nsubj"))


def _glued(token: Any) -> bool:
    """A capitalised proper noun next to a match, other than a title ("Mr", "President"):
    the match is part of a longer name.
    """
    return (token.is_alpha and token.text[:1].isupper() and token.pos_ == "PROPN"
            and not _is_title(token))


def _with_missed(doc: Any, text: str, found: list[_Found], types: dict[str, str],
                 surnames: dict[str, str], gazetteer: Gazetteer) -> list[_Found]:
    """``found`` plus the mentions the model let slip: forms it found elsewhere in the
    article, a person's surname alone, gazetteer spellings. Only whole tokens, not inside a
    longer run of proper nouns ("Washington Post"). A form must lie outside every model
    span; a gazetteer spelling must lie outside the kept mentions, or be longer than each
    one it overlaps, which it then replaces (the model split "UN Security Council").
    """
    forms: dict[str, str | None] = {}

    def add(form: str, name: str) -> None:
        if form[:1].isupper():
            for variant in {form, form.upper()}:
                forms[variant] = name if forms.get(variant, name) == name else None

    for mention in found:
        add(normalise_name(text[mention.start:mention.end]), mention.name)
    for surname, fullest in surnames.items():
        if types.get(fullest) == "PERSON" and fullest.endswith(" " + surname):  # not "Trump" for "… Jr."
            add(surname, fullest)
    candidates = []
    pattern = spellings_pattern(form for form, name in forms.items() if name is not None)
    if pattern is not None:
        for match in pattern.finditer(text):
            name = forms.get(normalise_name(match.group()))
            if name is not None:
                candidates.append(_Found(match.start(), match.end(), name, types[name]))
    candidates += [_Found(start, end, entry.name, entry.type, fixed=True)
                   for start, end, entry in gazetteer.matches(text)]

    def overlaps(candidate: _Found, start: int, end: int) -> bool:
        return candidate.start < end and start < candidate.end

    model_spans = [(ent.start_char, ent.end_char) for ent in doc.ents]
    result = list(found)
    added: list[_Found] = []
    for candidate in sorted(candidates, key=lambda c: (c.start, -c.end, not c.fixed)):
        if any(overlaps(candidate, other.start, other.end) for other in added):
            continue
        replaced = [mention for mention in result if overlaps(candidate, mention.start, mention.end)]
        if candidate.fixed:
            length = candidate.end - candidate.start
            if any(mention.end - mention.start >= length for mention in replaced):
                continue
        elif any(overlaps(candidate, start, end) for start, end in model_spans):
            continue
        span = doc.char_span(candidate.start, candidate.end)
        if span is None:
            continue
        if len(span) == 1 and not candidate.fixed and not _name_like(span[0]):
            continue  # gazetteer spellings are names wherever they stand
        if span.start > 0 and _glued(doc[span.start - 1]):
            continue
        if span.end < len(doc) and _glued(doc[span.end]):
            continue
        result = [mention for mention in result if all(mention is not gone for gone in replaced)]
        added.append(candidate)
    return result + added


def extract_entities(doc: Any, gazetteer: Gazetteer) -> list[Entity]:
    """The PERSON, ORG, GPE and LOC entities of a parsed spaCy ``Doc``, in order of first mention.

    Offsets refer to ``doc.text`` (for an article, :func:`newsmon.analysis.text.article_text`).
    """
    text = doc.text  # spaCy joins every token again on each access
    found = [mention for ent in doc.ents if (mention := _from_model(ent, gazetteer, text)) is not None]
    _merge_capitals(found)
    surnames = _resolve_names(found, _vote(found))
    found = _with_missed(doc, text, found, _vote(found), surnames, gazetteer)
    types = _vote(found)
    for mention in found:
        if types[mention.name] in ("GPE", "LOC") and not mention.fixed and _capitalised_place(mention.name):
            mention.name = mention.name.title()
    types = _vote(found)

    by_name: dict[str, dict[tuple[int, int], Mention]] = defaultdict(dict)
    for mention in found:
        by_name[mention.name][(mention.start, mention.end)] = Mention(
            text[mention.start:mention.end], mention.start, mention.end)
    entities = [Entity(name=name, type=types[name], mentions=tuple(m for _, m in sorted(mentions.items())))
                for name, mentions in by_name.items()]
    return sorted(entities, key=lambda entity: (entity.mentions[0].start, entity.name))
