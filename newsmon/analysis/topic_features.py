"""What the learned topic tagger sees of a sentence: words, who did what to whom, and the rules.

Features come from spaCy's reading of the article (lemmas, parts of speech, dependencies,
entity types), which the pipeline has already made, so they cost no model run:

- ``w:`` content lemmas, and ``b:`` pairs of neighbouring ones ("lift sanction");
- ``d:`` a word with the word it depends on and how ("free>dobj>prisoner",
  "visit>dobj>GPE"), and ``p:`` the same without the relation;
- ``r:<topic>`` the weight the topic rules give the sentence (``seeds/topic_rules.yaml``):
  the rules' vetoes (negation, appeals, threats) reach the model through them.

Names are replaced by their entity type (``GPE``, ``PERSON``...): "visited Beijing" and
"visited Hanoi" are the same move, and a model trained on 2004 news must not learn that
one country's name means a topic.
"""

from __future__ import annotations

from collections.abc import Mapping

from newsmon.analysis.text import Sentence, Token

SKIPPED_POS = frozenset({"PUNCT", "DET", "CCONJ", "SPACE", "NUM", "SYM", "X"})
GENERALISED_ENTITIES = frozenset({"GPE", "NORP", "PERSON", "ORG", "LOC", "FAC", "DATE", "CARDINAL"})
LINKS = frozenset({"dobj", "nsubj", "nsubjpass", "pobj", "compound", "amod", "xcomp", "ccomp", "attr",
                   "agent", "neg", "aux", "advcl", "conj", "dative", "prt"})


def word(token: Token) -> str:
    return token.ent_type if token.ent_type in GENERALISED_ENTITIES else token.lemma


def sentence_features(sentence: Sentence, rule_weights: Mapping[str, float]) -> dict[str, float]:
    """The features of one sentence, ``rule_weights`` being the rules' weight per topic there."""
    tokens = sentence.tokens
    features: dict[str, float] = {}
    words = [word(token) for token in tokens if token.pos not in SKIPPED_POS]
    for first, second in zip(words, words[1:], strict=False):
        features[f"b:{first}_{second}"] = 1.0
    for w in words:
        features[f"w:{w}"] = 1.0
    for index, token in enumerate(tokens):
        if (token.dep in LINKS and token.head != index and 0 <= token.head < len(tokens)
                and token.pos not in SKIPPED_POS):
            head = tokens[token.head].lemma
            features[f"d:{head}>{token.dep}>{word(token)}"] = 1.0
            features[f"p:{head}>{word(token)}"] = 1.0
    for topic, weight in rule_weights.items():
        features[f"r:{topic}"] = weight
    return features
