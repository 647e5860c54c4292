"""Topic tagging: which watched topics an article is about, and the sentences that show it.

The rules are data (``seeds/topic_rules.yaml``, versioned; its header documents the
format, ``schemas/topic_rules.schema.json`` checks it), so an analyst adds a topic by
editing that file or by loading another one (:meth:`TopicRules.load`). A pattern is a
trigger word plus context words that must stand in a stated relation to it within one
sentence (a short dependency path, the trigger's own subtree, a governing word, a
dependent of the clause, or anywhere in the sentence), with guards that veto a match
(negation, refusal) or weaken it (appeals by others, speculation). Reading lemmas and
dependencies rather than bare keywords is what keeps "released a statement" and
"sanctions imposed" out.

Pure code over :mod:`newsmon.analysis.text` data: no Beam, no spaCy model.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from newsmon.analysis.config_files import read_yaml
from newsmon.analysis.text import Sentence, Token
from newsmon.errors import ConfigError
from newsmon.schemas import check_config

RULES_FILE = "topic_rules.yaml"
# The structure of a rules file, with the relations a context word may stand in to the
# trigger: schemas/topic_rules.schema.json.
TOKEN_KEYS = ("lemma", "pos", "dep", "ent_type", "head_lemma")
GUARD_KEYS = ("exclude", "hedge")


@dataclass(frozen=True)
class TopicTag:
    """One topic found in an article: its score in (0, 1] and the sentences behind it."""

    name: str
    score: float
    evidence: tuple[str, ...]

    def to_message(self) -> dict[str, Any]:
        return {"name": self.name, "score": self.score, "evidence": list(self.evidence)}

    @classmethod
    def from_message(cls, message: Mapping[str, Any]) -> TopicTag:
        return cls(name=message["name"], score=message["score"], evidence=tuple(message["evidence"]))


@dataclass(frozen=True)
class TokenTest:
    """What a single token must look like; an empty set accepts anything."""

    lemma: frozenset[str] = frozenset()
    pos: frozenset[str] = frozenset()
    dep: frozenset[str] = frozenset()
    ent_type: frozenset[str] = frozenset()
    head_lemma: frozenset[str] = frozenset()  # what the token depends on: "new" of "sanctions"

    def accepts(self, tokens: Sequence[Token], index: int) -> bool:
        """Whether ``tokens[index]`` passes (the sentence is needed for ``head_lemma``)."""
        token = tokens[index]
        return (_lemma_in(token, self.lemma)
                and (not self.pos or token.pos in self.pos)
                and (not self.dep or token.dep in self.dep)
                and (not self.ent_type or token.ent_type in self.ent_type)
                and (not self.head_lemma or (token.head != index and 0 <= token.head < len(tokens)
                                             and _lemma_in(tokens[token.head], self.head_lemma))))


def _lemma_in(token: Token, lemmas: frozenset[str]) -> bool:
    # The lower-cased surface form also counts: headline capitals ("Frees") and unknown
    # words sometimes come back from the model unlemmatised.
    return not lemmas or token.lemma in lemmas or token.text.lower() in lemmas


@dataclass(frozen=True)
class Condition:
    """``count`` separate mentions passing ``test`` where ``where`` (within ``distance``) says."""

    test: TokenTest
    where: str = "sentence"
    distance: int = 1
    count: int = 1


@dataclass(frozen=True)
class Pattern:
    id: str
    weight: float
    trigger: TokenTest
    context: tuple[Condition, ...] = ()
    exclude: tuple[Condition, ...] = ()
    hedge: tuple[Condition, ...] = ()


@dataclass(frozen=True)
class Topic:
    name: str
    description: str
    threshold: float
    patterns: tuple[Pattern, ...]


@dataclass(frozen=True)
class Scoring:
    """How sentence matches become a topic score (defaults live here and only here)."""

    threshold: float = 0.5  # a topic scoring less is not reported
    title_bonus: float = 0.2  # share of the remaining distance to 1 added when the title matches
    hedge_factor: float = 0.5  # weight multiplier for a hedged match (appeals, speculation)
    max_evidence: int = 3  # sentences kept as evidence per topic


@dataclass(frozen=True)
class TopicRules:
    """A validated, versioned rule set; build it with :meth:`load` or :meth:`from_dict`."""

    version: str
    topics: tuple[Topic, ...]
    scoring: Scoring = field(default_factory=Scoring)

    @classmethod
    def load(cls, path: str | Path | None = None) -> TopicRules:
        """Read and check a rules file; the packaged ``seeds/topic_rules.yaml`` by default."""
        document, source = read_yaml(path, packaged=RULES_FILE, what="topic rules")
        return cls.from_dict(document, source=source)

    @classmethod
    def from_dict(cls, data: Any, *, source: str = "topic rules") -> TopicRules:
        """Build from parsed YAML, checked against ``schemas/topic_rules.schema.json``: a
        :class:`ConfigError` names the file, then the path and reason of each problem.
        """
        check_config("topic_rules", data, source=source)
        return _build(data, source)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(topic.name for topic in self.topics)


def tag_topics(sentences: Sequence[Sentence], rules: TopicRules, *,
               title_sentences: int = 1) -> list[TopicTag]:
    """The topics of an article, best first.

    ``sentences`` is the article as :func:`~newsmon.analysis.text.sentences_of` gives
    it, title first; the first ``title_sentences`` of them count as the title. Each
    sentence contributes its best pattern weight; the weights combine as independent
    pieces of evidence (1 - prod(1 - w)), so one firm sentence or several weaker ones pass
    the threshold. A matching title then adds a bonus, which ranks but never on its own
    lifts a topic over the threshold.
    """
    weights = rule_weights(sentences, rules)
    return tags_from_weights(sentences, weights, rules, title_sentences=title_sentences)


@dataclass(frozen=True)
class RuleReading:
    """What the rules find in one sentence: the best pattern weight per topic (topics with
    none left out), and the topics whose best match there was hedged (an appeal, speculation).
    """

    weights: Mapping[str, float]
    hedged: frozenset[str] = frozenset()

    def firm(self, topic: str) -> bool:
        """Whether the topic's rules match here and their best match is not hedged."""
        return topic in self.weights and topic not in self.hedged


