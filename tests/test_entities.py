"""Entity extraction with canonical names: the seed article through the real model, the
cleaning rules on hand-made spans (``spacy.blank``, no model), and short sentences through
the real model (the gazetteer file itself: tests/test_gazetteer.py).
"""

from __future__ import annotations

import functools
import json
import pickle
import re
from collections import Counter
from importlib.resources import files

import pytest
import spacy

from newsmon.analysis.entities import ENTITY_TYPES, Entity, Mention, extract_entities, index_fields
from newsmon.analysis.gazetteer import Gazetteer
from newsmon.analysis.text import article_text

SEED_TITLE = "Belarus frees 52 prisoners after Trump appeal"
SEED_PERSONS = {
    "Alexander Lukashenko", "Donald Trump", "Vladimir Putin", "Mikola Statkevich", "John Coale",
    "Ihar Losik", "Ales Bialiatski", "Maria Kalesnikava", "Sviatlana Tsikhanouskaya",
}
PLACES = ("GPE", "LOC")
EMPTY = Gazetteer(version=1)


@pytest.fixture(scope="module")
def seed_text() -> str:
    body = files("newsmon.seeds").joinpath("000_4d60d75d12f4f40c.txt").read_text(encoding="utf-8")
    return article_text({"title": SEED_TITLE, "content": body})


@pytest.fixture(scope="module")
def seed_doc(nlp, seed_text):
    return nlp(seed_text)


@pytest.fixture(scope="module")
def seed(seed_doc, gazetteer) -> dict[str, Entity]:
    entities = extract_entities(seed_doc, gazetteer)
    assert len({e.name for e in entities}) == len(entities), "an entity is listed twice"
    return {entity.name: entity for entity in entities}


def names(entities, *types: str) -> set[str]:
    values = entities.values() if isinstance(entities, dict) else entities
    return {entity.name for entity in values if entity.type in types}


def by_name(entities: list[Entity]) -> dict[str, Entity]:
    return {entity.name: entity for entity in entities}


def check_offsets(text: str, entities: list[Entity]) -> None:
    spans = []
    for entity in entities:
        assert entity.type in ENTITY_TYPES
        assert entity.count == len(entity.mentions) > 0
        assert list(entity.mentions) == sorted(entity.mentions, key=lambda m: m.start)
        for mention in entity.mentions:
            assert text[mention.start:mention.end] == mention.text
            assert mention.text == mention.text.strip()
            spans.append((mention.start, mention.end))
    spans.sort()
    assert all(a_end <= b_start for (_, a_end), (b_start, _) in zip(spans, spans[1:], strict=False)), \
        "two mentions overlap"
    firsts = [entity.mentions[0].start for entity in entities]
    assert firsts == sorted(firsts), "entities are not in order of first mention"


# --- the seed article, real model ------------------------------------------------------


def test_seed_persons_are_exactly_the_people_named(seed):
    assert names(seed, "PERSON") == SEED_PERSONS


def test_seed_surnames_join_the_full_names(seed):
    for surname in ("Lukashenko", "Coale", "Trump", "Putin", "Tsikhanouskaya"):
        assert surname not in seed, f"{surname} left as an entity of its own"
    assert {m.text for m in seed["Alexander Lukashenko"].mentions} == {"Alexander Lukashenko", "Lukashenko"}
    # "Trump" in the title and "Trump’s envoy" are tagged ORG by the model
    assert {m.text for m in seed["Donald Trump"].mentions} == {"Donald Trump", "Trump"}
    # "Coale, Trump’s envoy" is missed by the model and found as John Coale's surname
    assert [m.text for m in seed["John Coale"].mentions] == ["John Coale", "Coale"]


def test_seed_mention_counts_match_the_text(seed, seed_text):
    body = seed_text.split("\n\n", 1)[1]
    assert body.count("Lukashenko") == 6
    assert seed["Alexander Lukashenko"].count == 6
    assert seed_text.count("Trump") == 7  # title included
    assert seed["Donald Trump"].count == 7
    assert seed["John Coale"].count == 2
    # every "Belarus" (not "Belarusian"): title, dateline, "Belarus’s", "Belarus’ state news agency"
    assert len(re.findall(r"Belarus\b", seed_text)) == 8
    assert seed["Belarus"].count == 8
    # 9 × "US" and "the United States"
    assert seed["United States"].count == 10
    assert seed["Vilnius"].count == 3  # with the dateline VILNIUS
    assert [m.text for m in seed["Vilnius"].mentions][0] == "VILNIUS"


