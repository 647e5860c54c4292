"""Watch-list name matching: which watched people an article names, where, and how surely.

A watch entry (:class:`WatchEntry`, ``schemas/watch_entry.schema.json``) is one person: a
canonical name, other forms of it (aliases: transliterations, maiden names, nicknames), the
list it belongs to, and optional filters (topics, sources, languages). :class:`WatchMatcher`
is built once from any number of entries and finds them in one article: its text, spaCy's
sentences and token tags (:mod:`newsmon.analysis.text`) and its resolved entities
(:mod:`newsmon.analysis.entities`) as context.

How names are compared. A word is folded (case; diacritics, "Statkevič" = "statkevich";
Cyrillic letters transliterated) and reduced to a *spelling key* in which the romanisation
conventions for Belarusian, Russian and Ukrainian names collapse: kh/h/ch, ts/c/tz,
ya/ia/ja, yu/iu/ju, ye/ie/e, ou/ov/ow, w/v, sh/sz, -sky/-skiy/-skii/-ski, -ich/-ych/-itch,
y/i, doubled letters. What a key cannot collapse, because the spellings stand for real
differences between the languages (Belarusian akanne a/o, -ka/-ko, tsekanne ts/t,
dzekanne dz/d, yakanne ia/e, h/g, ...), is generated from the canonical form by rules,
cheapest first and capped, for names that look East Slavic; given names also go through a
small table of Belarusian/Russian/Ukrainian pairs (Ihar/Igor, Mikola/Mikalai/Nikolai). The
index maps each surname key to its entries, so an article costs one dictionary look-up per
capitalised word, whatever the number of entries. :func:`name_forms` spells the variants out.

How much a mention counts (:data:`CONFIDENCE`, best first): the full name; a one-word alias;
initials and surname; the surname alone where the full name is elsewhere in the article;
the surname alone tagged as a person by the model; a distinctive (East Slavic) surname alone,
spelled as in the entry.
A surname alone that is also a common word or a place ("Bush" fires, "Brown" bears,
"Washington" the city) needs the full name or a person reading of that very word; a name
inside a longer name of something else ("Trump Tower", "George Washington Bridge") or after
another person's given name ("Melania Trump" for Donald Trump) does not count at all.

Pure code: no Beam, no Elasticsearch, no model.
"""

from __future__ import annotations

import bisect
import csv
import hashlib
import heapq
import io
import re
import unicodedata
from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from newsmon.analysis.entities import HONORIFICS, TITLE_MODIFIERS, TITLE_WORDS, Entity
from newsmon.analysis.text import Sentence, Token
from newsmon.errors import ConfigError
from newsmon.schemas import problems

SCHEMA = "watch_entry"
SCHEMA_VERSION = 1
DEFAULT_LIST = "default"
ENTRY_KEYS = ("name", "aliases", "list", "topics", "sources", "languages", "notes")
CSV_HEADER = ENTRY_KEYS
CSV_SEPARATOR = ";"

# Confidence of the best reading of a mention, before the spelling factor (below). The
# order is the contract: full name > alias > initials > surname after the full name >
# surname tagged PERSON > distinctive surname alone.
CONFIDENCE = {
    "full": 1.0,
    "alias": 0.9,
    "initials": 0.8,
    "surname_after_full": 0.6,
    "person_surname": 0.4,
    "distinctive_surname": 0.3,
}
# How closely the words were written like the entry: exactly (after folding); a
# romanisation of the same spelling key; a generated sound variant or a table given name;
# one letter off every known spelling (a given name; or a surname, after the full given name).
SPELLING = {"exact": 1.0, "romanisation": 0.97, "variant": 0.93, "near": 0.88}
EXTRA_NAME_FACTOR = 0.98  # per middle name or initial the entry does not have

MAX_FORMS = 300  # name_forms(): spelled-out forms of one name
TOKEN_FORMS = 80  # ... of one word of it
MATCH_VARIANTS = 48  # generated sound variants of one word used for matching
MAX_VARIANT_COST = 3
MAX_EVIDENCE = 600  # characters
MAX_RUN = 5  # given names, initials and titles looked at before a surname
NEAR_MIN_LENGTH = 6  # surnames this long may match one letter off, after the full given name

# --- folding and spelling keys ----------------------------------------------------------

_LETTERS = {
    "č": "ch", "š": "sh", "ž": "zh", "ż": "zh", "ł": "l", "ŭ": "u", "ß": "ss", "æ": "ae", "œ": "oe",
    "ø": "o", "đ": "d", "ð": "d", "þ": "th", "ı": "i",
    # Cyrillic, so that a name written in Cyrillic meets its romanisations
    "а": "a", "б": "b", "в": "v", "г": "g", "ґ": "g", "д": "d", "е": "e", "ё": "yo", "є": "ye",
    "ж": "zh", "з": "z", "и": "i", "і": "i", "ї": "yi", "й": "y", "к": "k", "л": "l", "м": "m",
    "н": "n", "о": "o", "п": "p", "р": "r", "с": "s", "т": "t", "у": "u", "ў": "u", "ф": "f",
    "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh", "щ": "shch", "ъ": "", "ы": "y", "ь": "",
    "э": "e", "ю": "yu", "я": "ya",
}
_FOLD_TABLE = str.maketrans({**_LETTERS, **dict.fromkeys("'’ʼʹ`´‘", "")})


@lru_cache(maxsize=1 << 16)
def fold(text: str) -> str:
    """Lower case, diacritics removed (caron letters as their digraphs: "č" → "ch"), no apostrophes."""
    text = unicodedata.normalize("NFC", text).casefold().translate(_FOLD_TABLE)
    return "".join(char for char in unicodedata.normalize("NFKD", text) if not unicodedata.combining(char))


_V = "aeiouyЯЮЁ"  # vowels of a key in progress (Я, Ю, Ё stand for ya, yu, yo)
_KEY_STEPS = tuple((re.compile(pattern), replacement) for pattern, replacement in (
    (r"(?<=[^aeiouy])(?:[iy][iyj]|y)$", "i"),  # -iy -yy -yi -ii -ij -y → -i
    (r"(?<=[aeou])[yj]$", "i"),  # Sergey / Sergej → Sergei
    (r"schtsch|shch|szcz", "Щ"),
    (r"tsch", "X"),
    (r"sch|sh|sz", "Ш"),
    (r"zh", "Ж"),
    (r"tch|kh|ch|cz", "X"),
    (r"th", "t"),
    (r"ph", "f"),
    (r"h", "X"),  # kh / h / ch are one sound class here
    (r"ck(?!(?:i|a|aya|aja|aia)$)", "k"),  # English "ck", not the Polish / Łacinka "-cki"
    (r"x", "ks"),
    (r"ts|tz|c", "C"),
    (r"w", "v"),
    (r"q", "k"),
    (r"[ijy]+a", "Я"),
    (r"[ijy]+u", "Ю"),
    (r"[ijy]+o", "Ё"),
    (r"[ijy]+e", "e"),  # ye / ie / je / e
    (rf"(?<=[aeoЯЁ])u(?![{_V}])", "v"),  # Belarusian ў: -ou / -ov / -ow, Yauhen / Yawhen
    (r"[yj]", "i"),
    (r"(.)\1+", r"\1"),
))


@lru_cache(maxsize=1 << 17)
def spelling_key(word: str) -> str:
    """The key two romanisations of one name share ("Tsikhanouskaya", "Tsikhanovskaya",
    "Cichanoŭskaja" → one key). ``word`` is one word, folded or not.
    """
    key = fold(word)
    for pattern, replacement in _KEY_STEPS:
        key = pattern.sub(replacement, key)
    return key


# --- variant generation -----------------------------------------------------------------