def rule_weights(sentences: Sequence[Sentence], rules: TopicRules) -> list[RuleReading]:
    """The rules' reading of each sentence."""
    readings = []
    for sentence in sentences:
        tree = _Tree(sentence)
        found = {topic.name: _sentence_weight(topic, tree, rules.scoring) for topic in rules.topics}
        matched = {name: result for name, result in found.items() if result[0] > 0.0}
        readings.append(RuleReading(weights={name: weight for name, (weight, _) in matched.items()},
                                    hedged=frozenset(name for name, (_, firm) in matched.items()
                                                     if not firm)))
    return readings


def tags_from_weights(sentences: Sequence[Sentence], weights: Sequence[RuleReading],
                      rules: TopicRules, *, title_sentences: int = 1,
                      skip: Iterable[str] = ()) -> list[TopicTag]:
    """:func:`tag_topics` from :func:`rule_weights` already worked out; topics in ``skip`` left out."""
    if title_sentences < 0:
        msg = f"title_sentences must be 0 or more, got {title_sentences}"
        raise ValueError(msg)
    skipped = set(skip)
    tags = [tag for topic in rules.topics if topic.name not in skipped
            and (tag := _tag_topic(topic, sentences, [w.weights.get(topic.name, 0.0) for w in weights],
                                   rules.scoring, title_sentences)) is not None]
    return sorted(tags, key=lambda tag: (-tag.score, tag.name))


