"""Alert notifiers: send watch-list alerts to people by webhook or e-mail, configured per list.

A notifier's :meth:`~Notifier.deliver` sends one message for a list of alerts (one alert,
or a digest of several) and either returns, or raises :class:`DeliveryError` once it has
given up. Transient failures are retried with capped exponential backoff (the sleeping
function is injectable); a notifier that has just given up tries each following message
only once until one gets through, so a dead endpoint costs one attempt per message, not
a full round of retries, and cannot hold up the delivery loop for long. Delivery runs
outside the Beam pipeline (``newsmon.connectors.alert_delivery``), so it never blocks it.

Configuration
-------------
A YAML file, loaded and checked by :func:`load_config`::

    lists:
      belarus-watch:                     # the alert's ``list``; "*" applies to every list
        digest_minutes: 0                # 0: one message per alert; N > 0: at most one
                                         # message per N minutes for this list (a digest)
        notifiers:
          - type: webhook
            name: analysts-hook          # optional; shown in logs and delivery records
            url: https://hooks.example.com/newsmon
            secret_env: NEWSMON_WEBHOOK_SECRET   # optional: signs every request
            format: json                 # json (default) | slack
            timeout: 10                  # seconds per attempt (default 10)
            attempts: 4                  # tries before giving up (default 4)
            ca_file: /etc/ssl/internal-ca.pem    # optional CA bundle for https
          - type: email
            host: smtp.example.com
            port: 587                    # default: 587 starttls, 465 ssl, 25 none
            security: starttls           # starttls (default) | ssl | none
            username: newsmon            # optional; goes with password_env
            password_env: NEWSMON_SMTP_PASSWORD
            sender: "newsmon <alerts@example.com>"
            recipients: [analyst@example.com]
            timeout: 30
            attempts: 4
            ca_file: ...                 # optional CA bundle for the server's certificate

Secrets are never written in the file: ``secret_env`` and ``password_env`` name
environment variables, read when the file is loaded (an unset or empty variable is an
error) and held in :class:`~newsmon.settings.Secret`. A password is refused with
``security: none`` unless the server is on the loopback interface. Every mistake (an
unknown key, a missing url, a bad ``security`` value, an unset variable...) raises
:class:`~newsmon.errors.ConfigError` naming the file, the list and the notifier.

Webhook requests
----------------
``POST`` to the URL with ``Content-Type: application/json``, ``User-Agent: newsmon/<version>``,
``X-Newsmon-Timestamp`` (unix seconds), ``X-Newsmon-Delivery`` (the alert id, or a hash of
a digest's alert ids: the same for every retry, so a receiver can drop repeats) and, when
a secret is configured, ``X-Newsmon-Signature: sha256=<hex>``. The body is
``{"alerts": [<alert>, ...]}`` (each alert as in ``schemas/alert.schema.json``), or with
``format: slack`` a Slack-compatible ``{"text": ..., "blocks": [...]}``.

2xx is success. Connection errors, timeouts, 408, 429 and 5xx are retried (``Retry-After``
is honoured; one longer than :data:`MAX_RETRY_AFTER` ends the delivery); any other status
(including redirects: configure the final URL) fails at once.

Verifying a signature (receivers)
---------------------------------
The signature is the hex HMAC-SHA256, keyed with the secret (UTF-8), of the ASCII
timestamp, a dot, and the raw body bytes exactly as received::

    expected = hmac.new(secret, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    ok = hmac.compare_digest("sha256=" + expected, request.headers["X-Newsmon-Signature"])

Compare in constant time, and reject timestamps more than a few minutes away from your
clock so a captured request cannot be replayed later (each retry is signed afresh with a
new timestamp). :func:`verify_signature` does all of this.

E-mail
------
One message per delivery with a plain-text body and an HTML alternative; the subject
names the person and the story (``newsmon: Ihar Losik named in 'Belarus frees 52
prisoners…'``) or counts a digest (``newsmon digest: 5 alerts for belarus-watch``). The
``Message-ID`` derives from the alert id(s), so a resent alert is recognisable as the
same message. SMTP 4xx replies and connection failures are retried, 5xx replies fail at
once; recipients the server refused temporarily are retried alone.

Nothing here logs secrets; webhook URLs (a Slack webhook URL is itself a credential) are
shown as scheme and host only.
"""

