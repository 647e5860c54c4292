"""Watch entries: the schema, derived ids, argument checks, and watch-list files (YAML, CSV)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta, timezone
from importlib.resources import files

import pytest
import yaml
from jsonschema import Draft202012Validator

from newsmon.analysis.name_matcher import WatchMatcher
from newsmon.analysis.watch_entries import (
    WatchEntry,
    compute_entry_id,
    dump_watchlist_csv,
    dump_watchlist_yaml,
    load_watchlist_file,
    parse_watchlist_csv,
    parse_watchlist_yaml,
)
from newsmon.errors import ConfigError
from newsmon.schemas import load_schema, problems, validate
from tests.support.names import NOW, SEED_WATCHED, entries


def test_entry_to_dict_is_schema_valid_and_round_trips():
    entry = WatchEntry.create("Sviatlana  Tsikhanouskaya", aliases=["Svetlana Tikhanovskaya"],
                              topics=["diplomatic_move"], sources=["Reuters"], languages=["EN", "be"],
                              notes="Exiled opposition leader.", now=NOW)
    data = entry.to_dict()
    Draft202012Validator.check_schema(load_schema("watch_entry"))
    assert problems("watch_entry", data) == []
    validate("watch_entry", data)
    assert problems("watch_entry", data | {"updated_at": "2025-09-12T08:30:00+00:00"})
    assert problems("watch_entry", data | {"list": "two\nlines"})
    assert data["name"] == "Sviatlana Tsikhanouskaya"
    assert data["languages"] == ["en", "be"]
    assert data["created_at"] == data["updated_at"] == "2025-09-12T08:30:00Z"
    assert WatchEntry.from_dict(data) == entry
    minimal = {key: data[key] for key in ("schema_version", "entry_id", "name", "created_at")}
    read = WatchEntry.from_dict(minimal)
    assert (read.aliases, read.list_name, read.topics, read.notes) == ((), "default", (), None)
    assert read.updated_at == read.created_at == NOW


def test_entry_id_is_derived_from_list_and_name():
    entry = WatchEntry.create("Ihar Losik", now=NOW)
    expected = hashlib.sha256(b"default\nihar losik").hexdigest()[:32]
    assert entry.entry_id == expected == compute_entry_id("default", " Ihar  LOSIK ")
    assert WatchEntry.create("Ihar Losik", list_name="rfe", now=NOW).entry_id != expected
    data = entry.to_dict() | {"entry_id": "0" * 32}
    with pytest.raises(ConfigError, match="entry_id"):
        WatchEntry.from_dict(data)


@pytest.mark.parametrize(("change", "message"), [
    ({"name": ""}, "name"),
    ({"aliases": "Igor Losik"}, "aliases"),
    ({"languages": ["English"]}, "languages"),
    ({"created_at": "2025-09-12T08:30:00+02:00"}, "created_at"),
    ({"colour": "red"}, "colour"),
])
def test_from_dict_rejects_bad_entries(change, message):
    data = WatchEntry.create("Ihar Losik", now=NOW).to_dict() | change
    with pytest.raises(ConfigError, match=message):
        WatchEntry.from_dict(data)


def test_create_checks_its_arguments():
    with pytest.raises(ConfigError, match="aliases: 'Igor Losik' is not of type 'array'"):
        WatchEntry.create("Ihar Losik", aliases="Igor Losik")
    with pytest.raises(ConfigError, match="timezone-aware"):
        WatchEntry.create("Ihar Losik", now=datetime(2025, 1, 1))  # noqa: DTZ001 - the point of the test
    with pytest.raises(ConfigError, match="topic"):
        WatchEntry.create("Ihar Losik", topics=["prisoner release"])
    later = WatchEntry.create("Ihar Losik", now=NOW.astimezone(timezone(timedelta(hours=3))))
    assert later.created_at == NOW and later.created_at.tzinfo == UTC
    with pytest.raises(ConfigError, match="given twice"):
        WatchMatcher([later, later])


# --- watch-list files -----------------------------------------------------------------------------

def comparable(entry: WatchEntry) -> dict:
    return {key: value for key, value in entry.to_dict().items() if key not in ("created_at", "updated_at")}


def test_example_watch_list():
    path = files("newsmon.seeds").joinpath("watchlist.example.yaml")
    watchlist = load_watchlist_file(path, now=NOW)
    assert {entry.name for entry in watchlist} == SEED_WATCHED | {"Alexander Lukashenko"}
    lukashenko = next(entry for entry in watchlist if entry.name == "Alexander Lukashenko")
    assert lukashenko.list_name == "officials" and "prisoner_release" in lukashenko.topics
    for entry in watchlist:
        assert problems("watch_entry", entry.to_dict()) == []


def test_yaml_and_csv_round_trip(tmp_path):
    watchlist = load_watchlist_file(files("newsmon.seeds").joinpath("watchlist.example.yaml"), now=NOW)
    watchlist.append(WatchEntry.create("Aleś Bialiacki", aliases=["Ales, \"the elder\""],
                                       sources=["Belsat"], languages=["be", "en-gb"],
                                       notes="Quoted, comma; and\nnewline", now=NOW))
    yaml_path = tmp_path / "watch.yaml"
    yaml_path.write_text(dump_watchlist_yaml(watchlist), encoding="utf-8")
    assert load_watchlist_file(yaml_path, now=NOW) == watchlist
    csv_path = tmp_path / "watch.csv"
    csv_path.write_text(dump_watchlist_csv(watchlist), encoding="utf-8")
    header = csv_path.read_text(encoding="utf-8").splitlines()[0]
    assert header == "name,aliases,list,topics,sources,languages,notes"
    assert load_watchlist_file(csv_path, now=NOW) == watchlist
    later = load_watchlist_file(csv_path)
    assert [comparable(entry) for entry in later] == [comparable(entry) for entry in watchlist]


def test_csv_cells_and_defaults():
    text = ("name,aliases,topics\n"
            "Ihar Losik,Igor Losik; Ihar Losік ,prisoner_release\n"
            "\n"
            "Maria Kalesnikava,,\n")
    first, second = parse_watchlist_csv(text, now=NOW)
    assert first.aliases == ("Igor Losik", "Ihar Losік") and first.topics == ("prisoner_release",)
    assert second.list_name == "default" and second.aliases == () and second.notes is None


@pytest.mark.parametrize(("text", "message"), [
    ("watch:\n  - name: Ihar Losik\n    aliases: Igor Losik\n",
     r"team.yaml: entry #1 \('Ihar Losik'\): .*schemas/watch_entry.schema.json: "
     r"aliases: 'Igor Losik' is not of type 'array'"),
    ("watch:\n  - name: Ihar Losik\n  - aliases: [X]\n", "entry #2: .*name: None is not of type 'string'"),
    ("watch:\n  - name: Ihar Losik\n    notes: [a, b]\n",
     r"entry #1 \('Ihar Losik'\): .*notes: \['a', 'b'\] is not"),
    ("watch:\n  - name: Ihar Losik\n    list: {a: 1}\n",
     r"entry #1 \('Ihar Losik'\): .*list: \{'a': 1\} is not"),
    ("watch:\n  - name: Ihar Losik\n    sources: [BBC, 5]\n", "sources/1: 5 is not of type 'string'"),
    ("watch:\n  - name: Ihar Losik\n    colour: red\n", r"entry #1 \('Ihar Losik'\): unknown keys colour"),
    ("watch:\n  - name: Ihar Losik\n    entry_id: abc\n", "unknown keys entry_id"),
    ("watch:\n  - name: Ihar Losik\n  - name: ihar  losik\n",
     r"entry #2 \('ihar losik'\).* as entry #1$"),
    ("watch:\n  - name: Ihar Losik\n    languages: [English]\n", r"entry #1 \('Ihar Losik'\).*languages"),
    ("people:\n  - name: Ihar Losik\n", "`watch:` list"),
    ("watch: [\n", "not valid YAML"),
])
def test_yaml_errors_name_the_entry(text, message):
    with pytest.raises(ConfigError, match=message):
        parse_watchlist_yaml(text, source="team.yaml")


@pytest.mark.parametrize(("text", "message"), [
    ("name,alias\nIhar Losik,Igor\n", "row 1: the header must be"),
    ("aliases\nIgor Losik\n", "row 1: the header must be"),
    ("name,topics\nIhar Losik,prisoner release\n", r"row 2 \('Ihar Losik'\).*topic"),
    ("name,list\nIhar Losik,a\nMaria Kalesnikava,a\nIhar Losik,a\n",
     r"row 4 \('Ihar Losik'\).* as row 2$"),
    ("name\nIhar Losik,extra\n", "row 2: more cells"),
    ("", "empty CSV"),
])
def test_csv_errors_name_the_row(text, message):
    with pytest.raises(ConfigError, match=message):
        parse_watchlist_csv(text, source="team.csv")


def test_file_errors(tmp_path):
    with pytest.raises(ConfigError, match=r"\.yaml, \.yml or \.csv"):
        load_watchlist_file(tmp_path / "watch.json")
    with pytest.raises(ConfigError, match="cannot read"):
        load_watchlist_file(tmp_path / "missing.yaml")
    with pytest.raises(ConfigError, match="contains ';'"):
        dump_watchlist_csv(entries("Ihar Losik", aliases=["Igor; Losik"]))


def test_dumped_yaml_is_the_documented_format():
    document = yaml.safe_load(dump_watchlist_yaml(entries("Ihar Losik", aliases=["Igor Losik"])))
    assert document == {"watch": [{"name": "Ihar Losik", "aliases": ["Igor Losik"], "list": "default"}]}