def test_seed_organisations_and_places(seed):
    organisations = names(seed, "ORG")
    assert {"Belavia", "European Union", "Belta"} <= organisations
    assert {"Belarus", "Lithuania", "Vilnius", "Minsk", "United States", "United Kingdom",
            "Latvia", "Poland", "France", "Germany", "Ukraine", "Washington"} <= names(seed, *PLACES)
    assert seed["Belavia"].type == "ORG"  # the model calls it a place
    assert {m.text for m in seed["European Union"].mentions} == {"EU", "European Union"}
    assert [m.text for m in seed["United Kingdom"].mentions] == ["Britain"]
    assert not {"Belarusian", "Russian"} & set(seed), "NORP is not kept"


def test_seed_offsets_and_order(seed, seed_text):
    check_offsets(seed_text, list(seed.values()))
    first = next(iter(seed.values()))
    assert first.name == "Belarus" and first.mentions[0].start == 0


def test_seed_persons_without_the_gazetteer(seed_doc, seed_text):
    """The people come from the model and the rules, not from the gazetteer."""
    entities = extract_entities(seed_doc, EMPTY)
    check_offsets(seed_text, entities)
    assert names(entities, "PERSON") == SEED_PERSONS
    found = by_name(entities)
    assert found["Alexander Lukashenko"].count == 6
    assert found["Donald Trump"].count == 7
    assert found["Belarus"].type == "GPE"  # twice ORG, five times GPE
    assert found["Vilnius"].type == "GPE"  # once ORG, twice GPE


def test_to_dict_is_json_and_round_trips(seed):
    entity = seed["John Coale"]
    data = json.loads(json.dumps(entity.to_dict()))
    assert data == {
        "name": "John Coale", "type": "PERSON", "count": 2,
        "mentions": [{"text": m.text, "start": m.start, "end": m.end} for m in entity.mentions],
    }
    assert Entity.from_dict(data) == entity


def test_index_fields(seed):
    fields = index_fields(seed.values())
    assert set(fields) == {"persons", "organisations", "places"}
    assert set(fields["persons"]) == SEED_PERSONS
    assert {"Belavia", "European Union", "Belta"} <= set(fields["organisations"])
    assert {"Belarus", "Minsk", "Vilnius", "Lithuania"} <= set(fields["places"])


# --- cleaning rules on hand-made spans (no model) --------------------------------------

_MARKUP = re.compile(r"\[([^\]|]+)\|([A-Z_]+)\]")


@functools.cache
def _blank():
    return spacy.blank("en")


def annotated(text: str):
    """A blank-pipeline Doc from "[President Donald Trump|PERSON] met [Smith|PERSON]."."""
    plain, spans, offset = [], [], 0
    for match in _MARKUP.finditer(text):
        plain.append(text[offset:match.start()])
        start = sum(map(len, plain))
        plain.append(match.group(1))
        spans.append((start, start + len(match.group(1)), match.group(2)))
        offset = match.end()
    plain.append(text[offset:])
    doc = _blank()("".join(plain))
    doc.ents = [doc.char_span(start, end, label=label) for start, end, label in spans]
    return doc


def extract(text: str, gazetteer: Gazetteer = EMPTY) -> dict[str, Entity]:
    doc = annotated(text)
    entities = extract_entities(doc, gazetteer)
    check_offsets(doc.text, entities)
    return by_name(entities)


