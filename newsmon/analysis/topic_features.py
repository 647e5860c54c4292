"""What the learned topic tagger sees of a sentence: words, who did what to whom, and the rules.

Features come from spaCy's reading of the article (lemmas, parts of speech, dependencies,
entity types), which the pipeline has already made, so they cost no model run:

- ``t:`` the words as written, lower-cased, and ``tb:`` pairs of neighbouring ones
  ("held talks", "paid a"): the tense and idiom that lemmas lose;
- ``w:`` content lemmas, and ``b:`` pairs of neighbouring ones ("lift sanction");
- ``d:`` a word with the word it depends on and how ("free>dobj>prisoner",
  "visit>dobj>GPE"), and ``p:`` the same without the relation;
- ``g:`` the same through a preposition ("call_for>release", "talk_with>PERSON");
- ``v:`` a verb with the modal or negation that governs it ("may_meet", "not_lift"), and
  ``m:`` that the sentence hedges at all: what may happen has not;
- ``r:<topic>`` the weight the topic rules give the sentence (``seeds/topic_rules.yaml``),
  or ``rh:<topic>`` when their best match there is hedged (an appeal, speculation): the
  rules' vetoes and hedges reach the model through them.

In the lemma and dependency features, names are replaced by their entity type (``GPE``,
``PERSON``...): "visited Beijing" and "visited Hanoi" are the same move, and a model
trained on 2004 news must not learn that one country's name means a topic.
"""

from __future__ import annotations

from newsmon.analysis.text import Sentence, Token
from newsmon.analysis.topics import RuleReading

SKIPPED_POS = frozenset({"PUNCT", "DET", "CCONJ", "SPACE", "NUM", "SYM", "X"})
GENERALISED_ENTITIES = frozenset({"GPE", "NORP", "PERSON", "ORG", "LOC", "FAC", "DATE", "CARDINAL"})
MODALS = frozenset({"may", "might", "could", "would", "should", "can", "must", "not", "never", "no"})
LINKS = frozenset({"dobj", "nsubj", "nsubjpass", "pobj", "compound", "amod", "xcomp", "ccomp", "attr",
                   "agent", "neg", "aux", "advcl", "conj", "dative", "prt"})


def word(token: Token) -> str:
    return token.ent_type if token.ent_type in GENERALISED_ENTITIES else token.lemma


def sentence_features(sentence: Sentence, rules: RuleReading) -> dict[str, float]:
    """The features of one sentence, ``rules`` being what the topic rules found in it."""
    tokens = sentence.tokens
    features: dict[str, float] = {}
    written = [token.text.lower() for token in tokens if token.pos not in ("PUNCT", "SPACE")]
    for first, second in zip(written, written[1:], strict=False):
        features[f"tb:{first}_{second}"] = 1.0
    for w in written:
        features[f"t:{w}"] = 1.0
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
            grand = tokens[token.head].head
            if tokens[token.head].pos == "ADP" and grand != token.head and 0 <= grand < len(tokens):
                # through a preposition: "called for release", "talks with PERSON"
                features[f"g:{tokens[grand].lemma}_{head}>{word(token)}"] = 1.0
    for token in tokens:
        if token.dep in ("aux", "neg") and token.lemma in MODALS and 0 <= token.head < len(tokens):
            features[f"v:{token.lemma}_{tokens[token.head].lemma}"] = 1.0
            features[f"m:{token.lemma}"] = 1.0
    for topic, weight in rules.weights.items():
        features[f"{'rh' if topic in rules.hedged else 'r'}:{topic}"] = weight
    return features
