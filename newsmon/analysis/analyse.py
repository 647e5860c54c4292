"""The analysis of an article, step by step: spaCy's reading (entities and sentences), the
topics, the watched people it names. The pipeline runs each step in its own PTransform
(spaCy in batches, on any worker); :func:`analyse` runs them all in this process, for
tests, benchmarks and anything else that wants what the pipeline would make of an article.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from newsmon import __version__
from newsmon.analysis.alerts import alerts_for
from newsmon.analysis.entities import Entity, extract_entities
from newsmon.analysis.gazetteer import Gazetteer
from newsmon.analysis.messages import AnalysedArticle
from newsmon.analysis.name_matcher import WatchMatcher
from newsmon.analysis.nlp import load_model, model_id
from newsmon.analysis.text import Sentence, article_text, sentences_of
from newsmon.analysis.topic_tagger import TopicTagger
from newsmon.analysis.topics import TopicTag

MAX_CHARACTERS = 100_000  # beyond this an "article" is a dump; its start is what matters
UNUSED_COMPONENTS: tuple[str, ...] = ()  # every component of en_core_web_sm is used (senter is off)

Reading = tuple[tuple[Entity, ...], tuple[Sentence, ...]]


class Analyser:
    """spaCy and the gazetteer, in this process: texts in, entities and sentences out."""

    def __init__(self, gazetteer: Path | None = None) -> None:
        self.nlp = load_model(disable=UNUSED_COMPONENTS)
        self.gazetteer = Gazetteer.load(gazetteer)
        self.provenance = {"model": model_id(self.nlp), "gazetteer": str(self.gazetteer.version),
                           "newsmon": __version__}

    def read(self, texts: list[str]) -> list[Reading]:
        return [(tuple(extract_entities(doc, self.gazetteer)), sentences_of(doc))
                for doc in self.nlp.pipe(texts, batch_size=max(1, len(texts)))]


def text_of(item: AnalysedArticle) -> str:
    """What spaCy reads of an article."""
    return article_text(item.article)[:MAX_CHARACTERS]


def with_reading(item: AnalysedArticle, text: str, reading: Reading,
                 provenance: dict[str, str]) -> AnalysedArticle:
    entities, sentences = reading
    return dataclasses.replace(item, text=text, entities=entities, sentences=sentences,
                               provenance=item.provenance | provenance)


def with_topics(item: AnalysedArticle, tagger: TopicTagger) -> AnalysedArticle:
    return with_tags(item, tagger.tag(item.sentences), tagger.provenance)


def with_tags(item: AnalysedArticle, tags: Sequence[TopicTag], provenance: dict[str, str]) -> AnalysedArticle:
    return dataclasses.replace(item, topics=tuple(tags), provenance=item.provenance | provenance)


def with_alerts(item: AnalysedArticle, matcher: WatchMatcher, *, alert_time: datetime) -> AnalysedArticle:
    """The alerts of the watched people the article names (the watch entries' filters applied)."""
    topics = [topic.name for topic in item.topics]
    article = item.article
    mentions = matcher.mentions(item.text, item.sentences, item.entities, topics=topics,
                                source=article.source_name, language=article.language)
    alerts = alerts_for(article, topics, mentions, alert_time=alert_time,
                        story_id=item.story_id) if mentions else []
    return dataclasses.replace(item, alerts=tuple(alerts))


def analyse(item: AnalysedArticle, analyser: Analyser, tagger: TopicTagger, matcher: WatchMatcher, *,
            alert_time: datetime) -> AnalysedArticle:
    """Every step the pipeline runs on an article before indexing it, in this process."""
    text = text_of(item)
    [reading] = analyser.read([text])
    item = with_reading(item, text, reading, analyser.provenance)
    return with_alerts(with_topics(item, tagger), matcher, alert_time=alert_time)
