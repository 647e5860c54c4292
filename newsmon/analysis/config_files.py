"""Reading the YAML files the analysis is configured with: a given path, or the file packaged
in ``newsmon.seeds``. Their structure is checked against their schema by the code that builds
from them (:func:`newsmon.schemas.check_config`).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from newsmon.errors import ConfigError

SEEDS_PACKAGE = "newsmon.seeds"


def read_yaml(path: str | Path | None, *, packaged: str, what: str) -> tuple[Any, str]:
    """The parsed YAML of ``path`` (of the packaged ``seeds/<packaged>`` when None) and the
    file's name for messages. ``what`` names the file's kind in a read error ("topic rules").
    """
    if path is None:
        source, file = f"{SEEDS_PACKAGE}/{packaged}", resources.files(SEEDS_PACKAGE) / packaged
    else:
        source, file = str(path), Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        msg = f"cannot read the {what} {source}: {getattr(exc, 'strerror', None) or exc}"
        raise ConfigError(msg) from exc
    try:
        return yaml.safe_load(text), source
    except yaml.YAMLError as exc:
        msg = f"{source} is not valid YAML: {exc}"
        raise ConfigError(msg) from exc
