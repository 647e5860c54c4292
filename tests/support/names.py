"""Watch entries and matchers for the name-matching tests: the seed article's people, a fixed time."""

from __future__ import annotations

from datetime import UTC, datetime
from importlib.resources import files

from newsmon.analysis.name_matcher import Match, WatchMatcher
from newsmon.analysis.text import article_text
from newsmon.analysis.watch_entries import WatchEntry

SEED_TITLE = "Belarus frees 52 prisoners after Trump appeal"
SEED_WATCHED = {"Ihar Losik", "Maria Kalesnikava", "Ales Bialiatski", "Sviatlana Tsikhanouskaya",
                "Mikola Statkevich"}
NOW = datetime(2025, 9, 12, 8, 30, tzinfo=UTC)


def seed_text() -> str:
    """The seed article as the pipeline analyses it: title, blank line, body."""
    body = files("newsmon.seeds").joinpath("000_4d60d75d12f4f40c.txt").read_text(encoding="utf-8")
    return article_text({"title": SEED_TITLE, "content": body})


def entries(*names: str, **options) -> list[WatchEntry]:
    return [WatchEntry.create(name, now=NOW, **options) for name in names]


def matcher(*names: str, **options) -> WatchMatcher:
    return WatchMatcher(entries(*names, **options))


def names_of(matches: list[Match]) -> set[str]:
    return {m.entry.name for m in matches}


def only(matches: list[Match], name: str) -> Match:
    found = [m for m in matches if m.entry.name == name]
    assert len(found) == 1, matches
    return found[0]
