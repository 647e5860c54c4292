"""Signing webhook requests, and checking a signature on the receiving side.

The signature is ``sha256=`` and the hex HMAC-SHA256, keyed with the secret, of the ASCII
timestamp, a dot and the body bytes (see ``docs/alerts-delivery.md``).
"""

from __future__ import annotations

import hashlib
import hmac
import time

from newsmon.settings import Secret

SIGNATURE_TOLERANCE = 300.0  # seconds a signed request stays acceptable (verify_signature)


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