_C = "bcdfghjklmnpqrstvwxz"
# Sound correspondences between Belarusian, Russian and Ukrainian spellings of one name,
# applied to folded words; each application costs 1. Spelling keys do not collapse these.
SOUND_RULES = tuple((re.compile(pattern), replacement, name) for pattern, replacement, name in (
    (r"a(?=.)", "o", "akanne a→o"),  # Kalesnikava → Kolesnikova (not a final -a)
    (r"o(?=.)", "a", "akanne o→a"),
    (r"ka$", "ko", "-ka→-ko"),  # Lukashenka → Lukashenko
    (r"ko$", "ka", "-ko→-ka"),
    (r"ts(?=i|e|y[aeu]|j)", "t", "tsekanne ts→t"),  # Tsikhanouskaya → Tikhanovskaya
    (r"(?<![st])t(?=i|e|y[aeu])", "ts", "tsekanne t→ts"),
    (r"dz(?=i|e|y[aeu])", "d", "dzekanne dz→d"),
    (r"(?<![dz])d(?=i|e|y[aeu])", "dz", "dzekanne d→dz"),  # Vladimir → Uladzimir-like
    (rf"(?<=[{_C}])(?:iya|ia|ya|ja)", "e", "yakanne ia→e"),  # Bialiatski → Beliatski, Sviatlana → Svetlana
    (rf"(?<=[{_C}])(?<!ts)e", "ia", "yakanne e→ia"),
    (r"(?:yo|io|jo)", "e", "yo→e"),
    (r"(?<![kcsztgp])h", "g", "h→g"),  # Ihar → Igor, Siarhei → Sergei
    (r"g(?!h)", "h", "g→h"),
    (r"(?<=l)[iy](?=[aue])", "", "soft l"),  # Łacinka Bialacki
    (r"sk(?:aya|aia|aja)$", "ska", "-skaya→-ska"),
    (r"ska$", "skaya", "-ska→-skaya"),
))
# Spelling conventions: forms with the same spelling key. Used to spell forms out
# (name_forms), never needed for matching.
_VOWEL = "aeiouy"
SPELLING_RULES = tuple((re.compile(pattern), replacement) for pattern, replacement in (
    (r"kh", "h"), (r"kh", "ch"), (r"(?<![kcsztgp])h", "kh"),
    (r"ts", "c"), (r"ts", "tz"), (r"(?<![ts])c(?![hkz])", "ts"),
    (rf"(?<=[aeo])u(?![{_VOWEL}])", "v"), (rf"(?<=[aeo])u(?![{_VOWEL}])", "w"),
    (rf"(?<=[aeo])v(?![{_VOWEL}])", "u"), (r"w", "v"), (r"v", "w"),
    (rf"(?<=[{_C}])ia", "ya"), (rf"(?<=[{_C}])ya", "ia"), (rf"(?<=[{_C}])ia", "iya"),
    (rf"(?<=[{_C}])ia", "yia"), (rf"(?<=[{_C}])[iy]a", "ja"), (r"^ya", "ia"), (r"^[iy]a", "ja"),
    (r"^ia", "ya"),
    (rf"(?<=[{_C}])iu", "yu"), (rf"(?<=[{_C}])yu", "iu"), (r"^yu", "iu"), (r"^[iy]u", "ju"), (r"^iu", "yu"),
    (rf"(?<=[{_C}])ie", "e"), (rf"(?<=[{_C}])(?<!ts)e(?!$)", "ie"), (r"^ye", "e"), (r"^e", "ye"),
    (rf"(?<=[{_C}])io", "yo"), (rf"(?<=[{_C}])yo", "io"),
    (rf"(?<=[{_C}])(?:iy|yy|yi|ii|ij|y|i)$", "y"), (rf"(?<=[{_C}])(?:iy|yy|yi|ii|ij|y|i)$", "i"),
    (rf"(?<=[{_C}])(?:iy|yy|yi|ii|ij|y|i)$", "iy"), (rf"(?<=[{_C}])(?:iy|yy|yi|ii|ij|y|i)$", "ii"),
    (rf"(?<=[{_C}])(?:iy|yy|yi|ii|ij|y|i)$", "yi"), (rf"(?<=[{_C}])(?:iy|yy|yi|ii|ij|y|i)$", "yy"),
    (r"ich$", "ych"), (r"ych$", "ich"), (r"ich$", "itch"),
    (rf"(?<=[{_C}])y(?=[{_C}])", "i"), (rf"(?<=[{_C}])i(?=[{_C}])", "y"),
    (r"x", "ks"), (r"ks", "x"),
    (r"([bdfgklmnprstvz])\1", r"\1"),
))
# A surname (or any word of the name) that looks East Slavic gets the sound rules.
_SLAVIC_ENDING = re.compile(
    r"(?:ov|ova|ev|eva|in|ina|yn|yna|enko|enka|uk|yuk|iuk|ak|yak|iak|ik|yk|ski|sky|skiy|skii|skyi|skij"
    r"|ska|skaya|skaja|skaia|cki|cky|ich|ych|itch|icz|au|ou|ava|ets|iets|yets|nyy|nyi|niy"
    r"|[bcdfghklmprstvz]ny"
    r"|[bcdfghklmnprstvziy]k[ao])$")
_SLAVIC_MARK = re.compile(r"kh|zh|shch|dz|ts[aeiouy]|[bcdfgklmnprstvz]y[aeuo]|[bcdfgklmnprstvz]i[au]")

# Belarusian / Russian / Ukrainian (and the usual English) spellings of one given name.
# Only forms that need more than the spelling key and the sound rules have to be listed.
GIVEN_NAME_GROUPS: tuple[tuple[str, ...], ...] = (
    ("Alexander", "Aleksandr", "Aliaksandr", "Alyaksandr", "Aleksander", "Oleksandr", "Alexandr"),
    ("Alexandra", "Aleksandra", "Aliaksandra", "Oleksandra"),
    ("Alexei", "Aleksei", "Alexey", "Aliaksei", "Oleksiy", "Oleksii"),
    ("Anatoly", "Anatol", "Anatoliy", "Anatolii"),
    ("Andrei", "Andrey", "Andrej", "Andriy", "Andrii"),
    ("Anna", "Hanna", "Ganna"),
    ("Anastasia", "Anastasiya", "Nastassia", "Anastasiia"),
    ("Artyom", "Artem", "Artsiom"),
    ("Boris", "Barys"),
    ("Denis", "Dzianis", "Denys"),
    ("Dmitry", "Dzmitry", "Dmytro", "Zmitser", "Zmicier"),
    ("Fyodor", "Fedor", "Fiodar", "Fedir"),
    ("Gennady", "Henadz", "Hennadiy", "Genadz"),
    ("Georgy", "Georgiy", "Heorhiy", "Heorhi"),
    ("Grigory", "Ryhor", "Hryhoriy"),
    ("Igor", "Ihar", "Ihor"),
    ("Ilya", "Illia", "Ilia"),
    ("Irina", "Iryna"),
    ("Katsiaryna", "Ekaterina", "Yekaterina", "Kateryna", "Katerina"),
    ("Kirill", "Kiryl", "Kyrylo"),
    ("Konstantin", "Kanstantsin", "Kostiantyn", "Kostyantyn"),
    ("Leonid", "Leanid"),
    ("Lyudmila", "Liudmyla", "Ludmila"),
    ("Maksim", "Maxim", "Maksym"),
    ("Maria", "Maryia", "Mariya", "Mariia", "Marya"),
    ("Marina", "Maryna"),
    ("Mikhail", "Mikhal", "Mikhas", "Mykhailo", "Michail"),
    ("Nikita", "Mikita", "Mykyta"),
    ("Nikolai", "Mikalai", "Mikola", "Mykola", "Mikalay", "Mikolaj"),
    ("Natalia", "Natallia", "Nataliya", "Natalya"),
    ("Oleg", "Aleh", "Oleh"),
    ("Olga", "Volha", "Olha"),
    ("Pavel", "Paval", "Pavlo"),
    ("Pyotr", "Piotr", "Petr", "Petro", "Piatro"),
    ("Roman", "Raman"),
    ("Semyon", "Siamion", "Semen"),
    ("Sergei", "Sergey", "Siarhei", "Serhiy", "Serhii"),
    ("Stanislav", "Stanislau"),
    ("Stepan", "Stsiapan"),
    ("Svetlana", "Sviatlana"),
    ("Tatiana", "Tatsiana", "Tetiana", "Tatyana"),
    ("Valentin", "Valiantsin", "Valentyn"),
    ("Valery", "Valer", "Valeriy"),
    ("Vasily", "Vasil", "Vasyl"),
    ("Viktor", "Viktar", "Victor"),
    ("Vitaly", "Vital", "Vitaliy"),
    ("Vladimir", "Uladzimir", "Volodymyr"),
    ("Vyacheslav", "Viachaslau"),
    ("Yakov", "Yakau", "Yakiv"),
    ("Yaroslav", "Yaraslau"),
    ("Yegor", "Yahor"),
    ("Yelena", "Elena", "Alena", "Olena"),
    ("Yevgeny", "Evgeny", "Yauhen", "Yevhen", "Evgenii"),
    ("Yulia", "Yuliya", "Julia"),
    ("Yuri", "Yury", "Yuriy", "Iurii"),
)


def _expand(word: str, rules: Sequence[tuple[re.Pattern[str], str]], *, limit: int,
            max_cost: int = MAX_VARIANT_COST, everywhere: bool = False) -> list[tuple[int, str]]:
    """``(cost, form)`` for ``word`` and what ``rules`` make of it, fewest rewrites first,
    then alphabetical, at most ``limit`` (so the same word always gives the same forms).

    A rewrite applies a rule at one place, or with ``everywhere`` at every place at once
    (a romanisation system writes every "я" the same way; akanne is one vowel at a time).
    """
    cost_of = {word: 0}
    level = [word]
    for cost in range(1, max_cost + 1):
        found: set[str] = set()
        for form in level:
            for pattern, replacement in rules:
                if everywhere:
                    found.add(pattern.sub(replacement, form))
                    continue
                for match in pattern.finditer(form):
                    found.add(form[:match.start()] + match.expand(replacement) + form[match.end():])
        level = sorted(variant for variant in found if variant and variant not in cost_of)
        for variant in level:
            cost_of[variant] = cost
        if len(cost_of) >= limit or not level:
            break
    return sorted(((cost, form) for form, cost in cost_of.items()))[:limit]


