"""The notifier file: which notifiers the alerts of each watch list go to.

:func:`load_config` reads the YAML file and checks it against
``schemas/notifiers.schema.json``; the notifiers' constructors then check what a schema
cannot say (URLs, addresses, CA files, secrets). The format is described in
``docs/alerts-delivery.md``, with an example in ``seeds/notifiers.example.yaml``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from newsmon.connectors.email_notifier import EmailNotifier
from newsmon.connectors.notifiers import Notifier
from newsmon.connectors.webhook_notifier import WebhookNotifier
from newsmon.errors import ConfigError
from newsmon.schemas import problems
from newsmon.settings import Secret

SCHEMA = "notifiers"
WILDCARD_LIST = "*"
MAX_PROBLEMS_SHOWN = 10
# type → the notifier class, the key naming its secret's variable, and its secret argument
NOTIFIER_TYPES: dict[str, tuple[type[Notifier], str, str]] = {
    "webhook": (WebhookNotifier, "secret_env", "secret"),
    "email": (EmailNotifier, "password_env", "password"),
}
_ENV_NAME = re.compile(r"[A-Z_][A-Z0-9_]*")
# A URL in a message, up to its host: what follows (a Slack URL's path) is a credential.
_URL_TAIL = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*://)(?:[^/\s'\"@]*@)?([^/\s'\"?#]*)[^\s'\"]*")


@dataclass(frozen=True)
class ListConfig:
    """The notifiers of one watch list (``"*"``: every list) and its digest period."""

    name: str
    notifiers: tuple[Notifier, ...]
    digest_minutes: float = 0

    @property
    def digest_seconds(self) -> float:
        return self.digest_minutes * 60.0


@dataclass(frozen=True)
class DeliveryConfig:
    lists: Mapping[str, ListConfig]

    def routes(self, list_name: str) -> list[ListConfig]:
        """The configurations that apply to alerts of ``list_name``: its own and ``"*"``."""
        return [self.lists[name] for name in (list_name, WILDCARD_LIST) if name in self.lists]


def load_config(path: str | Path, *, env: Mapping[str, str] | None = None) -> DeliveryConfig:
    """Read and check the notifier file at ``path``; secrets come from ``env`` (default:
    the process environment).
    """
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        msg = f"cannot read the notifier configuration {path}: {exc.strerror or exc}"
        raise ConfigError(msg) from exc
    except yaml.YAMLError as exc:
        msg = f"{path}: not valid YAML: {exc}"
        raise ConfigError(msg) from exc
    return parse_config(data, source=str(path), env=env)


def parse_config(data: Any, *, source: str = "notifier configuration",
                 env: Mapping[str, str] | None = None) -> DeliveryConfig:
    """Check already-parsed YAML and build the configuration from it.

    Every mistake raises :class:`~newsmon.errors.ConfigError` as ``<source>: <path in the
    file>: <reason>``, e.g. ``notifiers.yaml: lists/desk/notifiers/0: 'url' is a required
    property``; the schema's problems are listed together.
    """
    env = os.environ if env is None else env
    found = problems(SCHEMA, data)
    if found:
        shown = [_URL_TAIL.sub(r"\1\2/…", line) for line in found[:MAX_PROBLEMS_SHOWN]]
        more = f"; and {len(found) - len(shown)} more" if len(found) > len(shown) else ""
        msg = f"{source}: " + "; ".join(shown) + more
        raise ConfigError(msg)
    return DeliveryConfig(lists={
        name: ListConfig(name=name, digest_minutes=spec.get("digest_minutes", 0), notifiers=tuple(
            _notifier(name, index, item, f"{source}: lists/{name}/notifiers/{index}", env)
            for index, item in enumerate(spec["notifiers"])))
        for name, spec in data["lists"].items()})


def _notifier(list_name: str, index: int, spec: Mapping[str, Any], where: str,
              env: Mapping[str, str]) -> Notifier:
    """Build one notifier from its (schema-checked) entry; its constructor checks the values."""
    kind, label = spec["type"], spec.get("name")
    where = f"{where} ({kind}{' ' + repr(label) if label else ''})"
    cls, secret_key, secret_argument = NOTIFIER_TYPES[kind]
    arguments = {key: value for key, value in spec.items() if key not in ("type", "name", secret_key)}
    try:
        notifier = cls(**arguments, **{secret_argument: _secret(spec, secret_key, env)})
    except ConfigError as exc:
        msg = f"{where}: {exc}"
        raise ConfigError(msg) from None
    base = notifier.description
    notifier.description = f"{list_name}#{index + 1} " + (f"{label.strip()} ({base})" if label else base)
    return notifier


def _secret(spec: Mapping[str, Any], key: str, env: Mapping[str, str]) -> Secret | None:
    variable = spec.get(key)
    if variable is None:
        return None
    # Upper case only, and the value is not echoed: a secret pasted here by mistake must
    # not end up in an error message.
    if not isinstance(variable, str) or not _ENV_NAME.fullmatch(variable):
        msg = (f"{key} must be the name of an environment variable (upper-case letters, digits, _), "
               "not the secret itself")
        raise ConfigError(msg)
    value = env.get(variable)
    if not value:
        msg = f"{key}: environment variable {variable} is not set"
        raise ConfigError(msg)
    return Secret(value)
