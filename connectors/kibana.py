"""Kibana saved objects: read newsmon's data views, searches and dashboard, and import them.

:func:`load_saved_objects` reads ``deploy/kibana/newsmon.ndjson`` (or another export) and
:func:`import_saved_objects` sends it to Kibana's saved-objects import API; credentials are
:class:`~newsmon.settings.Secret` values that go into the ``Authorization`` header only.
How to import, and what the objects show: ``docs/kibana.md``.
"""

from __future__ import annotations

import http.client
import json
import logging
import re
from collections.abc import Iterable, Mapping
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import urllib3
from urllib3.exceptions import HTTPError

from newsmon.errors import NewsmonError
from newsmon.settings import Secret

log = logging.getLogger(__name__)

IMPORT_PATH = "/api/saved_objects/_import"
NDJSON_FILENAME = "newsmon.ndjson"
SPACE_ID = re.compile(r"[a-z0-9_-]+")  # what Kibana accepts as a space identifier


class KibanaError(NewsmonError):
    """A problem with Kibana saved objects or with the Kibana that should take them."""


class SavedObjectsFileError(KibanaError):
    """A saved-objects file cannot be read: names the file and the line."""


class KibanaUnreachableError(KibanaError):
    """Kibana did not answer at the given URL (refused, timed out, TLS failed)."""