def looks_slavic(words: Sequence[str]) -> bool:
    """Whether a name (folded words, surname last) looks like a romanised East Slavic name."""
    return bool(words) and (_SLAVIC_ENDING.search(words[-1]) is not None
                            or any(_SLAVIC_MARK.search(word) for word in words))


_SOUND = tuple((pattern, replacement) for pattern, replacement, _ in SOUND_RULES)


@lru_cache(maxsize=1 << 15)
def _sound_variants(word: str) -> tuple[tuple[int, str], ...]:
    return tuple(_expand(word, _SOUND, limit=MATCH_VARIANTS))


@lru_cache(maxsize=1 << 12)
def _spellings(word: str) -> tuple[tuple[int, str], ...]:
    return tuple(_expand(word, SPELLING_RULES, limit=TOKEN_FORMS, max_cost=2, everywhere=True))


@lru_cache(maxsize=1)
def _given_groups() -> dict[str, tuple[str, ...]]:
    """Spelling key of a listed given name → the folded names of its group."""
    by_key: dict[str, tuple[str, ...]] = {}
    for group in GIVEN_NAME_GROUPS:
        folded = tuple(dict.fromkeys(fold(name) for name in group))
        for name in folded:
            by_key.setdefault(spelling_key(name), folded)
    return by_key


def _given_alternatives(word: str) -> tuple[str, ...]:
    """The other given names of ``word``'s group (folded), or ()."""
    group = _given_groups().get(spelling_key(word), ())
    return tuple(name for name in group if spelling_key(name) != spelling_key(word))


def _word_forms(word: str, *, slavic: bool, given: bool) -> list[tuple[int, str]]:
    """Spelled-out forms of one folded word of a name, cheapest first."""
    seeds = [(cost, form) for cost, form in (_sound_variants(word) if slavic else ((0, word),))]
    if given:
        seeds += [(1, other) for other in _given_alternatives(word)]
    best: dict[str, int] = {}
    for seed_cost, seed in seeds:
        for cost, form in _spellings(seed):
            if seed_cost + cost < best.get(form, MAX_VARIANT_COST * 3):
                best[form] = seed_cost + cost
    return sorted(((cost, form) for form, cost in best.items()))[:TOKEN_FORMS]


_NAME_WORD = re.compile(r"[^\W\d_]+(?:['’ʼ][^\W\d_]+)*\.?")
GENERATIONAL = frozenset({"jr", "sr", "ii", "iii", "iv"})
PARTICLES = frozenset({"von", "van", "der", "den", "de", "del", "della", "di", "da", "dos", "das", "du",
                       "la", "le", "ter", "ten", "bin", "ibn", "al", "el"})


def _name_words(name: str) -> list[str]:
    """The words of a name as written (hyphenated parts separate, dots of initials dropped)."""
    return [word.rstrip(".") for word in _NAME_WORD.findall(unicodedata.normalize("NFC", name))]


def name_forms(name: str, *, limit: int = MAX_FORMS) -> set[str]:
    """Forms of ``name`` that match it: folded, lower-case, words joined by single spaces.

    Always holds the folded name itself; then the romanisations and (for East Slavic names)
    the sound variants of each word, with the other forms of a listed given name, cheapest
    combinations first, at most ``limit``. Deterministic. Matching does not depend on this
    list (it compares spelling keys, which cover every spelling convention at once); it is
    for people and for search queries.
    """
    words = [fold(word) for word in _name_words(name)]
    if not words:
        return set()
    slavic = looks_slavic(words)
    per_word = [_word_forms(word, slavic=slavic, given=index < len(words) - 1 or len(words) == 1)
                for index, word in enumerate(words)]
    # the cheapest combinations: a best-first walk over the grid of per-word choices
    start = (sum(forms[0][0] for forms in per_word), (0,) * len(words))
    heap, seen, result = [start], {start[1]}, []
    while heap and len(result) < limit:
        cost, choice = heapq.heappop(heap)
        result.append(" ".join(per_word[i][j][1] for i, j in enumerate(choice)))
        for i, j in enumerate(choice):
            if j + 1 < len(per_word[i]):
                nxt = (*choice[:i], j + 1, *choice[i + 1:])
                if nxt not in seen:
                    seen.add(nxt)
                    heapq.heappush(heap, (cost - per_word[i][j][0] + per_word[i][j + 1][0], nxt))
    forms = set(result)
    forms.add(" ".join(words))
    return forms


# --- watch entries ----------------------------------------------------------------------


def _clean(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).split())


def compute_entry_id(list_name: str, name: str) -> str:
    """First 32 hex digits of sha256 of: list name, a newline, the casefolded name (whitespace collapsed)."""
    data = f"{list_name.strip()}\n{_clean(name).casefold()}".encode()
    return hashlib.sha256(data).hexdigest()[:32]


def _utc_text(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _strings(value: Any, what: str) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, list | tuple):
        kind = "a string" if isinstance(value, str) else type(value).__name__
        msg = f"{what} must be a list, got {kind}"
        raise ConfigError(msg)
    items = []
    for item in value:
        if not isinstance(item, str) or not item.strip():
            msg = f"each of {what} must be a non-empty string, got {item!r}"
            raise ConfigError(msg)
        items.append(_clean(item))
    return tuple(dict.fromkeys(items))


_TOPIC = re.compile(r"^[A-Za-z0-9_]+$")
_LANGUAGE = re.compile(r"^[a-z]{2,3}(-[a-z0-9]{1,8})*$")


