"""The lemmas a single word may have, without running spaCy: for search queries.

The pipeline lemmatises articles with the whole model (``ExtractEntities``: the tagger
decides the part of speech, the lemmatizer its rules). A query word has no sentence to tag,
and loading the model costs seconds per ``newsmon search``; so this module reads the same
lemmatizer tables (exceptions, suffix rules and known lemmas per part of speech, from the
installed model package's ``lemmatizer/lookups/lookups.bin``, about 0.3 s once per process)
and gives every lemma the word could have as a noun, verb, adjective or adverb: "freed" →
free, "prisoners" → prisoner, "was" → be. A rule's output counts only when it is a known
lemma of that part of speech, so "prisoner" does not become "prison".

Without an installed model a word is its own lemma (search then matches word forms as typed).
"""

from __future__ import annotations

import importlib.util
import logging
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from newsmon.analysis.nlp import MODEL_PACKAGES

log = logging.getLogger(__name__)

# spaCy keys the tables by the 64-bit hash of the part of speech's name
# (spacy.strings.get_string_id); tests/test_search_terms.py checks these against spaCy.
POS_KEYS = {"noun": 16833663260455505849, "verb": 6360137228241296794, "adj": 12401032943472870168,
            "adv": 10054248821341768113}


def _lookups_file() -> Path | None:
    for package in MODEL_PACKAGES:
        spec = importlib.util.find_spec(package)
        if spec is not None and spec.submodule_search_locations:
            for location in spec.submodule_search_locations:
                found = sorted(Path(location).glob("*/lemmatizer/lookups/lookups.bin"))
                if found:
                    return found[0]
    return None


@cache
def _tables() -> dict[str, tuple[dict[str, Any], list[tuple[str, str]], frozenset[str]]] | None:
    """Per part of speech: exceptions, suffix rules, known lemmas; None without a model."""
    import srsly

    path = _lookups_file()
    if path is None:
        log.warning("no spaCy English model installed: search matches words as typed, without lemmas")
        return None
    data = srsly.msgpack_loads(path.read_bytes())
    return {pos: (data["lemma_exc"].get(key, {}), [tuple(rule) for rule in data["lemma_rules"].get(key, [])],
                  frozenset(data["lemma_index"].get(key, ())))
            for pos, key in POS_KEYS.items()}


@cache
def _inflected() -> dict[str, frozenset[str]]:
    """Lemma → the irregular forms the exception tables give it ("free" → freed, "be" → was...)."""
    forms: dict[str, set[str]] = {}
    for exceptions, _, _ in (_tables() or {}).values():
        for form, lemmas in exceptions.items():
            for lemma in lemmas:
                forms.setdefault(lemma, set()).add(form)
    return {lemma: frozenset(found) for lemma, found in forms.items()}


@lru_cache(maxsize=1 << 14)
def inflections(lemma: str) -> tuple[str, ...]:
    """Forms a lemma may take ("prisoner" → prisoners, "free" → freed, frees, freeing...): the
    suffix rules run backwards and the exceptions. Some are not words; they serve to
    highlight the words a lemma matched, where only real words occur.
    """
    forms = set(_inflected().get(lemma, ()))
    for _, rules, _ in (_tables() or {}).values():
        for old, new in rules:
            if lemma.endswith(new) and old:
                forms.add(lemma[:len(lemma) - len(new)] + old)
    forms.discard(lemma)
    return tuple(sorted(forms))


def known_word(word: str) -> bool:
    """Whether a lower-case word is an English lemma the model knows ("more", "mare", "free")."""
    return any(word in known for _, _, known in (_tables() or {}).values())


@lru_cache(maxsize=1 << 14)
def word_lemmas(word: str) -> tuple[str, ...]:
    """The word (lower-cased) and every lemma it may have, the word first, then alphabetical."""
    word = word.lower()
    tables = _tables()
    lemmas: set[str] = set()
    for exceptions, rules, known in (tables or {}).values():
        lemmas.update(exceptions.get(word, ()))
        if word in known:
            continue  # a base form of this part of speech: no suffix to strip
        for old, new in rules:
            if word.endswith(old):
                form = word[:len(word) - len(old)] + new
                if form in known:
                    lemmas.add(form)
    lemmas.discard(word)
    return (word, *sorted(lemmas))
