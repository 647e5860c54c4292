"""The official Elasticsearch client, configured from :class:`~newsmon.settings.Settings`;
index set-up behind aliases; and the one bulk writer, which waits out outages instead of
losing documents.
"""

from __future__ import annotations

import copy
import logging
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from elasticsearch import (
    ApiError,
    AuthenticationException,
    AuthorizationException,
    BadRequestError,
    Elasticsearch,
    TransportError,
    helpers,
)

from newsmon import backoff
from newsmon.errors import ServiceUnavailableError
from newsmon.schemas import load_index_template
from newsmon.settings import Secret, Settings, masked_url

log = logging.getLogger(__name__)
WAIT_STATUS = frozenset({401, 403, 408, 429, 500, 502, 503, 504})
MAX_CHUNK_BYTES = 10 * 1024 * 1024  # well under http.max_content_length (100 MiB by default)
MAX_BACKOFF = 30.0
T = TypeVar("T")


def local_credentials_file(settings: Settings) -> Path:
    """Where ``newsmon services up`` keeps the local node's generated user and password (0600)."""
    return settings.home / "elasticsearch.credentials"


def local_credentials(settings: Settings) -> tuple[str, Secret] | None:
    """The local node's user and password, when newsmon started it and no others are set."""
    if not settings.es_is_local or settings.es_api_key is not None or settings.es_username:
        return None
    try:
        text = local_credentials_file(settings).read_text(encoding="utf-8")
        user, _, password = text.strip().partition(":")
    except OSError:
        return None
    return (user, Secret(password)) if user and password else None


def make_client(settings: Settings, **overrides: Any) -> Elasticsearch:
    """A client with the settings' address, TLS and credentials (on the local node started by
    ``newsmon services up``: the user and password it generated).
    """
    options: dict[str, Any] = {"request_timeout": 30, "retry_on_timeout": True, "max_retries": 3}
    local = local_credentials(settings)
    if settings.es_api_key is not None:
        options["api_key"] = settings.es_api_key.reveal()
    elif settings.es_username and settings.es_password is not None:
        options["basic_auth"] = (settings.es_username, settings.es_password.reveal())
    elif local is not None:
        options["basic_auth"] = (local[0], local[1].reveal())
    if settings.es_url.startswith("https"):
        options["verify_certs"] = settings.es_verify_certs
        if settings.es_ca_certs is not None:
            options["ca_certs"] = str(settings.es_ca_certs)
    return Elasticsearch(settings.es_url, **(options | overrides))


def check_elasticsearch(settings: Settings, client: Elasticsearch | None = None,
                        wait_seconds: int = 5) -> dict[str, Any]:
    """Cluster health, waiting up to ``wait_seconds`` for yellow; raises when unreachable.

    The client's product check runs on this first request, so a server that is not
    Elasticsearch fails here too.
    """
    client = client or make_client(settings, max_retries=0)
    try:
        health = client.cluster.health(wait_for_status="yellow", timeout=f"{wait_seconds}s")
    except (TransportError, ApiError) as exc:
        raise unreachable(settings, exc) from exc
    if health["status"] not in ("yellow", "green"):
        msg = f"Elasticsearch at {masked_url(settings.es_url)} is up but its health is {health['status']}"
        raise ServiceUnavailableError(msg)
    return dict(health)


def unreachable(settings: Settings, exc: Exception) -> ServiceUnavailableError:
    return ServiceUnavailableError(
        f"Elasticsearch is not reachable at {masked_url(settings.es_url)}: {exc}. "
        "Start the local node with `newsmon services up` or set NEWSMON_ES_URL.")


@contextmanager
def reporting_unreachable(settings: Settings) -> Iterator[None]:
    """Raise :class:`ServiceUnavailableError` for a request in the block that got no answer
    (refused, timed out, TLS failed) or whose credentials were refused. For commands, which
    stop there; a pipeline step waits out the outage instead (:func:`patiently`,
    :func:`write_documents`).
    """
    try:
        yield
    except TransportError as exc:
        raise unreachable(settings, exc) from exc
    except (AuthenticationException, AuthorizationException) as exc:
        msg = (f"Elasticsearch at {masked_url(settings.es_url)} refused newsmon's credentials "
               f"(HTTP {exc.meta.status}): set NEWSMON_ES_API_KEY or "
               f"NEWSMON_ES_USERNAME/NEWSMON_ES_PASSWORD; "
               f"the local node's are in {local_credentials_file(settings)}")
        raise ServiceUnavailableError(msg) from exc