@dataclass(frozen=True, kw_only=True)
class WatchEntry:
    """One watched person. ``list_name`` is the ``list`` of the schema (owner or list name).

    Filters: an entry with ``topics`` only matches articles tagged with at least one of
    them; with ``sources``, articles from one of those sources (names compared casefolded);
    with ``languages``, articles in one of them ("en" also takes "en-gb").
    """

    entry_id: str
    name: str
    aliases: tuple[str, ...] = ()
    list_name: str = DEFAULT_LIST
    topics: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    notes: str | None = None
    created_at: datetime
    updated_at: datetime

    def __post_init__(self) -> None:
        label = f"watch entry {self.name!r}"
        try:
            self._check()
        except ConfigError as exc:
            msg = f"{label}: {exc}"
            raise ConfigError(msg) from exc

    def _check(self) -> None:
        if not isinstance(self.name, str) or not _clean(self.name) or len(self.name) > 300:
            msg = f"name must be a non-empty string of at most 300 characters, got {self.name!r}"
            raise ConfigError(msg)
        if not _name_words(self.name):
            msg = f"name has no letters: {self.name!r}"
            raise ConfigError(msg)
        if not isinstance(self.list_name, str) or not self.list_name.strip() or "\n" in self.list_name:
            msg = f"list must be a non-empty single-line string, got {self.list_name!r}"
            raise ConfigError(msg)
        set_ = object.__setattr__
        set_(self, "name", _clean(self.name))
        set_(self, "list_name", self.list_name.strip())
        folded_name = self.name.casefold()
        set_(self, "aliases", tuple(alias for alias in _strings(self.aliases, "aliases")
                                    if alias.casefold() != folded_name))
        for alias in self.aliases:
            if not _name_words(alias):
                msg = f"alias has no letters: {alias!r}"
                raise ConfigError(msg)
        set_(self, "topics", _strings(self.topics, "topics"))
        for topic in self.topics:
            if not _TOPIC.match(topic):
                msg = f"topic names are letters, digits and underscores, got {topic!r}"
                raise ConfigError(msg)
        set_(self, "sources", _strings(self.sources, "sources"))
        set_(self, "languages", tuple(dict.fromkeys(lang.lower() for lang in
                                                    _strings(self.languages, "languages"))))
        for language in self.languages:
            if not _LANGUAGE.match(language):
                msg = f"languages are BCP 47 tags such as en or en-gb, got {language!r}"
                raise ConfigError(msg)
        if self.notes is not None and not isinstance(self.notes, str):
            msg = f"notes must be a string or null, got {type(self.notes).__name__}"
            raise ConfigError(msg)
        for what in ("created_at", "updated_at"):
            moment = getattr(self, what)
            if not isinstance(moment, datetime) or moment.tzinfo is None:
                msg = f"{what} must be a timezone-aware datetime, got {moment!r}"
                raise ConfigError(msg)
            set_(self, what, moment.astimezone(UTC))
        if self.updated_at < self.created_at:
            msg = f"updated_at {_utc_text(self.updated_at)} is before created_at {_utc_text(self.created_at)}"
            raise ConfigError(msg)
        expected = compute_entry_id(self.list_name, self.name)
        if self.entry_id != expected:
            msg = (f"entry_id {self.entry_id!r} is not the id of this name on list {self.list_name!r} "
                   f"({expected}); ids are derived, see schemas/watch_entry.schema.json")
            raise ConfigError(msg)

    @classmethod
    def create(cls, name: str, *, aliases: Iterable[str] = (), list_name: str = DEFAULT_LIST,
               topics: Iterable[str] = (), sources: Iterable[str] = (), languages: Iterable[str] = (),
               notes: str | None = None, now: datetime | None = None) -> WatchEntry:
        """A new entry with its derived id, created and updated ``now`` (UTC, whole seconds;
        default: the current time). Names and aliases are cleaned (whitespace collapsed),
        languages lower-cased, repeated values dropped.
        """
        if now is None:
            now = datetime.now(UTC)
        elif now.tzinfo is None:
            msg = f"now must be timezone-aware, got {now!r}"
            raise ConfigError(msg)
        now = now.astimezone(UTC).replace(microsecond=0)
        listed = {}
        for what, value in (("aliases", aliases), ("topics", topics), ("sources", sources),
                            ("languages", languages)):
            if isinstance(value, str):
                msg = f"watch entry {name!r}: {what} must be a list, got a string"
                raise ConfigError(msg)
            listed[what] = tuple(value) if value is not None else ()
        valid = isinstance(name, str) and isinstance(list_name, str)
        entry_id = compute_entry_id(list_name, name) if valid else ""
        return cls(entry_id=entry_id, name=name, list_name=list_name, notes=notes,
                   created_at=now, updated_at=now, **listed)

    def to_dict(self) -> dict[str, Any]:
        """The entry as ``schemas/watch_entry.schema.json`` describes it."""
        return {
            "schema_version": SCHEMA_VERSION,
            "entry_id": self.entry_id,
            "name": self.name,
            "aliases": list(self.aliases),
            "list": self.list_name,
            "topics": list(self.topics),
            "sources": list(self.sources),
            "languages": list(self.languages),
            "notes": self.notes,
            "created_at": _utc_text(self.created_at),
            "updated_at": _utc_text(self.updated_at),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> WatchEntry:
        """Read a schema-valid dict (a message, an Elasticsearch document). Fields the schema
        makes optional take their defaults; missing times are the time of reading.
        """
        found = problems(SCHEMA, dict(data)) if isinstance(data, Mapping) else ["(root): not an object"]
        if found:
            label = data.get("entry_id") or data.get("name") if isinstance(data, Mapping) else None
            msg = (f"watch entry {label!r} does not match schemas/{SCHEMA}.schema.json: "
                   + "; ".join(found[:5]))
            raise ConfigError(msg)
        now = datetime.now(UTC).replace(microsecond=0)
        created = data.get("created_at") or data.get("updated_at")
        created_at = datetime.fromisoformat(created) if created else now
        updated = data.get("updated_at")
        return cls(entry_id=data["entry_id"], name=data["name"], aliases=tuple(data.get("aliases", ())),
                   list_name=data.get("list", DEFAULT_LIST), topics=tuple(data.get("topics", ())),
                   sources=tuple(data.get("sources", ())), languages=tuple(data.get("languages", ())),
                   notes=data.get("notes"), created_at=created_at,
                   updated_at=datetime.fromisoformat(updated) if updated else created_at)

    def forms(self, *, limit: int = MAX_FORMS) -> set[str]:
        """:func:`name_forms` of the name and of each alias."""
        result = name_forms(self.name, limit=limit)
        for alias in self.aliases:
            result |= name_forms(alias, limit=limit)
        return result

    def accepts(self, topics: Collection[str], source: str | None, language: str | None) -> bool:
        """Whether an article with these topics, source and language passes the entry's filters."""
        if self.topics and not {topic.casefold() for topic in self.topics} & {t.casefold() for t in topics}:
            return False
        if self.sources and (source is None or source.casefold() not in
                             {name.casefold() for name in self.sources}):
            return False
        if self.languages:
            if language is None:
                return False
            language = language.lower()
            return any(language == lang or language.startswith(lang + "-") for lang in self.languages)
        return True


# --- watch-list files -------------------------------------------------------------------


def _entry_from_record(record: Mapping[str, Any], label: str, now: datetime | None) -> WatchEntry:
    unknown = set(record) - set(ENTRY_KEYS)
    if unknown:
        msg = f"{label}: unknown keys {', '.join(sorted(map(str, unknown)))} (known: {', '.join(ENTRY_KEYS)})"
        raise ConfigError(msg)
    name = record.get("name")
    if not isinstance(name, str) or not name.strip():
        msg = f"{label}: `name` must be a non-empty string, got {name!r}"
        raise ConfigError(msg)
    label = f"{label} ({name.strip()!r})"
    list_name = record.get("list")
    if list_name is None or list_name == "":
        list_name = DEFAULT_LIST
    if not isinstance(list_name, str):
        msg = f"{label}: `list` must be a string, got {list_name!r}"
        raise ConfigError(msg)
    notes = record.get("notes")
    if notes == "":
        notes = None
    if notes is not None and not isinstance(notes, str):
        msg = f"{label}: `notes` must be a string, got {type(notes).__name__}"
        raise ConfigError(msg)
    listed = {}
    for what in ("aliases", "topics", "sources", "languages"):
        value = record.get(what)
        if value is None:
            value = ()
        if isinstance(value, str) or not isinstance(value, list | tuple):
            kind = "a string" if isinstance(value, str) else type(value).__name__
            msg = f"{label}: `{what}` must be a list, got {kind}"
            raise ConfigError(msg)
        listed[what] = value
    try:
        return WatchEntry.create(name, list_name=list_name, notes=notes, now=now, **listed)
    except ConfigError as exc:
        msg = f"{label}: {exc}"
        raise ConfigError(msg) from exc


def _no_duplicates(entries: list[WatchEntry], labels: list[str], source: str) -> list[WatchEntry]:
    first: dict[str, str] = {}
    for entry, label in zip(entries, labels, strict=True):
        if entry.entry_id in first:
            msg = (f"{source}: {label} ({entry.name!r}): the same name on list {entry.list_name!r} "
                   f"as {first[entry.entry_id]}")
            raise ConfigError(msg)
        first[entry.entry_id] = label
    return entries


def parse_watchlist_yaml(text: str, *, source: str = "watch list",
                         now: datetime | None = None) -> list[WatchEntry]:
    """Entries of a YAML watch list: a mapping whose ``watch:`` is a list of entries."""
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        msg = f"{source}: not valid YAML: {exc}"
        raise ConfigError(msg) from exc
    if not isinstance(document, dict) or "watch" not in document:
        msg = f"{source}: a watch list is a mapping with a `watch:` list of entries"
        raise ConfigError(msg)
    unknown = set(document) - {"watch"}
    if unknown:
        msg = f"{source}: unknown keys {', '.join(sorted(map(str, unknown)))}"
        raise ConfigError(msg)
    items = document["watch"] or []
    if not isinstance(items, list):
        msg = f"{source}: `watch:` must be a list, got {type(items).__name__}"
        raise ConfigError(msg)
    entries, labels = [], []
    for position, item in enumerate(items, start=1):
        label = f"{source}: entry #{position}"
        if not isinstance(item, dict):
            msg = f"{label} must be a mapping with at least `name:`, got {item!r}"
            raise ConfigError(msg)
        entries.append(_entry_from_record(item, label, now))
        labels.append(f"entry #{position}")
    return _no_duplicates(entries, labels, source)


def parse_watchlist_csv(text: str, *, source: str = "watch list",
                        now: datetime | None = None) -> list[WatchEntry]:
    """Entries of a CSV watch list: header ``name,aliases,list,topics,sources,languages,notes``
    (``name`` required, the others optional); several values in a cell are separated by ``;``.
    """
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")), restkey="\0extra")
    header = reader.fieldnames
    if not header:
        msg = f"{source}: empty CSV file; the first row must be the header {','.join(CSV_HEADER)}"
        raise ConfigError(msg)
    header = [column.strip() for column in header]
    reader.fieldnames = header
    unknown = [column for column in header if column not in CSV_HEADER]
    if unknown or "name" not in header or len(set(header)) != len(header):
        msg = (f"{source}: row 1: the header must be {','.join(CSV_HEADER)} (name required), "
               f"got {','.join(header)}")
        raise ConfigError(msg)
    entries, labels = [], []
    for row in reader:
        label = f"{source}: row {reader.line_num}"
        if "\0extra" in row:
            msg = f"{label}: more cells than the header has columns"
            raise ConfigError(msg)
        if all(not (value or "").strip() for value in row.values()):
            continue
        record: dict[str, Any] = {}
        for column, value in row.items():
            value = (value or "").strip()
            if column in ("aliases", "topics", "sources", "languages"):
                record[column] = [part.strip() for part in value.split(CSV_SEPARATOR) if part.strip()]
            else:
                record[column] = value or None
        entries.append(_entry_from_record(record, label, now))
        labels.append(f"row {reader.line_num}")
    return _no_duplicates(entries, labels, source)


def load_watchlist_file(path: str | Path, *, now: datetime | None = None) -> list[WatchEntry]:
    """Read a watch list from ``.yaml`` / ``.yml`` or ``.csv``; every entry is created ``now``.

    Raises :class:`ConfigError` naming the file and the entry (YAML) or row (CSV) at fault.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".yaml", ".yml", ".csv"):
        msg = f"{path}: a watch list is a .yaml, .yml or .csv file"
        raise ConfigError(msg)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        msg = f"{path}: cannot read the watch list: {exc}"
        raise ConfigError(msg) from exc
    if suffix == ".csv":
        return parse_watchlist_csv(text, source=str(path), now=now)
    return parse_watchlist_yaml(text, source=str(path), now=now)


def _record(entry: WatchEntry) -> dict[str, Any]:
    record: dict[str, Any] = {"name": entry.name}
    if entry.aliases:
        record["aliases"] = list(entry.aliases)
    record["list"] = entry.list_name
    for what in ("topics", "sources", "languages"):
        if getattr(entry, what):
            record[what] = list(getattr(entry, what))
    if entry.notes is not None:
        record["notes"] = entry.notes
    return record


def dump_watchlist_yaml(entries: Iterable[WatchEntry]) -> str:
    """A YAML watch list :func:`load_watchlist_file` reads back to the same entries (but the times)."""
    body = yaml.safe_dump({"watch": [_record(entry) for entry in entries]}, allow_unicode=True,
                          sort_keys=False, default_flow_style=False, width=1000)
    return "# newsmon watch list (see seeds/watchlist.example.yaml for the format)\n" + body


def dump_watchlist_csv(entries: Iterable[WatchEntry]) -> str:
    """A CSV watch list :func:`load_watchlist_file` reads back to the same entries (but the times)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    for entry in entries:
        row = [entry.name]
        for what in ("aliases", "list", "topics", "sources", "languages"):
            values = (entry.list_name,) if what == "list" else getattr(entry, what)
            for value in values:
                if CSV_SEPARATOR in value and what != "list":
                    msg = (f"watch entry {entry.name!r}: {what} value {value!r} contains "
                           f"{CSV_SEPARATOR!r}, which CSV cells use between values; use YAML")
                    raise ConfigError(msg)
            row.append(CSV_SEPARATOR.join(values))
        row.append(entry.notes or "")
        writer.writerow(row)
    return out.getvalue()


# --- matching ---------------------------------------------------------------------------


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


@dataclass(frozen=True)
class _Word:
    """One word of a name pattern: folded spelling, accepted keys and their spelling factor."""

    folded: str
    keys: Mapping[str, float]
    initials: frozenset[str]

    def spelling(self, folded: str, key: str) -> float | None:
        if folded == self.folded:
            return SPELLING["exact"]
        return self.keys.get(key)


@dataclass(frozen=True)
class _Pattern:
    """The name or one alias of an entry, ready to match: given names, particles, surname."""

    entry: int
    written: str
    given: tuple[_Word, ...]
    particles: tuple[str, ...]
    surname: _Word
    suffix: str | None  # "jr", "iii": the entry is the one with it
    alias: bool
    slavic: bool


@dataclass(slots=True)
class _TextWord:
    start: int
    end: int  # without a possessive
    text: str
    possessive: bool
    initial: bool
    folded: str = ""
    key: str = ""
    index: int = 0


@dataclass(frozen=True)
class _Hit:
    entry: int
    kind: str
    factor: float
    start: int
    end: int
    reason: str


_TEXT_WORD = re.compile(r"[^\W\d_]+(?:['’ʼ][^\W\d_]+)*")
_POSSESSIVE = re.compile(r"['’ʼ][sS]$")
_NAME_GAP = re.compile(r"[ \t\u00a0]{1,3}")
_INITIAL_GAP = re.compile(r"\.[ \t\u00a0]{0,3}")
_NON_PERSON_TYPES = frozenset({"ORG", "GPE", "LOC", "FAC", "NORP", "PRODUCT", "EVENT", "WORK_OF_ART", "LAW",
                               "LANGUAGE"})
_TITLES = frozenset(TITLE_WORDS | TITLE_MODIFIERS | HONORIFICS | {"mrs", "ms", "miss", "mx", "st", "saint"})
_FUNCTION_WORDS = frozenset({
    "a", "an", "the", "and", "but", "or", "nor", "so", "yet", "if", "when", "while", "after", "before", "as",
    "since", "until", "because", "though", "although", "for", "of", "in", "on", "at", "by", "to", "from",
    "with", "without", "about", "against", "between", "into", "through", "during", "under", "over", "like",
    "this", "that", "these", "those", "he", "she", "it", "we", "they", "his", "her", "its", "their", "our",
    "i", "you", "my", "your", "there", "here", "then", "now", "also", "even", "only", "still", "both",
    "either", "neither", "not", "no", "yes", "all", "some", "many", "most", "several", "other", "another",
    "according", "meanwhile", "however", "why", "what", "who", "whom", "whose", "which", "where", "how",
    "has", "had", "have", "is", "was", "were", "are", "be", "been", "will", "would", "could", "should",
    "may", "might", "must", "can", "did", "does", "do", "said", "says", "asked", "told",
    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "january", "february",
    "march", "april", "june", "july", "august", "september", "october", "november", "december",
})
# A capitalised word after a name that makes it the name of something else.
THING_HEADS = frozenset({
    "tower", "towers", "foundation", "street", "st", "avenue", "ave", "square", "bridge", "university",
    "institute", "center", "centre", "hotel", "hotels", "airport", "college", "school", "hospital",
    "library", "museum", "park", "stadium", "arena", "plaza", "building", "hall", "memorial", "monument",
    "prize", "award", "fund", "trust", "group", "corporation", "corp", "company", "co", "inc", "ltd",
    "llc", "organization", "organisation", "boulevard", "road", "lane", "river", "lake", "island",
    "county", "district", "mountain", "station", "bay", "estate", "resort", "enterprises", "holdings",
    "industries", "media", "productions", "records", "doctrine", "act", "law", "plan", "report",
    "administration", "campaign", "gallery", "theatre", "theater", "cup", "trophy",
    "medal", "lecture", "scholarship", "fellowship", "chair", "house", "palace", "castle", "cathedral",
    "church", "mosque", "temple", "airlines", "airways", "bank", "capital", "partners", "associates",
    "brothers", "bros", "motors", "pharmaceuticals", "labs", "laboratories", "network", "channel",
    "times", "post", "journal", "herald", "tribune", "gazette", "news", "press", "office", "party", "bloc",
    "movement", "headquarters", "team", "initiative", "council", "committee",
})
# Heads of places and facilities, which make a name the name of something else even one
# capitalised word further on ("Bush Intercontinental Airport", "Trump International Hotel");
# organisations named after a person ("Navalny Anti-Corruption Foundation") do not.
FACILITY_HEADS = frozenset({
    "tower", "towers", "street", "st", "avenue", "ave", "square", "bridge", "university", "institute",
    "center", "centre", "hotel", "hotels", "airport", "college", "school", "hospital", "library", "museum",
    "park", "stadium", "arena", "plaza", "building", "hall", "memorial", "monument", "boulevard", "road",
    "lane", "station", "resort", "gallery", "theatre", "theater", "house", "palace", "castle", "cathedral",
    "church", "mosque", "temple", "highway", "parkway", "expressway", "terminal", "tunnel", "dam", "pier",
    "harbour", "harbor", "port", "base", "campus", "complex", "clinic", "prison", "golf", "club", "course",
    "casino", "estate", "river", "lake", "island", "mountain", "bay", "county", "district",
})
# English words that are also surnames: alone, they need the full name or a clear person
# reading (tagged PERSON, a proper noun, not a modifier of another noun) before they count.
COMMON_WORDS = frozenset({
    "black", "white", "brown", "green", "grey", "gray", "gold", "golden", "silver", "rose", "red", "blue",
    "bush", "wood", "woods", "forest", "hill", "hills", "field", "fields", "stone", "rock", "lake", "river",
    "moore", "marsh", "heath", "brook", "banks", "bird", "fox", "wolf", "lamb", "crane", "swan", "hawk",
    "finch", "drake", "bull", "bear", "lion", "fish", "salmon", "trump", "king", "knight", "bishop",
    "pope", "prince", "duke", "earl", "lord", "baron", "marshal", "baker", "cook", "smith", "miller",
    "hunter", "fisher", "carpenter", "mason", "turner", "taylor", "porter", "cooper", "walker", "archer",
    "butler", "farmer", "gardner", "gardener", "shepherd", "sawyer", "weaver", "painter", "singer",
    "young", "little", "long", "short", "small", "strong", "sharp", "rich", "rice", "price", "cash",
    "money", "hope", "love", "joy", "may", "june", "march", "august", "winter", "summer", "spring",
    "frost", "snow", "rain", "storm", "sun", "day", "night", "early", "late", "best", "good", "noble",
    "wise", "hardy", "bell", "bond", "power", "powers", "rule", "law", "lawless", "chance", "fortune",
    "cross", "church", "chapel", "hall", "house", "castle", "tower", "gates", "bridges", "street",
    "ford", "wall", "walls", "pike", "steel", "iron", "glass", "paris", "lincoln", "chase", "pierce",
    "rush", "grant", "wells", "pool", "pond", "booth", "head", "hand", "foot", "boot", "stout", "grace",
    "faith", "hart", "deer", "buck", "crow", "raven", "sparrow", "partridge", "peacock", "post",
    "page", "parks", "park", "lane", "shaw", "west", "east", "north", "south", "english", "french",
    "welsh", "scott", "irish", "dutch", "coward", "savage", "wild", "gay", "sweet", "bitter", "sour",
    "mills", "barr", "carr", "coles", "hammer", "nail", "horn", "ash", "oak", "elm", "birch", "pine",
    "holly", "heather", "ivy", "daisy", "lily", "reed", "sage", "bean", "berry", "apple", "peach",
    "cherry", "plum", "lemon", "cotton", "wool", "silk", "pepper", "salt", "sugar", "honey", "butter",
    "bread", "rye", "wheat", "corn", "barley", "hay", "straw", "root", "branch", "leaf", "seed", "bloom",
    "kidd", "child", "bride", "groom", "guest", "friend", "hero", "angel", "saint", "christian",
    "moon", "star", "sky", "cloud", "wind", "waters", "well", "beach", "coast", "bay",
    "port", "dock", "ward", "warden", "sheriff", "judge", "major", "general", "colonel", "captain",
})
# Places that are also surnames (the article's own GPE / LOC entities count as well).
PLACE_WORDS = frozenset({
    "washington", "lincoln", "jackson", "houston", "austin", "dallas", "denver", "phoenix", "madison",
    "jordan", "georgia", "israel", "chad", "paris", "london", "berlin", "florence", "victoria", "sydney",
    "hamilton", "kent", "york", "chester", "lancaster", "warwick", "derby", "bradford", "preston",
    "orlando", "charlotte", "savannah", "carson", "cleveland", "jefferson", "franklin", "clinton",
    "monroe", "richmond", "raleigh", "columbus", "scotland", "england", "wales", "ireland", "china",
    "india", "kerry", "mayo", "clare", "cork", "sudan", "lebanon", "orange", "bristol", "essex", "sussex",
})


_FEMININE_END = ("a", "Я")


def _keys_of(folded: str, slavic: bool) -> dict[str, float]:
    """Spelling keys a word of a name is matched by: its own, then its sound variants."""
    keys: dict[str, float] = {}
    for cost, variant in (_sound_variants(folded) if slavic else ((0, folded),)):
        keys.setdefault(spelling_key(variant), SPELLING["romanisation"] if cost == 0 else SPELLING["variant"])
    return keys


# Other letters the initial of a romanised given name may be written with ("E." / "Y." for
# Yevgeny / Evgeny), by the first letters of the name.
_INITIAL_ALTERNATIVES = {"kh": "KHC", "ch": "CHK", "ts": "TC", "ye": "YE", "e": "EY", "y": "YIJ", "i": "IYJ",
                         "j": "JYI", "v": "VW", "w": "WV"}


def _given_word(word: str, slavic: bool) -> _Word:
    folded = fold(word)
    keys = _keys_of(folded, slavic)
    names = [folded, *_given_alternatives(folded)]
    if slavic:
        names += [variant for _, variant in _sound_variants(folded)]
    for other in names[1:]:
        keys.setdefault(spelling_key(other), SPELLING["variant"])
    initials: set[str] = set()
    for name in names:
        initials.add(name[:1].upper())
        initials.update(_INITIAL_ALTERNATIVES.get(name[:2], _INITIAL_ALTERNATIVES.get(name[:1], "")))
    return _Word(folded, keys, frozenset(initials))


def _levenshtein(a: str, b: str, limit: int) -> int:
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, start=1):
        current = [i]
        for j, char_b in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char_a != char_b)))
        if min(current) > limit:
            return limit + 1
        previous = current
    return previous[-1]