@pytest.mark.parametrize(("text", "name", "mention"), [
    ("[President Donald Trump|PERSON] spoke.", "Donald Trump", "Donald Trump"),
    ("We met [Mr. Smith|PERSON].", "Smith", "Smith"),
    ("We met [Dr Jane Doe|PERSON].", "Jane Doe", "Jane Doe"),
    ("[Former US President Bill Clinton|PERSON] spoke.", "Bill Clinton", "Bill Clinton"),
    ("[Secretary of State Marco Rubio|PERSON] spoke.", "Marco Rubio", "Marco Rubio"),
    ("[Prime Minister Keir Starmer’s|PERSON] office.", "Keir Starmer", "Keir Starmer"),
    ("[then-President Barack Obama|PERSON] spoke.", "Barack Obama", "Barack Obama"),
    ("[President-elect Donald Trump|PERSON] spoke.", "Donald Trump", "Donald Trump"),
    ("[John Major|PERSON] spoke.", "John Major", "John Major"),
    ("[Martin Luther King Jr.|PERSON] spoke.", "Martin Luther King Jr.", "Martin Luther King Jr."),
    ("Critics of [Lukashenko's|PERSON] rule.", "Lukashenko", "Lukashenko"),
    ("Critics of [Lukashenko’s|PERSON] rule.", "Lukashenko", "Lukashenko"),
    ("The airline of [Belarus’|GPE] state.", "Belarus", "Belarus"),
    ("The rights of [the Philippines'|GPE] people.", "Philippines", "Philippines"),
    ("She urged [the European Union|ORG] to act.", "European Union", "European Union"),
    ("[The White House|ORG] said.", "White House", "White House"),
    ("A quote from [“Vilnius,”|GPE] they said.", "Vilnius", "Vilnius"),
    ("Talks with [Sviatlana  Tsikhanouskaya|PERSON] began.", "Sviatlana Tsikhanouskaya",
     "Sviatlana  Tsikhanouskaya"),
    ("Talks with [O’Brien|PERSON] began.", "O'Brien", "O’Brien"),
])
def test_names_are_cleaned(text, name, mention):
    entities = extract(text)
    assert list(entities) == [name]
    assert [m.text for m in entities[name].mentions] == [mention]


def test_a_word_without_capitals_is_no_name():
    entities = extract("A [café|PERSON] in [von der Leyen|PERSON]’s street.")
    assert list(entities) == ["von der Leyen"]


def test_a_title_alone_is_no_person():
    assert extract("The [President|PERSON] spoke to the [Prime Minister|PERSON].") == {}


def test_a_span_across_a_heading_keeps_its_longest_line():
    entities = extract("Thawing [Ties\nAlexander Lukashenko|PERSON] said so.")
    assert list(entities) == ["Alexander Lukashenko"]


def test_surname_joins_the_one_full_name_in_the_article():
    entities = extract("[Lukashenko|PERSON] spoke. Later [Alexander Lukashenko|PERSON] and "
                       "[Mr Lukashenko|PERSON] spoke to [Lukashenko|ORG].")
    assert list(entities) == ["Alexander Lukashenko"]
    assert entities["Alexander Lukashenko"].count == 4
    assert entities["Alexander Lukashenko"].type == "PERSON"


def test_shorter_forms_of_a_full_name_join_the_fullest():
    entities = extract("[Aleksandr Lukashenko|PERSON] met [Aleksandr G. Lukashenko|PERSON]; "
                       "[Lukashenko|PERSON] left.")
    assert list(entities) == ["Aleksandr G. Lukashenko"]
    assert entities["Aleksandr G. Lukashenko"].count == 3


def test_a_surname_shared_by_two_people_is_not_guessed():
    entities = extract("[Melania Trump|PERSON] and [Donald Trump|PERSON] arrived. [Trump|PERSON] spoke.")
    assert names(entities, "PERSON") == {"Melania Trump", "Donald Trump", "Trump"}
    assert entities["Trump"].count == 1


def test_a_generation_is_a_different_person():
    entities = extract("[Donald Trump|PERSON] and [Donald Trump Jr.|PERSON] came. [Trump|PERSON] spoke.")
    assert names(entities, "PERSON") == {"Donald Trump", "Donald Trump Jr.", "Trump"}
    entities = extract("[Donald Trump Jr.|PERSON] came. [Trump|PERSON] spoke. Trump left.")
    assert names(entities, "PERSON") == {"Donald Trump Jr.", "Trump"}
    assert entities["Donald Trump Jr."].count == 1


