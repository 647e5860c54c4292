"""The normalised forms search matches on: lemmas, folded letters and the spellings of names.

The Elasticsearch newsmon runs on has no stemming, ASCII folding or synonyms (those
modules are not published), so the pipeline writes the normalised forms into the document
(:func:`search_fields`) and the query builder (:mod:`newsmon.connectors.search`) normalises
what the analyst typed the same way (:func:`query_words`):

- lemmas: spaCy's lemmas of the title, summary and content as the pipeline read them
  ("freed 52 prisoners" → "free 52 prisoner"); a query word gives each lemma it may have
  (:mod:`newsmon.analysis.lemmas`);
- folded letters: diacritics removed, carons as digraphs, Cyrillic transliterated
  ("Łukašenka" → "Lukashenka"), written only when folding changes the text;
- names: the spelling keys of every word of every person, organisation and place
  (:func:`~newsmon.analysis.spelling.spelling_key`), which a query word meets through its
  sound variants as the watch-list matcher does (Lukashenka, Tikhanovskaya, Igor); and per
  person the spelled-out forms (romanisations, Łacinka and caron spellings) as text, for
  Kibana's KQL, which cannot compute keys.

Pure code: no Beam, no Elasticsearch, no model.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from newsmon.analysis.entities import index_fields
from newsmon.analysis.lemmas import inflections, known_word, word_lemmas
from newsmon.analysis.spelling import (
    diacritic_spellings,
    fold,
    fold_letters,
    given_alternatives,
    name_forms,
    sound_variants,
    spelling_key,
    split_name,
)

if TYPE_CHECKING:
    from newsmon.analysis.messages import AnalysedArticle
    from newsmon.analysis.text import Sentence

TEXT_PARTS = ("title", "summary", "content")
LEMMA_FIELDS = {part: f"{part}_lemmas" for part in TEXT_PARTS}
FOLDED_FIELDS = {part: f"{part}_folded" for part in TEXT_PARTS}
KEY_FIELDS = {"persons": "person_keys", "organisations": "organisation_keys", "places": "place_keys"}
SPELLINGS_FIELD = "person_spellings"
NAME_KEYS_FIELD = "person_name_keys"  # per person: its surname's key, and the keys of its words
MAX_NAME_KEYS = 4096  # spellings of a whole name looked up at once (given × surname keys)
PERSON_FORMS = 120  # name_forms() per person whose words go into person_spellings
MIN_KEYED_LETTERS = 3  # shorter query words ("of", "EU") are not looked up as names
WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")


# --- index time ---------------------------------------------------------------------------


def search_fields(item: AnalysedArticle) -> dict[str, Any]:
    """The normalised fields of an analysed article's document (deterministic)."""
    article = item.article
    texts = {part: getattr(article, part) for part in TEXT_PARTS}
    return normalised_fields(texts, index_fields(item.entities), lemmas=_lemmas_read(item))


def document_search_fields(document: Mapping[str, Any]) -> dict[str, Any]:
    """The normalised fields of an indexed document written before they existed (``es migrate``):
    its lemmas from the light lemmatiser, since spaCy's reading is not kept.
    """
    names = {option: list(document.get(option) or ()) for option in KEY_FIELDS}
    return normalised_fields({part: document.get(part) for part in TEXT_PARTS}, names, lemmas={})


def normalised_fields(texts: Mapping[str, str | None], names: Mapping[str, Sequence[str]], *,
                      lemmas: Mapping[str, str]) -> dict[str, Any]:
    """The normalised fields from the texts, the entity names by field and spaCy's lemmas of
    the parts it read (any other part gets the light lemmatiser's).
    """
    fields: dict[str, Any] = {}
    for part, text in texts.items():
        if not text:
            continue
        lemmatised = lemmas.get(part) or " ".join(
            lemma for word in WORD.findall(text) for lemma in word_lemmas(word))
        if lemmatised:
            fields[LEMMA_FIELDS[part]] = lemmatised
        folded = fold_letters(text)
        if folded != text:
            fields[FOLDED_FIELDS[part]] = folded
    for option, field in KEY_FIELDS.items():
        words = {word for name in names.get(option, ()) for word in name_words(name)}
        fields[field] = sorted({spelling_key(word) for word in words})
    persons = names.get("persons", ())
    fields[NAME_KEYS_FIELD] = sorted({key for name in persons for key in person_name_keys(name)})
    fields[SPELLINGS_FIELD] = [person_spellings(name) for name in names.get("persons", ())]
    return fields


def person_name_keys(name: str) -> list[str]:
    """What ``--person`` finds a person by: the key of the surname, and the keys of all its
    words, space-separated ("luШenko", "aleksander luШenko").
    """
    keys = [spelling_key(word) for word in name_words(name)]
    return list(dict.fromkeys((keys[-1], " ".join(keys)))) if keys else []


