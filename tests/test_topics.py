"""The topic tagger: measured on a labelled set with the real spaCy model, plus focused tests.

Run with ``-s`` to see the per-topic precision/recall table and every misclassified text.
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import pytest
import yaml

from newsmon.analysis.text import Sentence, Token, article_text, sentences_of
from newsmon.analysis.topics import TopicRules, TopicTag, tag_topics
from newsmon.errors import ConfigError

LABELLED = Path(__file__).parent / "topics" / "labelled.yaml"
SEED_ARTICLE = "000_4d60d75d12f4f40c.txt"
TOPICS = ("prisoner_release", "sanctions_relief", "diplomatic_move")
# Floors below what the packaged rules reach on this set (see the printed table), so a
# regression fails while a new spaCy patch release that moves a parse or two does not.
FLOORS = {topic: {"precision": 0.9, "recall": 0.85} for topic in TOPICS}


@pytest.fixture(scope="module")
def rules() -> TopicRules:
    return TopicRules.load()


@pytest.fixture(scope="module")
def tag(nlp, rules):
    def tag_text(text: str, topic_rules: TopicRules | None = None) -> list[TopicTag]:
        return tag_topics(sentences_of(nlp(text)), topic_rules or rules)
    return tag_text


@dataclass
class Outcome:
    text: str
    expected: frozenset[str]
    found: frozenset[str]


@pytest.fixture(scope="module")
def outcomes(nlp, rules) -> list[Outcome]:
    items = yaml.safe_load(LABELLED.read_text(encoding="utf-8"))["items"]
    docs = nlp.pipe([item["text"] for item in items], batch_size=64)
    return [Outcome(text=item["text"], expected=frozenset(item["topics"]),
                    found=frozenset(tag.name for tag in tag_topics(sentences_of(doc), rules)))
            for item, doc in zip(items, docs, strict=True)]


def scores(outcomes: list[Outcome], topic: str) -> dict[str, float]:
    tp = sum(1 for o in outcomes if topic in o.expected and topic in o.found)
    fp = sum(1 for o in outcomes if topic not in o.expected and topic in o.found)
    fn = sum(1 for o in outcomes if topic in o.expected and topic not in o.found)
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "support": tp + fn,
            "tp": tp, "fp": fp, "fn": fn}


def report(outcomes: list[Outcome], rules: TopicRules) -> str:
    lines = [f"\ntopic rules {rules.version}, {len(outcomes)} labelled texts",
             f"{'topic':<18} {'precision':>9} {'recall':>7} {'F1':>6} {'support':>8} {'FP':>4} {'FN':>4}"]
    for topic in rules.names:
        s = scores(outcomes, topic)
        lines.append(f"{topic:<18} {s['precision']:>9.3f} {s['recall']:>7.3f} {s['f1']:>6.3f} "
                     f"{s['support']:>8} {s['fp']:>4} {s['fn']:>4}")
    wrong = [o for o in outcomes if o.expected != o.found]
    lines.append(f"misclassified ({len(wrong)}):")
    for o in wrong:
        missed, extra = sorted(o.expected - o.found), sorted(o.found - o.expected)
        lines.append(f"  missed {missed} extra {extra}: {o.text}")
    return "\n".join(lines)


# ---------------------------------------------------------------- the labelled set

def test_labelled_set_is_large_and_balanced():
    items = yaml.safe_load(LABELLED.read_text(encoding="utf-8"))["items"]
    assert len(items) >= 150
    assert len({item["text"] for item in items}) == len(items), "duplicate texts"
    for topic in TOPICS:
        assert sum(topic in item["topics"] for item in items) >= 40, topic
    assert sum(not item["topics"] for item in items) >= 50
    assert sum(len(item["topics"]) > 1 for item in items) >= 10
    assert {t for item in items for t in item["topics"]} <= set(TOPICS)


def test_precision_and_recall_per_topic(outcomes, rules):
    print(report(outcomes, rules))
    for topic, floor in FLOORS.items():
        s = scores(outcomes, topic)
        assert s["precision"] >= floor["precision"], f"{topic} precision {s['precision']:.3f}"
        assert s["recall"] >= floor["recall"], f"{topic} recall {s['recall']:.3f}"


# ---------------------------------------------------------------- near misses

@pytest.mark.parametrize("text, topic", [
    ("The European Union imposed new sanctions on Belarus on Monday.", "sanctions_relief"),
    ("Sanctions imposed in 2021 remain in force, the Treasury said.", "sanctions_relief"),
    ("Washington extended and tightened its sanctions on Minsk.", "sanctions_relief"),
    ("The opposition urged Brussels to keep sanctions until all prisoners are freed.", "sanctions_relief"),
    ("Tehran kept insisting on the lifting of all sanctions before any talks.", "sanctions_relief"),
    ("Critics faulted the White House's unwillingness to give Minsk sanctions relief.", "sanctions_relief"),
    ("The government's refusal to free the detained activists drew criticism.", "prisoner_release"),
    ("The interior ministry released a statement on the riots.", "prisoner_release"),
    ("Police released video of the suspects and figures on arrests.", "prisoner_release"),
    ("The singer was released from hospital on Friday.", "prisoner_release"),
    ("Rights groups called for the release of the jailed journalist.", "prisoner_release"),
    ("The authorities did not release the detained activists.", "prisoner_release"),
    ("The U.S. embassy in Minsk is on Independence Avenue.", "diplomatic_move"),
    ("The embassy was closed for a day after a security alert.", "diplomatic_move"),
    ("Talks between the union and the company broke down.", "diplomatic_move"),
    ("She telephoned her lawyer from the airport.", "diplomatic_move"),
])
def test_near_misses_are_not_tagged(tag, text, topic):
    assert topic not in {t.name for t in tag(text)}


@pytest.mark.parametrize("text, topic", [
    ("The United States lifted sanctions on Belavia imposed in 2021.", "sanctions_relief"),
    ("Belarus freed 52 political prisoners on Thursday.", "prisoner_release"),
    ("Washington will reopen its embassy in Minsk, officials said.", "diplomatic_move"),
    ("The ambassador was summoned and later expelled.", "diplomatic_move"),
    ("The prime minister telephoned his Japanese counterpart on Sunday.", "diplomatic_move"),
])
def test_the_real_thing_is_tagged(tag, text, topic):
    assert topic in {t.name for t in tag(text)}


def test_speculation_alone_is_not_enough(tag):
    assert tag("Washington could consider easing sanctions on Minsk, an official said.") == []


# ---------------------------------------------------------------- output shape

def test_evidence_is_the_triggering_sentence(tag):
    text = ("Heavy snow fell across the region on Monday. The ministry released a report on traffic. "
            "Separately, Iran released two French citizens held since 2022. Schools stayed closed.")
    [found] = tag(text)
    assert found.name == "prisoner_release"
    assert found.evidence == ("Separately, Iran released two French citizens held since 2022.",)


def test_scores_are_in_range_and_sorted(tag):
    tags = tag("Belarus freed 14 prisoners after a visit by a U.S. envoy. Washington then eased "
               "sanctions on the potash maker. Belarus released more political prisoners on Friday.")
    assert [t.name for t in tags][0] == "prisoner_release"  # two supporting sentences rank first
    assert {t.name for t in tags} == set(TOPICS)
    assert all(0.0 < t.score <= 1.0 for t in tags)
    assert [t.score for t in tags] == sorted((t.score for t in tags), reverse=True)


def test_packaged_rules_have_a_version_and_the_three_topics(rules):
    assert rules.version and rules.version[0].isdigit()
    assert rules.names == TOPICS
    assert pickle.loads(pickle.dumps(rules)) == rules  # shipped to Beam workers


def test_seed_article_has_all_three_topics_with_evidence(nlp, rules):
    body = (resources.files("newsmon.seeds") / SEED_ARTICLE).read_text(encoding="utf-8")
    text = article_text({"title": "Belarus frees 52 prisoners after Trump appeal", "content": body})
    tags = {t.name: t for t in tag_topics(sentences_of(nlp(text)), rules)}
    assert set(tags) == set(TOPICS)
    for found in tags.values():
        assert 1 <= len(found.evidence) <= rules.scoring.max_evidence
        assert all(sentence in " ".join(text.split()) for sentence in found.evidence)
    assert any("Belarus frees 52 prisoners" in e for e in tags["prisoner_release"].evidence)
    assert any("sanctions relief" in e for e in tags["sanctions_relief"].evidence)
    assert any("embassy in Minsk" in e for e in tags["diplomatic_move"].evidence)


# ---------------------------------------------------------------- rules are data

CEASEFIRE_RULES = """
version: "test.1"
scoring: {threshold: 0.5}
guards:
  exclude:
    - {dep: [neg], where: clause, distance: 2}