def _near(key: str, word: _Word) -> bool:
    """A given name one letter off its listed spellings: an unlisted romanisation.

    Five letters at least, same first letter, and the same grammatical gender (Alexandra is
    not Alexander).
    """
    if len(key) < 5:
        return False
    feminine = key.endswith(_FEMININE_END)
    return any(other[:1] == key[:1] and other.endswith(_FEMININE_END) == feminine
               and _levenshtein(key, other, 1) <= 1 for other in word.keys)


def _given_spelling(folded: str, key: str, word: _Word) -> float | None:
    spelling = word.spelling(folded, key)
    if spelling is None and _near(key, word):
        spelling = SPELLING["near"]
    return spelling


@dataclass
class _Article:
    """One article's text, words and analysis, with the look-ups matching needs."""

    text: str
    sentences: Sequence[Sentence]
    entities: Sequence[Entity]
    words: list[_TextWord] = field(default_factory=list)
    _tokens: list[Token] | None = None
    _token_starts: list[int] = field(default_factory=list)
    _mentions: list[tuple[int, int, Entity]] | None = None
    _lower_words: set[str] | None = None
    _places: set[str] | None = None
    _given_before: dict[str, list[_TextWord]] | None = None

    def tokens(self) -> list[Token]:
        if self._tokens is None:
            self._tokens = sorted((token for sentence in self.sentences for token in sentence.tokens),
                                  key=lambda token: token.start)
            self._token_starts = [token.start for token in self._tokens]
        return self._tokens

    def token_at(self, offset: int) -> tuple[int, Token] | tuple[None, None]:
        """The spaCy token covering character ``offset``, with its position."""
        tokens = self.tokens()
        position = bisect.bisect_right(self._token_starts, offset) - 1
        if position >= 0 and offset < tokens[position].start + len(tokens[position].text):
            return position, tokens[position]
        return None, None

    def overlapping(self, start: int, end: int) -> list[tuple[int, int, Entity]]:
        """Entity mentions overlapping ``text[start:end]``."""
        if self._mentions is None:
            self._mentions = sorted(((m.start, m.end, entity) for entity in self.entities
                                     for m in entity.mentions), key=lambda item: (item[0], item[1]))
        return [item for item in self._mentions if item[0] < end and start < item[1]]

    def lower_words(self) -> set[str]:
        if self._lower_words is None:
            self._lower_words = {fold(word.text) for word in self.words if word.text.islower()}
        return self._lower_words

    def places(self) -> set[str]:
        if self._places is None:
            self._places = {fold(entity.name) for entity in self.entities if entity.type in ("GPE", "LOC")}
        return self._places

    def name_like(self, word: _TextWord) -> bool:
        """Whether a capitalised word before a surname reads as part of a person's name
        (not a title, a function word at the start of a sentence, a nationality, a place).
        """
        folded = word.folded or fold(word.text)
        if folded in _TITLES or folded in _FUNCTION_WORDS or word.possessive:
            return False
        if spelling_key(folded) in _given_groups():
            return True  # a listed given name, whatever the model made of it ("Oleg" tagged ORG)
        _, token = self.token_at(word.start) if self.sentences else (None, None)
        if token is None:
            # no analysis: a nationality ("Belarusian", "Polish", "Chinese") is no given name
            return not (len(folded) >= 6 and folded.endswith(("ian", "ish", "ese")))
        if token.ent_type == "PERSON":
            return True
        return token.pos == "PROPN" and not token.ent_type  # not a date, a place, a nationality...

    def false_friend(self, word: _TextWord, slavic: bool) -> bool:
        """Whether a surname is also a common word or a place: in the lists, written in lower
        case elsewhere in this article, or a place in this article (the model's reading of a
        transliterated name as a place is too often wrong to count for East Slavic names).
        """
        folded = word.folded
        return (folded in COMMON_WORDS or folded in PLACE_WORDS or folded in self.lower_words()
                or (not slavic and folded in self.places()))

    def inside_longer_thing(self, start: int, end: int, surname: _TextWord) -> bool:
        """Whether ``text[start:end]`` lies inside a longer name of a place, organisation,
        building, prize...: an entity of another type reaching past it, a token tagged so
        beside it ("Trump Tower", FAC, FAC), or a capitalised head word after it.
        """
        for m_start, m_end, entity in self.overlapping(start, end):
            if entity.type != "PERSON" and (m_start < start or m_end > end):
                return True
        following = self.following(surname)
        if following is not None and following.text[:1].isupper():
            if fold(following.text) in THING_HEADS:
                return True
            second = self.following(following)
            if (second is not None and second.text[:1].isupper() and fold(second.text) in FACILITY_HEADS
                    and fold(following.text) not in _FUNCTION_WORDS and self._naming_word(following)):
                return True
        if not self.sentences:
            return False
        position, token = self.token_at(surname.start)
        if token is None or token.ent_type not in _NON_PERSON_TYPES:
            return False
        tokens = self.tokens()
        if position + 1 < len(tokens):
            after = tokens[position + 1]
            if after.ent_type == token.ent_type and after.text[:1].isalnum() and after.start <= end + 1:
                return True
        first, _ = self.token_at(start)
        if first is not None and first > 0:
            before = tokens[first - 1]
            if before.ent_type == token.ent_type and before.text[:1].isalnum() \
                    and before.start + len(before.text) >= start - 1:
                return True
        return False

    def given_before(self, key: str) -> list[_TextWord]:
        """The capitalised words written right before a surname of spelling ``key`` anywhere in
        the article (given names, initials, titles: to tell whose surname it is).
        """
        if self._given_before is None:
            found: dict[str, list[_TextWord]] = defaultdict(list)
            for left, right in zip(self.words, self.words[1:], strict=False):
                if left.text[:1].isupper() and right.text[:1].isupper() and len(right.text) > 1 \
                        and _adjacent(self.text, left, right):
                    if not left.folded:
                        left.folded = fold(left.text)
                        left.key = spelling_key(left.folded)
                    found[right.key or spelling_key(fold(right.text))].append(left)
            self._given_before = dict(found)
        return self._given_before.get(key, [])

    def _naming_word(self, word: _TextWord) -> bool:
        """Whether a word can stand inside a longer name (not a verb: "Trump Visits Airport")."""
        if not self.sentences:
            return True
        _, token = self.token_at(word.start)
        return token is None or token.pos not in ("VERB", "AUX")

    def following(self, word: _TextWord) -> _TextWord | None:
        """The next word when it stands in the same name ("Trump" "Tower"), else None."""
        index = word.index + 1
        if index < len(self.words) and _adjacent(self.text, word, self.words[index]):
            return self.words[index]
        return None

    def evidence(self, start: int, end: int) -> str:
        """The sentence (the line of it) around ``text[start:end]``, at most MAX_EVIDENCE characters."""
        lo, hi = 0, len(self.text)
        for sentence in self.sentences:
            if sentence.start <= start < sentence.start + len(sentence.text):
                lo, hi = sentence.start, sentence.start + len(sentence.text)
                break
        else:
            marks = [self.text.rfind(mark, 0, start) for mark in (". ", "! ", "? ", "\n")]
            lo = max(marks) + 1 if max(marks) >= 0 else 0
            ends = [i for i in (self.text.find(mark, end) for mark in (". ", "! ", "? ", "\n")) if i >= 0]
            hi = min(ends) + 1 if ends else len(self.text)
        newline = self.text.rfind("\n", lo, start)
        lo = newline + 1 if newline >= 0 else lo
        newline = self.text.find("\n", end, hi)
        hi = newline if newline >= 0 else hi
        if hi - lo > MAX_EVIDENCE:
            lo = max(lo, start - MAX_EVIDENCE // 2)
            hi = min(hi, max(end, lo + MAX_EVIDENCE))
        return self.text[lo:hi].strip()


def _text_words(text: str) -> list[_TextWord]:
    words = []
    for match in _TEXT_WORD.finditer(text):
        raw, start, end = match.group(), match.start(), match.end()
        possessive = _POSSESSIVE.search(raw) is not None and len(raw) > 3
        if possessive:
            raw, end = raw[:-2], end - 2
        initial = len(raw) == 1 and raw.isupper() and text[end:end + 1] == "."
        words.append(_TextWord(start, end, raw, possessive, initial, index=len(words)))
    return words


def _adjacent(text: str, left: _TextWord, right: _TextWord) -> bool:
    """Whether two words stand together in one name: a space, or the dot of an initial."""
    if left.possessive:
        return False
    gap = text[left.end:right.start]
    if left.initial:
        return _INITIAL_GAP.fullmatch(gap) is not None
    return _NAME_GAP.fullmatch(gap) is not None or (gap == "-" and right.text[:1].isupper())


def _name_sequence(words: Sequence[str]) -> list[_TextWord]:
    """Words of a canonical entity name as if read from a text (for comparing names)."""
    result = []
    for word in words:
        folded = fold(word)
        result.append(_TextWord(0, 0, word, False, len(word) == 1 and word.isupper(), folded=folded,
                                key=spelling_key(folded)))
    return result


class WatchMatcher:
    """Finds the entries of a watch list in articles; build once, match many.

    Surnames (and one-word aliases) are indexed by spelling key, with the sound variants of
    East Slavic names; a capitalised word of the article that hits the index is read with
    the words before it (given names, initials, titles) and checked against the article's
    entities and token tags. Safe to share between threads (the only state it changes after
    construction is a look-up cache); picklable, so it can be a Beam side input.
    """

    def __init__(self, entries: Iterable[WatchEntry]) -> None:
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
        self._patterns: list[_Pattern] = []
        index: dict[str, list[int]] = defaultdict(list)
        names: dict[str, set[str]] = defaultdict(set)
        for number, entry in enumerate(self._entries):
            for pattern in _patterns_of(number, entry):
                self._patterns.append(pattern)
                for key in pattern.surname.keys:
                    index[key].append(len(self._patterns) - 1)
                    names[key].add(entry.name.casefold())
        self._index = dict(index)
        # one letter off a surname's own spelling key: the index of its single deletions
        near: dict[str, set[int]] = defaultdict(set)
        for number, pattern in enumerate(self._patterns):
            key = spelling_key(pattern.surname.folded)
            if len(key) >= NEAR_MIN_LENGTH:
                for variant in _deletions(key):
                    near[variant].add(number)
        self._near = {variant: tuple(sorted(numbers)) for variant, numbers in near.items()}
        self._near_seen: dict[str, tuple[int, ...]] = {}  # memo of _near_patterns
        # how many different watched names share a surname key (a surname alone is then ambiguous)
        self._shared = {key: len(found) for key, found in names.items() if len(found) > 1}

    @property
    def entries(self) -> tuple[WatchEntry, ...]:
        return self._entries

    def _near_patterns(self, key: str) -> tuple[int, ...]:
        """Patterns whose surname key is one edit from ``key`` (same first letter and gender)."""
        if len(key) < NEAR_MIN_LENGTH:
            return ()
        known = self._near_seen.get(key)
        if known is not None:
            return known
        if len(self._near_seen) > 100_000:
            self._near_seen.clear()
        found: set[int] = set()
        for variant in _deletions(key):
            found.update(self._near.get(variant, ()))
        feminine = key.endswith(_FEMININE_END)
        known = tuple(sorted(
            number for number in found
            if (other := spelling_key(self._patterns[number].surname.folded))[:1] == key[:1]
            and other.endswith(_FEMININE_END) == feminine and _levenshtein(key, other, 1) <= 1))
        self._near_seen[key] = known
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
        article = _Article(text, sentences, entities, _text_words(text))
        accepted: dict[int, bool] = {}

        def passes(entry: int) -> bool:
            if entry not in accepted:
                accepted[entry] = self._entries[entry].accepts(topics, source, language)
            return accepted[entry]

        hits: list[_Hit] = []
        bare: list[tuple[_TextWord, _Pattern, int]] = []
        for word in article.words:
            if len(word.text) < 2 or not word.text[:1].isupper():
                continue
            word.folded = fold(word.text)
            word.key = spelling_key(word.folded)
            numbers = self._index.get(word.key)
            near = numbers is None
            if near:
                numbers = self._near_patterns(word.key)
            for number in numbers:
                pattern = self._patterns[number]
                if not passes(pattern.entry):
                    continue
                read = self._read(article, word, pattern, near=near)
                if isinstance(read, _Hit):
                    hits.append(read)
                elif read is not None:
                    bare.append((word, pattern, read))
        named = {hit.entry for hit in hits}
        for word, pattern, start in bare:
            hit = self._read_bare(article, word, pattern, start, named)
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
                                   reason=hit.reason, start=hit.start, end=hit.end)

    def _read(self, article: _Article, word: _TextWord, pattern: _Pattern, *,
              near: bool = False) -> _Hit | int | None:
        """Read a surname hit with the words before it: a full-name, initials or alias hit;
        the start of a bare surname (with its particles) to weigh once the whole article is
        read; or None when the name is someone's or something else's. A ``near`` surname
        (one letter off every known spelling) only counts after the full given name.
        """
        words, text = article.words, article.text
        following = article.following(word)
        suffix = fold(following.text) if following is not None else None
        if (suffix in GENERATIONAL or pattern.suffix is not None) and suffix != pattern.suffix:
            return None  # "Donald Trump Jr." is not Donald Trump, nor the other way round
        first = word.index
        for particle in reversed(pattern.particles):
            if first > 0 and fold(words[first - 1].text) == particle and _adjacent(text, words[first - 1],
                                                                                   words[first]):
                first -= 1
            else:
                break
        run: list[_TextWord] = []
        j = first - 1
        while j >= 0 and len(run) < MAX_RUN and words[j].text[:1].isupper() \
                and _adjacent(text, words[j], words[j + 1]):
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
        if near:
            return None
        # later given names before the surname belong to it: "García Márquez", "W. Bush"
        while run and _later_given(run[-1], pattern):
            first = run.pop().index
        if run and article.name_like(run[-1]):
            return None  # another person's given name: "Melania Trump" is not Donald Trump
        start = words[first].start
        if article.inside_longer_thing(start, word.end, word):
            return None
        if not pattern.given and not article.false_friend(word, pattern.slavic):
            kind, label = ("alias", "alias") if pattern.alias else ("full", "name")
            return _Hit(pattern.entry, kind, surname_spelling, start, word.end,
                        f"{label} {pattern.written!r}{_spelling_note(surname_spelling)}")
        return start

    def _read_bare(self, article: _Article, word: _TextWord, pattern: _Pattern, start: int,
                   named: set[int]) -> _Hit | None:
        """Weigh a surname standing alone (or after a title) against its context."""
        end = word.end
        spelling = pattern.surname.spelling(word.folded, word.key) or SPELLING["variant"]
        resolved = False
        single_person = False
        other_type = False
        for _, _, entity in article.overlapping(start, end):
            if entity.type != "PERSON":
                other_type = True
                continue
            canonical = _name_words(entity.name)
            if len(canonical) == 1:
                single_person = True
                continue
            if spelling_key(canonical[-1]) != word.key:
                continue  # a span the surname does not end ("Lukashenko Frees" in a headline)
            reading = _same_person(_name_sequence(canonical[:-1]), pattern)
            if reading is False:
                return None  # resolved within the article to another person of this surname
            resolved = resolved or reading is True
        token = None
        if article.sentences:
            _, token = article.token_at(word.start)
        if token is not None and token.ent_type in _NON_PERSON_TYPES:
            other_type = True
        tagged_person = single_person or resolved or (token is not None and token.ent_type == "PERSON")
        person_reading = tagged_person and not other_type and (
            token is None or (token.pos == "PROPN" and token.dep not in ("compound", "amod", "nmod")))
        false_friend = article.false_friend(word, pattern.slavic)
        written = repr(pattern.written)
        if resolved or pattern.entry in named:
            if false_friend and not person_reading:
                return None
            how = "resolved to the full name by entity extraction" if resolved else "full name in the article"
            return _Hit(pattern.entry, "surname_after_full", spelling, start, end,
                        f"surname of {written}, {how}{_spelling_note(spelling)}")
        if pattern.suffix is not None:
            return None
        if any(_foreign_given(article, given, pattern, strict=True)
               for given in article.given_before(word.key)):
            return None  # "Oleg Navalny ... Navalny said": the surname of another person named in full
        if word.key in self._shared:
            return None  # a surname alone that several watched people bear: which of them is unknowable
        # a common word, or a generated sound variant, needs a person reading of the word itself
        # ("Bush fires", "Lasik clinics" are tagged PERSON too)
        plain = not false_friend and spelling >= SPELLING["romanisation"]
        if tagged_person and not other_type and (person_reading or plain):
            return _Hit(pattern.entry, "person_surname", spelling, start, end,
                        f"surname of {written} alone, tagged as a person{_spelling_note(spelling)}")
        # a distinctive surname alone counts as the analyst wrote it (or another romanisation
        # of that), not as a generated sound variant: those need a person reading
        proper = token is None or token.pos == "PROPN"
        if (pattern.slavic and not false_friend and len(word.folded) >= 5 and proper
                and spelling >= SPELLING["romanisation"]):
            return _Hit(pattern.entry, "distinctive_surname", spelling, start, end,
                        f"distinctive surname of {written} alone{_spelling_note(spelling)}")
        return None

    def _entity_hits(self, article: _Article, named: set[int], passes: Any) -> list[_Hit]:
        """Entries found only through the canonical name of a PERSON entity (a gazetteer name,
        say, or a full name the text scan could not read).
        """
        hits = []
        for entity in article.entities:
            canonical = _name_words(entity.name)
            if entity.type != "PERSON" or len(canonical) < 2:
                continue
            for number in self._index.get(spelling_key(canonical[-1]), ()):
                pattern = self._patterns[number]
                if pattern.entry in named or not pattern.given or not passes(pattern.entry):
                    continue
                read = _read_given(_name_sequence(canonical[:-1]), pattern.given)
                if read is None or read[0] == "initials":
                    continue  # initials are read (and checked against the article) by the text scan
                mention = entity.mentions[0]
                named.add(pattern.entry)
                hits.append(_Hit(pattern.entry, "surname_after_full", read[1], mention.start, mention.end,
                                 f"PERSON entity {entity.name!r} is {pattern.written!r}"))
        return hits


