"""The gazetteer: the packaged file, look-ups and whole-word matches, reading a file from a
path, and the schema check that names the file and the path of each problem.
"""

from __future__ import annotations

import pickle
from importlib.resources import files

import pytest
import yaml

from newsmon.analysis.entities import ENTITY_TYPES
from newsmon.analysis.gazetteer import Gazetteer, GazetteerEntry
from newsmon.errors import ConfigError
from newsmon.schemas import load_schema


def test_packaged_gazetteer(gazetteer):
    assert isinstance(gazetteer.version, int) and gazetteer.version >= 1
    assert gazetteer.lookup("EU").name == "European Union"
    assert gazetteer.lookup("U.S.").name == "United States"
    assert gazetteer.lookup("Britain").name == "United Kingdom"
    assert gazetteer.lookup("BELTA").name == "Belta"  # capitals of "Belta"
    assert gazetteer.lookup("Belavia").type == "ORG"
    assert gazetteer.lookup("us") is None and gazetteer.lookup("Us") is None
    assert gazetteer.lookup("belta") is None
    assert pickle.loads(pickle.dumps(gazetteer)) == gazetteer
    assert pickle.loads(pickle.dumps(gazetteer)).lookup("EU").name == "European Union"


def test_gazetteer_matches_whole_words_longest_first(gazetteer):
    text = "The US-led UN Security Council, the USA, Belarusian and BUSINESS, us."
    found = [(text[start:end], entry.name) for start, end, entry in gazetteer.matches(text)]
    assert found == [("US", "United States"), ("UN Security Council", "UN Security Council"),
                     ("USA", "United States")]


def write(tmp_path, text: str):
    path = tmp_path / "gazetteer.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_gazetteer_load_from_a_path(tmp_path):
    path = write(tmp_path, "version: 3\nentities:\n"
                           "  - {name: Ruritanian Airways, type: ORG, aliases: [RA]}\n")
    gazetteer = Gazetteer.load(path)
    assert gazetteer.version == 3
    assert gazetteer.lookup("RA") == GazetteerEntry("Ruritanian Airways", "ORG", ("RA",))
    assert Gazetteer.load(str(path)) == gazetteer


@pytest.mark.parametrize(("text", "message"), [
    ("- just a list\n", r"\(root\): \['just a list'\] is not of type 'object'"),
    ("entities: []\n", r"\(root\): 'version' is a required property"),
    ("version: one\nentities: []\n", "version: 'one' is not of type 'integer'"),
    ("version: 0\nentities: []\n", "version: 0 is less than the minimum of 1"),
    ("version: 1\n", r"\(root\): 'entities' is a required property"),
    ("version: 1\nentities: []\nextra: 1\n", r"\(root\): Additional properties are not allowed \('extra'"),
    ("version: 1\nentities:\n  - Belavia\n", "entities/0: 'Belavia' is not of type 'object'"),
    ("version: 1\nentities:\n  - {name: Belavia, type: AIRLINE}\n",
     r"entities/0/type: 'AIRLINE' is not one of \['PERSON', 'ORG', 'GPE', 'LOC'\]"),
    ("version: 1\nentities:\n  - {type: ORG}\n", "entities/0: 'name' is a required property"),
    ("version: 1\nentities:\n  - {name: Belavia, type: ORG, aliases: Belavia Airlines}\n",
     "entities/0/aliases: 'Belavia Airlines' is not of type 'array'"),
    ("version: 1\nentities:\n  - {name: Belavia, type: ORG, aliases: ['']}\n",
     "entities/0/aliases/0: '' does not match"),
    ("version: 1\nentities:\n  - {name: Belavia, type: ORG}\n  - {name: BelTA, type: ORG, alias: [B]}\n",
     r"entities/1: Additional properties are not allowed \('alias' was unexpected\)"),
    ("version: 1\nentities:\n  - {name: European Union, type: ORG, aliases: [EU]}\n"
     "  - {name: Europe, type: LOC, aliases: [EU]}\n",
     "'EU' is listed for both 'European Union' and 'Europe'"),
    ("version: 1\nentities: [unclosed\n", "is not valid YAML"),
])
def test_malformed_gazetteer_is_a_config_error_naming_file_and_path(tmp_path, text, message):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError, match=message) as caught:
        Gazetteer.load(path)
    assert str(caught.value).startswith(str(path))


def test_a_schema_error_names_the_schema_and_every_problem(tmp_path):
    path = write(tmp_path, "version: 1\nentities:\n  - {name: A, type: X}\n  - {name: '', type: ORG}\n")
    with pytest.raises(ConfigError) as caught:
        Gazetteer.load(path)
    assert str(caught.value) == (
        f"{path} does not match schemas/gazetteer.schema.json: "
        "entities/0/type: 'X' is not one of ['PERSON', 'ORG', 'GPE', 'LOC']; "
        "entities/1/name: '' does not match '\\\\S'")


def test_missing_gazetteer_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="cannot read the gazetteer .*nowhere.yaml"):
        Gazetteer.load(tmp_path / "nowhere.yaml")


def test_packaged_file_documents_its_format():
    text = files("newsmon.seeds").joinpath("gazetteer.yaml").read_text(encoding="utf-8")
    assert text.startswith("#")
    assert isinstance(yaml.safe_load(text)["version"], int)


def test_the_schema_knows_the_entity_types():
    entity = load_schema("gazetteer")["properties"]["entities"]["items"]
    assert tuple(entity["properties"]["type"]["enum"]) == ENTITY_TYPES
