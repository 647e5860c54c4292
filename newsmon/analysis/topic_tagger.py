"""Topic tagging as the pipeline runs it: the learned model where it has a head for a topic,
the rules alone for the topics it has none for (a user's own topics).

Each sentence, the title included, gets a probability per topic; an article's score is its
best sentence's, and the topic is tagged when that reaches the threshold chosen for it on
training. The sentences that reach it are the evidence, in article order. The rules count
twice: their weight per sentence is one of the model's features, so their vetoes
(negation, appeals, threats) carry over; and the few patterns that proved precise on the
labelled real reporting (the model's ``trusted_patterns``) tag a sentence on their own.

Where the fine-tuned encoder (:mod:`~newsmon.analysis.topic_encoder`) is installed, it
decides the topics it was kept for: only the sentences the linear model gives at least the
topic's gate (or that the topic's rules match firmly) are encoded, best first and only
until one tags the topic, and their probability blends the two. A sentence the rules
match only hedged (an appeal, an offer, speculation) is never encoded: the rules' veto stands.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from newsmon.analysis.text import Sentence
from newsmon.analysis.topic_encoder import TopicEncoder
from newsmon.analysis.topic_features import sentence_features
from newsmon.analysis.topic_model import TopicModel
from newsmon.analysis.topics import (
    RuleReading,
    TopicRules,
    TopicTag,
    evidence_texts,
    firm_patterns,
    rule_weights,
    tags_from_weights,
)

log = logging.getLogger(__name__)

ENCODER_OFF = "off"  # as the encoder file: tag with the linear model alone
# At most this many sentences of an article are encoded per topic, the linear model's best:
# it bounds an article's cost (on 300 BBC News articles no topic had more than 5 past its gate).
MAX_ENCODED = 8


@dataclass(frozen=True)
class TopicTagger:
    rules: TopicRules
    model: TopicModel | None = None
    encoder: TopicEncoder | None = None

    @classmethod
    def load(cls, rules: str | Path | None = None, model: str | Path | None = None,
             encoder: str | Path | None = None) -> TopicTagger:
        """The packaged rules, model and encoder, or the files given. The encoder is left out
        when ``encoder`` is ``"off"``, when its base weights are not installed, or when its
        gates were chosen for another model.
        """
        linear = TopicModel.load(model)
        encoded = None if str(encoder).strip().lower() == ENCODER_OFF else TopicEncoder.load(encoder)
        if encoded is not None and encoded.gated_by != linear.version:
            log.warning("topic encoder %s left out: its gates were chosen for topic model %s, not %s",
                        encoded.version, encoded.gated_by, linear.version)
            encoded = None
        return cls(rules=TopicRules.load(rules), model=linear, encoder=encoded)

    @property
    def provenance(self) -> dict[str, str]:
        found = {"topic_rules": self.rules.version}
        if self.model is not None:
            found["topic_model"] = self.model.version
        if self.encoder is not None:
            found["topic_encoder"] = self.encoder.version
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
        # a trusted pattern can only match where the topic's rules matched at all
        linear = {name: [1.0 if name in reading.weights and firm_patterns(sentence, self.rules, name,
                                                                          head.trusted_patterns)
                         else head.probability(found)
                         for sentence, reading, found in zip(sentences, weights, features, strict=True)]
                  for name, head in heads.items()}
        encoded = self._encoded(sentences, linear, weights)
        learned = []
        for name, head in heads.items():
            scores, threshold = linear[name], head.threshold
            if name in encoded:
                scores, threshold = encoded[name], self.encoder.topics[name].threshold
            known = [score for score in scores if score is not None]
            best = max(known)
            if best >= threshold:
                shown = (s for s, score in zip(sentences, scores, strict=True)
                         if score is not None and score >= threshold)
                evidence = evidence_texts(shown, self.rules.scoring.max_evidence)
                learned.append(TopicTag(name=name, score=round(best, 4), evidence=evidence))
        return sorted(by_rules + learned, key=lambda tag: (-tag.score, tag.name))

    def tag_each(self, articles: Sequence[Sequence[Sentence]]) -> list[list[TopicTag]]:
        """:meth:`tag` for each article of a batch."""
        return [self.tag(sentences) for sentences in articles]

    def _encoded(self, sentences: Sequence[Sentence], linear: Mapping[str, Sequence[float]],
                 weights: Sequence[RuleReading]) -> dict[str, list[float | None]]:
        """Per topic the encoder decides, each sentence's score: the blend for the sentences
        past the topic's gate (:meth:`EncodedTopic.opens`), :meth:`EncodedTopic.unread` for the
        rest (a trusted pattern's 1.0 among them), None for a sentence left unread.

        The sentences past a gate are read best first (by the linear model), one per topic a
        round, and a topic's reading stops once a score reaches its threshold (the rest could
        not change the tag, only add evidence) or after :data:`MAX_ENCODED` sentences. A text
        is encoded once, for all topics (a sentence an article repeats too).
        """
        if self.encoder is None:
            return {}
        scores: dict[str, list[float | None]] = {}
        unread: dict[str, list[int]] = {}
        for name, settings in self.encoder.topics.items():
            if name not in linear:
                continue
            hedged = [name in reading.hedged for reading in weights]
            gated = {i for i, (p, reading) in enumerate(zip(linear[name], weights, strict=True))
                     if settings.opens(p, reading.firm(name), hedged[i])}
            scores[name] = [None if i in gated else settings.unread(p, hedged[i])
                            for i, p in enumerate(linear[name])]
            known = [s for s in scores[name] if s is not None]
            decided = bool(known) and max(known) >= settings.threshold
            best_first = sorted(gated, key=lambda i, p=linear[name]: (-p[i], i))
            unread[name] = [] if decided else best_first[:MAX_ENCODED]
        read: dict[str, dict[str, float]] = {}  # text: topic: the encoder's probability
        while any(unread.values()):
            chosen = {name: waiting.pop(0) for name, waiting in unread.items() if waiting}
            texts = sorted({sentences[i].text for i in chosen.values()} - read.keys())
            if texts:
                found = self.encoder.probabilities(texts)
                read.update({text: {name: float(p[j]) for name, p in found.items()}
                             for j, text in enumerate(texts)})
            for name, i in chosen.items():
                settings = self.encoder.topics[name]
                scores[name][i] = settings.blend(linear[name][i], read[sentences[i].text][name])
                if scores[name][i] >= settings.threshold:
                    unread[name] = []
        return scores
