"""The normalised forms search matches on (no services): the light lemmatiser against
spaCy's own tables, folding, spellings of names, the fields of a pipeline document and the
query the builder makes of them.
"""

from __future__ import annotations

import pytest

from newsmon.analysis.lemmas import POS_KEYS, inflections, known_word, word_lemmas
from newsmon.analysis.search_terms import (
    KEY_FIELDS,
    SPELLINGS_FIELD,
    query_words,
    search_fields,
    spelled_like,
    word_keys,
)
from newsmon.analysis.spelling import diacritic_spellings, fold_letters, spelling_key
from newsmon.connectors.search import TEXT_FIELDS, SearchRequest, build_search


def test_the_tables_are_read_under_spacys_own_keys():
    from spacy.strings import get_string_id

    assert POS_KEYS == {pos: get_string_id(pos) for pos in POS_KEYS}


@pytest.mark.parametrize(("word", "lemma"), [("prisoners", "prisoner"), ("freed", "free"), ("was", "be"),
                                             ("sanctions", "sanction"), ("eases", "ease"), ("talks", "talk")])
def test_a_word_gives_the_lemmas_it_may_have(word, lemma):
    assert word_lemmas(word)[0] == word and lemma in word_lemmas(word)


def test_a_base_form_is_not_cut_down_to_another_word():
    assert word_lemmas("prisoner") == ("prisoner",)  # not "prison"
    assert word_lemmas("Belavia") == ("belavia",)
    assert {"prisoners", "freed"} <= {*inflections("prisoner"), *inflections("free")}
    assert known_word("more") and not known_word("kalesnikava")


def test_folding_keeps_case_and_punctuation():
    assert fold_letters("Łukašenka’s men in Мінск") == "Lukashenka’s men in Minsk"
    assert fold_letters("Plain text, unchanged.") == "Plain text, unchanged."
    assert diacritic_spellings("losik") == ("łosik",)
    assert diacritic_spellings("lukashenka") == ("lukašenka", "łukašenka")
    assert diacritic_spellings("trump") == ()


def test_a_query_word_meets_other_spellings_of_a_name_through_its_keys():
    [lukashenka] = query_words("Lukashenka")
    assert spelling_key("lukashenko") in lukashenka.keys
    assert spelling_key("ihar") in word_keys("igor")  # a given name of the table, and a sound rule
    [losik] = query_words("Łosik")
    assert losik.folded == "losik" and losik.text == "łosik"
    assert [word.keys for word in query_words("of EU 52")] == [(), (), ()]


@pytest.mark.parametrize(("asked", "canonical", "expected"), [
    ("Lukashenka", "Alexander Lukashenko", True),
    ("Svetlana Tikhanovskaya", "Sviatlana Tsikhanouskaya", True),
    ("Igor Losik", "Ihar Losik", True),
    ("Mińsk", "Minsk", True),
    ("Viktor Lukashenko", "Alexander Lukashenko", False),
    ("Sviatlana Tsikhanouskaya", "Siarhei Tsikhanouski", False),
    ("Lukashenko Alexander", "Alexander Lukashenko", False),  # the surname comes last
    ("Alexander Lukashenka", "A. Lukashenko", True),
    ("Alexander Lukashenka", "Lukashenko", True),  # an article that named him by surname alone
    ("Alexander Lukashenka", "V. Lukashenko", False),
])
def test_a_name_asked_for_is_spelled_like_the_canonical_name_or_not(asked, canonical, expected):
    assert spelled_like(asked, canonical) is expected


def test_the_seed_story_document_carries_its_normalised_forms(seed_analysed):
    fields = search_fields(seed_analysed)
    assert fields == search_fields(seed_analysed)  # deterministic: a replay writes the same document
    assert {"free", "prisoner"} <= set(fields["title_lemmas"].split())
    assert "content_folded" not in fields  # the seed story has no letter to fold
    assert spelling_key("lukashenko") in fields[KEY_FIELDS["persons"]]
    spellings = " ".join(fields[SPELLINGS_FIELD]).split()
    assert {"lukashenka", "tikhanovskaya", "łosik", "igor"} <= set(spellings)
    assert "more" not in spellings  # a romanisation of Maria that is an English word is left out


def test_exact_is_the_query_as_it_was_and_the_default_adds_the_other_forms():
    exact = build_search(SearchRequest(text="freed prisoners", exact=True))
    assert exact["query"]["bool"]["must"] == [
        {"multi_match": {"query": "freed prisoners", "fields": TEXT_FIELDS, "operator": "and"}}]
    forms = build_search(SearchRequest(text="freed prisoners", sort="relevance"))
    typed, each_word = forms["query"]["bool"]["must"][0]["bool"]["should"]
    assert typed["multi_match"]["boost"] > 1
    [freed, _] = each_word["bool"]["must"]
    queried = [clause.get("multi_match", {}).get("query") for clause in freed["bool"]["should"]]
    assert queried[:3] == ["freed", "freed free", "freed"]
    assert "prisoners" in forms["highlight"]["highlight_query"]["multi_match"]["query"].split()
    assert "sort" not in forms
