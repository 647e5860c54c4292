"""What the pipeline's steps make of the seed article, for tests of what comes after them
(indexing, alerts, search, Kibana): documents produced by the pipeline's own code, not
written by hand.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime
from functools import cache
from importlib import resources

from newsmon.analysis.alerts import alerts_for
from newsmon.analysis.entities import extract_entities
from newsmon.analysis.gazetteer import Gazetteer
from newsmon.analysis.messages import AnalysedArticle
from newsmon.analysis.name_matcher import WatchMatcher
from newsmon.analysis.nlp import load_model
from newsmon.analysis.text import article_text, sentences_of
from newsmon.analysis.topics import TopicRules, tag_topics
from newsmon.analysis.watch_entries import load_watchlist_file
from tests.test_pipeline_e2e import SEED_MESSAGE
from tests.test_pipeline_steps import record

EXAMPLE_WATCHLIST = resources.files("newsmon.seeds") / "watchlist.example.yaml"


@cache
def analysed(message: str = json.dumps(SEED_MESSAGE)) -> AnalysedArticle:
    """An article message (JSON) as the steps leave it before WriteAlerts, with the alerts
    the example watch list raises.
    """
    article = json.loads(message)
    text = article_text(article)
    doc = load_model()(text)
    sentences = sentences_of(doc)
    tags = tag_topics(sentences, TopicRules.load())
    item = AnalysedArticle(
        record=record(message.encode()), article=article, text=text, sentences=sentences,
        entities=tuple(extract_entities(doc, Gazetteer.load())),
        topics=tuple({"name": t.name, "score": t.score, "evidence": list(t.evidence)} for t in tags))
    topics = [t.name for t in tags]
    mentions = WatchMatcher(load_watchlist_file(EXAMPLE_WATCHLIST)).mentions(
        text, sentences, item.entities, topics=topics, source=article["source_name"],
        language=article["language"])
    raised = datetime(2026, 11, 25, 12, 0, 5, tzinfo=UTC)
    return dataclasses.replace(item, alerts=tuple(alerts_for(article, topics, mentions, alert_time=raised)))