from __future__ import annotations

import hashlib
import hmac
import html
import http.client
import json
import logging
import os
import re
import smtplib
import ssl
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, parseaddr
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.exceptions import HTTPError

from newsmon import __version__
from newsmon.connectors.http_fetch import retry_after_seconds
from newsmon.errors import ConfigError, NewsmonError
from newsmon.settings import LOOPBACK_HOSTS, Secret

log = logging.getLogger(__name__)

USER_AGENT = f"newsmon/{__version__}"
WILDCARD_LIST = "*"
DEFAULT_TIMEOUT = 10.0
DEFAULT_ATTEMPTS = 4
BACKOFF_BASE = 1.0  # seconds before the first retry; doubled per attempt
BACKOFF_CAP = 30.0  # longest wait between two attempts
MAX_RETRY_AFTER = 120.0  # a server asking for a longer pause ends the delivery instead
SIGNATURE_TOLERANCE = 300.0  # seconds a signed request stays acceptable (verify_signature)
WEBHOOK_FORMATS = ("json", "slack")
SMTP_SECURITY = ("starttls", "ssl", "none")
SMTP_PORTS = {"starttls": 587, "ssl": 465, "none": 25}
RETRY_STATUSES = frozenset({408, 429})
SLACK_MAX_BLOCKS = 50
SLACK_TEXT_MAX = 2900  # Slack's limit for a section's text is 3000 characters
_ADDRESS = re.compile(r"[^@\s<>,;\"]+@[^@\s<>,;\"]+")
_ENV_NAME = re.compile(r"[A-Z_][A-Z0-9_]*")


class DeliveryError(NewsmonError):
    """A notifier gave up on a message: which notifier, after how many attempts, and why.

    ``permanent`` is true when retrying would not help (a 4xx answer, an SMTP 5xx reply,
    a certificate that does not verify). Survives pickling.
    """

    def __init__(self, notifier: str, attempts: int, reason: str, permanent: bool = False) -> None:
        self.notifier = notifier
        self.attempts = attempts
        self.reason = reason
        self.permanent = permanent
        super().__init__(f"{notifier}: gave up after {attempts} attempt(s): {reason}")

    def __reduce__(self):
        return type(self), (self.notifier, self.attempts, self.reason, self.permanent)


class _Retry(Exception):
    """One attempt failed in a way that may pass."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


class _GiveUp(Exception):
    """One attempt failed in a way that retrying will not fix."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def backoff_delay(attempt: int, retry_after: float | None = None, *,
                  base: float = BACKOFF_BASE, cap: float = BACKOFF_CAP) -> float:
    """Seconds to wait after failed attempt number ``attempt`` (1-based): ``base`` doubled
    per attempt up to ``cap``, and never less than the server's ``Retry-After``.
    """
    delay = min(cap, base * 2 ** (attempt - 1))
    return max(delay, retry_after) if retry_after is not None else delay


# -- message content ----------------------------------------------------------------------------


def delivery_id(alerts: Sequence[Mapping[str, Any]]) -> str:
    """The alert id of a single alert; for a digest, a hash of its sorted alert ids."""
    ids = sorted(alert["alert_id"] for alert in alerts)
    if len(ids) == 1:
        return ids[0]
    return "digest-" + hashlib.sha256("\n".join(ids).encode()).hexdigest()[:32]


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _shorten(text: str, limit: int) -> str:
    text = _one_line(text)
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"


def _lists_of(alerts: Sequence[Mapping[str, Any]]) -> str:
    return ", ".join(dict.fromkeys(alert["list"] for alert in alerts))


def subject(alerts: Sequence[Mapping[str, Any]]) -> str:
    """``newsmon: <person> named in '<title>'``, or ``newsmon digest: N alerts for <list>``."""
    if len(alerts) == 1:
        alert = alerts[0]
        return f"newsmon: {_shorten(alert['person'], 80)} named in '{_shorten(alert['title'], 80)}'"
    return f"newsmon digest: {len(alerts)} alerts for {_shorten(_lists_of(alerts), 120)}"


