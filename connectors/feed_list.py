"""The list of feeds to poll, read from OPML (what feed readers export) or YAML.

A feed is a URL plus how to poll it. Both formats map onto :class:`FeedSpec`, which checks
its values when built, so a typo in a list fails on import with the feed named.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import yaml

from newsmon.connectors.article import canonical_url, language_tag
from newsmon.errors import ConfigError

DEFAULT_POLL_INTERVAL = timedelta(minutes=5)
MIN_POLL_INTERVAL = timedelta(seconds=30)
MAX_POLL_INTERVAL = timedelta(days=7)
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(value: str | int | float) -> timedelta:
    """``90``, ``"90s"``, ``"5m"``, ``"1h"`` → timedelta (plain numbers are seconds)."""
    msg = f"a duration looks like 90s, 5m or 1h, got {value!r}"
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = value
    else:
        match = _DURATION.match(str(value))
        if not match:
            raise ConfigError(msg)
        seconds = float(match.group(1)) * _UNITS[match.group(2)]
    try:
        return timedelta(seconds=seconds)
    except (OverflowError, ValueError) as exc:  # infinite, NaN, or beyond a billion days
        raise ConfigError(msg) from exc


@dataclass(frozen=True)
class FeedSpec:
    """One feed: where it is and how to poll it."""

    url: str
    name: str
    poll_interval: timedelta = DEFAULT_POLL_INTERVAL
    language: str | None = None
    enabled: bool = True
    full_text: bool = False

    def __post_init__(self) -> None:
        canonical = canonical_url(self.url)
        if canonical is None:
            msg = f"feed URL must be an http(s) URL, got {self.url!r}"
            raise ConfigError(msg)
        if not self.name.strip():
            msg = f"feed {self.url} needs a name"
            raise ConfigError(msg)
        if self.poll_interval < MIN_POLL_INTERVAL:
            msg = (f"feed {self.url}: poll interval {self.poll_interval} is shorter than "
                   f"{MIN_POLL_INTERVAL.seconds}s; publishers throttle or block such pollers")
            raise ConfigError(msg)
        if self.poll_interval > MAX_POLL_INTERVAL:
            msg = (f"feed {self.url}: poll interval {self.poll_interval} is longer than "
                   f"{MAX_POLL_INTERVAL.days} days; disable the feed instead")
            raise ConfigError(msg)
        if self.language is not None and language_tag(self.language) is None:
            msg = f"feed {self.url}: language must be a BCP 47 tag such as en or en-GB, got {self.language!r}"
            raise ConfigError(msg)

    def to_dict(self) -> dict[str, Any]:
        return {"url": self.url, "name": self.name,
                "poll_interval": f"{int(self.poll_interval.total_seconds())}s",
                "language": self.language, "enabled": self.enabled, "full_text": self.full_text}


def _deduplicated(feeds: list[FeedSpec]) -> list[FeedSpec]:
    """First occurrence of each feed (by canonical URL) wins."""
    unique: dict[str, FeedSpec] = {}
    for feed in feeds:
        unique.setdefault(canonical_url(feed.url), feed)  # FeedSpec checked it is a URL
    return list(unique.values())


def read_opml(data: bytes | str, *, poll_interval: timedelta = DEFAULT_POLL_INTERVAL) -> list[FeedSpec]:
    """Every outline with an ``xmlUrl``, at any depth (folders are flattened)."""
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        msg = f"not a readable OPML document: {exc}"
        raise ConfigError(msg) from exc
    if root.tag != "opml":
        msg = f"not an OPML document: the root element is <{root.tag}>"
        raise ConfigError(msg)
    feeds = []
    for outline in root.iter("outline"):
        url = (outline.get("xmlUrl") or outline.get("xmlurl") or "").strip()
        if not url:
            continue  # a folder, or a link to a web page
        name = (outline.get("title") or outline.get("text") or url).strip()
        feeds.append(FeedSpec(url=url, name=name, poll_interval=poll_interval,
                              language=outline.get("language") or None))
    return _deduplicated(feeds)


_YAML_KEYS: dict[str, tuple[tuple[type, ...], str]] = {  # what each key takes, as types and in words
    "url": ((str,), "text"),
    "name": ((str,), "text"),
    "poll_interval": ((str, int, float), "a duration such as 90s, 5m or 1h"),
    "language": ((str,), "a language tag such as en"),
    "enabled": ((bool,), "true or false"),
    "full_text": ((bool,), "true or false"),
}
_MAY_BE_EMPTY = ("name", "language")


def _check_types(entry: dict[str, Any], where: str) -> None:
    """Refuse a value of the wrong type: ``enabled: "false"`` is a string, and Python
    would take any non-empty string for true.
    """
    for key, value in entry.items():
        kinds, words = _YAML_KEYS[key]
        if value is None and key in _MAY_BE_EMPTY:
            continue
        if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
            quoted = " (write it without quotes)" if bool in kinds and isinstance(value, str) else ""
            msg = f"{where}: {key} must be {words}, got {value!r}{quoted}"
            raise ConfigError(msg)


def read_yaml(text: str) -> list[FeedSpec]:
    """Read ``feeds:``, a list of mappings with url, name and optional poll_interval,
    language, enabled, full_text.
    """
    try:
        document = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        msg = f"not valid YAML: {exc}"
        raise ConfigError(msg) from exc
    entries = document.get("feeds") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        msg = "a feed list in YAML is a mapping with a `feeds:` list"
        raise ConfigError(msg)
    feeds = []
    for position, entry in enumerate(entries, start=1):
        if not isinstance(entry, dict) or "url" not in entry:
            msg = f"feed #{position} must be a mapping with at least `url`, got {entry!r}"
            raise ConfigError(msg)
        where = f"feed #{position} ({entry['url']})"
        unknown = set(entry) - set(_YAML_KEYS)
        if unknown:
            msg = f"{where}: unknown keys {', '.join(sorted(map(str, unknown)))}"
            raise ConfigError(msg)
        _check_types(entry, where)
        try:
            interval = parse_duration(entry.get("poll_interval", DEFAULT_POLL_INTERVAL.seconds))
        except ConfigError as exc:
            msg = f"{where}: poll_interval: {exc}"
            raise ConfigError(msg) from exc
        feeds.append(FeedSpec(
            url=entry["url"], name=entry.get("name") or entry["url"], poll_interval=interval,
            language=entry.get("language"), enabled=entry.get("enabled", True),
            full_text=entry.get("full_text", False)))
    return _deduplicated(feeds)


def write_opml(feeds: list[FeedSpec], title: str = "newsmon feeds") -> bytes:
    root = ET.Element("opml", version="2.0")
    ET.SubElement(ET.SubElement(root, "head"), "title").text = title
    body = ET.SubElement(root, "body")
    for feed in feeds:
        attributes = {"type": "rss", "text": feed.name, "title": feed.name, "xmlUrl": feed.url}
        if feed.language:
            attributes["language"] = feed.language
        ET.SubElement(body, "outline", attributes)
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)