def _lemmas_read(item: AnalysedArticle) -> dict[str, str]:
    """The lemmas spaCy gave the title and the body it read (content, else summary)."""
    article, text = item.article, item.text
    if not text or not item.sentences:
        return {}
    title_end = len(article.title)
    body = "content" if article.content else "summary"
    parts: dict[str, list[str]] = {"title": [], body: []}
    for token in _tokens(item.sentences):
        if any(char.isalnum() for char in token.lemma):
            parts["title" if token.start < title_end else body].append(token.lemma)
    return {part: " ".join(lemmas) for part, lemmas in parts.items() if lemmas}


def _tokens(sentences: Sequence[Sentence]) -> Iterable[Any]:
    for sentence in sentences:
        yield from sentence.tokens


def name_words(name: str) -> list[str]:
    """The folded words of a name."""
    return [fold(word) for word in split_name(name)]


@lru_cache(maxsize=1 << 12)
def person_spellings(name: str) -> str:
    """The words a person's name may be spelled with, space-separated: the folded name's
    romanisations and sound variants (:func:`~newsmon.analysis.spelling.name_forms`) that are
    not English words ("Maria" is not spelled "more") and the diacritic spellings of its own words.
    """
    own = name_words(name)
    words = dict.fromkeys(own)
    words.update(dict.fromkeys(word for form in sorted(name_forms(name, limit=PERSON_FORMS))
                               for word in form.split() if not known_word(word)))
    for word in own:
        words.update(dict.fromkeys(diacritic_spellings(word)))
    return " ".join(words)


# --- query time ---------------------------------------------------------------------------


@dataclass(frozen=True)
class QueryWord:
    """One word of a query and the forms it is searched in."""

    text: str  # as typed, lower-cased
    folded: str
    lemmas: tuple[str, ...]  # the folded word first, then the lemmas it may have
    keys: tuple[str, ...]  # spelling keys of its sound variants: () for English words, short words, numbers

    @property
    def forms(self) -> tuple[str, ...]:
        """The words a text may have where this word matched: as typed, folded, its lemmas
        and their inflections, and for a name its sound variants (Lukashenka → Lukashenko),
        for highlighting them.
        """
        inflected = (form for lemma in self.lemmas for form in inflections(lemma))
        variants = (variant for _, variant in sound_variants(self.folded)) if self.keys else ()
        return tuple(dict.fromkeys((self.text, self.folded, *self.lemmas, *inflected, *variants)))


def query_words(text: str) -> list[QueryWord]:
    """The words of a free-text query, each with its folded form, lemmas and name keys."""
    return [_query_word(word) for word in dict.fromkeys(WORD.findall(text.lower()))]


@lru_cache(maxsize=1 << 12)
def _query_word(word: str) -> QueryWord:
    folded = fold(word)
    lemmas = word_lemmas(folded)
    # an English word ("prisoners", "talks") is not looked for as another spelling of a name
    keyed = (len(folded) >= MIN_KEYED_LETTERS and folded.isalpha()
             and not any(known_word(lemma) for lemma in lemmas))
    keys = tuple(sorted(word_keys(folded))) if keyed else ()
    return QueryWord(text=word, folded=folded, lemmas=lemmas, keys=keys)


def word_keys(folded: str) -> set[str]:
    """The spelling keys a folded word of a name may have in another spelling: its sound
    variants (Lukashenka → Lukashenko) and the other given names of its group (Igor → Ihar).
    """
    seeds = {folded, *given_alternatives(folded)}
    return {spelling_key(variant) for seed in seeds for _, variant in sound_variants(seed)}


def spelled_like(query: str, canonical: str) -> bool:
    """Whether ``query`` is a spelling of the name ``canonical``: the last word of the query
    spells its last word (the surname), and every other word of the query a word of it or
    its initial ("Alexander Lukashenko" is "A. Lukashenko", and "Lukashenko" when an article
    named him by surname alone).
    """
    asked = [(word, word_keys(word)) for word in name_words(query)]
    words = name_words(canonical)
    if not asked or not words or spelling_key(words[-1]) not in asked[-1][1]:
        return False
    keys = {spelling_key(word) for word in words}
    initials = {word for word in words[:-1] if len(word) == 1}
    return len(words) == 1 or all(not keys.isdisjoint(word_keys) or word[:1] in initials
                                  for word, word_keys in asked[:-1])


def name_query_keys(query: str) -> list[str]:
    """The ``person_name_keys`` a spelling of the name ``query`` may have: of its surname for
    one word (Lukashenka), of every combination of its words' spellings for more (Svetlana
    Tikhanovskaya), at most :data:`MAX_NAME_KEYS`.
    """
    words = name_words(query)
    if not words:
        return []
    per_word = [sorted(word_keys(word)) for word in words]
    combined = [""]
    for keys in per_word:
        combined = [f"{done} {key}".strip() for done in combined for key in keys][:MAX_NAME_KEYS]
    return sorted(combined)


def fields_for(parts: Mapping[str, str], boosts: Mapping[str, int]) -> list[str]:
    """``["title_lemmas^3", ...]``: the fields of ``parts`` with the boosts of their parts."""
    return [f"{field}^{boosts[part]}" if boosts.get(part, 1) != 1 else field for part, field in parts.items()]