topics:
  ceasefire:
    description: A truce is agreed, declared or takes effect.
    exclude:
      - {lemma: [violate, break, collapse, breach], where: head, distance: 1}
    patterns:
      - id: truce-agreed
        weight: 0.9
        trigger: {lemma: [ceasefire, truce, armistice], pos: [NOUN]}
        context:
          - {lemma: [agree, declare, announce, sign, reach, begin, hold, take], where: head, distance: 2}
"""


def test_a_user_defined_topic_works_without_code_changes(tmp_path, tag):
    path = tmp_path / "rules.yaml"
    path.write_text(CEASEFIRE_RULES, encoding="utf-8")
    custom = TopicRules.load(path)
    assert custom.version == "test.1"
    [found] = tag("Israel and Hezbollah agreed to a ceasefire on Tuesday, mediators said.", custom)
    assert found.name == "ceasefire"
    assert tag("The warring sides did not reach a truce.", custom) == []
    assert tag("Both sides accused each other of violating the ceasefire.", custom) == []


def bad_rules(edit: str) -> str:
    return CEASEFIRE_RULES.replace("        weight: 0.9\n", edit)


PATTERN = "topics/ceasefire/patterns/0"


@pytest.mark.parametrize("text, message", [
    (bad_rules("        weight: 1.5\n"), rf"{PATTERN}/weight: 1.5 is greater than the maximum of 1"),
    (CEASEFIRE_RULES.replace("lemma: [ceasefire, truce, armistice]", "lemma: ceasefire"),
     rf"{PATTERN}/trigger/lemma: 'ceasefire' is not of type 'array'"),
    (CEASEFIRE_RULES.replace("pos: [NOUN]}", "pos: [NOUN]}\n        trigger_words: [x]"),
     rf"{PATTERN}: Additional properties are not allowed \('trigger_words' was unexpected\)"),
    (CEASEFIRE_RULES.replace("where: head, distance: 2}", "where: above, distance: 2}"),
     rf"{PATTERN}/context/0/where: 'above' is not one of \['near', 'below', 'head', 'clause', 'sentence'\]"),
    (CEASEFIRE_RULES.replace("where: head, distance: 2}", "where: head, distance: 9}"),
     rf"{PATTERN}/context/0/distance: 9 is greater than the maximum of 6"),
    (CEASEFIRE_RULES.replace("{lemma: [agree, declare, announce, sign, reach, begin, hold, take], ", "{"),
     rf"{PATTERN}/context/0: .* is not valid under any of the given schemas: 'lemma' is a required property"
     " or 'pos' is a required property"),
    (CEASEFIRE_RULES.replace("        context:", "        contexts:"),
     rf"{PATTERN}: Additional properties are not allowed \('contexts' was unexpected\)"),
    (CEASEFIRE_RULES.replace("version: \"test.1\"\n", ""), r"\(root\): 'version' is a required property"),
    (CEASEFIRE_RULES.replace("version: \"test.1\"", "version: 2026.10"),
     "version: 2026.1 is not of type 'string'"),
    (CEASEFIRE_RULES.replace("      - id: truce-agreed\n", "      - name: truce\n"),
     rf"{PATTERN}: Additional properties are not allowed \('name' was unexpected\); "
     rf"{PATTERN}: 'id' is a required property"),
    (CEASEFIRE_RULES.replace("  ceasefire:", "  cease fire:"), "topics: 'cease fire' does not match"),
    (CEASEFIRE_RULES.replace("scoring: {threshold: 0.5}", "scoring: {threshold: 0}"),
     "scoring/threshold: 0 is less than or equal to the minimum of 0"),
    ("version: \"t\"\ntopics: {}\n", r"topics: \{\} should be non-empty"),
    (CEASEFIRE_RULES + "      - id: truce-agreed\n        weight: 0.5\n        trigger: {lemma: [truce]}\n",
     "topic 'ceasefire': pattern ids must be unique, repeated: truce-agreed"),
    ("version: [unclosed", "not valid YAML"),
])
def test_a_malformed_rules_file_names_the_file_and_the_path(tmp_path, text, message):
    path = tmp_path / "rules.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=message) as caught:
        TopicRules.load(path)
    assert str(caught.value).startswith(str(path))


def test_a_schema_error_names_the_schema_file():
    with pytest.raises(ConfigError) as caught:
        TopicRules.from_dict({"version": "t", "topics": {"x": {}}}, source="team-rules.yaml")
    assert str(caught.value) == ("team-rules.yaml does not match schemas/topic_rules.schema.json: "
                                 "topics/x: 'patterns' is a required property")


def test_a_missing_rules_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="cannot read the topic rules .*nowhere.yaml"):
        TopicRules.load(tmp_path / "nowhere.yaml")
    assert TopicRules.load(str(resources.files("newsmon.seeds") / "topic_rules.yaml")) == TopicRules.load()


# ---------------------------------------------------------------- scoring, without a model

def sentence(*words: tuple[str, str, str, int]) -> Sentence:
    """A hand-parsed sentence: (text, lemma, dep, head) per token."""
    tokens = tuple(Token(text=text, lemma=lemma, pos="NOUN" if dep != "ROOT" else "VERB", dep=dep, head=head,
                         ent_type="", start=0) for text, lemma, dep, head in words)
    return Sentence(text=" ".join(w[0] for w in words), start=0, tokens=tokens)


FREED = sentence(("Rebels", "rebel", "nsubj", 1), ("freed", "free", "ROOT", 1),
                 ("hostages", "hostage", "dobj", 1))
TALKED = sentence(("Officials", "official", "nsubj", 1), ("met", "meet", "ROOT", 1),
                  ("envoys", "envoy", "dobj", 1))
WEAK_RULES = TopicRules.from_dict({
    "version": "t",
    "scoring": {"threshold": 0.5, "title_bonus": 0.5, "max_evidence": 2},
    "topics": {
        "strong": {"patterns": [{"id": "p", "weight": 0.8, "trigger": {"lemma": ["free"]},
                                 "context": [{"lemma": ["hostage"], "where": "below", "distance": 1}]}]},
        "weak": {"patterns": [{"id": "p", "weight": 0.3, "trigger": {"lemma": ["meet"]}}]},
    },
})


def test_one_weak_sentence_is_below_threshold_but_several_add_up():
    assert tag_topics([TALKED], WEAK_RULES) == []
    found = {t.name: t for t in tag_topics([FREED, TALKED, TALKED, TALKED], WEAK_RULES, title_sentences=0)}
    assert found["weak"].score == pytest.approx(1 - 0.7 ** 3, abs=1e-4)
    assert found["weak"].evidence == (TALKED.text,)  # the same sentence three times is one piece of evidence


def test_title_bonus_ranks_but_does_not_create_a_topic():
    plain = tag_topics([TALKED, FREED], WEAK_RULES, title_sentences=0)
    titled = tag_topics([FREED, TALKED], WEAK_RULES, title_sentences=1)
    assert [t.score for t in plain] == [0.8]
    assert [t.score for t in titled] == [pytest.approx(0.9)]
    assert tag_topics([TALKED], WEAK_RULES, title_sentences=1) == []


def test_below_does_not_reach_a_neighbours_object():
    # "Officials met envoys": "envoys" is under "met", not under "Officials"
    rules = TopicRules.from_dict({"version": "t", "topics": {"x": {"patterns": [
        {"id": "p", "weight": 1.0, "trigger": {"lemma": ["official"]},
         "context": [{"lemma": ["envoy"], "where": "below", "distance": 3}]}]}}})
    assert tag_topics([TALKED], rules) == []
    near = TopicRules.from_dict({"version": "t", "topics": {"x": {"patterns": [
        {"id": "p", "weight": 1.0, "trigger": {"lemma": ["official"]},
         "context": [{"lemma": ["envoy"], "where": "near", "distance": 2}]}]}}})
    assert [t.name for t in tag_topics([TALKED], near)] == ["x"]