def plain_text(alerts: Sequence[Mapping[str, Any]]) -> str:
    """The e-mail body: every alert with person, matched forms, story, link, topics, evidence."""
    parts = []
    if len(alerts) > 1:
        parts.append(f"{len(alerts)} alerts for {_lists_of(alerts)}.\n")
    for number, alert in enumerate(alerts, 1):
        heading = f"{number}. " if len(alerts) > 1 else ""
        lines = [
            f"{heading}{alert['person']} named in: {_one_line(alert['title'])}",
            f"  Source:     {alert['source_name']}, published {alert['published_at']}",
            f"  Link:       {alert['url'] or '(no link)'}",
            f"  Matched as: {', '.join(alert['matched_forms'])}",
            f"  Topics:     {', '.join(alert['topics']) or '(none)'}",
            f"  Watch list: {alert['list']}  (confidence {alert['confidence']:.2f})",
            "  Evidence:",
            *(f"    > {_one_line(sentence)}" for sentence in alert["evidence"]),
            f"  Alert {alert['alert_id']}, raised {alert['alert_time']}",
            "",
        ]
        parts.append("\n".join(lines))
    parts.append("-- \nSent by newsmon. Alerts are configured per watch list in the notifier file.\n")
    return "\n".join(parts)


def html_text(alerts: Sequence[Mapping[str, Any]]) -> str:
    """The HTML alternative of :func:`plain_text`."""
    esc = html.escape
    items = []
    for alert in alerts:
        title = esc(_one_line(alert["title"]))
        link = f'<a href="{esc(_link(alert))}">{title}</a>' if _link(alert) else title
        evidence = "".join(f"<blockquote>{esc(_one_line(s))}</blockquote>" for s in alert["evidence"])
        items.append(
            f"<h3>{esc(alert['person'])} named in {link}</h3>"
            f"<p>{esc(alert['source_name'])}, published {esc(alert['published_at'])}<br>"
            f"Matched as: {esc(', '.join(alert['matched_forms']))}<br>"
            f"Topics: {esc(', '.join(alert['topics']) or '(none)')}<br>"
            f"Watch list: {esc(alert['list'])} (confidence {alert['confidence']:.2f})</p>"
            f"{evidence}<p><small>Alert {esc(alert['alert_id'])}, "
            f"raised {esc(alert['alert_time'])}</small></p>"
        )
    heading = f"<p>{len(alerts)} alerts for {esc(_lists_of(alerts))}.</p>" if len(alerts) > 1 else ""
    return f"<html><body>{heading}{'<hr>'.join(items)}</body></html>"