def test_a_surname_mostly_tagged_as_a_place_stays_a_place():
    entities = extract("[George Washington|PERSON] was born. [Washington|GPE] is a city. "
                       "Officials in [Washington|GPE] spoke.")
    assert entities["George Washington"].count == 1
    assert entities["Washington"].type == "GPE"
    assert entities["Washington"].count == 2


@pytest.mark.parametrize(("labels", "expected"), [
    (["ORG", "GPE", "GPE"], "GPE"),
    (["ORG", "PERSON"], "PERSON"),  # ties never go to ORG
    (["ORG", "GPE"], "GPE"),
    (["LOC", "LOC", "GPE"], "LOC"),
])
def test_the_type_is_voted_over_mentions(labels, expected):
    text = " and ".join(f"[Ruritania|{label}]" for label in labels) + "."
    entities = extract(text)
    assert entities["Ruritania"].type == expected
    assert entities["Ruritania"].count == len(labels)


def test_other_labels_are_dropped_unless_the_gazetteer_names_them(gazetteer):
    text = "[Belarusian|NORP] troops left [Kremlin|FAC] on [Friday|DATE]; [Boeing 737|PRODUCT] flew."
    assert extract(text) == {}
    entities = extract(text, gazetteer)
    assert list(entities) == ["Kremlin"]
    assert entities["Kremlin"].type == "ORG"


def test_the_gazetteer_canonicalises_aliases_and_fixes_types(gazetteer):
    entities = extract("[Belavia|GPE] flew to [the U.S.|GPE]; [BELTA|PERSON] and [Britain|GPE] said "
                       "[Kiev|GPE] and [the Hague|GPE] agreed with [Nato|ORG].", gazetteer)
    assert {(e.name, e.type) for e in entities.values()} == {
        ("Belavia", "ORG"), ("United States", "GPE"), ("Belta", "ORG"), ("United Kingdom", "GPE"),
        ("Kyiv", "GPE"), ("The Hague", "GPE"), ("NATO", "ORG"),
    }
    assert [m.text for m in entities["United States"].mentions] == ["U.S."]


def test_the_gazetteer_finds_names_the_model_missed(gazetteer):
    entities = extract("BelTA said the OSCE and US-led talks stalled; the US Embassy said us.", gazetteer)
    assert {(e.name, e.count) for e in entities.values()} == {
        ("Belta", 1), ("OSCE", 1), ("United States", 2)}


def test_a_mixed_case_name_absorbs_its_capitals():
    entities = extract("[VILNIUS|GPE]: talks in [Vilnius|GPE] and [NEW YORK|GPE] and [USSR|GPE].")
    assert names(entities, "GPE") == {"Vilnius", "New York", "USSR"}
    assert [m.text for m in entities["Vilnius"].mentions] == ["VILNIUS", "Vilnius"]


# --- short texts, real model -----------------------------------------------------------


def run(nlp, gazetteer: Gazetteer, text: str) -> dict[str, Entity]:
    entities = extract_entities(nlp(text), gazetteer)
    check_offsets(text, entities)
    return by_name(entities)


def test_model_possessives_straight_and_curly(nlp, gazetteer):
    text = "Critics of Lukashenko's rule and of Lukashenko’s government met Alexander Lukashenko’s envoy."
    entities = run(nlp, gazetteer, text)
    assert list(entities) == ["Alexander Lukashenko"]
    assert [m.text for m in entities["Alexander Lukashenko"].mentions] == \
        ["Lukashenko", "Lukashenko", "Alexander Lukashenko"]


def test_model_curly_apostrophe_after_s(nlp):
    text = "Belarus’ state news agency reported that Belarus’s airline had resumed flights to Belarus."
    entities = run(nlp, EMPTY, text)
    assert list(entities) == ["Belarus"]
    assert entities["Belarus"].type == "GPE"
    assert entities["Belarus"].count == 3  # the first is missed by the model and found again


