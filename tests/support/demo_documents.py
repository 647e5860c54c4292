"""The demo stories as the pipeline indexes them: the demo feeds (``newsmon.demo``) read by
the poller's own parser, each article once, analysed by the pipeline's steps and made into
its Elasticsearch document by ``article_document``. Never documents written by hand.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from functools import cache

from newsmon.connectors.elasticsearch import setup_index, write_documents
from newsmon.connectors.feed_list import FeedSpec
from newsmon.connectors.feed_parse import parse_feed
from newsmon.demo import demo_feeds
from newsmon.pipelines.index_articles import article_document
from tests.support.pipeline import analysed

SEED_TITLE = "Belarus frees 52 prisoners after Trump appeal; US eases sanctions on Belavia"
FETCHED = datetime(2025, 9, 15, 6, 0, tzinfo=UTC)


@cache
def demo_messages() -> tuple[dict, ...]:
    """The article messages of the demo feeds, each article once (the syndicated one too)."""
    messages: dict[str, dict] = {}
    for path, (content_type, body) in sorted(demo_feeds().items()):
        url = f"http://127.0.0.1:8000{path}"
        feed = FeedSpec(url=url, name="Baltic Wire" if "baltic" in path else "Europe Desk")
        for message in parse_feed(body, feed=feed, url=url, content_type=content_type,
                                  fetched_at=FETCHED).messages:
            messages.setdefault(message["article_id"], message)
    return tuple(messages[key] for key in sorted(messages))


@cache
def demo_documents() -> tuple[tuple[str, dict], ...]:
    """``(article_id, document)`` of each demo story, as IndexArticles writes them."""
    return tuple((message["article_id"], article_document(analysed(json.dumps(message))))
                 for message in demo_messages())


def index_demo(es, alias: str, documents: tuple[tuple[str, dict], ...] | None = None) -> None:
    """The demo stories (or ``documents``) written under ``alias`` and searchable."""
    setup_index(es, "news-articles", alias)
    refused = write_documents(es, alias, list(documents or demo_documents()))
    assert refused == [], refused
    es.indices.refresh(index=alias)
