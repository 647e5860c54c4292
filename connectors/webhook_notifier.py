"""The webhook notifier: POSTs alerts as JSON or as a Slack message, signed when a secret is set.

Request headers, retries and signatures are described in ``docs/alerts-delivery.md``.
"""

from __future__ import annotations

import http.client
import json
import ssl
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.exceptions import HTTPError

from newsmon import __version__
from newsmon.analysis.alert_text import delivery_id, one_line, slack_body, stories
from newsmon.connectors.http_fetch import retry_after_seconds
from newsmon.connectors.notifiers import Notifier, PermanentFailure, TransientFailure, check_alerts
from newsmon.connectors.webhook_signing import sign
from newsmon.errors import ConfigError
from newsmon.settings import Secret

USER_AGENT = f"newsmon/{__version__}"
WEBHOOK_FORMATS = ("json", "slack")
RETRY_STATUSES = frozenset({408, 429})


def safe_url(url: str) -> str:
    """Scheme and host only: the path of a webhook URL is often a credential (Slack's is)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"


@dataclass(kw_only=True, eq=False, repr=False)
class WebhookNotifier(Notifier):
    """POSTs alerts as JSON (or a Slack message) to ``url``, signed when ``secret`` is set."""

    url: str
    secret: Secret | None = None
    format: str = "json"

    def __post_init__(self) -> None:
        super().__post_init__()
        if not isinstance(self.url, str):
            msg = f"url must be a string, got {type(self.url).__name__}"
            raise ConfigError(msg)
        parts = urlsplit(self.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            msg = f"url must be an http(s) URL, got one starting {self.url[:12]!r}"
            raise ConfigError(msg)
        try:
            parts.port  # noqa: B018 - raises on a bad port
        except ValueError as exc:
            msg = f"url {self.safe_url} has a bad port"
            raise ConfigError(msg) from exc
        if self.format not in WEBHOOK_FORMATS:
            msg = f"format must be one of {', '.join(WEBHOOK_FORMATS)}, got {self.format!r}"
            raise ConfigError(msg)
        if self.secret is not None and not isinstance(self.secret, Secret):
            msg = "secret must be a newsmon.settings.Secret"
            raise ConfigError(msg)
        if not self.description:
            self.description = f"webhook {self.safe_url}"

    @property
    def safe_url(self) -> str:
        return safe_url(self.url)

    def body(self, alerts: Sequence[Mapping[str, Any]]) -> bytes:
        if self.format == "slack":
            payload = slack_body(alerts)
        else:  # the alerts, and their stories as a digest shows them
            grouped = [{key: value for key, value in story.items() if key != "alerts"}
                       | {"alert_ids": [alert["alert_id"] for alert in story["alerts"]]}
                       for story in stories(alerts)]
            payload = {"alerts": list(alerts), "stories": grouped}
        return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")

    def deliver(self, alerts: Sequence[Mapping[str, Any]], *, attempts: int | None = None) -> None:
        alerts = check_alerts(alerts)
        body = self.body(alerts)
        ident = delivery_id(alerts)
        self._retrying(lambda: self._post(body, ident), "POST", attempts)

    def _post(self, body: bytes, ident: str) -> None:
        parts = urlsplit(self.url)
        timestamp = str(int(time.time()))  # per attempt: a retry after a long wait stays fresh
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "X-Newsmon-Timestamp": timestamp,
            "X-Newsmon-Delivery": ident,
        }
        if self.secret is not None:
            headers["X-Newsmon-Signature"] = sign(self.secret, timestamp, body)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        # A bare connection, not a pool: urllib3's pool logs request paths (the token of a
        # Slack URL) at debug level; alerts are rare enough not to need keep-alive.
        if parts.scheme == "https":
            connection = HTTPSConnection(parts.hostname, parts.port or 443, timeout=self.timeout,
                                         ssl_context=self._ssl_context())
        else:
            connection = HTTPConnection(parts.hostname, parts.port or 80, timeout=self.timeout)
        try:
            connection.request("POST", target, body=body, headers=headers)
            response = connection.getresponse()
            status = response.status
            reply = response.read(2048)
            retry_after = retry_after_seconds(response.headers.get("Retry-After"))
        except ssl.SSLCertVerificationError as exc:
            msg = f"TLS certificate of {self.safe_url} does not verify: {exc.verify_message}"
            raise PermanentFailure(msg) from None
        except (HTTPError, OSError, http.client.HTTPException) as exc:
            msg = self._scrub(f"{type(exc).__name__}: {exc}")
            raise TransientFailure(msg) from None
        finally:
            connection.close()
        if 200 <= status < 300:
            return
        reason = f"HTTP {status} {http.client.responses.get(status, '')}".rstrip()
        detail = one_line(reply.decode("utf-8", "replace"))[:200]
        if detail:
            reason += f": {self._scrub(detail)}"
        if status in RETRY_STATUSES or status >= 500:
            raise TransientFailure(reason, retry_after)
        raise PermanentFailure(reason)

    def _scrub(self, text: str) -> str:
        """Remove the URL's path and query (a credential, for Slack) from a message."""
        parts = urlsplit(self.url)
        for secret_part in (self.url, parts.path + (f"?{parts.query}" if parts.query else ""), parts.path):
            if len(secret_part) > 1:
                text = text.replace(secret_part, "/…")
        return text
