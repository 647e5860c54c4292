"""Turning one parsed feed item into an article message (``schemas/article.schema.json``).

Pure functions, no I/O: canonical URLs and the stable ``article_id`` derived from them,
plain text from the HTML publishers put in titles and summaries, and UTC publication
times with a flag when the feed gave none that can be trusted.
"""

from __future__ import annotations

import calendar
import hashlib
import html
import json
import re
import time
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from newsmon.analysis.messages import Article

# Query parameters that identify a campaign or a click, never the story.
TRACKING_PARAMETERS = frozenset({
    "fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "twclid", "igshid",
    "mc_cid", "mc_eid", "_hsenc", "_hsmi", "mkt_tok", "oly_anon_id", "oly_enc_id", "rb_clickid",
    "s_cid", "vero_id", "vero_conv", "wt.mc_id", "cmpid", "ocid", "xtor", "at_medium",
    "at_campaign", "at_creation", "at_format", "at_link", "sr_share", "smid", "ito", "ns_mchannel",
    "ns_source", "ns_campaign", "ns_linkname", "ns_fee", "taid", "guccounter", "spm", "feedtype",
})
TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "hmb_")
DEFAULT_PORTS = {"http": 80, "https": 443}
FUTURE_TOLERANCE = timedelta(days=1)
_WHITESPACE = re.compile(r"\s+")
_EMAIL = re.compile(r"\S+@\S+")
_LANGUAGE = re.compile(r"^[a-z]{2,3}(-[a-z0-9]{1,8})*$")


