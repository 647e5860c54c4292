"""From the bytes of a feed to schema-valid article messages, with feedparser.

feedparser reads RSS 0.9x/2.0, RSS 1.0 (RDF) and Atom 0.3/1.0, sniffs encodings (HTTP
header, XML declaration, BOM, and falls back when they lie) and recovers what it can from
malformed XML. Its expat parser refuses entity-expansion bombs and never loads external
entities. newsmon keeps every item it can identify; an item that cannot become a valid
message is rejected with a reason, never sent half-formed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

import feedparser

from newsmon.connectors.article import language_tag, normalize_entry
from newsmon.connectors.feed_list import FeedSpec
from newsmon.schemas import problems

log = logging.getLogger(__name__)
MAX_ITEMS = 5000  # a feed with more entries is a dump, not a feed: the newest are kept


class NotAFeedError(ValueError):
    """The document is not a feed (an HTML error page, an empty body, unreadable XML)."""


@dataclass
class ParsedFeed:
    messages: list[dict] = field(default_factory=list)  # valid, each article once
    rejected: list[str] = field(default_factory=list)  # why each rejected item was rejected
    items: int = 0
    warning: str | None = None  # the feed was read, but not cleanly


def parse_feed(body: bytes, *, feed: FeedSpec, url: str, content_type: str | None,
               fetched_at: datetime) -> ParsedFeed:
    """Parse one downloaded feed; NotAFeedError when nothing in it is a feed."""
    if not body.strip():
        msg = "empty response"
        raise NotAFeedError(msg)
    headers = {"content-location": url}
    if content_type:
        headers["content-type"] = content_type
    # HTML is stripped to plain text later, so feedparser need not sanitize or rewrite it.
    parsed = feedparser.parse(body, response_headers=headers, sanitize_html=False,
                              resolve_relative_uris=False)
    problem = parsed.get("bozo_exception")
    if not parsed.version and not parsed.entries:
        reason = f": {str(problem)[:200]}" if problem else ""
        msg = f"not an RSS, Atom or RDF feed ({_describe(content_type, body)}){reason}"
        raise NotAFeedError(msg)
    result = ParsedFeed(items=len(parsed.entries))
    if problem:
        result.warning = f"read despite errors: {type(problem).__name__}: {str(problem)[:200]}"
    language = feed.language or language_tag(parsed.feed.get("language"))
    seen: set[str] = set()
    for entry in parsed.entries[:MAX_ITEMS]:
        try:
            article = normalize_entry(entry, feed_url=feed.url, source_name=feed.name,
                                      fetched_at=fetched_at, feed_language=language)
        except ValueError as exc:
            result.rejected.append(str(exc))
            continue
        if article.article_id in seen:
            continue  # the same GUID or link twice in one feed
        seen.add(article.article_id)
        message = article.to_message()
        found = problems("article", message)
        if found:
            result.rejected.append(f"item {article.url or article.guid}: " + "; ".join(found[:3]))
            continue
        result.messages.append(message)
    if len(parsed.entries) > MAX_ITEMS:
        result.warning = f"{len(parsed.entries)} items, only the first {MAX_ITEMS} were read"
    for reason in result.rejected:
        log.warning("feed %s: rejected an item: %s", feed.url, reason)
    return result


def _describe(content_type: str | None, body: bytes) -> str:
    start = body.lstrip()[:100].decode("utf-8", "replace").lower()
    if "<html" in start or "<!doctype html" in start:
        return "an HTML page"
    return f"Content-Type {content_type or 'not given'}"