def _mrkdwn(text: str) -> str:
    """Text safe inside Slack mrkdwn: &, < and > are control characters there."""
    return _one_line(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _link(alert: Mapping[str, Any]) -> str | None:
    """The alert's URL when it is an http(s) one (the schema says so; a caller may not have checked)."""
    url = alert.get("url")
    return url if isinstance(url, str) and url.lower().startswith(("http://", "https://")) else None


def _slack_link(alert: Mapping[str, Any]) -> str:
    title = _mrkdwn(_shorten(alert["title"], 300)).replace("|", "¦")
    url = _link(alert)
    if url is None:
        return title
    url = url.replace("|", "%7C").replace("<", "%3C").replace(">", "%3E").replace(" ", "%20")
    return f"<{url}|{title}>"


def slack_body(alerts: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """A Slack-compatible message: ``text`` (the notification) and ``blocks`` with person,
    matched forms, evidence, topics and link per alert (a digest shows as many alerts as
    Slack's 50 blocks allow and counts the rest).
    """
    if len(alerts) == 1:
        alert = alerts[0]
        evidence = "\n".join(f"> {_mrkdwn(s)}" for s in alert["evidence"])
        matched = _mrkdwn(", ".join(alert["matched_forms"]))[:1900]
        topics = (_mrkdwn(", ".join(alert["topics"])) or "none")[:1900]
        blocks: list[dict[str, Any]] = [
            {"type": "header", "text": {"type": "plain_text",
                                        "text": _shorten(f"{alert['person']} named in the news", 150)}},
            {"type": "section", "text": {"type": "mrkdwn", "text": (
                f"*{_slack_link(alert)}*\n{_mrkdwn(alert['source_name'])} · {alert['published_at']}")}},
            {"type": "section", "fields": [
                {"type": "mrkdwn", "text": f"*Person*\n{_mrkdwn(alert['person'])}"},
                {"type": "mrkdwn", "text": f"*Matched as*\n{matched}"},
                {"type": "mrkdwn", "text": f"*Topics*\n{topics}"},
                {"type": "mrkdwn", "text": f"*Watch list*\n{_mrkdwn(alert['list'])}"},
            ]},
            {"type": "section", "text": {"type": "mrkdwn", "text": _shorten(evidence, SLACK_TEXT_MAX)}},
            {"type": "context", "elements": [{"type": "mrkdwn", "text": (
                f"alert {alert['alert_id']} · confidence {alert['confidence']:.2f}")}]},
        ]
        return {"text": subject(alerts), "blocks": blocks}
    blocks = [{"type": "header", "text": {"type": "plain_text", "text": _shorten(subject(alerts), 150)}}]
    room = SLACK_MAX_BLOCKS - 2  # the header, and a context block counting what did not fit
    shown = alerts[: room // 2]
    for alert in shown:
        evidence = _mrkdwn(_shorten(alert["evidence"][0], 500))
        topics = _mrkdwn(", ".join(alert["topics"])) or "none"
        text = (f"*{_mrkdwn(alert['person'])}* (as {_mrkdwn(', '.join(alert['matched_forms']))}) in "
                f"{_slack_link(alert)}\n{_mrkdwn(alert['source_name'])} · topics: {topics}\n> {evidence}")
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": _shorten(text, SLACK_TEXT_MAX)}})
        blocks.append({"type": "divider"})
    if len(alerts) > len(shown):
        blocks.append({"type": "context", "elements": [
            {"type": "mrkdwn", "text": f"…and {len(alerts) - len(shown)} more alerts"}]})
    return {"text": subject(alerts), "blocks": blocks}


def sign(secret: Secret | str | bytes, timestamp: str, body: bytes) -> str:
    """The ``X-Newsmon-Signature`` value: ``sha256=`` and the hex HMAC-SHA256 of
    ``<timestamp>.<body>`` keyed with the secret.
    """
    mac = hmac.new(_key(secret), timestamp.encode("ascii") + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify_signature(secret: Secret | str | bytes, timestamp: str | None, body: bytes, header: str | None,
                     *, tolerance: float | None = SIGNATURE_TOLERANCE, now: float | None = None) -> bool:
    """For receivers: true when ``header`` (``X-Newsmon-Signature``) signs ``body`` with
    ``timestamp`` (``X-Newsmon-Timestamp``) under ``secret``, and the timestamp is within
    ``tolerance`` seconds of ``now`` (default: the clock; ``tolerance=None`` skips the check).
    """
    if not timestamp or not header or not timestamp.isascii() or not timestamp.isdigit():
        return False
    if tolerance is not None and abs((time.time() if now is None else now) - int(timestamp)) > tolerance:
        return False
    expected = sign(secret, timestamp, body).encode()
    return hmac.compare_digest(expected, header.strip().encode("utf-8", "replace"))


def _key(secret: Secret | str | bytes) -> bytes:
    if isinstance(secret, Secret):
        secret = secret.reveal()
    return secret.encode("utf-8") if isinstance(secret, str) else secret


def _check_alerts(alerts: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    if isinstance(alerts, Mapping):
        msg = "deliver() takes a list of alerts, got a single alert (a dict): wrap it in a list"
        raise TypeError(msg)
    alerts = list(alerts)
    if not alerts:
        msg = "deliver() needs at least one alert"
        raise ValueError(msg)
    return alerts


# -- notifiers -------------------------------------------------------------------------------------


@dataclass(kw_only=True, eq=False, repr=False)
class Notifier:
    """Common part of the notifiers: description, limits, and the retry loop."""

    description: str = ""
    timeout: float = DEFAULT_TIMEOUT
    attempts: int = DEFAULT_ATTEMPTS
    ca_file: Path | None = None
    sleep: Callable[[float], None] = time.sleep
    _failing: bool = field(default=False, init=False)

    def __post_init__(self) -> None:
        if isinstance(self.timeout, bool) or not isinstance(self.timeout, int | float) or self.timeout <= 0:
            msg = f"timeout must be a positive number of seconds, got {self.timeout!r}"
            raise ConfigError(msg)
        attempts = self.attempts
        if isinstance(attempts, bool) or not isinstance(attempts, int) or not 1 <= attempts <= 20:
            msg = f"attempts must be a whole number from 1 to 20, got {self.attempts!r}"
            raise ConfigError(msg)
        if self.ca_file is not None:
            self.ca_file = Path(self.ca_file)
            if not self.ca_file.is_file():
                msg = f"ca_file {str(self.ca_file)!r} is not a readable file"
                raise ConfigError(msg)
            try:
                self._ssl_context()
            except (ssl.SSLError, OSError) as exc:
                msg = f"ca_file {str(self.ca_file)!r} holds no usable CA certificate: {exc}"
                raise ConfigError(msg) from None

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.description!r})"

    __str__ = __repr__

    def deliver(self, alerts: Sequence[Mapping[str, Any]]) -> None:
        """Send one message for ``alerts`` (one alert, or a digest); blocks while retrying.

        Raises :class:`DeliveryError` when it gives up.
        """
        raise NotImplementedError

    def _ssl_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context()
        if self.ca_file is not None:
            context.load_verify_locations(cafile=str(self.ca_file))
        return context

    def _retrying(self, attempt: Callable[[], None], what: str) -> None:
        # After a give-up, one try per message until one succeeds: a dead endpoint must not
        # cost every following alert a full round of retries.
        allowed = 1 if self._failing else self.attempts
        for number in range(1, allowed + 1):
            try:
                attempt()
            except _GiveUp as exc:
                raise DeliveryError(self.description, number, exc.reason, permanent=True) from None
            except _Retry as exc:
                if exc.retry_after is not None and exc.retry_after > MAX_RETRY_AFTER:
                    self._failing = True
                    reason = f"{exc.reason} (the server asks to wait {exc.retry_after:.0f} s)"
                    raise DeliveryError(self.description, number, reason) from None
                if number == allowed:
                    self._failing = True
                    raise DeliveryError(self.description, number, exc.reason) from None
                delay = backoff_delay(number, exc.retry_after)
                log.info("%s: %s attempt %d/%d failed (%s); retrying in %.1f s",
                         self.description, what, number, allowed, exc.reason, delay)
                self.sleep(delay)
            else:
                self._failing = False
                return


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
        """Scheme and host only: the path of a webhook URL is often a credential."""
        parts = urlsplit(self.url)
        return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"

    def body(self, alerts: Sequence[Mapping[str, Any]]) -> bytes:
        payload = slack_body(alerts) if self.format == "slack" else {"alerts": list(alerts)}
        return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")

    def deliver(self, alerts: Sequence[Mapping[str, Any]]) -> None:
        alerts = _check_alerts(alerts)
        body = self.body(alerts)
        ident = delivery_id(alerts)
        self._retrying(lambda: self._post(body, ident), "POST")

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
            raise _GiveUp(msg) from None
        except (HTTPError, OSError, http.client.HTTPException) as exc:
            msg = self._scrub(f"{type(exc).__name__}: {exc}")
            raise _Retry(msg) from None
        finally:
            connection.close()
        if 200 <= status < 300:
            return
        reason = f"HTTP {status} {http.client.responses.get(status, '')}".rstrip()
        detail = _one_line(reply.decode("utf-8", "replace"))[:200]
        if detail:
            reason += f": {self._scrub(detail)}"
        if status in RETRY_STATUSES or status >= 500:
            raise _Retry(reason, retry_after)
        raise _GiveUp(reason)

    def _scrub(self, text: str) -> str:
        """Remove the URL's path and query (a credential, for Slack) from a message."""
        parts = urlsplit(self.url)
        for secret_part in (self.url, parts.path + (f"?{parts.query}" if parts.query else ""), parts.path):
            if len(secret_part) > 1:
                text = text.replace(secret_part, "/…")
        return text


@dataclass(kw_only=True, eq=False, repr=False)
class EmailNotifier(Notifier):
    """Sends alerts by SMTP with STARTTLS, implicit TLS (``ssl``) or none, optionally logging in."""

    host: str
    sender: str
    recipients: tuple[str, ...]
    port: int | None = None
    security: str = "starttls"
    username: str | None = None
    password: Secret | None = None
    timeout: float = 30.0

    def __post_init__(self) -> None:
        super().__post_init__()
        if not isinstance(self.host, str) or not self.host.strip() or any(c.isspace() for c in self.host):
            msg = f"host must be a host name, got {self.host!r}"
            raise ConfigError(msg)
        if self.security not in SMTP_SECURITY:
            msg = f"security must be one of {', '.join(SMTP_SECURITY)}, got {self.security!r}"
            raise ConfigError(msg)
        if self.port is None:
            self.port = SMTP_PORTS[self.security]
        if isinstance(self.port, bool) or not isinstance(self.port, int) or not 0 < self.port < 65536:
            msg = f"port must be a number from 1 to 65535, got {self.port!r}"
            raise ConfigError(msg)
        if not isinstance(self.sender, str) or not _ADDRESS.fullmatch(parseaddr(self.sender)[1]):
            msg = f"sender must be an e-mail address, got {self.sender!r}"
            raise ConfigError(msg)
        if isinstance(self.recipients, str):
            msg = f"recipients must be a list, got a string {self.recipients!r}"
            raise ConfigError(msg)
        if not isinstance(self.recipients, list | tuple) or not self.recipients:
            msg = f"recipients must be a non-empty list of e-mail addresses, got {self.recipients!r}"
            raise ConfigError(msg)
        self.recipients = tuple(self.recipients)
        for address in self.recipients:
            if not isinstance(address, str) or not _ADDRESS.fullmatch(address):
                msg = f"recipient {address!r} is not a plain e-mail address (name@domain)"
                raise ConfigError(msg)
        if (self.username is None) != (self.password is None):
            msg = "username and password_env go together: give both or neither"
            raise ConfigError(msg)
        if self.password is not None and not isinstance(self.password, Secret):
            msg = "password must be a newsmon.settings.Secret"
            raise ConfigError(msg)
        if self.password is not None and self.security == "none" and self.host not in LOOPBACK_HOSTS:
            msg = (f"security none would send the password in clear text to {self.host}: "
                   "use starttls or ssl")
            raise ConfigError(msg)
        if not self.description:
            self.description = f"email {self.host}:{self.port}"

    @property
    def envelope_sender(self) -> str:
        return parseaddr(self.sender)[1]

    def message(self, alerts: Sequence[Mapping[str, Any]]) -> EmailMessage:
        """The e-mail for ``alerts``; its Message-ID derives from the alert id(s)."""
        alerts = _check_alerts(alerts)
        message = EmailMessage()
        message["Subject"] = subject(alerts)
        message["From"] = self.sender
        message["To"] = ", ".join(self.recipients)
        message["Date"] = formatdate(usegmt=True)
        domain = self.envelope_sender.rpartition("@")[2]
        message["Message-ID"] = f"<newsmon.{delivery_id(alerts)}@{domain}>"
        message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies, please
        message["X-Newsmon-Lists"] = _lists_of(alerts)
        message["X-Newsmon-Alerts"] = " ".join(alert["alert_id"] for alert in alerts[:50])
        # quoted-printable keeps the message 7-bit: smtplib would send 8-bit text as it is
        # even to a server that does not announce 8BITMIME.
        message.set_content(plain_text(alerts), cte="quoted-printable")
        message.add_alternative(html_text(alerts), subtype="html", cte="quoted-printable")
        return message

    def deliver(self, alerts: Sequence[Mapping[str, Any]]) -> None:
        message = self.message(alerts)
        remaining = list(self.recipients)  # narrowed to the temporarily refused ones on a retry
        self._retrying(lambda: self._send(message, remaining), "SMTP")

    def _send(self, message: EmailMessage, recipients: list[str]) -> None:
        """Send to ``recipients``; on a partial refusal, leaves in it those to try again."""
        try:
            refused = self._session(message, recipients)
        except smtplib.SMTPRecipientsRefused as exc:
            refused = exc.recipients
            if not refused:  # pragma: no cover - smtplib always names them
                msg = "every recipient refused"
                raise _Retry(msg) from None
        except smtplib.SMTPResponseException as exc:
            reason = f"SMTP {exc.smtp_code} {_smtp_text(exc.smtp_error)}"
            if 400 <= exc.smtp_code < 500:
                raise _Retry(reason) from None
            raise _GiveUp(reason) from None
        except smtplib.SMTPNotSupportedError as exc:
            msg = f"{self.host}: {exc}"
            raise _GiveUp(msg) from None
        except smtplib.SMTPServerDisconnected as exc:
            msg = f"server disconnected: {exc}"
            raise _Retry(msg) from None
        except ssl.SSLCertVerificationError as exc:
            msg = f"TLS certificate of {self.host} does not verify: {exc.verify_message}"
            raise _GiveUp(msg) from None
        except OSError as exc:  # refused, unreachable, timed out, TLS failures
            msg = f"{type(exc).__name__}: {exc}"
            raise _Retry(msg) from None
        except smtplib.SMTPException as exc:  # e.g. no authentication method in common
            msg = f"{type(exc).__name__}: {exc}"
            raise _GiveUp(msg) from None
        if not refused:
            return
        transient = [addr for addr, (code, _) in refused.items() if 400 <= code < 500]
        reasons = "; ".join(f"{addr}: {code} {_smtp_text(text)}" for addr, (code, text) in refused.items())
        if len(transient) < len(refused):
            msg = f"recipients refused: {reasons}"
            raise _GiveUp(msg)
        # Only the temporarily refused recipients are tried again: the others have it.
        recipients[:] = transient
        msg = f"recipients refused for now: {reasons}"
        raise _Retry(msg)

    def _session(self, message: EmailMessage, recipients: list[str]) -> dict[str, tuple[int, bytes]]:
        if self.security == "ssl":
            client = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=self._ssl_context())
        else:
            client = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        try:
            client.ehlo()
            if self.security == "starttls":
                client.starttls(context=self._ssl_context())
                client.ehlo()
            if self.username is not None and self.password is not None:
                client.login(self.username, self.password.reveal())
            refused = client.send_message(message, from_addr=self.envelope_sender, to_addrs=recipients)
        finally:
            _quit(client)
        return refused


def _quit(client: smtplib.SMTP) -> None:
    # Not ``with client``: its exit raises when QUIT is answered oddly, which would turn a
    # message the server already accepted into a failure (and a resend).
    try:
        client.quit()
    except (smtplib.SMTPException, OSError):
        pass
    finally:
        client.close()


def _smtp_text(text: bytes | str) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return _shorten(text, 300)


# -- configuration -----------------------------------------------------------------------------------


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


_COMMON_KEYS = {"type", "name", "timeout", "attempts", "ca_file"}
_KEYS = {
    "webhook": _COMMON_KEYS | {"url", "secret_env", "format"},
    "email": _COMMON_KEYS | {"host", "port", "security", "username", "password_env", "sender", "recipients"},
}


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
    """Check and build a configuration from already-parsed YAML (see the module docstring)."""
    env = os.environ if env is None else env
    if not isinstance(data, Mapping):
        msg = f"{source}: expected a mapping with a 'lists' key, got {type(data).__name__}"
        raise ConfigError(msg)
    unknown = set(data) - {"lists"}
    if unknown:
        msg = f"{source}: unknown top-level key(s) {_names(unknown)}; expected 'lists'"
        raise ConfigError(msg)
    lists = data.get("lists")
    if not isinstance(lists, Mapping) or not lists:
        msg = f"{source}: 'lists' must map watch-list names to their notifiers"
        raise ConfigError(msg)
    built = {}
    for name, spec in lists.items():
        if not isinstance(name, str) or not name or len(name) > 200:
            msg = f"{source}: list name must be a non-empty string of at most 200 characters, got {name!r}"
            raise ConfigError(msg)
        built[name] = _parse_list(name, spec, f"{source}: list {name!r}", env)
    return DeliveryConfig(lists=built)


def _parse_list(name: str, spec: Any, where: str, env: Mapping[str, str]) -> ListConfig:
    if not isinstance(spec, Mapping):
        msg = f"{where}: expected a mapping with 'notifiers' (and optionally 'digest_minutes')"
        raise ConfigError(msg)
    unknown = set(spec) - {"notifiers", "digest_minutes"}
    if unknown:
        msg = f"{where}: unknown key(s) {_names(unknown)}"
        raise ConfigError(msg)
    digest = spec.get("digest_minutes", 0)
    if isinstance(digest, bool) or not isinstance(digest, int | float) or digest < 0 or digest > 7 * 24 * 60:
        msg = f"{where}: digest_minutes must be a number of minutes from 0 to 10080, got {digest!r}"
        raise ConfigError(msg)
    notifiers = spec.get("notifiers")
    if isinstance(notifiers, Mapping):
        msg = f"{where}: notifiers must be a list, got a single mapping (put a '-' before it)"
        raise ConfigError(msg)
    if not isinstance(notifiers, list) or not notifiers:
        msg = f"{where}: notifiers must be a non-empty list"
        raise ConfigError(msg)
    built = tuple(_parse_notifier(name, number, item, f"{where}, notifier #{number}", env)
                  for number, item in enumerate(notifiers, 1))
    return ListConfig(name=name, notifiers=built, digest_minutes=digest)


def _parse_notifier(list_name: str, number: int, spec: Any, where: str, env: Mapping[str, str]) -> Notifier:
    if not isinstance(spec, Mapping):
        msg = f"{where}: expected a mapping with a 'type', got {type(spec).__name__}"
        raise ConfigError(msg)
    kind = spec.get("type")
    if kind not in _KEYS:
        msg = f"{where}: type must be one of {', '.join(_KEYS)}, got {kind!r}"
        raise ConfigError(msg)
    where = f"{where} ({kind}{' ' + repr(spec['name']) if spec.get('name') else ''})"
    unknown = set(spec) - _KEYS[kind]
    if unknown:
        msg = f"{where}: unknown key(s) {_names(unknown)}"
        raise ConfigError(msg)
    options: dict[str, Any] = {key: spec[key] for key in ("timeout", "attempts", "ca_file") if key in spec}
    label = spec.get("name")
    if label is not None and (not isinstance(label, str) or not label.strip()):
        msg = f"{where}: name must be a non-empty string"
        raise ConfigError(msg)
    try:
        if kind == "webhook":
            if not spec.get("url"):
                msg = "url is missing"
                raise ConfigError(msg)
            notifier: Notifier = WebhookNotifier(
                url=spec["url"], secret=_secret(spec, "secret_env", env), format=spec.get("format", "json"),
                **options)
        else:
            for key in ("host", "sender", "recipients"):
                if not spec.get(key):
                    msg = f"{key} is missing"
                    raise ConfigError(msg)
            username = spec.get("username")
            if username is not None and (not isinstance(username, str) or not username):
                msg = "username must be a non-empty string"
                raise ConfigError(msg)
            notifier = EmailNotifier(
                host=spec["host"], port=spec.get("port"), security=spec.get("security", "starttls"),
                username=username, password=_secret(spec, "password_env", env), sender=spec["sender"],
                recipients=spec["recipients"], **options)
    except ConfigError as exc:
        msg = f"{where}: {exc}"
        raise ConfigError(msg) from None
    except TypeError as exc:  # a value of the wrong kind where the constructor compares it
        msg = f"{where}: {exc}"
        raise ConfigError(msg) from None
    base = notifier.description
    notifier.description = f"{list_name}#{number} " + (f"{label.strip()} ({base})" if label else base)
    return notifier


def _names(keys: Any) -> str:
    return ", ".join(repr(str(key)) for key in sorted(map(str, keys)))


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
