"""The learned topic tagger as the pipeline runs it (the packaged model with the rules), its
model file, and ``newsmon topics train|eval`` on a small labelled corpus of the project's
own texts (the accuracy on real reporting is ``bench/topic_accuracy.py``'s business).
"""

from __future__ import annotations

import hashlib
import json
import pickle
from importlib import resources
from pathlib import Path

import pytest
import yaml

from newsmon.analysis.text import article_text, sentences_of
from newsmon.analysis.topic_model import TopicHead, TopicModel
from newsmon.analysis.topic_tagger import TopicTagger
from newsmon.analysis.topics import TopicRules, rule_weights
from newsmon.errors import ConfigError
from newsmon.topic_labels import TOPICS, assign_splits, digest_of_test_split
from newsmon.topic_training import spacy_reader, train
from tests.support.commands import run_newsmon

LABELLED = Path(__file__).parent / "topics" / "labelled.yaml"
DEMO_STORIES = resources.files("newsmon.seeds") / "demo" / "stories.yaml"


@pytest.fixture(scope="module")
def tagger() -> TopicTagger:
    return TopicTagger.load()


def topics_of(nlp, tagger: TopicTagger, title: str, body: str) -> dict:
    text = article_text({"title": title, "content": body})
    return {tag.name: tag for tag in tagger.tag(sentences_of(nlp(text)))}


def test_the_packaged_model_has_a_head_per_topic_and_says_so_in_provenance(tagger):
    assert set(tagger.model.heads) == set(TOPICS)
    # ./run installs the encoder's base weights (deploy/models.txt), so the packaged encoder is in
    assert tagger.encoder is not None and tagger.encoder.gated_by == tagger.model.version
    assert tagger.provenance == {"topic_rules": tagger.rules.version, "topic_model": tagger.model.version,
                                 "topic_encoder": tagger.encoder.version}
    for head in tagger.model.heads.values():
        assert 0.0 < head.threshold < 1.0 and head.weights
    assert pickle.loads(pickle.dumps(tagger)) == tagger  # shipped to Beam workers


def test_the_seed_article_has_all_three_topics_with_evidence(nlp, tagger):
    body = (resources.files("newsmon.seeds") / "000_4d60d75d12f4f40c.txt").read_text(encoding="utf-8")
    found = topics_of(nlp, tagger, "Belarus frees 52 prisoners after Trump appeal", body)
    assert set(found) == set(TOPICS)
    for tag in found.values():
        assert tag.evidence and all(sentence in " ".join(body.split()) or "Belarus frees" in sentence
                                    for sentence in tag.evidence)
    assert any("sanctions relief" in sentence for sentence in found["sanctions_relief"].evidence)


def test_the_vilnius_story_is_a_diplomatic_move_only(nlp, tagger):
    """Its "release of all political prisoners" is a demand, not a release."""
    stories = yaml.safe_load(DEMO_STORIES.read_text(encoding="utf-8"))["stories"]
    [story] = [s for s in stories if s["title"].startswith("Envoys meet in Vilnius")]
    assert set(topics_of(nlp, tagger, story["title"], story["body"])) == {"diplomatic_move"}


@pytest.mark.parametrize("text, topic", [
    ("Rights groups called for the release of the jailed journalist.", "prisoner_release"),
    ("Washington could consider easing sanctions on Minsk, an official said.", "sanctions_relief"),
    ("The EU extended its sanctions on Belarus for another year.", "sanctions_relief"),
    ("Tehran kept insisting on the lifting of all sanctions before any talks.", "sanctions_relief"),
    ("Critics faulted the White House's unwillingness to give Minsk sanctions relief.", "sanctions_relief"),
    ("Dinamo Minsk beat Dinamo Riga 4-3 in overtime on Sunday.", "diplomatic_move"),
])
def test_near_misses_stay_out(nlp, tagger, text, topic):
    assert topic not in topics_of(nlp, tagger, text, "")


def test_a_trusted_pattern_tags_on_its_own(nlp):
    """A rule pattern proven precise tags a sentence whatever the linear head scores."""
    rules = TopicRules.load()
    deaf = TopicHead(intercept=-50.0, threshold=0.5, weights={})
    model = TopicModel(version="test", trained_on="nothing", heads={"sanctions_relief": deaf})
    sentences = sentences_of(nlp("Washington will provide sanctions relief to the national airline."))
    assert TopicTagger(rules, model).tag(sentences) == []
    trusting = TopicModel(version="test", trained_on="nothing", heads={
        "sanctions_relief": TopicHead(intercept=-50.0, threshold=0.5, weights={},
                                      trusted_patterns=("relief-from-sanctions",))})
    [tag] = [t for t in TopicTagger(rules, trusting).tag(sentences) if t.name == "sanctions_relief"]
    assert tag.score == 1.0 and tag.evidence == (sentences[0].text,)


def test_topics_without_a_head_are_the_rules_alone(nlp):
    """A user's own topic (a rules file of theirs) is tagged next to the learned ones."""
    rules = TopicRules.from_dict({
        "version": "test.1",
        "topics": {"ceasefire": {"patterns": [{
            "id": "truce", "weight": 0.9, "trigger": {"lemma": ["ceasefire", "truce"]},
            "context": [{"lemma": ["agree", "declare"], "where": "head", "distance": 2}]}]}}})
    tagger = TopicTagger(rules, TopicTagger.load().model)
    found = {tag.name for tag in tagger.tag(sentences_of(nlp("The two sides agreed a ceasefire on Monday.")))}
    assert "ceasefire" in found


