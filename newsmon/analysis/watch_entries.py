"""Watch entries, the people a watch list names, and the YAML and CSV files that hold them.

A watch entry (:class:`WatchEntry`, ``schemas/watch_entry.schema.json``) is one person: a
canonical name, other forms of it (aliases: transliterations, maiden names, nicknames), the
list it belongs to, and optional filters (topics, sources, languages). Its id is derived
from the list and the name (:func:`compute_entry_id`), so the same person on the same list
is one entry wherever it comes from.
"""

from __future__ import annotations

import csv
import hashlib
import io
import unicodedata
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from newsmon.analysis.spelling import MAX_FORMS, name_forms, split_name
from newsmon.errors import ConfigError
from newsmon.schemas import problems

SCHEMA = "watch_entry"
SCHEMA_VERSION = 1
DEFAULT_LIST = "default"
ENTRY_KEYS = ("name", "aliases", "list", "topics", "sources", "languages", "notes")
CSV_HEADER = ENTRY_KEYS
CSV_SEPARATOR = ";"


def _clean(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).split())


def compute_entry_id(list_name: str, name: str) -> str:
    """First 32 hex digits of sha256 of: list name, a newline, the casefolded name (whitespace collapsed)."""
    data = f"{list_name.strip()}\n{_clean(name).casefold()}".encode()
    return hashlib.sha256(data).hexdigest()[:32]


