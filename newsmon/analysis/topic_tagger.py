"""Topic tagging as the pipeline runs it: the learned model where it has a head for a topic,
the rules alone for the topics it has none for (a user's own topics).

Each sentence, the title included, gets a probability per topic; an article's score is its
best sentence's, and the topic is tagged when that reaches the threshold chosen for it on
training. The sentences that reach it are the evidence, in article order. The rules count
twice: their weight per sentence is one of the model's features, so their vetoes
(negation, appeals, threats) carry over; and the few patterns that proved precise on the
labelled real reporting (the model's ``trusted_patterns``) tag a sentence on their own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from newsmon.analysis.text import Sentence
from newsmon.analysis.topic_features import sentence_features
from newsmon.analysis.topic_model import TopicModel
from newsmon.analysis.topics import (
    TopicRules,
    TopicTag,
    evidence_texts,
    firm_patterns,
    rule_weights,
    tags_from_weights,
)


@dataclass(frozen=True)
class TopicTagger:
    rules: TopicRules
    model: TopicModel | None = None

    @classmethod
    def load(cls, rules: str | Path | None = None, model: str | Path | None = None) -> TopicTagger:
        """The packaged rules and model, or the files given."""
        return cls(rules=TopicRules.load(rules), model=TopicModel.load(model))

    @property
    def provenance(self) -> dict[str, str]:
        found = {"topic_rules": self.rules.version}
        if self.model is not None:
            found["topic_model"] = self.model.version
        return found

    def tag(self, sentences: Sequence[Sentence]) -> list[TopicTag]:
        """The topics of an article (its sentences as :func:`~newsmon.analysis.text.sentences_of`
        gives them, title first), best first.
        """
        heads = self.model.heads if self.model is not None else {}
        weights = rule_weights(sentences, self.rules)
        by_rules = tags_from_weights(sentences, weights, self.rules, skip=heads)
        if not heads or not sentences:
            return by_rules
        features = [sentence_features(sentence, weight) for sentence, weight in zip(sentences, weights,
                                                                                     strict=True)]
        learned = []
        for name, head in heads.items():
            # a trusted pattern can only match where the topic's rules matched at all
            scores = [1.0 if name in reading.weights and firm_patterns(sentence, self.rules, name,
                                                                       head.trusted_patterns)
                      else head.probability(found)
                      for sentence, reading, found in zip(sentences, weights, features, strict=True)]
            best = max(scores)
            if best >= head.threshold:
                shown = (s for s, score in zip(sentences, scores, strict=True) if score >= head.threshold)
                evidence = evidence_texts(shown, self.rules.scoring.max_evidence)
                learned.append(TopicTag(name=name, score=round(best, 4), evidence=evidence))
        return sorted(by_rules + learned, key=lambda tag: (-tag.score, tag.name))
