"""Training and evaluating the learned topic tagger on the labelled corpus (``newsmon topics``).

Training (:func:`train`) fits one L2-regularised logistic regression per topic
(scikit-learn, installed with ``pip install 'newsmon[train]'``) on the train split's
passages, each passage read as the pipeline reads an article (spaCy, then
:mod:`~newsmon.analysis.topic_features` of its sentences, each feature at its largest
value in the passage). On the dev split it then picks, per topic, the
regularisation strength and the probability threshold with the best F1 for the tagger
as the pipeline runs it (an article's best sentence). Dev stays out of the fit, so
``newsmon topics eval --split dev`` stays a fair check while tuning (its thresholds aside).
The test split is never read here: only ``newsmon topics eval --split test`` and
``bench/topic_accuracy.py`` score it, to report.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from newsmon.analysis.text import Sentence
from newsmon.analysis.topic_features import sentence_features
from newsmon.analysis.topic_model import TopicHead, TopicModel
from newsmon.analysis.topic_tagger import TopicTagger
from newsmon.analysis.topics import TopicRules, rule_weights
from newsmon.topic_labels import TOPICS

C_GRID = (0.1, 0.3, 1.0, 3.0)
THRESHOLD_GRID = tuple(round(0.05 * i, 2) for i in range(2, 19))  # 0.10 .. 0.90
MIN_WEIGHT = 1e-4  # smaller weights are left out of the stored model
MODEL_NAME = "linear"

Reader = Callable[[Sequence[str]], list[tuple[Sentence, ...]]]


@dataclass(frozen=True)
class Scores:
    true_positives: int
    false_positives: int
    false_negatives: int

    @property
    def precision(self) -> float:
        found = self.true_positives + self.false_positives
        return self.true_positives / found if found else 0.0

    @property
    def recall(self) -> float:
        wanted = self.true_positives + self.false_negatives
        return self.true_positives / wanted if wanted else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def score(predicted: Mapping[str, set[str]], gold: Mapping[str, Mapping[str, bool]], topic: str) -> Scores:
    tp = sum(1 for h, labels in gold.items() if labels[topic] and topic in predicted[h])
    fp = sum(1 for h, labels in gold.items() if not labels[topic] and topic in predicted[h])
    fn = sum(1 for h, labels in gold.items() if labels[topic] and topic not in predicted[h])
    return Scores(tp, fp, fn)


def spacy_reader() -> Reader:
    """Passages to sentences the way the pipeline reads an article (its spaCy model)."""
    from newsmon.analysis.nlp import load_model
    from newsmon.analysis.text import sentences_of

    nlp = load_model()
    return lambda texts: [sentences_of(doc) for doc in nlp.pipe(texts, batch_size=64)]


def passage_features(sentences: Sequence[Sentence], rules: TopicRules) -> tuple[dict[str, float], ...]:
    return tuple(sentence_features(sentence, weights)
                 for sentence, weights in zip(sentences, rule_weights(sentences, rules), strict=True))


def train(rows: Sequence[Mapping], texts: Mapping[str, str], read: Reader, rules: TopicRules, *,
          progress: Callable[[str], None] = lambda _line: None) -> tuple[TopicModel, list[str]]:
    """A model from the train and dev rows (test rows are refused), and a report of the choices."""
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.linear_model import LogisticRegression

    if any(row["split"] == "test" for row in rows):
        msg = "the test split is for evaluation only"
        raise ValueError(msg)
    progress(f"reading {len(rows):,} passages with spaCy")
    read_rows = read([texts[row["hash"]] for row in rows])
    per_sentence = {row["hash"]: passage_features(found, rules)
                    for row, found in zip(rows, read_rows, strict=True)}
    train_rows = [row for row in rows if row["split"] == "train"]
    dev_rows = [row for row in rows if row["split"] == "dev"]

    def fit(fit_rows: Sequence[Mapping], topic: str, c: float) -> TopicHead:
        vectoriser = DictVectorizer()
        matrix = vectoriser.fit_transform([_union(per_sentence[row["hash"]]) for row in fit_rows])
        labels = [bool(row["labels"][topic]) for row in fit_rows]
        model = LogisticRegression(C=c, class_weight="balanced", max_iter=5000).fit(matrix, labels)
        names = vectoriser.get_feature_names_out()
        weights = {str(name): float(w) for name, w in zip(names, model.coef_[0], strict=True)
                   if abs(w) >= MIN_WEIGHT}
        return TopicHead(intercept=float(model.intercept_[0]), threshold=0.5, weights=weights)

    heads, report = {}, []
    for topic in TOPICS:
        best: tuple[float, TopicHead, float] | None = None  # f1, head, threshold
        for c in C_GRID:
            head = fit(train_rows, topic, c)
            best_sentence = {row["hash"]: max(map(head.probability, per_sentence[row["hash"]]), default=0.0)
                             for row in dev_rows}
            gold = {row["hash"]: row["labels"] for row in dev_rows}
            for threshold in THRESHOLD_GRID:
                predicted = {h: {topic} if p >= threshold else set() for h, p in best_sentence.items()}
                f1 = score(predicted, gold, topic).f1
                if best is None or f1 > best[0]:
                    best = (f1, dataclasses.replace(head, threshold=threshold), c)
        assert best is not None
        f1, heads[topic], c = best
        report.append(f"{topic}: C={c}, threshold {heads[topic].threshold:.2f} (dev F1 {f1:.2f}), "
                      f"{len(heads[topic].weights):,} weights")
        progress(report[-1])
    fingerprint = hashlib.sha256("".join(sorted(row["hash"] for row in rows)).encode()).hexdigest()[:12]
    model = TopicModel(version=f"{MODEL_NAME}-{fingerprint}",
                       trained_on=f"{len(train_rows)} train passages, thresholds on {len(dev_rows)} dev",
                       heads=heads)
    return model, report


def _union(features: Iterable[Mapping[str, float]]) -> dict[str, float]:
    merged: dict[str, float] = {}
    for found in features:
        for name, value in found.items():
            merged[name] = max(merged.get(name, value), value)
    return merged


def tag_passages(tagger: TopicTagger, texts: Mapping[str, str], read: Reader) -> dict[str, set[str]]:
    """Each passage's topics, the passage read as a one-item article (its first sentence the title)."""
    hashes = list(texts)
    return {h: {tag.name for tag in tagger.tag(found)} & set(TOPICS)
            for h, found in zip(hashes, read([texts[h] for h in hashes]), strict=True)}
