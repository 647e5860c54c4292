"""The common part of the alert notifiers: limits, the retry loop, and :class:`DeliveryError`.

A notifier's :meth:`~Notifier.deliver` sends one message for a list of alerts (one alert,
or a digest) and either returns or raises :class:`DeliveryError` once its attempts are
spent; whether the message is then tried again later is the caller's decision
(``alert_delivery`` waits for the endpoint when the error is not permanent).
The notifiers are ``webhook_notifier`` and ``email_notifier``, built from the notifier
file by ``notifier_config``; how they behave is told in ``docs/alerts-delivery.md``.
"""

from __future__ import annotations

import logging
import ssl
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from newsmon import backoff
from newsmon.errors import ConfigError, NewsmonError

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 10.0
DEFAULT_ATTEMPTS = 4
BACKOFF_BASE = 1.0  # seconds before the first retry; doubled per attempt
BACKOFF_CAP = 30.0  # longest wait between two attempts
MAX_RETRY_AFTER = 120.0  # a server asking for a longer pause ends the attempts (the caller waits)


class DeliveryError(NewsmonError):
    """A notifier gave up on a message: which notifier, after how many attempts, and why.

    ``permanent`` is true when retrying would not help (a 4xx answer, an SMTP 5xx reply,
    a certificate that does not verify); otherwise waiting may fix it, and ``retry_after``
    is how long the server asked to wait, when it said. Survives pickling.
    """

    def __init__(self, notifier: str, attempts: int, reason: str, permanent: bool = False,
                 retry_after: float | None = None) -> None:
        self.notifier = notifier
        self.attempts = attempts
        self.reason = reason
        self.permanent = permanent
        self.retry_after = retry_after
        super().__init__(f"{notifier}: gave up after {attempts} attempt(s): {reason}")

    def __reduce__(self):
        return type(self), (self.notifier, self.attempts, self.reason, self.permanent, self.retry_after)


class TransientFailure(Exception):
    """One attempt failed in a way that may pass; raised by a notifier's attempt, caught here."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


class PermanentFailure(Exception):
    """One attempt failed in a way that retrying will not fix."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def check_alerts(alerts: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """``alerts`` as a non-empty list; a single alert passed bare is a caller's mistake."""
    if isinstance(alerts, Mapping):
        msg = "deliver() takes a list of alerts, got a single alert (a dict): wrap it in a list"
        raise TypeError(msg)
    alerts = list(alerts)
    if not alerts:
        msg = "deliver() needs at least one alert"
        raise ValueError(msg)
    return alerts


@dataclass(kw_only=True, eq=False, repr=False)
class Notifier:
    """Common part of the notifiers: description, limits, and the retry loop."""

    description: str = ""
    timeout: float = DEFAULT_TIMEOUT
    attempts: int = DEFAULT_ATTEMPTS
    ca_file: Path | None = None
    # Waits between attempts. A sleep that returns True (``threading.Event.wait`` once the
    # event is set) means "stop": the attempts end there, with a DeliveryError that is not
    # permanent.
    sleep: Callable[[float], bool | None] = time.sleep

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

    def deliver(self, alerts: Sequence[Mapping[str, Any]], *, attempts: int | None = None) -> None:
        """Send one message for ``alerts`` (one alert, or a digest); blocks while retrying, up
        to ``attempts`` tries (default: the notifier's own).

        Raises :class:`DeliveryError` when it gives up.
        """
        raise NotImplementedError

    def _ssl_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context()
        if self.ca_file is not None:
            context.load_verify_locations(cafile=str(self.ca_file))
        return context

    def _retrying(self, attempt: Callable[[], None], what: str, attempts: int | None = None) -> None:
        """Call ``attempt`` until it returns, waiting per :func:`newsmon.backoff.delay` after
        each :class:`TransientFailure`; raise :class:`DeliveryError` when giving up.
        """
        # Every message gets every attempt: one that failed says nothing about the next,
        # and a caller that tries a failed message again asks for fewer itself.
        allowed = self.attempts if attempts is None else attempts
        if isinstance(allowed, bool) or not isinstance(allowed, int) or allowed < 1:
            msg = f"attempts must be a whole number of at least 1, got {attempts!r}"
            raise ValueError(msg)
        for number in range(1, allowed + 1):
            try:
                attempt()
            except PermanentFailure as exc:
                raise DeliveryError(self.description, number, exc.reason, permanent=True) from None
            except TransientFailure as exc:
                if exc.retry_after is not None and exc.retry_after > MAX_RETRY_AFTER:
                    reason = f"{exc.reason} (the server asks to wait {exc.retry_after:.0f} s)"
                    raise DeliveryError(self.description, number, reason,
                                        retry_after=exc.retry_after) from None
                if number == allowed:
                    raise DeliveryError(self.description, number, exc.reason,
                                        retry_after=exc.retry_after) from None
                wait = backoff.delay(number, base=BACKOFF_BASE, cap=BACKOFF_CAP, retry_after=exc.retry_after)
                log.info("%s: %s attempt %d/%d failed (%s); retrying in %.1f s",
                         self.description, what, number, allowed, exc.reason, wait)
                if self.sleep(wait):
                    reason = f"{exc.reason} (stopped before trying again)"
                    raise DeliveryError(self.description, number, reason) from None
            else:
                return
