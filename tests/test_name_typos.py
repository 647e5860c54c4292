"""Watched names one letter off, and surnames alone: the readings and their guards, through the
real model, on sentences written for these tests (regression cases; the accuracy on real
reporting is measured by ``bench/name_accuracy.py``).
"""

from __future__ import annotations

import json

from newsmon.analysis.name_matcher import WatchMatcher
from newsmon.analysis.name_patterns import edits
from tests.support.names import entries, matcher, names_of, only


def test_edits_count_a_swap_of_neighbours_as_one():
    assert edits("nicoals", "nicolas", 1) == 1
    assert edits("preibus", "priebus", 1) == 1
    assert edits("brown", "brawn", 1) == 1
    assert edits("terry", "kerry", 1) == 1
    assert edits("alexander", "alexandra", 1) == 2  # beyond the limit: limit + 1


def test_one_letter_off_in_the_surname_or_the_given_name(analyse):
    m = matcher("Reince Priebus", "Lindsey Graham", "Nicolas Maduro", "Charles Clarke")
    text = ("RNC Chairman Reince Preibus said the debates would draw more viewers on weekdays. "
            "Senator Lindsay Graham disagreed. Nicoals Maduro did not comment, and neither did "
            "Charles Clark.")
    found = m.match(*analyse(text))
    assert names_of(found) == {"Reince Priebus", "Lindsey Graham", "Nicolas Maduro", "Charles Clarke"}
    for match in found:
        assert match.fuzzy and match.reason.endswith("spelled differently") and 0.8 < match.confidence < 0.9
    assert {match.form for match in found} == {"Reince Preibus", "Lindsay Graham", "Nicoals Maduro",
                                               "Charles Clark"}
    exact = m.match(*analyse("Reince Priebus said the debates would draw more viewers."))
    assert not only(exact, "Reince Priebus").fuzzy and exact[0].confidence == 1.0


def test_close_names_of_other_people_stay_out(analyse):
    m = matcher("John Kerry", "Jeff Flake", "Gordon Brown", "Alexander Lukashenko", "Donald Trump")
    text = ("Chelsea captain John Terry was booked. Sony's Jeff Blake said ticket sales were up. "
            "Gordon Brawn chaired the parish council. Alexandra Lukashenko is no relation. "
            "Donald Tramp sold his farm.")
    assert m.match(*analyse(text)) == []
    # a surname one letter off alone, with nobody named in full, is not enough
    assert m.match(*analyse("Kerrey said the campaign was confusing voters.")) == []


def test_a_surname_one_letter_off_after_the_full_name(analyse):
    m = matcher("Sviatlana Tsikhanouskaya")
    text = ("Sviatlana Tsikhanouskaya met the foreign ministers in Brussels on Monday. "
            "Sanctions must stay, Tsikhanoskaya told them.")
    forms = {(match.form, match.fuzzy) for match in m.mentions(*analyse(text))}
    assert forms == {("Sviatlana Tsikhanouskaya", False), ("Tsikhanoskaya", True)}
    assert m.match(*analyse("Sanctions must stay, Tsikhanoskaya told the ministers.")) == []


def test_a_surname_alone_when_nobody_else_has_it(analyse):
    m = matcher("Rex Tillerson", "Justin Trudeau", "Hassan Rouhani")
    found = m.match(*analyse("Tillerson set to meet Trudeau for North Korea crisis talks: source"))
    assert names_of(found) == {"Rex Tillerson", "Justin Trudeau"}
    assert not any(match.fuzzy for match in found)
    # someone else of that surname is named in full: the surname alone is theirs
    text = "Harvey Tillerson, a Texas rancher, lost his herd. Tillerson said the drought was the worst."
    assert m.match(*analyse(text)) == []
    # another name follows: "Rouhani" is not the surname here
    assert m.match(*analyse("The fund is managed by Rouhani Capital Partners of Dubai.")) == []


def test_a_surname_alone_that_is_also_a_word_or_a_given_name(analyse):
    m = matcher("Donald Trump", "Rand Paul", "Paul Ryan")
    found = m.match(*analyse("Maryland will join other states in a court challenge to Trump's travel ban."))
    assert names_of(found) == {"Donald Trump"}
    found = m.match(*analyse("Trump said on Friday that he would meet the governors next week."))
    assert names_of(found) == {"Donald Trump"}
    for text in ("Unions Play Their Trump Card In Pay Talks",
                 "Paul said the bill would pass, and Thompson agreed."):
        assert m.match(*analyse(text)) == [], text


def test_fuzzy_off_is_the_baseline(analyse):
    names = ("Reince Priebus", "Rex Tillerson", "Justin Trudeau")
    plain = WatchMatcher(entries(*names), fuzzy=False)
    assert plain.match(*analyse("RNC Chairman Reince Preibus spoke on Sunday.")) == []
    found = plain.match(*analyse("Tillerson set to meet Trudeau for North Korea crisis talks: source"))
    assert "Rex Tillerson" not in names_of(found)
    assert names_of(plain.match(*analyse("Reince Priebus spoke on Sunday."))) == {"Reince Priebus"}


def test_a_typo_inside_a_digraph_is_one_letter_off_as_written():
    m = matcher("Sviatlana Tsikhanouskaya", "Yulia Navalnaya", "Alexei Navalny", "Maria Kalesnikava")
    for text in ("Sviatlana Teikhanouskaya met the ministers.",
                 "Sviatlana Tsikhanuoskaya met the ministers."):
        found = m.match(text, (), ())
        assert names_of(found) == {"Sviatlana Tsikhanouskaya"} and found[0].fuzzy, text
    # a given name is compared by key only: as written, Marta is one letter from Maria
    assert m.match("Marta Kalesnikava met the ministers.", (), ()) == []
    # one letter from the feminine form, one from the masculine: the gender decides, not the letters
    assert names_of(m.match("Yulia Navalny met the ministers.", (), ())) == set()
    assert names_of(m.match("Yulia Navalnya met the ministers.", (), ())) == {"Yulia Navalnaya"}


def test_the_labels_of_real_reporting_are_well_formed():
    """``bench/name_labels.jsonl`` (the texts stay outside the repository): one label per
    excerpt hash, known categories, only people of the benchmark's watch list.
    """
    from bench.name_accuracy import CATEGORIES, LABELS_FILE
    from bench.name_corpus import WATCH

    labels = [json.loads(line) for line in LABELS_FILE.read_text(encoding="utf-8").splitlines() if line]
    assert len(labels) >= 150
    assert len({label["hash"] for label in labels}) == len(labels)
    for label in labels:
        assert set(label) == {"hash", "source", "category", "expected"}, label
        assert len(label["hash"]) == 64 and label["category"] in CATEGORIES, label
        assert set(label["expected"]) <= set(WATCH), label
    by_category = {category: [label for label in labels if label["category"] == category]
                   for category in CATEGORIES}
    assert sum(len(label["expected"]) for label in by_category["typo"]) >= 20
    assert len(by_category["false_friend"]) >= 50 and len(by_category["surname"]) >= 40
