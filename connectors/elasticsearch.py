"""The official Elasticsearch client, configured from :class:`~newsmon.settings.Settings`;
index set-up behind aliases; and a bulk writer that waits out outages instead of losing
documents.
"""

from __future__ import annotations

import copy
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from elasticsearch import ApiError, BadRequestError, Elasticsearch, TransportError

from newsmon.errors import ServiceUnavailableError
from newsmon.schemas import load_index_template
from newsmon.settings import Settings, masked_url

log = logging.getLogger(__name__)
RETRYABLE_STATUS = frozenset({408, 429, 500, 502, 503, 504})
MAX_BACKOFF = 30.0
T = TypeVar("T")


def make_client(settings: Settings, **overrides: Any) -> Elasticsearch:
    options: dict[str, Any] = {"request_timeout": 30, "retry_on_timeout": True, "max_retries": 3}
    if settings.es_api_key is not None:
        options["api_key"] = settings.es_api_key.reveal()
    elif settings.es_username and settings.es_password is not None:
        options["basic_auth"] = (settings.es_username, settings.es_password.reveal())
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
    (refused, timed out, TLS failed). For commands, which stop there; a pipeline step
    waits out the outage instead (:func:`patiently`, :func:`bulk_index`).
    """
    try:
        yield
    except TransportError as exc:
        raise unreachable(settings, exc) from exc


def setup_index(client: Elasticsearch, template: str, alias: str, version: int = 1) -> str:
    """Install the index template ``schemas/elasticsearch/<template>.json`` for indices
    ``<alias>-v*`` and create ``<alias>-v<version>`` behind ``alias`` (the name writers use),
    unless the alias exists. Idempotent; returns the index the alias points to.
    """
    body = copy.deepcopy(load_index_template(template))
    body["index_patterns"] = [f"{alias}-v*"]
    body["meta"] = body.pop("_meta", None)
    client.indices.put_index_template(name=alias, **body)
    if client.indices.exists_alias(name=alias):
        return next(iter(client.indices.get_alias(name=alias)))
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


def patiently(call: Callable[[], T], *, what: str, sleep: Callable[[float], None] = time.sleep) -> T:
    """``call()``, retried with backoff capped at 30 s for as long as Elasticsearch is
    unreachable or answers 429/5xx (blocks); other errors are raised.
    """
    attempt = 0
    while True:
        try:
            return call()
        except ApiError as exc:
            if exc.meta.status not in RETRYABLE_STATUS:
                raise
            error = f"HTTP {exc.meta.status}"
        except TransportError as exc:
            if _closed(exc):
                raise
            error = f"{type(exc).__name__}: {exc}"
        attempt += 1
        delay = min(MAX_BACKOFF, 0.5 * 2 ** min(attempt, 10))
        log.warning("Elasticsearch: %s failed (%s); retrying in %.1fs (attempt %d)",
                    what, error, delay, attempt)
        sleep(delay)


def bulk_index(client: Elasticsearch, index: str, documents: list[tuple[str, dict[str, Any]]], *,
               sleep: Callable[[float], None] = time.sleep) -> list[tuple[str, str]]:
    """Index ``(id, source)`` pairs; returns ``(id, reason)`` for those Elasticsearch refused.

    Blocks while Elasticsearch is unreachable or answers 429/5xx, retrying what is left
    with exponential backoff capped at 30 s: an outage delays documents, it never loses
    them. Only a refusal that retrying cannot fix (a mapping error) is returned.
    """
    pending, refused, attempt = list(documents), [], 0
    while pending:
        operations: list[dict[str, Any]] = []
        for doc_id, source in pending:
            operations += [{"index": {"_index": index, "_id": doc_id}}, source]
        try:
            response = client.bulk(operations=operations)
        except ApiError as exc:
            if exc.meta.status not in RETRYABLE_STATUS:
                return refused + [(doc_id, f"bulk request refused: {exc}") for doc_id, _ in pending]
            response, error = None, f"HTTP {exc.meta.status}"
        except TransportError as exc:
            if _closed(exc):
                raise
            response, error = None, f"{type(exc).__name__}: {exc}"
        if response is not None:
            retry = []
            for document, item in zip(pending, response["items"], strict=True):
                result = item["index"]
                if result["status"] in RETRYABLE_STATUS:
                    retry.append(document)
                elif result["status"] >= 300:
                    reason = result.get("error", {})
                    refused.append((document[0], f"{reason.get('type')}: {reason.get('reason')}"))
            error = f"{len(retry)} documents answered 429/5xx"
            pending = retry
        if pending:
            attempt += 1
            delay = min(MAX_BACKOFF, 0.5 * 2 ** min(attempt, 10))
            log.warning("Elasticsearch index %s: %s; retrying %d documents in %.1fs (attempt %d)",
                        index, error, len(pending), delay, attempt)
            sleep(delay)
    return refused
