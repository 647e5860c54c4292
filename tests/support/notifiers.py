"""Shared by the notifier tests: alerts, notifiers with an injected sleep, a TLS certificate
made for the run, and fixtures for the local webhook receiver and SMTP server.

The fixtures are registered for every test by ``tests/conftest.py``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import ssl

import pytest

from newsmon.connectors.email_notifier import EmailNotifier
from newsmon.connectors.notifier_config import DeliveryConfig, ListConfig
from newsmon.connectors.webhook_notifier import WebhookNotifier
from newsmon.schemas import problems
from newsmon.settings import Secret
from tests.support.smtp_server import SMTPServer
from tests.support.webhook_server import WebhookServer

SECRET = "whsec-test-3b1f9c0e7d"
PASSWORD = "smtp-pass-91c2aa07"
SLACK_TOKEN = "T0TEST/B0TEST/abcdefghijklmnopqrstuvwx"
ENV = {"NEWSMON_WEBHOOK_SECRET": SECRET, "NEWSMON_SMTP_PASSWORD": PASSWORD}


def make_alert(n: int = 0, *, list_name: str = "belarus-watch", person: str = "Ihar Losik",
               title: str = "Belarus frees 52 prisoners as the US eases sanctions on Belavia") -> dict:
    """Alert number ``n`` (a story of its own) as in ``schemas/alert.schema.json``."""
    entry_id = hashlib.sha256(f"{list_name}\n{person}".encode()).hexdigest()[:16]
    story_id = hashlib.sha256(f"story {n}".encode()).hexdigest()[:32]
    alert = {
        "schema_version": 1,
        "alert_id": hashlib.sha256(f"{entry_id}\n{story_id}".encode()).hexdigest()[:32],
        "entry_id": entry_id,
        "person": person,
        "list": list_name,
        "story_id": story_id,
        "article_id": story_id,
        "matched_forms": ["Igor Losik"],
        "evidence": [f"Blogger Igor Losik was among those released ({n}), his wife said."],
        "confidence": 0.93,
        "topics": ["prisoner_release", "sanctions_relief"],
        "title": title,
        "url": f"https://news.example.com/belarus/{n}?ref=rss",
        "source_name": "Example News",
        "published_at": "2025-09-11T10:15:00Z",
        "alert_time": "2025-09-11T10:16:02Z",
    }
    assert problems("alert", alert) == []
    return alert


class Sleeps(list):
    """An injected sleep: records the waits instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def webhook(url: str, **options) -> WebhookNotifier:
    options.setdefault("sleep", Sleeps())
    options.setdefault("secret", Secret(SECRET))  # the receiver fixture checks signatures
    return WebhookNotifier(url=url, **options)


def email(server: SMTPServer, **options) -> EmailNotifier:
    settings = {"host": "127.0.0.1", "port": server.port, "security": "none",
                "sender": "newsmon <alerts@example.org>",
                "recipients": ["desk@example.org", "analyst@example.org"], "timeout": 5, "sleep": Sleeps()}
    return EmailNotifier(**settings | options)


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory):
    """A self-signed certificate for 127.0.0.1 / localhost, made with ``cryptography``."""
    pytest.importorskip("cryptography", reason="cryptography makes the test certificate")
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "newsmon test")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                         content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False,
                                         encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(key.public_key()),
                           critical=False)
            .sign(key, hashes.SHA256()))
    directory = tmp_path_factory.mktemp("tls")
    cert_file, key_file = directory / "cert.pem", directory / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_file, key_file


@pytest.fixture(scope="session")
def server_tls(tls_files) -> ssl.SSLContext:
    """The server side of ``tls_files``, for the local servers."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*tls_files)
    return context


@pytest.fixture
def receiver():
    """A webhook receiver that checks every request's signature with ``SECRET``."""
    server = WebhookServer(secret=SECRET)
    yield server
    server.close()


@pytest.fixture
def smtp_starttls(server_tls):
    """An SMTP server offering STARTTLS and login as ``newsmon`` / ``PASSWORD``."""
    server = SMTPServer(users={"newsmon": PASSWORD}, starttls=server_tls)
    yield server
    server.close()


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Results(list):
    def __call__(self, alert_ids, notifier, ok, error) -> None:
        self.append((tuple(alert_ids), notifier, ok, error))


def config_of(*lists: ListConfig) -> DeliveryConfig:
    return DeliveryConfig(lists={route.name: route for route in lists})
