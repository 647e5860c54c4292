"""The gazetteer: canonical names and types of well-known entities, found by any of their spellings.

``seeds/gazetteer.yaml`` (its header documents the format; ``schemas/gazetteer.schema.json``
checks its structure) gives well-known entities their canonical name and type ("EU" →
European Union, ORG; the airline Belavia is an ORG, not a place). Entity extraction
(:mod:`newsmon.analysis.entities`) applies it to the model's spans and looks for its
spellings where the model missed them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from newsmon.analysis.config_files import read_yaml
from newsmon.errors import ConfigError
from newsmon.schemas import check_config

GAZETTEER_FILE = "gazetteer.yaml"


def normalise_name(text: str) -> str:
    """One spelling per name: straight apostrophes, single spaces."""
    return " ".join(text.replace("’", "'").replace("‘", "'").split())


def spellings_pattern(spellings: Iterable[str]) -> re.Pattern[str] | None:
    """Whole-word matches of any spelling; the longest wins where several start together."""
    parts = []
    for spelling in sorted(set(spellings), key=lambda s: (-len(s), s)):
        escaped = re.escape(spelling).replace("'", "['’]")
        parts.append(re.sub(r"(\\ )+", r"\\s+", escaped))
    return re.compile(r"(?<!\w)(?:" + "|".join(parts) + r")(?!\w)") if parts else None


@dataclass(frozen=True)
class GazetteerEntry:
    """A well-known entity: its canonical name, its type, the other ways it is written."""

    name: str
    type: str
    aliases: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", normalise_name(self.name))
        object.__setattr__(self, "aliases", tuple(normalise_name(alias) for alias in self.aliases))

    def spellings(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)


@dataclass(frozen=True)
class Gazetteer:
    """Canonical names and types of well-known entities, looked up by any of their spellings.

    A spelling matches text written exactly so, or the same in capitals ("BELTA" for
    "Belta"); "US" never matches "us". Load the packaged list with :meth:`load`.
    """

    version: int
    entries: tuple[GazetteerEntry, ...] = ()
    _exact: dict[str, GazetteerEntry] = field(init=False, repr=False, compare=False)
    _capitals: dict[str, GazetteerEntry | None] = field(init=False, repr=False, compare=False)
    _pattern: re.Pattern[str] | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        exact: dict[str, GazetteerEntry] = {}
        for entry in self.entries:
            for spelling in entry.spellings():
                other = exact.setdefault(spelling, entry)
                if other is not entry:
                    msg = f"{spelling!r} is listed for both {other.name!r} and {entry.name!r}"
                    raise ConfigError(msg)
        capitals: dict[str, GazetteerEntry | None] = {}
        for spelling, entry in exact.items():
            upper = spelling.upper()
            # two entries written the same in capitals: neither matches the capitals
            capitals[upper] = entry if capitals.get(upper, entry) is entry else None
        object.__setattr__(self, "entries", tuple(self.entries))
        object.__setattr__(self, "_exact", exact)
        object.__setattr__(self, "_capitals", capitals)
        object.__setattr__(self, "_pattern", spellings_pattern([*exact, *capitals]))

    def lookup(self, text: str) -> GazetteerEntry | None:
        """The entry ``text`` names, or None."""
        key = normalise_name(text)
        entry = self._exact.get(key)
        if entry is None and key.isupper():
            entry = self._capitals.get(key)
        return entry

    def matches(self, text: str) -> list[tuple[int, int, GazetteerEntry]]:
        """``(start, end, entry)`` of each whole-word spelling in ``text``, left to right, not overlapping."""
        if self._pattern is None:
            return []
        found = []
        for match in self._pattern.finditer(text):
            entry = self.lookup(match.group())
            if entry is not None:
                found.append((match.start(), match.end(), entry))
        return found


    @classmethod
    def parse(cls, document: Any, *, source: str = "gazetteer") -> Gazetteer:
        """Build from parsed YAML, checked against ``schemas/gazetteer.schema.json``."""
        check_config("gazetteer", document, source=source)
        entries = tuple(GazetteerEntry(name=item["name"], type=item["type"],
                                       aliases=tuple(item.get("aliases") or ()))
                        for item in document["entities"])
        try:
            return cls(version=document["version"], entries=entries)
        except ConfigError as exc:
            msg = f"{source}: {exc}"
            raise ConfigError(msg) from exc

    @classmethod
    def load(cls, path: str | Path | None = None) -> Gazetteer:
        """Read a gazetteer YAML file; without ``path``, the one packaged in ``newsmon.seeds``."""
        document, source = read_yaml(path, packaged=GAZETTEER_FILE, what="gazetteer")
        return cls.parse(document, source=source)
