"""The word lists that tell a person's name from other words, read once from
``seeds/name_words.yaml`` (whose comments say what each list is for).

Entity extraction and watch-list matching share them: titles, particles, words that make a
name the name of something else, surnames that are also common words or places, and the
pairs of given names a spelling rule cannot derive.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from newsmon.analysis.config_files import read_yaml
from newsmon.schemas import check_config

WORDS_FILE = "name_words.yaml"


@dataclass(frozen=True)
class WordLists:
    """The lists of ``seeds/name_words.yaml``, lower case; ``titles`` includes the honorifics."""

    honorifics: frozenset[str]
    titles: frozenset[str]
    title_modifiers: frozenset[str]
    offices: frozenset[str]
    appositives: frozenset[str]
    name_titles: frozenset[str]
    generational: frozenset[str]
    particles: frozenset[str]
    function_words: frozenset[str]
    thing_heads: frozenset[str]
    facility_heads: frozenset[str]
    common_words: frozenset[str]
    place_words: frozenset[str]
    given_names: tuple[tuple[str, ...], ...]  # spellings of one given name, as written


@cache
def word_lists() -> WordLists:
    """The packaged lists, read and checked against ``schemas/name_words.schema.json`` once."""
    document, source = read_yaml(None, packaged=WORDS_FILE, what="name word lists")
    check_config("name_words", document, source=source)
    lists = {key: frozenset(words) for key, words in document.items() if key != "given_names"}
    lists["titles"] |= lists["honorifics"]
    return WordLists(**lists, given_names=tuple(tuple(group) for group in document["given_names"]))