def _tag_topic(topic: Topic, sentences: Sequence[Sentence], weights: Sequence[float], scoring: Scoring,
               title_sentences: int) -> TopicTag | None:
    score = 1.0 - math.prod(1.0 - weight for weight in weights)
    if score <= 0.0 or score < topic.threshold:
        return None
    if any(weight > 0.0 for weight in weights[:title_sentences]):
        score += scoring.title_bonus * (1.0 - score)
    matched = (sentence for sentence, weight in zip(sentences, weights, strict=True) if weight > 0.0)
    evidence = evidence_texts(matched, scoring.max_evidence)
    return TopicTag(name=topic.name, score=round(min(score, 1.0), 4), evidence=evidence)


def evidence_texts(sentences: Iterable[Sentence], limit: int) -> tuple[str, ...]:
    """Sentence texts in article order, without repeats (wire copy often repeats its lede)."""
    seen: dict[str, None] = {}
    for sentence in sentences:
        text = " ".join(sentence.text.split())
        if text:
            seen.setdefault(text, None)
        if len(seen) == limit:
            break
    return tuple(seen)


def firm_patterns(sentence: Sentence, rules: TopicRules, topic: str,
                  among: Collection[str] | None = None) -> set[str]:
    """The ids of the patterns of ``topic`` (of those ``among``, when given) that match
    ``sentence`` at their full weight: not vetoed, not hedged.
    """
    if among is not None and not among:
        return set()
    tree = _Tree(sentence)
    patterns = [p for t in rules.topics if t.name == topic for p in t.patterns
                if (among is None or p.id in among) and not p.trigger.lemma.isdisjoint(tree.forms)]
    return {pattern.id for pattern in patterns
            if any(pattern.trigger.accepts(tree.tokens, index)
                   and _match_weight(pattern, tree, index, rules.scoring) >= pattern.weight
                   for index in range(len(tree.tokens)))}


def _sentence_weight(topic: Topic, tree: _Tree, scoring: Scoring) -> tuple[float, bool]:
    """The best weight any pattern of ``topic`` reaches in one sentence (0 if none), and
    whether that best match is firm (not hedged).
    """
    best, firm = 0.0, False
    for pattern in topic.patterns:
        # Skip patterns that cannot beat the best match so far or whose trigger is absent.
        if pattern.weight <= best or pattern.trigger.lemma.isdisjoint(tree.forms):
            continue
        for index in range(len(tree.tokens)):
            if pattern.trigger.accepts(tree.tokens, index):
                weight = _match_weight(pattern, tree, index, scoring)
                if weight > best:
                    best, firm = weight, weight >= pattern.weight
    return best, firm


def _match_weight(pattern: Pattern, tree: _Tree, trigger: int, scoring: Scoring) -> float:
    if not all(tree.satisfies(condition, trigger) for condition in pattern.context):
        return 0.0
    if any(tree.satisfies(condition, trigger) for condition in pattern.exclude):
        return 0.0
    if any(tree.satisfies(condition, trigger) for condition in pattern.hedge):
        return pattern.weight * scoring.hedge_factor
    return pattern.weight