class KibanaImportError(KibanaError):
    """Kibana answered the import with an HTTP error or with ``success: false``.

    ``url`` is the import URL (never with credentials), ``status`` the HTTP status, and
    ``errors`` Kibana's list of per-object errors (``id``, ``type``, ``error.type``...).
    Survives pickling.
    """

    def __init__(self, message: str, *, url: str, status: int | None = None,
                 errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.url = url
        self.status = status
        self.errors = list(errors or [])

    def __reduce__(self):
        return _rebuild_import_error, (str(self), self.url, self.status, self.errors)


def _rebuild_import_error(message: str, url: str, status: int | None,
                          errors: list[dict[str, Any]]) -> KibanaImportError:
    return KibanaImportError(message, url=url, status=status, errors=errors)


# ---------------------------------------------------------------------------- loading


def default_saved_objects_file() -> Traversable:
    """The packaged ``deploy/kibana/newsmon.ndjson``."""
    return resources.files("newsmon.deploy") / "kibana" / NDJSON_FILENAME


def load_saved_objects(path: str | Path | Traversable | None = None) -> list[dict[str, Any]]:
    """The saved objects in an NDJSON file (default: the packaged newsmon objects), in file order.

    Blank lines and the summary line a Kibana export ends with (``exportedCount``...) are
    skipped. Raises :class:`SavedObjectsFileError` naming the file and line of anything
    that is not a JSON object.
    """
    source = default_saved_objects_file() if path is None else path
    if isinstance(source, str):
        source = Path(source)
    try:
        text = source.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        msg = f"cannot read Kibana saved objects from {source}: {exc}"
        raise SavedObjectsFileError(msg) from exc
    objects = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            msg = f"{source}, line {number}: not JSON: {exc}"
            raise SavedObjectsFileError(msg) from exc
        if not isinstance(item, dict):
            msg = f"{source}, line {number}: expected a JSON object, got {type(item).__name__}"
            raise SavedObjectsFileError(msg)
        if "exportedCount" in item and "type" not in item:
            continue
        objects.append(item)
    return objects


def to_ndjson(objects: Iterable[Mapping[str, Any]]) -> bytes:
    """The objects as NDJSON, one compact line each, as Kibana's import expects."""
    return b"".join(json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n"
                    for obj in objects)


# ---------------------------------------------------------------------------- importing
def _parse_json(text: Any) -> Any:
    try:
        return json.loads(text) if isinstance(text, str) else None
    except json.JSONDecodeError:
        return None




def import_saved_objects(url: str, objects: list[dict[str, Any]], *, username: str | None = None,
                         password: Secret | None = None, api_key: Secret | None = None,
                         space: str | None = None, verify_certs: bool = True,
                         ca_certs: str | Path | None = None, timeout: float = 30) -> dict[str, Any]:
    """Import ``objects`` into the Kibana at ``url`` (e.g. ``http://127.0.0.1:5601``),
    overwriting objects with the same ids; returns Kibana's answer
    (``{"success": true, "successCount": n, "successResults": [...]}``).

    Sends ``POST <url>[/s/<space>]/api/saved_objects/_import?overwrite=true`` (the space
    ``default`` has no prefix; a Kibana behind a base path keeps it: ``https://host/kibana``)
    with the ``kbn-xsrf`` header Kibana requires and the objects as an NDJSON file in the
    multipart field ``file``, authenticated with ``username``/``password`` (basic) or
    ``api_key`` (the encoded form, sent as ``Authorization: ApiKey …``) when given; over
    https the certificate is checked against ``ca_certs`` (or the system's CAs) unless
    ``verify_certs`` is false. Blocks for at most about ``timeout`` seconds; no retries
    (re-running is safe: the ids are fixed and existing objects are overwritten).

    Raises :class:`KibanaUnreachableError` when Kibana does not answer and
    :class:`KibanaImportError` on an HTTP error or ``success: false`` (listing each
    failed object and its error type). Messages name the URL, never the credentials.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        msg = ("Kibana URL must be an http(s) URL such as http://127.0.0.1:5601, "
               f"got {_without_userinfo(url)!r}")
        raise KibanaError(msg)
    if parts.username or parts.password:
        msg = (f"Kibana URL {_without_userinfo(url)!r} carries credentials: pass username and password "
               "(or api_key) instead")
        raise KibanaError(msg)
    if api_key is not None and (username or password is not None):
        msg = "give either api_key or username/password for Kibana, not both"
        raise KibanaError(msg)
    if bool(username) != (password is not None):
        msg = "Kibana username and password go together: give both or neither"
        raise KibanaError(msg)
    for name, secret in (("password", password), ("api_key", api_key)):
        if secret is not None and not isinstance(secret, Secret):
            msg = f"Kibana {name} must be a newsmon.settings.Secret, got {type(secret).__name__}"
            raise KibanaError(msg)
    if space is not None and not SPACE_ID.fullmatch(space):
        msg = f"Kibana space id must be lowercase letters, digits, '_' or '-', got {space!r}"
        raise KibanaError(msg)
    if isinstance(objects, Mapping) or not objects:
        msg = "objects must be a non-empty list of saved objects"
        raise KibanaError(msg)

    base = parts.path.rstrip("/") + (f"/s/{quote(space)}" if space and space != "default" else "")
    target = urlunsplit((parts.scheme, parts.netloc, base + IMPORT_PATH, "overwrite=true", ""))
    body, content_type = urllib3.encode_multipart_formdata(
        {"file": (NDJSON_FILENAME, to_ndjson(objects), "application/ndjson")})
    headers = {"kbn-xsrf": "true", "Content-Type": content_type, "Accept": "application/json"}
    if api_key is not None:
        headers["Authorization"] = f"ApiKey {api_key.reveal()}"
    elif username and password is not None:
        headers["Authorization"] = urllib3.make_headers(
            basic_auth=f"{username}:{password.reveal()}")["authorization"]
    # Scrubbed from every message, in case a proxy or Kibana echoes a header back.
    secrets = [s.reveal() for s in (password, api_key) if s is not None]
    secrets += [headers["Authorization"].split(" ", 1)[1]] if "Authorization" in headers else []

    pool_options: dict[str, Any] = {}
    if parts.scheme == "https":
        pool_options["cert_reqs"] = "CERT_REQUIRED" if verify_certs else "CERT_NONE"
        if ca_certs is not None:
            pool_options["ca_certs"] = str(ca_certs)
    log.info("Importing %d saved objects into Kibana at %s", len(objects), target)
    pool = urllib3.PoolManager(**pool_options)
    try:
        response = pool.request("POST", target, body=body, headers=headers, redirect=False, retries=False,
                                timeout=urllib3.Timeout(total=timeout), preload_content=True)
    except HTTPError as exc:
        msg = _scrub(f"Kibana is not reachable at {target}: {type(exc).__name__}: {exc}", secrets)
        raise KibanaUnreachableError(msg) from None
    finally:
        pool.clear()

    text = response.data.decode("utf-8", "replace")
    answer = _parse_json(text)
    if response.status >= 300:
        reason = f"HTTP {response.status} {http.client.responses.get(response.status, '')}".rstrip()
        if 300 <= response.status < 400:
            reason += f" to {response.headers.get('Location', '?')} (give the final Kibana URL)"
        detail = answer.get("message") if isinstance(answer, dict) else " ".join(text.split())[:300]
        if detail:
            reason += f": {detail}"
        msg = _scrub(f"Kibana refused the saved-objects import at {target}: {reason}", secrets)
        raise KibanaImportError(msg, url=target, status=response.status)
    if not isinstance(answer, dict):
        msg = f"Kibana's answer to the saved-objects import at {target} is not a JSON object: {text[:200]!r}"
        raise KibanaImportError(_scrub(msg, secrets), url=target, status=response.status)
    if answer.get("success") is not True:
        errors = [e for e in answer.get("errors") or [] if isinstance(e, dict)]
        listed = "; ".join(_describe_import_error(e) for e in errors) or "no errors listed"
        msg = (f"Kibana imported {answer.get('successCount', 0)} of {len(objects)} saved objects at "
               f"{target}; failed: {listed}")
        raise KibanaImportError(_scrub(msg, secrets), url=target, status=response.status, errors=errors)
    log.info("Kibana at %s imported %s saved objects", target, answer.get("successCount"))
    return answer


def _describe_import_error(error: Mapping[str, Any]) -> str:
    detail = error.get("error") if isinstance(error.get("error"), dict) else {}
    text = f"{error.get('type')}/{error.get('id')} ({detail.get('type', 'unknown')}"
    if detail.get("type") == "missing_references":
        missing = ", ".join(f"{r.get('type')}/{r.get('id')}" for r in detail.get("references", []))
        text += f": {missing}"
    elif detail.get("message"):
        text += f": {detail['message']}"
    return text + ")"


def _without_userinfo(url: str) -> str:
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    netloc = parts.netloc.rpartition("@")[2]
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def _scrub(text: str, secrets: list[str]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "********")
    return text

