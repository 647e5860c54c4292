"""How the names of people are spelled: folding, spelling keys, and the variants of a name.

A word is folded (case; diacritics, "Statkevič" = "statkevich"; Cyrillic letters
transliterated) and reduced to a *spelling key* in which the romanisation conventions for
Belarusian, Russian and Ukrainian names collapse: kh/h/ch, ts/c/tz, ya/ia/ja, yu/iu/ju,
ye/ie/e, ou/ov/ow, w/v, sh/sz, -sky/-skiy/-skii/-ski, -ich/-ych/-itch, y/i, doubled letters.
What a key cannot collapse, because the spellings stand for real differences between the
languages (Belarusian akanne a/o, -ka/-ko, tsekanne ts/t, dzekanne dz/d, yakanne ia/e, h/g,
...), is generated from the canonical form by rules, cheapest first and capped, for names
that look East Slavic; given names also go through a small table (``seeds/name_words.yaml``) of
Belarusian/Russian/Ukrainian pairs (Ihar/Igor, Mikola/Mikalai/Nikolai). :func:`name_forms`
spells the variants out; the matcher (:mod:`newsmon.analysis.name_matcher`) compares keys.
"""

from __future__ import annotations

import heapq
import re
import unicodedata
from collections.abc import Sequence
from functools import lru_cache

from newsmon.analysis.word_lists import word_lists

MAX_FORMS = 300  # name_forms(): spelled-out forms of one name
TOKEN_FORMS = 80  # ... of one word of it
MATCH_VARIANTS = 48  # generated sound variants of one word used for matching
MAX_VARIANT_COST = 3

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
_LETTER_TABLE = str.maketrans(_LETTERS | {upper: lower.capitalize() for letter, lower in _LETTERS.items()
                                          if len(upper := letter.upper()) == 1 and upper != letter})


def _strip_marks(text: str) -> str:
    return "".join(char for char in unicodedata.normalize("NFKD", text) if not unicodedata.combining(char))


@lru_cache(maxsize=1 << 16)
def fold(text: str) -> str:
    """Lower case, diacritics removed (caron letters as their digraphs: "č" → "ch"), no apostrophes."""
    return _strip_marks(unicodedata.normalize("NFC", text).casefold().translate(_FOLD_TABLE))


def fold_letters(text: str) -> str:
    """Any text with its letters folded as :func:`fold` folds them ("Łukašenka" → "Lukashenka",
    Cyrillic transliterated), case and punctuation kept; for long texts (not cached).
    """
    folded = _strip_marks(unicodedata.normalize("NFC", text).translate(_LETTER_TABLE))
    return unicodedata.normalize("NFC", folded)


# Folded digraphs as Belarusian Łacinka and Czech-style spellings write them; "l" before a
# back vowel or a consonant is the Łacinka "ł" (Losik → Łosik, Lukashenka → Łukašenka).
_DIACRITIC_SPELLINGS = tuple((re.compile(pattern), replacement) for pattern, replacement in (
    (r"shch", "šč"), (r"sh", "š"), (r"zh", "ž"), (r"(?<![sk])ch", "č"), (r"kh", "ch"), (r"ts", "c"),
    (r"y(?=[aeuo])", "j"),
))
_HARD_L = re.compile(r"l(?![ieji])")


def diacritic_spellings(word: str) -> tuple[str, ...]:
    """The spellings with diacritics of a folded word (Czech-style carons; Łacinka with "ł"),
    or () when the word has nothing to write so: what a reader may type for a name.
    """
    carons = word
    for pattern, replacement in _DIACRITIC_SPELLINGS:
        carons = pattern.sub(replacement, carons)
    forms = dict.fromkeys((carons, _HARD_L.sub("ł", carons)))
    forms.pop(word, None)
    return tuple(forms)


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
def sound_variants(word: str) -> tuple[tuple[int, str], ...]:
    return tuple(_expand(word, _SOUND, limit=MATCH_VARIANTS))


@lru_cache(maxsize=1 << 12)
def _spellings(word: str) -> tuple[tuple[int, str], ...]:
    return tuple(_expand(word, SPELLING_RULES, limit=TOKEN_FORMS, max_cost=2, everywhere=True))


@lru_cache(maxsize=1)
def given_groups() -> dict[str, tuple[str, ...]]:
    """Spelling key of a listed given name (``seeds/name_words.yaml``) → the folded names of its group."""
    by_key: dict[str, tuple[str, ...]] = {}
    for group in word_lists().given_names:
        folded = tuple(dict.fromkeys(fold(name) for name in group))
        for name in folded:
            by_key.setdefault(spelling_key(name), folded)
    return by_key


def given_alternatives(word: str) -> tuple[str, ...]:
    """The other given names of ``word``'s group (folded), or ()."""
    group = given_groups().get(spelling_key(word), ())
    return tuple(name for name in group if spelling_key(name) != spelling_key(word))


def _word_forms(word: str, *, slavic: bool, given: bool) -> list[tuple[int, str]]:
    """Spelled-out forms of one folded word of a name, cheapest first."""
    seeds = [(cost, form) for cost, form in (sound_variants(word) if slavic else ((0, word),))]
    if given:
        seeds += [(1, other) for other in given_alternatives(word)]
    best: dict[str, int] = {}
    for seed_cost, seed in seeds:
        for cost, form in _spellings(seed):
            if seed_cost + cost < best.get(form, MAX_VARIANT_COST * 3):
                best[form] = seed_cost + cost
    return sorted(((cost, form) for form, cost in best.items()))[:TOKEN_FORMS]


NAME_WORD = re.compile(r"[^\W\d_]+(?:['’ʼ][^\W\d_]+)*\.?")


def split_name(name: str) -> list[str]:
    """The words of a name as written (hyphenated parts separate, dots of initials dropped)."""
    return [word.rstrip(".") for word in NAME_WORD.findall(unicodedata.normalize("NFC", name))]


def name_forms(name: str, *, limit: int = MAX_FORMS) -> set[str]:
    """Forms of ``name`` that match it: folded, lower-case, words joined by single spaces.

    Always holds the folded name itself; then the romanisations and (for East Slavic names)
    the sound variants of each word, with the other forms of a listed given name, cheapest
    combinations first, at most ``limit``. Deterministic. Matching does not depend on this
    list (it compares spelling keys, which cover every spelling convention at once); it is
    for people and for search queries.
    """
    words = [fold(word) for word in split_name(name)]
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

