"""Articles for the pipeline's tests and benchmarks, what the pipeline's own code makes of
them (never documents written by hand), and helpers to feed and watch a running pipeline.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from functools import cache
from importlib import resources

import pytest

from newsmon.analysis.analyse import Analyser, analyse
from newsmon.analysis.messages import AnalysedArticle, Article, KafkaRecord
from newsmon.analysis.name_matcher import WatchMatcher
from newsmon.analysis.topic_tagger import TopicTagger
from newsmon.analysis.watch_entries import load_watchlist_file
from newsmon.connectors.article import article_id
from newsmon.connectors.kafka import make_producer

SEEDS = resources.files("newsmon.seeds")
SEED = (SEEDS / "000_4d60d75d12f4f40c.txt").read_text(encoding="utf-8")
EXAMPLE_WATCHLIST = SEEDS / "watchlist.example.yaml"
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
WAIT = 240  # seconds: Prism and the spaCy model start within this on a loaded 2-core machine


def message(url: str, title: str, content: str) -> dict:
    """An article message as the poller sends it."""
    return Article(article_id=article_id(url, feed_url="", guid=None), url=url, guid=None, title=title,
                   summary=None, content=content, source_name="Example Wire",
                   feed_url="https://wire.example.com/rss", published_at=NOW, published_at_estimated=False,
                   fetched_at=NOW, language="en").to_message()


SEED_MESSAGE = message("https://wire.example.com/belarus-frees-52",
                       "Belarus frees 52 prisoners after Trump appeal", SEED)


def record(value: bytes, offset: int = 0, key: bytes | None = b"k") -> KafkaRecord:
    return KafkaRecord("news.articles", 0, offset, key, value, 1_700_000_000_000)


def parsed(message: dict, offset: int = 0) -> AnalysedArticle:
    """A message as ParseArticles leaves it."""
    return AnalysedArticle(record=record(json.dumps(message).encode(), offset=offset),
                           article=Article.from_message(message))


@cache
def analyser() -> Analyser:
    return Analyser()


@cache
def analysed(message_json: str = json.dumps(SEED_MESSAGE)) -> AnalysedArticle:
    """An article message (JSON) as the steps leave it before WriteAlerts, with the alerts
    the example watch list raises.
    """
    matcher = WatchMatcher(load_watchlist_file(EXAMPLE_WATCHLIST))
    return analyse(parsed(json.loads(message_json)), analyser(), TopicTagger.load(), matcher,
                   alert_time=datetime(2026, 11, 25, 12, 0, 5, tzinfo=UTC))


def produce(settings, *values: bytes | dict) -> None:
    """Send messages to the articles topic (a dict is keyed by its article_id), waiting for each ack."""
    producer = make_producer(settings)
    for value in values:
        data = json.dumps(value).encode() if isinstance(value, dict) else value
        key = value["article_id"].encode() if isinstance(value, dict) else None
        producer.send(settings.topic_articles, key=key, value=data).get(30)
    producer.close()


def wait_for(check, what: str, timeout: float = WAIT, *, fail: bool = True):
    """``check()``'s first truthy answer, asked every second; after ``timeout``, fails the test
    (or, with ``fail=False``, returns the last answer).
    """
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found or time.monotonic() >= deadline:
            break
        time.sleep(1)
    if not found and fail:
        pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}")
    return found


def search(es, settings, query: dict) -> list[dict]:
    """Hits in the articles alias of ``settings`` (none while it does not exist)."""
    if not es.indices.exists_alias(name=settings.es_index_articles):
        return []
    es.indices.refresh(index=settings.es_index_articles)
    return es.search(index=settings.es_index_articles, query=query, size=50)["hits"]["hits"]