def test_hedged_rule_matches_are_their_own_feature(nlp):
    rules = TopicRules.load()
    [firm] = rule_weights(sentences_of(nlp("Belarus freed 52 political prisoners.")), rules)
    [hedged] = rule_weights(sentences_of(nlp("Rights groups urged Belarus to free the political prisoners.")),
                            rules)
    assert "prisoner_release" in firm.weights and "prisoner_release" not in firm.hedged
    assert "prisoner_release" in hedged.hedged


def test_a_model_file_round_trips_and_a_broken_one_is_named(tmp_path):
    model = TopicModel(version="linear-x", trained_on="3 passages", heads={
        "prisoner_release": TopicHead(intercept=-1.5, threshold=0.4, weights={"t:freed": 2.0},
                                      trusted_patterns=("pardon",))})
    path = tmp_path / "model.json.gz"
    model.save(path)
    assert TopicModel.load(path) == model
    path.write_bytes(b"not gzip")
    with pytest.raises(ConfigError, match="model.json.gz"):
        TopicModel.load(path)


# ---------------------------------------------------------------- training and evaluation

def labelled_corpus(folder: Path) -> tuple[Path, Path]:
    """The project's own labelled texts as a corpus (labels, frozen digest, texts) in ``folder``."""
    items = yaml.safe_load(LABELLED.read_text(encoding="utf-8"))["items"]
    texts = {hashlib.sha256(item["text"].encode()).hexdigest(): item for item in items}
    labels = {h: {t: t in item["topics"] for t in TOPICS} for h, item in texts.items()}
    splits = assign_splits(labels)
    rows = [{"hash": h, "source": "own", "labels": labels[h], "split": splits[h]} for h in sorted(texts)]
    labels_file = folder / "topic_labels.jsonl"
    labels_file.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    (folder / "topic_labels.test.sha256").write_text(digest_of_test_split(rows) + "\n", encoding="utf-8")
    corpus = folder / "corpus.jsonl"
    lines = [json.dumps({"hash": h, "text": item["text"]}) + "\n" for h, item in texts.items()]
    corpus.write_text("".join(lines), encoding="utf-8")
    return labels_file, corpus


def test_training_refuses_the_test_split(tmp_path):
    with pytest.raises(ValueError, match="test split"):
        train([{"hash": "a", "labels": dict.fromkeys(TOPICS, False), "split": "test"}], {"a": "x"},
              spacy_reader(), TopicRules.load())


def test_topics_train_then_eval_on_a_labelled_corpus(tmp_path):
    labels_file, corpus = labelled_corpus(tmp_path)
    rows = [json.loads(line) for line in labels_file.read_text(encoding="utf-8").splitlines()]
    fitted = [row for row in rows if row["split"] != "test"]
    for row in fitted[:20]:  # a second source, which training is told to leave out
        row["source"] = "elsewhere/some-file"
    labels_file.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    model_file = tmp_path / "model.json.gz"
    env = {"NEWSMON_HOME": str(tmp_path / "home"), "PATH": "/usr/bin:/bin"}
    misspelt = run_newsmon("topics", "train", "--labels", str(labels_file), "--corpus", str(corpus),
                           "--out", str(model_file), "--exclude-source", "elsewere", env=env, timeout=600)
    assert misspelt.returncode == 2 and "no passages of source elsewere" in misspelt.stderr
    assert "elsewhere, own" in misspelt.stderr and not model_file.exists()
    trained = run_newsmon("topics", "train", "--labels", str(labels_file), "--corpus", str(corpus),
                          "--out", str(model_file), "--exclude-source", "elsewhere", env=env, timeout=600)
    assert trained.returncode == 0, trained.stderr
    model = TopicModel.load(model_file)
    assert set(model.heads) == set(TOPICS) and "cross-validated" in model.trained_on
    assert model.trained_on.startswith(f"{len(fitted) - 20} train and dev passages")
    assert model.trained_on.endswith("left out: elsewhere")
    chosen = [line for line in trained.stderr.splitlines() if line.startswith(TOPICS)]
    assert len(chosen) == len(TOPICS) and all("cross-validated F1" in line for line in chosen)
    evaluated = run_newsmon("topics", "eval", "--labels", str(labels_file), "--corpus", str(corpus),
                            "--model", str(model_file), "--split", "test", env=env, timeout=600)
    assert evaluated.returncode == 0, evaluated.stderr
    table = {line.split()[0]: line.split()[1:] for line in evaluated.stdout.splitlines()
             if line.startswith(TOPICS) and "," not in line}
    assert set(table) == set(TOPICS)
    for positives, _, _, f1 in table.values():
        # texts written for the purpose are easy: a model that learned anything does well on them
        assert int(positives) > 0 and float(f1) >= 0.7, evaluated.stdout
    assert "false negatives" in evaluated.stdout


def test_eval_refuses_a_changed_test_split(tmp_path):
    labels_file, corpus = labelled_corpus(tmp_path)
    (tmp_path / "topic_labels.test.sha256").write_text("0" * 64 + "\n", encoding="utf-8")
    env = {"NEWSMON_HOME": str(tmp_path / "home"), "PATH": "/usr/bin:/bin"}
    done = run_newsmon("topics", "eval", "--labels", str(labels_file), "--corpus", str(corpus), env=env)
    assert done.returncode == 2 and "the test split changed" in done.stderr
