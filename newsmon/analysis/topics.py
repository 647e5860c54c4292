"""Topic tagging: which watched topics an article is about, and the sentences that show it.

The rules are data (``seeds/topic_rules.yaml``, versioned; its header documents the
format), so an analyst adds a topic by editing that file. A pattern is a trigger word plus
context words that must stand in a stated relation to it within one sentence (a short
dependency path, the trigger's own subtree, a governing word, a dependent of the clause,
or anywhere in the sentence), with guards that veto a match (negation, refusal) or weaken it (appeals by
others, speculation). Reading lemmas and dependencies rather than bare keywords is what
keeps "released a statement" and "sanctions imposed" out.

Pure code over :mod:`newsmon.analysis.text` data: no Beam, no spaCy model.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, NoReturn

import yaml

from newsmon.analysis.text import Sentence, Token
from newsmon.errors import ConfigError

RULES_PACKAGE = "newsmon.seeds"
RULES_FILE = "topic_rules.yaml"

# Where a context word may stand relative to the trigger (see the rules file's header).
RELATIONS = ("near", "below", "head", "clause", "sentence")
MAX_DISTANCE = 6
TOKEN_KEYS = ("lemma", "pos", "dep", "ent_type", "head_lemma")
CONDITION_KEYS = (*TOKEN_KEYS, "where", "distance", "count")
GUARD_KEYS = ("exclude", "hedge")
PATTERN_KEYS = ("id", "weight", "trigger", "context", *GUARD_KEYS)
TOPIC_KEYS = ("description", "threshold", "patterns", *GUARD_KEYS)
SCORING_KEYS = ("threshold", "title_bonus", "hedge_factor", "max_evidence")
TOP_KEYS = ("version", "scoring", "guards", "words", "topics")


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
    def load(cls, path: Path | None = None) -> TopicRules:
        """Read and check a rules file; the packaged ``seeds/topic_rules.yaml`` by default."""
        if path is None:
            resource = resources.files(RULES_PACKAGE) / RULES_FILE
            return cls.from_yaml(resource.read_text(encoding="utf-8"), source=f"{RULES_PACKAGE}/{RULES_FILE}")
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            msg = f"cannot read topic rules {path}: {exc.strerror or exc}"
            raise ConfigError(msg) from exc
        return cls.from_yaml(text, source=str(path))

    @classmethod
    def from_yaml(cls, text: str, *, source: str = "topic rules") -> TopicRules:
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            msg = f"{source}: not valid YAML: {exc}"
            raise ConfigError(msg) from exc
        return cls.from_dict(data, source=source)

    @classmethod
    def from_dict(cls, data: Any, *, source: str = "topic rules") -> TopicRules:
        """Build from parsed YAML, failing with a message that names the topic and pattern."""
        return _RuleReader(source).rules(data)

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
    if title_sentences < 0:
        msg = f"title_sentences must be 0 or more, got {title_sentences}"
        raise ValueError(msg)
    trees = [_Tree(sentence) for sentence in sentences]
    tags = [tag for topic in rules.topics
            if (tag := _tag_topic(topic, trees, rules.scoring, title_sentences)) is not None]
    return sorted(tags, key=lambda tag: (-tag.score, tag.name))


def _tag_topic(topic: Topic, trees: Sequence[_Tree], scoring: Scoring,
               title_sentences: int) -> TopicTag | None:
    weights = [_sentence_weight(topic, tree, scoring) for tree in trees]
    score = 1.0 - math.prod(1.0 - weight for weight in weights)
    if score <= 0.0 or score < topic.threshold:
        return None
    if any(weight > 0.0 for weight in weights[:title_sentences]):
        score += scoring.title_bonus * (1.0 - score)
    evidence = _evidence((tree.sentence for tree, weight in zip(trees, weights, strict=True) if weight > 0.0),
                         scoring.max_evidence)
    return TopicTag(name=topic.name, score=round(min(score, 1.0), 4), evidence=evidence)


def _evidence(sentences: Iterable[Sentence], limit: int) -> tuple[str, ...]:
    """Sentence texts in article order, without repeats (wire copy often repeats its lede)."""
    seen: dict[str, None] = {}
    for sentence in sentences:
        text = " ".join(sentence.text.split())
        if text:
            seen.setdefault(text, None)
        if len(seen) == limit:
            break
    return tuple(seen)


def _sentence_weight(topic: Topic, tree: _Tree, scoring: Scoring) -> float:
    """The best weight any pattern of ``topic`` reaches in one sentence (0 if none)."""
    best = 0.0
    for pattern in topic.patterns:
        # Skip patterns that cannot beat the best match so far or whose trigger is absent.
        if pattern.weight <= best or pattern.trigger.lemma.isdisjoint(tree.forms):
            continue
        for index in range(len(tree.tokens)):
            if pattern.trigger.accepts(tree.tokens, index):
                best = max(best, _match_weight(pattern, tree, index, scoring))
    return best


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


class _RuleReader:
    """Turns parsed YAML into rules, naming the offending topic and pattern on any error."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, where: str, problem: str) -> NoReturn:
        msg = f"{self.source}: {where}: {problem}" if where else f"{self.source}: {problem}"
        raise ConfigError(msg)

    def rules(self, data: Any) -> TopicRules:
        self.mapping(data, "", TOP_KEYS)
        version = data.get("version")
        if not isinstance(version, str) or not version.strip():
            # A bare 2026.10 would be read as the number 2026.1: insist on the quotes.
            self.fail("", f'needs a top-level version string in quotes, e.g. version: "2026.11.1", '
                          f"got {version!r}")
        scoring = self.scoring(data.get("scoring") or {})
        guards = self.mapping(data.get("guards") or {}, "guards", GUARD_KEYS)
        shared = {key: self.conditions(guards.get(key), f"guards.{key}") for key in GUARD_KEYS}
        self.mapping(data.get("words") or {}, "words", None)
        topics = self.mapping(data.get("topics"), "topics", None)
        if not topics:
            self.fail("topics", "no topics defined")
        built = tuple(self.topic(str(name), spec, shared, scoring) for name, spec in topics.items())
        return TopicRules(version=version.strip(), topics=built, scoring=scoring)

    def scoring(self, data: Any) -> Scoring:
        data = self.mapping(data, "scoring", SCORING_KEYS)
        defaults = Scoring()
        values = {key: data.get(key, getattr(defaults, key)) for key in SCORING_KEYS}
        for key in ("threshold", "hedge_factor"):
            self.fraction(values[key], f"scoring.{key}", allow_zero=False)
        self.fraction(values["title_bonus"], "scoring.title_bonus", allow_zero=True)
        limit = values["max_evidence"]
        if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
            self.fail("scoring.max_evidence", f"must be a whole number of at least 1, got {limit!r}")
        return Scoring(**values)

    def topic(self, name: str, data: Any, shared: Mapping[str, tuple[Condition, ...]],
              scoring: Scoring) -> Topic:
        where = f"topic {name!r}"
        if not name.isidentifier():
            self.fail(where, "a topic name must be a single word of letters, digits and underscores")
        data = self.mapping(data, where, TOPIC_KEYS)
        threshold = data.get("threshold", scoring.threshold)
        self.fraction(threshold, f"{where}: threshold", allow_zero=False)
        guards = {key: shared[key] + self.conditions(data.get(key), f"{where}: {key}") for key in GUARD_KEYS}
        specs = data.get("patterns")
        if not isinstance(specs, list) or not specs:
            self.fail(where, "needs a non-empty list of patterns")
        patterns = tuple(self.pattern(spec, f"{where}, pattern {i + 1}", guards)
                         for i, spec in enumerate(specs))
        ids = [pattern.id for pattern in patterns]
        if duplicates := sorted({i for i in ids if ids.count(i) > 1}):
            self.fail(where, f"pattern ids must be unique, repeated: {', '.join(duplicates)}")
        description = data.get("description", "")
        return Topic(name=name, description=" ".join(str(description).split()), threshold=float(threshold),
                     patterns=patterns)

    def pattern(self, data: Any, where: str, guards: Mapping[str, tuple[Condition, ...]]) -> Pattern:
        pattern_id = data.get("id") if isinstance(data, dict) else None
        if isinstance(pattern_id, str) and pattern_id.strip():
            where = f"{where.rsplit(', pattern', 1)[0]}, pattern {pattern_id.strip()!r}"
        data = self.mapping(data, where, PATTERN_KEYS)
        if not isinstance(pattern_id, str) or not pattern_id.strip():
            self.fail(where, "needs an id (a short name used in error messages and reviews)")
        weight = data.get("weight")
        self.fraction(weight, f"{where}: weight", allow_zero=False)
        trigger = self.token_test(data.get("trigger"), f"{where}: trigger", TOKEN_KEYS)
        if not trigger.lemma:
            self.fail(f"{where}: trigger", "needs a lemma list (the words that start a match)")
        return Pattern(id=pattern_id.strip(), weight=float(weight), trigger=trigger,
                       context=self.conditions(data.get("context"), f"{where}: context"),
                       exclude=guards["exclude"] + self.conditions(data.get("exclude"), f"{where}: exclude"),
                       hedge=guards["hedge"] + self.conditions(data.get("hedge"), f"{where}: hedge"))

    def conditions(self, data: Any, where: str) -> tuple[Condition, ...]:
        if data is None:
            return ()
        if not isinstance(data, list):
            self.fail(where, f"must be a list of conditions, got {type(data).__name__}")
        return tuple(self.condition(item, f"{where}[{i}]") for i, item in enumerate(data))

    def condition(self, data: Any, where: str) -> Condition:
        test = self.token_test(data, where, CONDITION_KEYS)
        if test == TokenTest():
            self.fail(where, f"must test at least one of {', '.join(TOKEN_KEYS)}")
        relation = data.get("where", "sentence")
        if relation not in RELATIONS:
            self.fail(where, f"where must be one of {', '.join(RELATIONS)}, got {relation!r}")
        distance = data.get("distance", 1)
        if (not isinstance(distance, int) or isinstance(distance, bool)
                or not 1 <= distance <= MAX_DISTANCE):
            self.fail(where, f"distance must be a whole number from 1 to {MAX_DISTANCE}, "
                             f"got {distance!r}")
        count = data.get("count", 1)
        if not isinstance(count, int) or isinstance(count, bool) or count < 1:
            self.fail(where, f"count must be a whole number of at least 1, got {count!r}")
        return Condition(test=test, where=relation, distance=distance, count=count)

    def token_test(self, data: Any, where: str, allowed: Sequence[str]) -> TokenTest:
        data = self.mapping(data, where, allowed)
        values = {key: self.words(data[key], f"{where}.{key}", lower=key == "lemma")
                  for key in TOKEN_KEYS if key in data}
        return TokenTest(**values)

    def words(self, data: Any, where: str, *, lower: bool) -> frozenset[str]:
        """A list of words; nested lists are flattened so YAML anchors can be combined."""
        if not isinstance(data, list):
            self.fail(where, f"must be a list, got {type(data).__name__} {data!r}")
        flat: list[Any] = []
        for item in data:
            flat.extend(item if isinstance(item, list) else [item])
        if not flat or not all(isinstance(word, str) and word.strip() for word in flat):
            self.fail(where, f"must be a non-empty list of words, got {data!r}")
        return frozenset(word.strip().lower() if lower else word.strip() for word in flat)

    def mapping(self, data: Any, where: str, allowed: Sequence[str] | None) -> dict[str, Any]:
        if not isinstance(data, dict):
            self.fail(where, f"must be a mapping, got {type(data).__name__}")
        if allowed is not None and (unknown := sorted(str(key) for key in data if key not in allowed)):
            self.fail(where, f"unknown key(s) {', '.join(unknown)}; allowed: {', '.join(allowed)}")
        return data

    def fraction(self, value: Any, where: str, *, allow_zero: bool) -> None:
        number = isinstance(value, int | float) and not isinstance(value, bool)
        if not number or not ((value >= 0 if allow_zero else value > 0) and value <= 1):
            interval = "[0, 1]" if allow_zero else "(0, 1]"
            self.fail(where, f"must be a number in {interval}, got {value!r}")