def _patterns_of(number: int, entry: WatchEntry) -> list[_Pattern]:
    """The name and aliases of an entry as patterns. A one-word alias close to the surname
    ("Lukashenka" for Alexander Lukashenko) is another spelling of the surname, not a name
    that counts on its own; other one-word aliases (nicknames) do count on their own.
    """
    main = _pattern(number, entry.name, alias=False)
    patterns = [main] if main is not None else []
    surname_keys = dict(main.surname.keys) if main is not None else {}
    for alias in entry.aliases:
        pattern = _pattern(number, alias, alias=True)
        if pattern is None:
            continue
        if main is not None and main.given and not pattern.given and not pattern.particles:
            own = spelling_key(pattern.surname.folded)
            if own in surname_keys or _levenshtein(own, spelling_key(main.surname.folded), 2) <= 2:
                for key in pattern.surname.keys:
                    surname_keys.setdefault(key, SPELLING["variant"])
                continue
        patterns.append(pattern)
    if main is not None and len(surname_keys) > len(main.surname.keys):
        patterns[0] = _Pattern(entry=number, written=main.written, given=main.given, particles=main.particles,
                               surname=_Word(main.surname.folded, surname_keys, frozenset()),
                               suffix=main.suffix, alias=False, slavic=main.slavic)
    return patterns


