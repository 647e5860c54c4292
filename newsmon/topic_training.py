"""Training and evaluating the learned topic tagger on the labelled corpus (``newsmon topics``).

Training (:func:`train`) fits one L2-regularised logistic regression per topic
(scikit-learn, installed with ``pip install 'newsmon[train]'``) on the train and dev
passages, each read as the pipeline reads an article (spaCy, then
:mod:`~newsmon.analysis.topic_features` of its sentences, each feature at its largest
value in the passage). Per topic, the regularisation strength and the probability
threshold are those with the best F1 for the tagger as the pipeline runs it (an
article's best sentence), measured by 5-fold cross-validation over the train and dev
passages: a few dozen positives per topic make one dev split too small to choose by.
Where F1 cannot tell settings apart, the higher threshold wins. The final head is then
fitted on all of them. Rule patterns that match at least TRUSTED_SUPPORT passages
unhedged, at least TRUSTED_PRECISION of them positive, become the head's
``trusted_patterns`` (:mod:`~newsmon.analysis.topic_tagger`). The test split is never
read here: only ``newsmon topics eval --split test`` and ``bench/topic_accuracy.py``
score it, to report.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from newsmon.analysis.text import Sentence
from newsmon.analysis.topic_features import sentence_features
from newsmon.analysis.topic_model import TopicHead, TopicModel
from newsmon.analysis.topic_tagger import TopicTagger
from newsmon.analysis.topics import TopicRules, firm_patterns, rule_weights
from newsmon.topic_labels import TOPICS

C_GRID = (0.1, 0.3, 1.0, 3.0)
THRESHOLD_GRID = tuple(round(0.05 * i, 2) for i in range(2, 19))  # 0.10 .. 0.90
MIN_WEIGHT = 1e-3  # smaller weights are left out of the stored model
MIN_PASSAGES = 2  # a feature seen in fewer training passages is noise, not evidence
FOLDS = 5
F1_TOLERANCE = 0.01
TRUSTED_SUPPORT, TRUSTED_PRECISION = 5, 0.85
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
    if any(row["split"] == "test" for row in rows):
        msg = "the test split is for evaluation only"
        raise ValueError(msg)
    progress(f"reading {len(rows):,} passages with spaCy")
    read_rows = read([texts[row["hash"]] for row in rows])
    per_sentence = {row["hash"]: passage_features(found, rules)
                    for row, found in zip(rows, read_rows, strict=True)}
    folds = [[row for row in rows if _fold(row["hash"]) == k] for k in range(FOLDS)]
    sentences = {row["hash"]: found for row, found in zip(rows, read_rows, strict=True)}
    heads, report = {}, []
    for topic in TOPICS:
        trusted = trusted_patterns(rows, sentences, rules, topic)
        certain = {h for h, found in sentences.items()
                   if any(firm_patterns(sentence, rules, topic, trusted) for sentence in found)}
        tried: list[tuple[float, float, float]] = []  # F1, threshold, C
        for c in C_GRID:
            # every passage scored by the heads fitted without its fold
            best_sentence: dict[str, float] = {}
            for k, held in enumerate(folds):
                fitted = [row for j, fold in enumerate(folds) if j != k for row in fold]
                head = _fit(fitted, per_sentence, topic, c)
                best_sentence |= {row["hash"]: 1.0 if row["hash"] in certain
                                  else _best(head, per_sentence[row["hash"]]) for row in held}
            gold = {row["hash"]: row["labels"] for row in rows}
            for threshold in THRESHOLD_GRID:
                predicted = {h: {topic} if p >= threshold else set() for h, p in best_sentence.items()}
                tried.append((score(predicted, gold, topic).f1, threshold, c))
        f1, threshold, c = _choose(tried)
        heads[topic] = dataclasses.replace(_fit(rows, per_sentence, topic, c), threshold=threshold,
                                           trusted_patterns=tuple(sorted(trusted)))
        named = ", ".join(sorted(trusted)) or "none"
        report.append(f"{topic}: C={c}, threshold {threshold:.2f} (cross-validated F1 {f1:.2f}), "
                      f"{len(heads[topic].weights):,} weights; trusted patterns: {named}")
        progress(report[-1])
    # the version names what was learned: the same data and features give the same version
    learned = json.dumps({name: [head.intercept, head.threshold, sorted(head.weights.items()),
                                 head.trusted_patterns] for name, head in sorted(heads.items())})
    fingerprint = hashlib.sha256(learned.encode()).hexdigest()[:12]
    model = TopicModel(version=f"{MODEL_NAME}-{fingerprint}",
                       trained_on=f"{len(rows)} train and dev passages, {FOLDS}-fold cross-validated",
                       heads=heads)
    return model, report


def _choose(tried: Sequence[tuple[float, float, float]]) -> tuple[float, float, float]:
    """The (F1, threshold, C) to keep: among the settings within F1_TOLERANCE of the best F1,
    the highest threshold. The corpus is rich in positives; a live stream is not, so where
    F1 cannot tell settings apart the more precise one is better.
    """
    best = max(f1 for f1, _, _ in tried)
    close = [entry for entry in tried if entry[0] >= best - F1_TOLERANCE]
    return max(close, key=lambda entry: (entry[1], entry[0]))


def trusted_patterns(rows: Sequence[Mapping], sentences: Mapping[str, Sequence[Sentence]], rules: TopicRules,
                     topic: str) -> set[str]:
    """The patterns of ``topic`` precise enough on the labelled rows to tag on their own."""
    hits: Counter[str] = Counter()
    right: Counter[str] = Counter()
    for row in rows:
        fired = set().union(*(firm_patterns(sentence, rules, topic) for sentence in sentences[row["hash"]]))
        hits.update(fired)
        if row["labels"][topic]:
            right.update(fired)
    return {pattern for pattern, count in hits.items()
            if count >= TRUSTED_SUPPORT and right[pattern] / count >= TRUSTED_PRECISION}


def _best(head: TopicHead, sentences: Sequence[Mapping[str, float]]) -> float:
    return max(map(head.probability, sentences), default=0.0)


def _fold(key: str) -> int:
    return int(hashlib.sha256(f"newsmon-topic-folds:{key}".encode()).hexdigest(), 16) % FOLDS


def _fit(rows: Sequence[Mapping], per_sentence: Mapping[str, Sequence[Mapping[str, float]]], topic: str,
         c: float) -> TopicHead:
    """One topic's logistic regression on ``rows``; features seen in fewer than MIN_PASSAGES left out."""
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.linear_model import LogisticRegression

    merged = [_union(per_sentence[row["hash"]]) for row in rows]
    seen = Counter(name for found in merged for name in found)
    vectoriser = DictVectorizer()
    matrix = vectoriser.fit_transform([{name: value for name, value in found.items()
                                        if seen[name] >= MIN_PASSAGES} for found in merged])
    labels = [bool(row["labels"][topic]) for row in rows]
    model = LogisticRegression(C=c, class_weight="balanced", max_iter=5000).fit(matrix, labels)
    weights = {str(name): float(w) for name, w in zip(vectoriser.get_feature_names_out(), model.coef_[0],
                                                      strict=True) if abs(w) >= MIN_WEIGHT}
    return TopicHead(intercept=float(model.intercept_[0]), threshold=0.5, weights=weights)


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