class _Tree:
    """One sentence's dependency tree, with the neighbourhoods the relations name."""

    def __init__(self, sentence: Sentence) -> None:
        self.sentence = sentence
        self.tokens = sentence.tokens
        self.forms = {form for token in self.tokens for form in (token.lemma, token.text.lower())}
        size = len(self.tokens)
        # A head outside the sentence (analysis.py maps it to the token itself) is a root.
        self.heads = [token.head if 0 <= token.head < size else i for i, token in enumerate(self.tokens)]
        self.children: list[list[int]] = [[] for _ in range(size)]
        for i, head in enumerate(self.heads):
            if head != i:
                self.children[head].append(i)

    def satisfies(self, condition: Condition, trigger: int) -> bool:
        found = {i for i in self.related(trigger, condition.where, condition.distance)
                 if condition.test.accepts(self.tokens, i)}
        if condition.count == 1:
            return bool(found)
        # Adjacent matching tokens are one mention: "New Delhi" is one place, not two.
        return sum(1 for i in found if i - 1 not in found) >= condition.count

    def related(self, trigger: int, where: str, distance: int) -> Iterable[int]:
        if where == "near":
            return self._near(trigger, distance)
        if where == "below":
            return self._descendants(trigger, distance)
        if where == "head":
            return self._ancestors(trigger, distance)
        if where == "clause":
            return self._clause(trigger, distance)
        return (i for i in range(len(self.tokens)) if i != trigger)

    def _ancestors(self, index: int, levels: int) -> list[int]:
        found = []
        while len(found) < levels and self.heads[index] != index:
            index = self.heads[index]
            found.append(index)
        return found

    def _descendants(self, index: int, levels: int) -> list[int]:
        """The trigger's own subtree to ``levels`` deep: what it governs, not its neighbours'."""
        found, layer = [], [index]
        for _ in range(levels):
            layer = [child for parent in layer for child in self.children[parent]]
            found.extend(layer)
        return found

    def _clause(self, index: int, levels: int) -> list[int]:
        """Dependents of the trigger and of its governors: where "not", "could", "if" attach."""
        governors = [index, *self._ancestors(index, levels)]
        return [child for governor in governors for child in self.children[governor]
                if child not in governors]

    def _near(self, index: int, distance: int) -> list[int]:
        """Tokens at most ``distance`` dependency arcs away, in either direction."""
        seen = {index: 0}
        queue = deque([index])
        while queue:
            current = queue.popleft()
            if seen[current] == distance:
                continue
            links = list(self.children[current])
            if self.heads[current] != current:
                links.append(self.heads[current])
            for nxt in links:
                if nxt not in seen:
                    seen[nxt] = seen[current] + 1
                    queue.append(nxt)
        return [i for i in seen if i != index]


def _build(data: dict[str, Any], source: str) -> TopicRules:
    """Rules from a schema-valid document; defaults fill what the file leaves out."""
    scoring = Scoring(**(data.get("scoring") or {}))
    guards = data.get("guards") or {}
    shared = {key: _conditions(guards.get(key)) for key in GUARD_KEYS}
    topics = tuple(_topic(name, spec, shared, scoring, source) for name, spec in data["topics"].items())
    return TopicRules(version=data["version"].strip(), topics=topics, scoring=scoring)


def _topic(name: str, data: dict[str, Any], shared: Mapping[str, tuple[Condition, ...]], scoring: Scoring,
           source: str) -> Topic:
    guards = {key: shared[key] + _conditions(data.get(key)) for key in GUARD_KEYS}
    patterns = tuple(_pattern(spec, guards) for spec in data["patterns"])
    ids = [pattern.id for pattern in patterns]
    if duplicates := sorted({i for i in ids if ids.count(i) > 1}):
        msg = f"{source}: topic {name!r}: pattern ids must be unique, repeated: {', '.join(duplicates)}"
        raise ConfigError(msg)
    return Topic(name=name, description=" ".join(data.get("description", "").split()),
                 threshold=float(data.get("threshold", scoring.threshold)), patterns=patterns)


def _pattern(data: dict[str, Any], guards: Mapping[str, tuple[Condition, ...]]) -> Pattern:
    return Pattern(id=data["id"].strip(), weight=float(data["weight"]), trigger=_token_test(data["trigger"]),
                   context=_conditions(data.get("context")),
                   exclude=guards["exclude"] + _conditions(data.get("exclude")),
                   hedge=guards["hedge"] + _conditions(data.get("hedge")))


def _conditions(data: list[dict[str, Any]] | None) -> tuple[Condition, ...]:
    return tuple(Condition(test=_token_test(item), where=item.get("where", "sentence"),
                           distance=item.get("distance", 1), count=item.get("count", 1))
                 for item in data or ())


def _token_test(data: dict[str, Any]) -> TokenTest:
    return TokenTest(**{key: _words(data[key], lower=key == "lemma") for key in TOKEN_KEYS if key in data})


def _words(data: list[Any], *, lower: bool) -> frozenset[str]:
    """A list of words; nested lists are flattened so YAML anchors can be combined."""
    flat = [word for item in data for word in (item if isinstance(item, list) else [item])]
    return frozenset(word.strip().lower() if lower else word.strip() for word in flat)