def _pattern(number: int, written: str, *, alias: bool) -> _Pattern | None:
    """One name as a pattern: given names, then the surname, with what is written before it
    as part of it ("von der" Leyen, "Kara-" Murza) and a generational suffix ("Jr.").
    """
    text = unicodedata.normalize("NFC", written)
    found = list(_NAME_WORD.finditer(text))
    words = [match.group().rstrip(".") for match in found]
    hyphened = [index > 0 and text[found[index - 1].end():match.start()] == "-"
                for index, match in enumerate(found)]
    suffix = None
    if len(words) >= 3 and fold(words[-1]) in GENERATIONAL:
        suffix, words, hyphened = fold(words[-1]), words[:-1], hyphened[:-1]
    if not words:
        return None
    particles: list[str] = []
    while len(words) >= 2 and (hyphened[-1] or (len(words) >= 3 and words[-2][:1].islower()
                                                and fold(words[-2]) in PARTICLES)):
        particles.insert(0, fold(words.pop(-2)))
        hyphened.pop(-1)
    folded = [fold(word) for word in words]
    slavic = looks_slavic(folded)
    surname = folded[-1]
    return _Pattern(entry=number, written=written,
                    given=tuple(_given_word(word, slavic) for word in words[:-1]),
                    particles=tuple(particles),
                    surname=_Word(surname, _keys_of(surname, slavic), frozenset()),
                    suffix=suffix, alias=alias, slavic=slavic)