def _utc_text(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _listed(value: Any) -> Any:
    """A list of the values of a sequence field; a value of another type as it is, for the
    schema check to name (a string is no list of one).
    """
    return list(value) if isinstance(value, list | tuple) else value


@dataclass(frozen=True, kw_only=True)
class WatchEntry:
    """One watched person. ``list_name`` is the ``list`` of the schema (owner or list name).

    Filters: an entry with ``topics`` only matches articles tagged with at least one of
    them; with ``sources``, articles from one of those sources (names compared casefolded);
    with ``languages``, articles in one of them ("en" also takes "en-gb").
    """

    entry_id: str
    name: str
    aliases: tuple[str, ...] = ()
    list_name: str = DEFAULT_LIST
    topics: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    notes: str | None = None
    created_at: datetime
    updated_at: datetime

    def __post_init__(self) -> None:
        try:
            self._normalise()
            # the schema checks the structure; entry_id is derived, so it is checked below
            found = [problem for problem in problems(SCHEMA, self.to_dict())
                     if not problem.startswith("entry_id:")]
            if found:
                msg = f"does not match schemas/{SCHEMA}.schema.json: " + "; ".join(found[:5])
                raise ConfigError(msg)
            self._check_meaning()
        except ConfigError as exc:
            msg = f"watch entry {self.name!r}: {exc}"
            raise ConfigError(msg) from exc

    def _normalise(self) -> None:
        """Whitespace collapsed, repeated values dropped (and aliases equal to the name),
        languages lower case, times in UTC. Values of the wrong type stay for the schema check.
        """
        set_ = object.__setattr__
        for what in ("created_at", "updated_at"):
            moment = getattr(self, what)
            if not isinstance(moment, datetime) or moment.tzinfo is None:
                msg = f"{what} must be a timezone-aware datetime, got {moment!r}"
                raise ConfigError(msg)
            set_(self, what, moment.astimezone(UTC))
        if isinstance(self.name, str):
            set_(self, "name", _clean(self.name))
        if isinstance(self.list_name, str):
            set_(self, "list_name", self.list_name.strip())
        for what in ("aliases", "topics", "sources", "languages"):
            values = getattr(self, what)
            if not isinstance(values, list | tuple) or not all(isinstance(value, str) for value in values):
                continue
            values = [_clean(value) for value in values]
            if what == "languages":
                values = [value.lower() for value in values]
            if what == "aliases" and isinstance(self.name, str):
                values = [value for value in values if value.casefold() != self.name.casefold()]
            set_(self, what, tuple(dict.fromkeys(values)))

    def _check_meaning(self) -> None:
        """What the schema cannot say: names have letters, times are in order, the id is derived."""
        for name in (self.name, *self.aliases):
            if not split_name(name):
                msg = f"{'name' if name == self.name else 'alias'} has no letters: {name!r}"
                raise ConfigError(msg)
        if self.updated_at < self.created_at:
            msg = f"updated_at {_utc_text(self.updated_at)} is before created_at {_utc_text(self.created_at)}"
            raise ConfigError(msg)
        expected = compute_entry_id(self.list_name, self.name)
        if self.entry_id != expected:
            msg = (f"entry_id {self.entry_id!r} is not the id of this name on list {self.list_name!r} "
                   f"({expected}); ids are derived, see schemas/watch_entry.schema.json")
            raise ConfigError(msg)

    @classmethod
    def create(cls, name: str, *, aliases: Iterable[str] = (), list_name: str = DEFAULT_LIST,
               topics: Iterable[str] = (), sources: Iterable[str] = (), languages: Iterable[str] = (),
               notes: str | None = None, now: datetime | None = None) -> WatchEntry:
        """A new entry with its derived id, created and updated ``now`` (UTC, whole seconds;
        default: the current time). Names and aliases are cleaned (whitespace collapsed),
        languages lower-cased, repeated values dropped.
        """
        if now is None:
            now = datetime.now(UTC)
        elif now.tzinfo is None:
            msg = f"now must be timezone-aware, got {now!r}"
            raise ConfigError(msg)
        now = now.astimezone(UTC).replace(microsecond=0)
        listed = {}
        for what, value in (("aliases", aliases), ("topics", topics), ("sources", sources),
                            ("languages", languages)):
            # a string stays one, for the schema check to refuse: it is no list of names
            listed[what] = () if value is None else value if isinstance(value, str) else tuple(value)
        valid = isinstance(name, str) and isinstance(list_name, str)
        entry_id = compute_entry_id(list_name, name) if valid else ""
        return cls(entry_id=entry_id, name=name, list_name=list_name, notes=notes,
                   created_at=now, updated_at=now, **listed)

    def to_dict(self) -> dict[str, Any]:
        """The entry as ``schemas/watch_entry.schema.json`` describes it."""
        return {
            "schema_version": SCHEMA_VERSION,
            "entry_id": self.entry_id,
            "name": self.name,
            "aliases": _listed(self.aliases),
            "list": self.list_name,
            "topics": _listed(self.topics),
            "sources": _listed(self.sources),
            "languages": _listed(self.languages),
            "notes": self.notes,
            "created_at": _utc_text(self.created_at),
            "updated_at": _utc_text(self.updated_at),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> WatchEntry:
        """Read a schema-valid dict (a message, an Elasticsearch document). Fields the schema
        makes optional take their defaults; missing times are the time of reading.
        """
        found = problems(SCHEMA, dict(data)) if isinstance(data, Mapping) else ["(root): not an object"]
        if found:
            label = data.get("entry_id") or data.get("name") if isinstance(data, Mapping) else None
            msg = (f"watch entry {label!r} does not match schemas/{SCHEMA}.schema.json: "
                   + "; ".join(found[:5]))
            raise ConfigError(msg)
        now = datetime.now(UTC).replace(microsecond=0)
        created = data.get("created_at") or data.get("updated_at")
        created_at = datetime.fromisoformat(created) if created else now
        updated = data.get("updated_at")
        return cls(entry_id=data["entry_id"], name=data["name"], aliases=tuple(data.get("aliases", ())),
                   list_name=data.get("list", DEFAULT_LIST), topics=tuple(data.get("topics", ())),
                   sources=tuple(data.get("sources", ())), languages=tuple(data.get("languages", ())),
                   notes=data.get("notes"), created_at=created_at,
                   updated_at=datetime.fromisoformat(updated) if updated else created_at)

    def forms(self, *, limit: int = MAX_FORMS) -> set[str]:
        """:func:`name_forms` of the name and of each alias."""
        result = name_forms(self.name, limit=limit)
        for alias in self.aliases:
            result |= name_forms(alias, limit=limit)
        return result

    def accepts(self, topics: Collection[str], source: str | None, language: str | None) -> bool:
        """Whether an article with these topics, source and language passes the entry's filters."""
        if self.topics and not {topic.casefold() for topic in self.topics} & {t.casefold() for t in topics}:
            return False
        if self.sources and (source is None or source.casefold() not in
                             {name.casefold() for name in self.sources}):
            return False
        if self.languages:
            if language is None:
                return False
            language = language.lower()
            return any(language == lang or language.startswith(lang + "-") for lang in self.languages)
        return True


# --- watch-list files -------------------------------------------------------------------


def _entry_from_record(record: Mapping[str, Any], label: str, now: datetime | None) -> WatchEntry:
    """An entry of a file: its keys are the schema's fields an analyst writes (:data:`ENTRY_KEYS`;
    the id and the times are derived), their values are checked by the schema.
    """
    name = record.get("name")
    if isinstance(name, str) and name.strip():
        label = f"{label} ({name.strip()!r})"
    unknown = set(record) - set(ENTRY_KEYS)
    if unknown:
        msg = f"{label}: unknown keys {', '.join(sorted(map(str, unknown)))} (known: {', '.join(ENTRY_KEYS)})"
        raise ConfigError(msg)
    given = {key: value for key, value in record.items() if value is not None and value != ""}
    try:
        return WatchEntry.create(given.get("name"), list_name=given.get("list", DEFAULT_LIST),
                                 notes=given.get("notes"), now=now,
                                 **{what: given.get(what, ()) for what in ("aliases", "topics", "sources",
                                                                             "languages")})
    except ConfigError as exc:
        msg = f"{label}: {exc}"
        raise ConfigError(msg) from exc


def _no_duplicates(entries: list[WatchEntry], labels: list[str], source: str) -> list[WatchEntry]:
    first: dict[str, str] = {}
    for entry, label in zip(entries, labels, strict=True):
        if entry.entry_id in first:
            msg = (f"{source}: {label} ({entry.name!r}): the same name on list {entry.list_name!r} "
                   f"as {first[entry.entry_id]}")
            raise ConfigError(msg)
        first[entry.entry_id] = label
    return entries


def parse_watchlist_yaml(text: str, *, source: str = "watch list",
                         now: datetime | None = None) -> list[WatchEntry]:
    """Entries of a YAML watch list: a mapping whose ``watch:`` is a list of entries."""
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        msg = f"{source}: not valid YAML: {exc}"
        raise ConfigError(msg) from exc
    if not isinstance(document, dict) or "watch" not in document:
        msg = f"{source}: a watch list is a mapping with a `watch:` list of entries"
        raise ConfigError(msg)
    unknown = set(document) - {"watch"}
    if unknown:
        msg = f"{source}: unknown keys {', '.join(sorted(map(str, unknown)))}"
        raise ConfigError(msg)
    items = document["watch"] or []
    if not isinstance(items, list):
        msg = f"{source}: `watch:` must be a list, got {type(items).__name__}"
        raise ConfigError(msg)
    entries, labels = [], []
    for position, item in enumerate(items, start=1):
        label = f"{source}: entry #{position}"
        if not isinstance(item, dict):
            msg = f"{label} must be a mapping with at least `name:`, got {item!r}"
            raise ConfigError(msg)
        entries.append(_entry_from_record(item, label, now))
        labels.append(f"entry #{position}")
    return _no_duplicates(entries, labels, source)


def parse_watchlist_csv(text: str, *, source: str = "watch list",
                        now: datetime | None = None) -> list[WatchEntry]:
    """Entries of a CSV watch list: header ``name,aliases,list,topics,sources,languages,notes``
    (``name`` required, the others optional); several values in a cell are separated by ``;``.
    """
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")), restkey="\0extra")
    header = reader.fieldnames
    if not header:
        msg = f"{source}: empty CSV file; the first row must be the header {','.join(CSV_HEADER)}"
        raise ConfigError(msg)
    header = [column.strip() for column in header]
    reader.fieldnames = header
    unknown = [column for column in header if column not in CSV_HEADER]
    if unknown or "name" not in header or len(set(header)) != len(header):
        msg = (f"{source}: row 1: the header must be {','.join(CSV_HEADER)} (name required), "
               f"got {','.join(header)}")
        raise ConfigError(msg)
    entries, labels = [], []
    for row in reader:
        label = f"{source}: row {reader.line_num}"
        if "\0extra" in row:
            msg = f"{label}: more cells than the header has columns"
            raise ConfigError(msg)
        if all(not (value or "").strip() for value in row.values()):
            continue
        record: dict[str, Any] = {}
        for column, value in row.items():
            value = (value or "").strip()
            if column in ("aliases", "topics", "sources", "languages"):
                record[column] = [part.strip() for part in value.split(CSV_SEPARATOR) if part.strip()]
            else:
                record[column] = value or None
        entries.append(_entry_from_record(record, label, now))
        labels.append(f"row {reader.line_num}")
    return _no_duplicates(entries, labels, source)


def load_watchlist_file(path: str | Path, *, now: datetime | None = None) -> list[WatchEntry]:
    """Read a watch list from ``.yaml`` / ``.yml`` or ``.csv``; every entry is created ``now``.

    Raises :class:`ConfigError` naming the file and the entry (YAML) or row (CSV) at fault.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".yaml", ".yml", ".csv"):
        msg = f"{path}: a watch list is a .yaml, .yml or .csv file"
        raise ConfigError(msg)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        msg = f"{path}: cannot read the watch list: {exc}"
        raise ConfigError(msg) from exc
    if suffix == ".csv":
        return parse_watchlist_csv(text, source=str(path), now=now)
    return parse_watchlist_yaml(text, source=str(path), now=now)


def _record(entry: WatchEntry) -> dict[str, Any]:
    record: dict[str, Any] = {"name": entry.name}
    if entry.aliases:
        record["aliases"] = list(entry.aliases)
    record["list"] = entry.list_name
    for what in ("topics", "sources", "languages"):
        if getattr(entry, what):
            record[what] = list(getattr(entry, what))
    if entry.notes is not None:
        record["notes"] = entry.notes
    return record


def dump_watchlist_yaml(entries: Iterable[WatchEntry]) -> str:
    """A YAML watch list :func:`load_watchlist_file` reads back to the same entries (but the times)."""
    body = yaml.safe_dump({"watch": [_record(entry) for entry in entries]}, allow_unicode=True,
                          sort_keys=False, default_flow_style=False, width=1000)
    return "# newsmon watch list (see seeds/watchlist.example.yaml for the format)\n" + body


def dump_watchlist_csv(entries: Iterable[WatchEntry]) -> str:
    """A CSV watch list :func:`load_watchlist_file` reads back to the same entries (but the times)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    for entry in entries:
        row = [entry.name]
        for what in ("aliases", "list", "topics", "sources", "languages"):
            values = (entry.list_name,) if what == "list" else getattr(entry, what)
            for value in values:
                if CSV_SEPARATOR in value and what != "list":
                    msg = (f"watch entry {entry.name!r}: {what} value {value!r} contains "
                           f"{CSV_SEPARATOR!r}, which CSV cells use between values; use YAML")
                    raise ConfigError(msg)
            row.append(CSV_SEPARATOR.join(values))
        row.append(entry.notes or "")
        writer.writerow(row)
    return out.getvalue()