def canonical_url(url: str, base: str | None = None) -> str | None:
    """The form of ``url`` two feeds linking the same story agree on; None if not http(s).

    Relative links are resolved against ``base`` (the feed's URL).
    """
    url = url.strip()
    if base:
        url = urljoin(base, url)
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parts.hostname:
        return None
    host = parts.hostname.rstrip(".")
    if ":" in host:
        host = f"[{host}]"
    netloc = host if port in (None, DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    query = [(key, value) for key, value in parse_qsl(parts.query, keep_blank_values=True)
             if not _is_tracking(key)]
    return urlunsplit((scheme, netloc, parts.path or "/", urlencode(sorted(query)), ""))


def _is_tracking(key: str) -> bool:
    lowered = key.lower()
    return lowered in TRACKING_PARAMETERS or lowered.startswith(TRACKING_PREFIXES)


def article_id(url: str | None, *, feed_url: str, guid: str | None) -> str:
    """Stable id: from the canonical URL, else from the feed URL and the item's GUID."""
    if url:
        basis = url
    elif guid:
        basis = f"{feed_url}\n{guid}"
    else:
        msg = f"an item of {feed_url} has neither a link nor a GUID: it cannot be identified"
        raise ValueError(msg)
    return hashlib.sha256(basis.encode("utf-8")).hexdigest()[:32]


class _TextExtractor(HTMLParser):
    SKIPPED = frozenset({"script", "style", "noscript", "template", "head"})
    BREAKS = frozenset({"p", "br", "div", "li", "h1", "h2", "h3", "h4", "h5", "h6", "tr",
                        "blockquote", "section", "article", "figcaption"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag in self.SKIPPED:
            self._skipping += 1
        elif tag in self.BREAKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIPPED and self._skipping:
            self._skipping -= 1
        elif tag in self.BREAKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


def plain_text(markup: str | None, *, keep_paragraphs: bool = False) -> str | None:
    """Text without tags, entities decoded, whitespace collapsed; None when nothing is left.

    With ``keep_paragraphs`` block elements become line breaks (for full text, where
    sentence boundaries matter to the entity extractor).
    """
    if not markup:
        return None
    if "<" in markup or "&" in markup:
        parser = _TextExtractor()
        parser.feed(markup)
        parser.close()
        text = html.unescape("".join(parser.parts))  # entities escaped twice by the publisher
    else:
        text = markup  # already plain: most authors, categories and titles
    if keep_paragraphs:
        lines = (_WHITESPACE.sub(" ", line).strip() for line in text.split("\n"))
        text = "\n".join(line for line in lines if line)
    else:
        text = _WHITESPACE.sub(" ", text).strip()
    return text or None


def utc_from_struct(parsed: time.struct_time | None) -> datetime | None:
    """Convert one of feedparser's ``*_parsed`` values (UTC struct_times)."""
    if parsed is None:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(parsed), UTC)
    except (OverflowError, ValueError, OSError):
        return None


def publication_time(candidates: list[datetime | None], fetched_at: datetime) -> tuple[datetime, bool]:
    """First trustworthy candidate, else the fetch time flagged as an estimate.

    A date more than a day after the fetch is a publisher's error (a time zone taken
    for the date, a scheduled post's placeholder), not news from the future.
    """
    for candidate in candidates:
        if candidate is not None and candidate <= fetched_at + FUTURE_TOLERANCE:
            return candidate, False
    return fetched_at, True


def language_tag(value: str | None) -> str | None:
    if not value:
        return None
    tag = value.strip().replace("_", "-").lower()
    return tag if _LANGUAGE.match(tag) else None


def _unique(values: list[str | None], *, names: bool = False) -> tuple[str, ...]:
    """Plain-text values in order, each once (case-insensitively); with ``names``, e-mail
    addresses are left out ("jane@example.com (Jane Doe)" gives "Jane Doe").
    """
    seen: set[str] = set()
    unique = []
    for value in values:
        text = plain_text(value)
        if text and names:
            text = _WHITESPACE.sub(" ", _EMAIL.sub("", text)).strip(" ()<>,;") or None
        if text and text.casefold() not in seen:
            seen.add(text.casefold())
            unique.append(text)
    return tuple(unique)


def _entry_link(entry: dict[str, Any]) -> str | None:
    if entry.get("link"):
        return entry["link"]
    for link in entry.get("links", []):
        if link.get("rel", "alternate") == "alternate" and link.get("href"):
            return link["href"]
    guid = entry.get("id")
    if entry.get("guidislink") and guid:
        return guid
    return None


def normalize_entry(entry: dict[str, Any], *, feed_url: str, source_name: str, fetched_at: datetime,
                    feed_language: str | None = None) -> Article:
    """Build an :class:`Article` from one feedparser entry; ValueError if it has no title or id."""
    url = None
    link = _entry_link(entry)
    if link:
        url = canonical_url(link, base=feed_url)
    guid = (entry.get("id") or "").strip() or None
    content_html = max((c.get("value", "") for c in entry.get("content", [])), key=len, default="")
    content = plain_text(content_html, keep_paragraphs=True)
    summary = plain_text(entry.get("summary"))
    title = plain_text(entry.get("title")) or (summary[:200] if summary else None)
    if not title:
        msg = f"an item of {feed_url} has no title and no summary"
        raise ValueError(msg)
    published_at, estimated = publication_time(
        # dict.get: feedparser's own get() maps a missing updated_parsed onto published_parsed.
        [utc_from_struct(dict.get(entry, key)) for key in ("published_parsed", "updated_parsed",
                                                            "created_parsed")],
        fetched_at)
    authors = [a.get("name") for a in entry.get("authors", []) if isinstance(a, dict)]
    if not any(authors):
        authors.append(entry.get("author"))
    return Article(
        # An item with neither link nor GUID is known by its title within its feed.
        article_id=article_id(url, feed_url=feed_url, guid=guid or title),
        url=url,
        guid=guid,
        title=title,
        summary=summary,
        content=content if content != summary else None,
        source_name=source_name,
        feed_url=feed_url,
        published_at=published_at,
        published_at_estimated=estimated,
        fetched_at=fetched_at,
        language=language_tag(entry.get("language") or feed_language),
        authors=_unique(authors, names=True),
        categories=_unique([tag.get("term") or tag.get("label") for tag in entry.get("tags", [])]),
    )


def message_bytes(message: dict[str, Any]) -> bytes:
    """The bytes of an article message as sent to Kafka: compact UTF-8 JSON."""
    return json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def fit_message(message: dict[str, Any], max_bytes: int) -> tuple[dict[str, Any], bytes]:
    """The message and its bytes, at most ``max_bytes`` of them: when the whole article is
    larger, a copy whose ``content`` is cut at a word and flagged ``content_truncated``
    (the schema lets content alone grow past a Kafka message; every other field is small).

    ValueError when even the message without content is too large.
    """
    value = message_bytes(message)
    if len(value) <= max_bytes:
        return message, value
    content = message.get("content") or ""
    room = max_bytes - len(message_bytes(message | {"content": "", "content_truncated": True}))
    if not content or room < 0:
        msg = (f"article {message.get('article_id')} is {len(value):,} bytes, and more than "
               f"{max_bytes:,} without its content")
        raise ValueError(msg)

    def size(length: int) -> int:  # bytes the first ``length`` characters add, quotes aside
        return len(json.dumps(content[:length], ensure_ascii=False).encode("utf-8")) - 2

    low, high = 0, len(content)  # size(low) fits, size(high + 1) does not
    while low < high:
        middle = (low + high + 1) // 2
        if size(middle) <= room:
            low = middle
        else:
            high = middle - 1
    cut = content[:low]
    word_end = max(cut.rfind(" "), cut.rfind("\n"))
    if word_end > low - 200:  # a word cut in half reads as a typo to the entity extractor
        cut = cut[:word_end]
    fitted = message | {"content": cut.rstrip(), "content_truncated": True}
    return fitted, message_bytes(fitted)