def _foreign_given(article: _Article, word: _TextWord, pattern: _Pattern, *, strict: bool = False) -> bool:
    """Whether ``word``, just before initials of the entry, is another person's given name
    or initial: name-like, and neither a form of one of the entry's given names nor its initial.
    ``strict`` (for a surname elsewhere in the article): a listed given name or a word the
    model tags as a person, not an initial nor any proper noun ("Kremlin Critic Navalny").
    """
    if any(_given_spelling(word.folded, word.key, part) is not None
           or (word.initial and word.text.upper() in part.initials) for part in pattern.given):
        return False
    if not strict:
        return word.initial or article.name_like(word)
    if word.initial or not article.name_like(word):
        return False
    if spelling_key(word.folded) in _given_groups():
        return True
    _, token = article.token_at(word.start) if article.sentences else (None, None)
    return token is not None and token.ent_type == "PERSON"


def _initial_of_another(article: _Article, initial: _TextWord, surname: _TextWord, pattern: _Pattern) -> bool:
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
                and _adjacent(article.text, article.words[j], article.words[j + 1]):
            given = article.words[j]
            given.folded = given.folded or fold(given.text)
            given.key = given.key or spelling_key(given.folded)
            if not given.initial and given.folded[:1] == letter \
                    and _foreign_given(article, given, pattern, strict=True):
                return True
            j -= 1
    return False


def _later_given(word: _TextWord, pattern: _Pattern) -> bool:
    """Whether ``word`` is one of the entry's given names after the first (or its initial)."""
    return any(_given_spelling(word.folded, word.key, part) is not None
               or (word.initial and word.text.upper() in part.initials) for part in pattern.given[1:])


def _same_person(given: list[_TextWord], pattern: _Pattern) -> bool | None:
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


def _deletions(key: str) -> set[str]:
    """``key`` and every form of it with one letter left out."""
    return {key, *(key[:i] + key[i + 1:] for i in range(len(key)))}


def _spelling_note(spelling: float) -> str:
    if spelling >= SPELLING["exact"]:
        return ""
    if spelling >= SPELLING["romanisation"]:
        return ", another romanisation"
    if spelling >= SPELLING["variant"]:
        return ", a transliteration variant"
    return ", spelled differently"


def _read_given(sequence: Sequence[_TextWord], given: Sequence[_Word]) -> tuple[str, float] | None:
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
        found = _given_spelling(first.folded, first.key, given[0])
        if found is None:
            return None
        kind, spelling = "full", found
    position, extras = 1, 0
    for word in sequence[1:]:
        for offset, part in enumerate(given[position:], start=position):
            if word.initial and word.text.upper() in part.initials:
                position = offset + 1
                break
            if not word.initial and (found := _given_spelling(word.folded, word.key, part)) is not None:
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
