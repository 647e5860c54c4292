"""The official Elasticsearch client, configured from :class:`~newsmon.settings.Settings`."""

from __future__ import annotations

from typing import Any

from elasticsearch import ApiError, Elasticsearch, TransportError

from newsmon.errors import ServiceUnavailableError
from newsmon.settings import Settings


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
        msg = (f"Elasticsearch is not reachable at {settings.es_url}: {exc}. "
               "Start the local node with `newsmon services up` or set NEWSMON_ES_URL.")
        raise ServiceUnavailableError(msg) from exc
    if health["status"] not in ("yellow", "green"):
        msg = f"Elasticsearch at {settings.es_url} is up but its health is {health['status']}"
        raise ServiceUnavailableError(msg)
    return dict(health)