def setup_index(client: Elasticsearch, template: str, alias: str, version: int = 1) -> str:
    """Install the index template ``schemas/elasticsearch/<template>.json`` for indices
    ``<alias>-v*`` and create ``<alias>-v<version>`` behind ``alias`` (the name writers use),
    unless the alias exists. Idempotent; returns the index the alias points to.

    When the alias exists, fields the template added since its index was made are added to
    that index's mapping in place (a strict mapping refuses documents with unmapped fields);
    a change Elasticsearch cannot make in place needs ``newsmon es migrate``.
    """
    body = copy.deepcopy(load_index_template(template))
    body["index_patterns"] = [f"{alias}-v*"]
    body["meta"] = body.pop("_meta", None)
    client.indices.put_index_template(name=alias, **body)
    if client.indices.exists_alias(name=alias):
        current = next(iter(client.indices.get_alias(name=alias)))
        mappings = body.get("template", {}).get("mappings", {})
        if mappings.get("properties"):
            try:
                client.indices.put_mapping(index=current, properties=mappings["properties"])
            except BadRequestError:
                pass  # a changed field type: `newsmon es migrate` makes a new index for it
        return current
    index = f"{alias}-v{version}"
    try:
        client.indices.create(index=index, aliases={alias: {"is_write_index": True}})
    except BadRequestError as exc:
        if exc.error != "resource_already_exists_exception":
            raise
    return index


def drop_index(client: Elasticsearch, alias: str) -> None:
    """Undo :func:`setup_index`: delete the ``<alias>-v*`` indices behind ``alias`` and its template."""
    for index in client.options(ignore_status=404).indices.get_alias(name=alias).body:
        if isinstance(index, str) and index.startswith(f"{alias}-v"):
            client.indices.delete(index=index, ignore_unavailable=True)
    client.options(ignore_status=404).indices.delete_index_template(name=alias)


def _closed(exc: TransportError) -> bool:
    """The client itself was closed (its worker is shutting down): waiting cannot help."""
    return "Pool is closed" in str(exc)


def worth_waiting(error: BaseException) -> bool:
    """Whether waiting can fix ``error``: Elasticsearch unreachable, overloaded (429/5xx), or
    refusing newsmon's credentials (401/403: an operator fixes the key, nothing is lost meanwhile).
    """
    if isinstance(error, ApiError):
        return error.meta.status in WAIT_STATUS
    return isinstance(error, TransportError) and not _closed(error)


def patiently(call: Callable[[], T], *, what: str) -> T:
    """``call()``, retried with backoff capped at 30 s for as long as :func:`worth_waiting`
    says so (it blocks); other errors are raised.
    """
    return backoff.patiently(call, what=f"Elasticsearch: {what}", retry_if=worth_waiting, base=0.5,
                             cap=MAX_BACKOFF, log=log)


@dataclass(frozen=True)
class Refusal:
    """A document Elasticsearch refused for good: its id, the HTTP status and the reason."""

    doc_id: str
    status: int
    reason: str


def write_documents(client: Elasticsearch, index: str, documents: Iterable[tuple[str, dict[str, Any]]], *,
                    op_type: str = "index", max_chunk_bytes: int = MAX_CHUNK_BYTES,
                    sleep: Callable[[float], None] = time.sleep) -> list[Refusal]:
    """Write ``(id, source)`` pairs with ``helpers.streaming_bulk``; returns what was refused for good.

    Blocks while :func:`worth_waiting` (outage, overload, credentials), retrying only what is
    left, with the one backoff policy: an outage delays documents, it never loses them. A
    request over the server's size limit (413) is split into one request per document, and
    only a document too large on its own is refused. Refusals that retrying cannot fix (a
    mapping error, a 409 on ``create``) are returned.
    """
    pending = dict(documents)
    refused: list[Refusal] = []
    attempt, alone = 0, False
    while pending:
        retry: dict[str, dict[str, Any]] = {}
        done: set[str] = set()
        error, too_large = None, False
        actions = ({"_op_type": op_type, "_index": index, "_id": doc_id, "_source": source}
                   for doc_id, source in pending.items())
        try:
            for ok, item in helpers.streaming_bulk(
                    client, actions, chunk_size=1 if alone else 500, max_chunk_bytes=max_chunk_bytes,
                    raise_on_error=False, raise_on_exception=False, max_retries=0):
                result = item[op_type]
                doc_id, status = result["_id"], result.get("status", 0)
                done.add(doc_id)
                if ok:
                    continue
                if status == 413 and not alone:
                    retry[doc_id], too_large = pending[doc_id], True
                elif status in WAIT_STATUS:
                    retry[doc_id], error = pending[doc_id], f"HTTP {status}"
                else:
                    reason = result.get("error")
                    if isinstance(reason, dict):
                        reason = f"{reason.get('type')}: {reason.get('reason')}"
                    refused.append(Refusal(doc_id, status, str(reason)[:2000]))
        except TransportError as exc:
            if _closed(exc):
                raise
            error = f"{type(exc).__name__}: {exc}"
            retry |= {doc_id: source for doc_id, source in pending.items() if doc_id not in done}
        alone = alone or too_large
        pending = retry
        if error is not None:
            attempt += 1
            delay = backoff.delay(attempt, base=0.5, cap=MAX_BACKOFF)
            log.warning("Elasticsearch index %s: %s; retrying %d documents in %.1fs (attempt %d)",
                        index, error, len(pending), delay, attempt)
            sleep(delay)
    return refused
