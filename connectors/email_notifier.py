"""The e-mail notifier: one SMTP message per delivery, plain text with an HTML alternative.

Security modes, retries and the message headers are described in ``docs/alerts-delivery.md``.
"""

from __future__ import annotations

import re
import smtplib
import ssl
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, parseaddr
from typing import Any

from newsmon.analysis.alert_text import delivery_id, html_text, lists_of, plain_text, shorten, subject
from newsmon.connectors.notifiers import (
    DeliveryError,
    Notifier,
    PermanentFailure,
    TransientFailure,
    check_alerts,
)
from newsmon.errors import ConfigError
from newsmon.settings import LOOPBACK_HOSTS, Secret

SMTP_SECURITY = ("starttls", "ssl", "none")
SMTP_PORTS = {"starttls": 587, "ssl": 465, "none": 25}
_ADDRESS = re.compile(r"[^@\s<>,;\"]+@[^@\s<>,;\"]+")
MAX_OWED = 1000  # messages whose partial delivery is remembered for the next try


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
    # Per message (delivery id) given up on for now, the recipients the server refused for
    # now: the next try of that message goes to them alone, the others have it already.
    _owed: OrderedDict[str, list[str]] = field(default_factory=OrderedDict, init=False)

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
        alerts = check_alerts(alerts)
        message = EmailMessage()
        message["Subject"] = subject(alerts)
        message["From"] = self.sender
        message["To"] = ", ".join(self.recipients)
        message["Date"] = formatdate(usegmt=True)
        domain = self.envelope_sender.rpartition("@")[2]
        message["Message-ID"] = f"<newsmon.{delivery_id(alerts)}@{domain}>"
        if len(alerts) == 1 and alerts[0].get("revision", 1) > 1:  # threaded under the first revision
            first = f"<newsmon.{alerts[0]['alert_id']}@{domain}>"
            message["In-Reply-To"] = first
            message["References"] = first
        message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies, please
        message["X-Newsmon-Lists"] = lists_of(alerts)
        message["X-Newsmon-Alerts"] = " ".join(alert["alert_id"] for alert in alerts[:50])
        # quoted-printable keeps the message 7-bit: smtplib would send 8-bit text as it is
        # even to a server that does not announce 8BITMIME.
        message.set_content(plain_text(alerts), cte="quoted-printable")
        message.add_alternative(html_text(alerts), subtype="html", cte="quoted-printable")
        return message

    def deliver(self, alerts: Sequence[Mapping[str, Any]], *, attempts: int | None = None) -> None:
        message = self.message(alerts)
        ident = delivery_id(alerts)
        # Narrowed to the temporarily refused recipients on a retry, in this call or a later one.
        remaining = self._owed.pop(ident, None) or list(self.recipients)
        try:
            self._retrying(lambda: self._send(message, remaining), "SMTP", attempts)
        except DeliveryError as exc:
            if not exc.permanent and len(remaining) < len(self.recipients):
                self._owed[ident] = remaining
                if len(self._owed) > MAX_OWED:
                    self._owed.popitem(last=False)
            raise

    def _send(self, message: EmailMessage, recipients: list[str]) -> None:
        """Send to ``recipients``; on a partial refusal, leaves in it those to try again."""
        try:
            refused = self._session(message, recipients)
        except smtplib.SMTPRecipientsRefused as exc:
            refused = exc.recipients
            if not refused:  # pragma: no cover - smtplib always names them
                msg = "every recipient refused"
                raise TransientFailure(msg) from None
        except smtplib.SMTPResponseException as exc:
            reason = f"SMTP {exc.smtp_code} {_smtp_text(exc.smtp_error)}"
            if 400 <= exc.smtp_code < 500:
                raise TransientFailure(reason) from None
            raise PermanentFailure(reason) from None
        except smtplib.SMTPNotSupportedError as exc:
            msg = f"{self.host}: {exc}"
            raise PermanentFailure(msg) from None
        except smtplib.SMTPServerDisconnected as exc:
            msg = f"server disconnected: {exc}"
            raise TransientFailure(msg) from None
        except ssl.SSLCertVerificationError as exc:
            msg = f"TLS certificate of {self.host} does not verify: {exc.verify_message}"
            raise PermanentFailure(msg) from None
        except OSError as exc:  # refused, unreachable, timed out, TLS failures
            msg = f"{type(exc).__name__}: {exc}"
            raise TransientFailure(msg) from None
        except smtplib.SMTPException as exc:  # e.g. no authentication method in common
            msg = f"{type(exc).__name__}: {exc}"
            raise PermanentFailure(msg) from None
        if not refused:
            return
        transient = [addr for addr, (code, _) in refused.items() if 400 <= code < 500]
        reasons = "; ".join(f"{addr}: {code} {_smtp_text(text)}" for addr, (code, text) in refused.items())
        if len(transient) < len(refused):
            msg = f"recipients refused: {reasons}"
            raise PermanentFailure(msg)
        # Only the temporarily refused recipients are tried again: the others have it.
        recipients[:] = transient
        msg = f"recipients refused for now: {reasons}"
        raise TransientFailure(msg)

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
    return shorten(text, 300)