def test_model_titles_are_not_names_and_say_person(nlp):
    text = ("Chancellor Olaf Scholz met Secretary of State Marco Rubio, Interior Minister "
            "Tomasz Siemoniak and President Donald Trump.")
    entities = run(nlp, EMPTY, text)
    # the model tags Olaf Scholz ORG, and "State" and "Interior" as organisations
    assert {(e.name, e.type) for e in entities.values()} == {
        ("Olaf Scholz", "PERSON"), ("Marco Rubio", "PERSON"), ("Tomasz Siemoniak", "PERSON"),
        ("Donald Trump", "PERSON")}


def test_model_ambiguous_surname_is_not_merged(nlp):
    entities = run(nlp, EMPTY, "Melania Trump and Donald Trump arrived in Paris. Trump said nothing.")
    assert names(entities, "PERSON") == {"Melania Trump", "Donald Trump", "Trump"}


def test_model_missed_surname_and_dateline(nlp, gazetteer):
    text = ("KYIV, Ukraine (AP) — Ukrainian President Volodymyr Zelenskyy said Friday that Russia had "
            "launched drones. Zelenskyy urged allies to act.")
    entities = run(nlp, gazetteer, text)
    assert entities["Volodymyr Zelenskyy"].count == 2  # the model misses the second
    assert [m.text for m in entities["Kyiv"].mentions] == ["KYIV"]
    assert entities["Associated Press"].type == "ORG"
    assert "Ukrainian" not in entities


def test_model_gazetteer_corrections(nlp, gazetteer):
    text = "The airline Belavia said the EU and the US had eased sanctions, BelTA reported."
    entities = run(nlp, gazetteer, text)
    assert {(e.name, e.type) for e in entities.values()} == {
        ("Belavia", "ORG"), ("European Union", "ORG"), ("United States", "GPE"), ("Belta", "ORG")}
    assert run(nlp, EMPTY, text)["Belavia"].type == "GPE"  # what the model alone says


def test_model_appositive_title_says_person(nlp):
    text = "Ukraine’s president, Volodymyr Zelenskiy, thanked allies. King Charles met Zelenskiy at Windsor."
    entities = run(nlp, EMPTY, text)
    # the model tags the full name ORG and misses the surname
    assert entities["Volodymyr Zelenskiy"].type == "PERSON"
    assert [m.text for m in entities["Volodymyr Zelenskiy"].mentions] == ["Volodymyr Zelenskiy", "Zelenskiy"]
    assert names(entities, "PERSON") == {"Volodymyr Zelenskiy", "Charles"}


def test_model_gazetteer_name_split_by_the_model(nlp, gazetteer):
    text = "The Organization for Security and Co-operation in Europe (OSCE) said it was monitoring."
    entities = run(nlp, gazetteer, text)
    assert list(entities) == ["OSCE"]
    assert [m.text for m in entities["OSCE"].mentions] == [
        "Organization for Security and Co-operation in Europe", "OSCE"]


def test_model_gazetteer_names_under_another_label(nlp, gazetteer):
    entities = run(nlp, gazetteer, "Russian strikes hit Kyiv and Kharkiv on Thursday.")
    assert {(e.name, e.type) for e in entities.values()} == {("Kyiv", "GPE"), ("Kharkiv", "GPE")}


def test_model_text_without_entities(nlp, gazetteer):
    assert extract_entities(nlp(""), gazetteer) == []
    assert extract_entities(nlp("nothing to see here."), gazetteer) == []


# --- the packaged gazetteer and the seed article -----------------------------------


def test_packaged_gazetteer_lists_no_people_of_the_seed_article(gazetteer):
    surnames = {person.split()[-1] for person in SEED_PERSONS}
    spellings = {s for entry in gazetteer.entries for s in entry.spellings()}
    assert not spellings & SEED_PERSONS
    assert not {s for s in spellings if set(s.split()) & surnames}
    assert Counter(entry.type for entry in gazetteer.entries)["PERSON"] == 0


def test_mention_is_plain_data():
    mention = Mention("EU", 3, 5)
    assert mention.to_dict() == {"text": "EU", "start": 3, "end": 5}
    assert pickle.loads(pickle.dumps(mention)) == mention
