"""Articles grouped into stories, online: each article joins the live story it is closest to,
or opens a new one.

An article joins a story when it is a near-duplicate of one of its members (MinHash
estimate of the word 5-gram Jaccard at least ``duplicate_jaccard``, found by LSH band
keys), or when its similarity to the story reaches ``threshold``: the cosine of their
term profiles and the share of the article's people and organisations the story
already names, weighted, then damped by the time between the article and the story's nearest edge.
A story is live while its last article is no older than ``quiet_period`` (7 days).

State is a :class:`Story` per story (frozen, JSON-able) in a :class:`StoryStore`, which
finds candidates by exact keys (LSH bands, heavy terms, entities) within a time window,
so Elasticsearch can be one: a ``terms`` query and a ``range`` on ``last_seen``.
``story_id`` is derived from the article that opened the story, and an article the store
already knows keeps its story, so replaying a stream in the same order gives the same ids
and replaying an article changes nothing.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from newsmon.analysis import story_text
from newsmon.analysis.story_text import band_keys, cosine, estimated_jaccard

if TYPE_CHECKING:
    from newsmon.analysis.messages import AnalysedArticle

ENTITY_PREFIX = {"PERSON": "person", "ORG": "org", "GPE": "place", "LOC": "place"}
# Places are kept (for lookup and the index) but not scored: a capital or a country is named
# by most stories about it, and its name is a term of the text profile already.
SCORED_ENTITIES = ("person:", "org:")


@dataclass(frozen=True)
class StoryConfig:
    quiet_period: timedelta = timedelta(days=7)
    duplicate_jaccard: float = 0.5
    # tuned on the tune part of bench/story_corpus.py with the packaged IDF (B-cubed F1 0.887;
    # 0.15 with an IDF learned online, F1 0.848)
    threshold: float = 0.1
    entity_weight: float = 0.3  # the text has the rest
    time_scale: timedelta = timedelta(days=2)  # similarity halves at this distance from the story
    article_terms: int = 30
    story_terms: int = 60
    key_terms: int = 12  # an article's heaviest terms used to look stories up (8: tune F1 0.887, 12: 0.901)
    story_key_terms: int = 24
    story_entities: int = 40
    story_signatures: int = 16  # the opening article's and the latest members'
    candidates: int = 40  # stories compared per article: those sharing the most lookup keys


@dataclass(frozen=True)
class ArticleProfile:
    """What grouping needs of an article; ``terms`` are weighted, heaviest first."""

    article_id: str
    title: str
    source: str
    published_at: datetime
    signature: tuple[int, ...]
    terms: tuple[tuple[str, float], ...]
    entities: frozenset[str] = frozenset()  # "person:Alexander Lukashenko", "place:Minsk", "org:..."
    topics: frozenset[str] = frozenset()  # the names of the article's topics (not used in grouping)

    @property
    def band_keys(self) -> tuple[str, ...]:
        return band_keys(self.signature)

    def lookup_keys(self, config: StoryConfig) -> tuple[str, ...]:
        return tuple(f"t:{term}" for term, _ in self.terms[:config.key_terms]) + tuple(
            f"e:{entity}" for entity in sorted(self.entities))


@dataclass(frozen=True)
class Story:
    story_id: str
    headline: str  # the earliest article's title
    first_seen: datetime
    last_seen: datetime
    article_ids: tuple[str, ...]
    sources: tuple[str, ...]  # sorted, each once
    terms: tuple[tuple[str, float], ...]  # summed member weights, heaviest first
    entities: tuple[tuple[str, int], ...]  # entity and how many members name it, most named first
    signatures: tuple[tuple[int, ...], ...]
    band_keys: frozenset[str] = field(default_factory=frozenset)
    topics: tuple[str, ...] = ()  # the union of its articles' topic names, sorted

    def lookup_keys(self, config: StoryConfig) -> frozenset[str]:
        return frozenset(f"t:{term}" for term, _ in self.terms[:config.story_key_terms]) | frozenset(
            f"e:{entity}" for entity, _ in self.entities)

    def distance(self, moment: datetime) -> timedelta:
        """How far ``moment`` lies outside the story's span (zero inside it)."""
        if moment > self.last_seen:
            return moment - self.last_seen
        return max(self.first_seen - moment, timedelta(0))

    def to_dict(self) -> dict[str, Any]:
        # Field by field: dataclasses.asdict deep-copies every signature value first (a fifth
        # of ClusterStories' time per article went there).
        return {"story_id": self.story_id, "headline": self.headline,
                "first_seen": self.first_seen.isoformat(), "last_seen": self.last_seen.isoformat(),
                "article_ids": list(self.article_ids), "sources": list(self.sources),
                "terms": [list(pair) for pair in self.terms],
                "entities": [list(pair) for pair in self.entities],
                "signatures": [list(sig) for sig in self.signatures],
                "band_keys": sorted(self.band_keys), "topics": list(self.topics)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Story:
        return cls(story_id=data["story_id"], headline=data["headline"],
                   first_seen=datetime.fromisoformat(data["first_seen"]),
                   last_seen=datetime.fromisoformat(data["last_seen"]),
                   article_ids=tuple(data["article_ids"]), sources=tuple(data["sources"]),
                   terms=tuple((t, float(w)) for t, w in data["terms"]),
                   entities=tuple((e, int(n)) for e, n in data["entities"]),
                   signatures=tuple(tuple(int(v) for v in sig) for sig in data["signatures"]),
                   band_keys=frozenset(data["band_keys"]),
                   topics=tuple(data.get("topics", ())))  # absent from stories saved before topics were


class StoryStore(Protocol):
    """Where stories live: in memory for tests and benchmarks, Elasticsearch in the pipeline."""

    def story_of(self, article_id: str) -> Story | None: ...

    def candidates(self, keys: Iterable[str], since: datetime, until: datetime, limit: int) -> list[Story]:
        """Stories whose span meets [since, until] sharing any of ``keys`` (band keys, ``t:``
        terms, ``e:`` entities): every one sharing a band key, then up to ``limit`` of the
        others, most shared keys first (in Elasticsearch: a ``terms`` query's best hits).
        """
        ...

    def save(self, story: Story) -> None: ...


class InMemoryStoryStore:
    def __init__(self, config: StoryConfig | None = None) -> None:
        self.config = config or StoryConfig()
        self.stories: dict[str, Story] = {}
        self.by_article: dict[str, str] = {}
        self.by_key: dict[str, set[str]] = {}
        self._keys: dict[str, frozenset[str]] = {}

    def story_of(self, article_id: str) -> Story | None:
        story_id = self.by_article.get(article_id)
        return self.stories[story_id] if story_id else None

    def candidates(self, keys: Iterable[str], since: datetime, until: datetime, limit: int) -> list[Story]:
        hits: Counter[str] = Counter()
        bands: set[str] = set()
        for key in keys:
            found = self.by_key.get(key, ())
            hits.update(found)
            if not key.startswith(("t:", "e:")):
                bands.update(found)
        ranked = sorted(hits, key=lambda story_id: (story_id not in bands, -hits[story_id], story_id))
        stories = (self.stories[story_id] for story_id in ranked)
        live = [story for story in stories if story.last_seen >= since and story.first_seen <= until]
        return live[:max(limit, sum(story.story_id in bands for story in live))]

    def save(self, story: Story) -> None:
        keys = story.band_keys | story.lookup_keys(self.config)
        for key in self._keys.get(story.story_id, frozenset()) - keys:
            self.by_key[key].discard(story.story_id)
        for key in keys:
            self.by_key.setdefault(key, set()).add(story.story_id)
        self._keys[story.story_id] = keys
        self.stories[story.story_id] = story
        for article_id in story.article_ids:
            self.by_article[article_id] = story.story_id


@dataclass(frozen=True)
class Assignment:
    story: Story
    reason: str  # "new", "duplicate", "follow-up" or "known" (the article was already assigned)
    score: float = 0.0


def story_id_for(article_id: str) -> str:
    """The id of the story an article opens: stable across replays and workers."""
    # 32 hex characters: the length of article ids, which the message schemas expect of both
    return hashlib.sha256(article_id.encode()).hexdigest()[:32]


def profile_of(item: AnalysedArticle, idf: Callable[[str], float], config: StoryConfig | None = None
               ) -> ArticleProfile:
    """The profile of an article spaCy has read: content lemmas of title and lead, its entities."""
    config = config or StoryConfig()
    article = item.article
    title_terms, lead_terms = story_text.lemmas_of(item.sentences, title_end=len(article.title))
    body = article.content or article.summary or ""
    entities = frozenset(f"{ENTITY_PREFIX[entity.type]}:{entity.name}" for entity in item.entities
                         if entity.type in ENTITY_PREFIX)
    return ArticleProfile(article_id=article.article_id, title=article.title, source=article.source_name,
                          published_at=article.published_at,
                          signature=story_text.signature(article.title, body),
                          terms=story_text.weigh(story_text.term_counts(title_terms, lead_terms), idf,
                                                 config.article_terms),
                          entities=entities, topics=frozenset(topic.name for topic in item.topics))


def profile_of_text(article_id: str, title: str, body: str, *, source: str, published_at: datetime,
                    idf: Callable[[str], float], entities: Iterable[str] = (), topics: Iterable[str] = (),
                    config: StoryConfig | None = None) -> ArticleProfile:
    """The profile from plain words, without spaCy (headline-only feeds, benchmarks)."""
    config = config or StoryConfig()
    title_terms = story_text.content_words(story_text.words(title))
    lead_terms = story_text.content_words(story_text.words(body))[:story_text.LEAD_WORDS]
    return ArticleProfile(article_id=article_id, title=title, source=source, published_at=published_at,
                          signature=story_text.signature(title, body),
                          terms=story_text.weigh(story_text.term_counts(title_terms, lead_terms), idf,
                                                 config.article_terms),
                          entities=frozenset(entities), topics=frozenset(topics))


def is_duplicate(profile: ArticleProfile, story: Story, config: StoryConfig) -> bool:
    if not profile.band_keys or not story.band_keys.intersection(profile.band_keys):
        return False
    return any(estimated_jaccard(profile.signature, sig) >= config.duplicate_jaccard
               for sig in story.signatures)


def similarity(profile: ArticleProfile, story: Story, config: StoryConfig) -> float:
    """Text cosine and the overlap of people and organisations, weighted, damped by the time
    outside the story's span; an article naming neither is judged on its text alone.
    """
    text = cosine(dict(profile.terms), dict(story.terms))
    scored = {entity for entity in profile.entities if entity.startswith(SCORED_ENTITIES)}
    if scored:
        known = {entity for entity, _ in story.entities}
        shared = len(scored & known) / len(scored)
        score = (1 - config.entity_weight) * text + config.entity_weight * shared
    else:
        score = text
    return score / (1 + story.distance(profile.published_at) / config.time_scale)


def choose(profile: ArticleProfile, candidates: Sequence[Story], config: StoryConfig
           ) -> tuple[Story | None, str, float]:
    """The live story the article belongs to, why, and the score; (None, "new", best) if none."""
    live = [story for story in candidates if story.distance(profile.published_at) <= config.quiet_period]
    duplicates = [story for story in live if is_duplicate(profile, story, config)]
    if duplicates:
        return min(duplicates, key=lambda s: (s.distance(profile.published_at), s.story_id)), "duplicate", 1.0
    if math.isinf(config.threshold):
        return None, "new", 0.0
    best, best_score = None, 0.0
    for story in live:
        score = similarity(profile, story, config)
        tie = score == best_score and best is not None and story.story_id < best.story_id
        if score > best_score or tie:
            best, best_score = story, score
    if best is not None and best_score >= config.threshold:
        return best, "follow-up", best_score
    return None, "new", best_score


def open_story(profile: ArticleProfile, config: StoryConfig) -> Story:
    return Story(story_id=story_id_for(profile.article_id), headline=profile.title,
                 first_seen=profile.published_at, last_seen=profile.published_at,
                 article_ids=(profile.article_id,), sources=(profile.source,), terms=profile.terms,
                 entities=tuple((entity, 1) for entity in sorted(profile.entities)),
                 signatures=(profile.signature,), band_keys=frozenset(profile.band_keys),
                 topics=tuple(sorted(profile.topics)))


def _top(counter: Counter, size: int) -> tuple:
    return tuple(sorted(counter.items(), key=lambda item: (-item[1], item[0]))[:size])


def add_article(story: Story, profile: ArticleProfile, config: StoryConfig) -> Story:
    """The story with one more article: span, sources, summed terms, entities, signatures, topics."""
    terms: Counter[str] = Counter(dict(story.terms))
    for term, weight in profile.terms:
        terms[term] += weight
    entities: Counter[str] = Counter(dict(story.entities))
    entities.update(profile.entities)
    signatures = story.signatures + (profile.signature,)
    if len(signatures) > config.story_signatures:
        signatures = signatures[:1] + signatures[-(config.story_signatures - 1):]
    earliest = profile.published_at < story.first_seen
    return dataclasses.replace(
        story, headline=profile.title if earliest else story.headline,
        first_seen=min(story.first_seen, profile.published_at),
        last_seen=max(story.last_seen, profile.published_at),
        article_ids=story.article_ids + (profile.article_id,),
        sources=tuple(sorted({*story.sources, profile.source})),
        terms=tuple((t, round(w, 6)) for t, w in _top(terms, config.story_terms)),
        entities=_top(entities, config.story_entities), signatures=signatures,
        band_keys=frozenset().union(*(band_keys(sig) for sig in signatures)),
        topics=tuple(sorted({*story.topics, *profile.topics})))


def lookup_of(profile: ArticleProfile, config: StoryConfig) -> dict[str, Any]:
    """The arguments :func:`assign` gives ``store.candidates`` for this article (a store may
    prepare the answers of many articles at once).
    """
    window = config.quiet_period
    return {"keys": profile.band_keys + profile.lookup_keys(config), "since": profile.published_at - window,
            "until": profile.published_at + window, "limit": config.candidates}


def assign(profile: ArticleProfile, store: StoryStore, config: StoryConfig | None = None) -> Assignment:
    """Put the article in its story (saved in ``store``) and say which and why."""
    config = config or StoryConfig()
    known = store.story_of(profile.article_id)
    if known is not None:
        return Assignment(known, "known")
    candidates = store.candidates(**lookup_of(profile, config))
    story, reason, score = choose(profile, candidates, config)
    story = open_story(profile, config) if story is None else add_article(story, profile, config)
    store.save(story)
    return Assignment(story, reason, round(score, 4) if math.isfinite(score) else 0.0)
