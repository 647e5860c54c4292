"""Alert notifiers and delivery against real local servers: a webhook receiver
(``tests/webhook_server.py``) and an SMTP server (``tests/smtp_server.py``) on 127.0.0.1,
TLS with a certificate made for the test run, and the delivery loop against the real Kafka.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import logging
import pickle
import threading
import time
import uuid

import pytest

from newsmon.connectors import alert_delivery
from newsmon.connectors.alert_delivery import Dispatcher, log_result, run_delivery
from newsmon.connectors.kafka import make_admin, make_producer
from newsmon.connectors.notifiers import (
    DeliveryConfig,
    DeliveryError,
    EmailNotifier,
    ListConfig,
    WebhookNotifier,
    delivery_id,
    load_config,
    parse_config,
    sign,
    slack_body,
    verify_signature,
)
from newsmon.errors import ConfigError
from newsmon.schemas import problems
from newsmon.settings import Secret
from tests.smtp_server import SMTPServer
from tests.webhook_server import WebhookServer

SECRET = "whsec-test-3b1f9c0e7d"
PASSWORD = "smtp-pass-91c2aa07"
SLACK_TOKEN = "T0TEST/B0TEST/abcdefghijklmnopqrstuvwx"

# -- alerts -----------------------------------------------------------------------------------


def make_alert(n: int = 0, *, list_name: str = "belarus-watch", person: str = "Ihar Losik",
               title: str = "Belarus frees 52 prisoners as the US eases sanctions on Belavia") -> dict:
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


# -- servers and certificates ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory):
    """A self-signed certificate for 127.0.0.1 / localhost, made with ``cryptography``."""
    pytest.importorskip("cryptography", reason="cryptography makes the test certificate")
    import ipaddress

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


@pytest.fixture(scope="module")
def server_tls(tls_files):
    import ssl

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*tls_files)
    return context


@pytest.fixture
def receiver():
    server = WebhookServer(secret=SECRET)
    yield server
    server.close()


@pytest.fixture
def smtp_starttls(server_tls):
    server = SMTPServer(users={"newsmon": PASSWORD}, starttls=server_tls)
    yield server
    server.close()


class Sleeps(list):
    """An injected sleep: records the waits instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def webhook(url: str, **options) -> WebhookNotifier:
    options.setdefault("sleep", Sleeps())
    options.setdefault("secret", Secret(SECRET))  # the receiver fixture checks signatures
    return WebhookNotifier(url=url, **options)


# -- webhook ---------------------------------------------------------------------------------------


def test_webhook_request_is_signed_and_a_tampered_body_fails(receiver):
    alert = make_alert()
    notifier = webhook(receiver.url("/hooks/newsmon?team=minsk"), secret=Secret(SECRET))
    notifier.deliver([alert])

    [request] = receiver.wait_for(1)
    assert request.method == "POST"
    assert request.path == "/hooks/newsmon?team=minsk"
    assert request.headers["content-type"] == "application/json"
    assert request.headers["user-agent"].startswith("newsmon/")
    assert request.headers["x-newsmon-delivery"] == alert["alert_id"]
    timestamp = request.headers["x-newsmon-timestamp"]
    assert timestamp.isdigit() and abs(int(timestamp) - time.time()) < 30
    assert request.headers["x-newsmon-signature"].startswith("sha256=")
    assert request.signature_ok is True
    assert request.json() == {"alerts": [alert]}

    header = request.headers["x-newsmon-signature"]
    assert verify_signature(SECRET, timestamp, request.body, header)
    assert verify_signature(Secret(SECRET), timestamp, request.body, header)
    tampered = request.body.replace(b"Ihar Losik", b"Ihar Losiq")
    assert not verify_signature(SECRET, timestamp, tampered, header)
    assert not verify_signature("another secret", timestamp, request.body, header)
    assert not verify_signature(SECRET, str(int(timestamp) + 1), request.body, header)
    assert not verify_signature(SECRET, timestamp, request.body, None)
    # Replays: an old timestamp with a valid signature is refused, unless the check is off.
    old = str(int(time.time()) - 3600)
    assert not verify_signature(SECRET, old, request.body, sign(SECRET, old, request.body))
    assert verify_signature(SECRET, old, request.body, sign(SECRET, old, request.body), tolerance=None)


def test_unsigned_webhook_has_no_signature_header():
    server = WebhookServer()
    try:
        webhook(server.url(), secret=None).deliver([make_alert()])
        [request] = server.wait_for(1)
        assert "x-newsmon-signature" not in request.headers
    finally:
        server.close()


def test_slack_body_shape(receiver):
    alert = make_alert(title="Belarus frees <52> prisoners & more")
    notifier = webhook(receiver.url("/services/" + SLACK_TOKEN), format="slack", secret=Secret(SECRET))
    notifier.deliver([alert])
    body = receiver.wait_for(1)[0].json()

    assert set(body) == {"text", "blocks"}
    assert body["text"].startswith("newsmon: Ihar Losik named in 'Belarus frees <52> prisoners & more'")
    blocks = body["blocks"]
    assert blocks[0]["type"] == "header" and blocks[0]["text"]["type"] == "plain_text"
    assert all(block["type"] in ("header", "section", "context", "divider") for block in blocks)
    text = json.dumps(blocks, ensure_ascii=False)
    for expected in ("Ihar Losik", "Igor Losik", "prisoner_release, sanctions_relief",
                     "was among those released", "belarus-watch", "Example News"):
        assert expected in text
    # The link, with the title escaped for Slack's mrkdwn.
    assert f"<{alert['url']}|Belarus frees &lt;52&gt; prisoners &amp; more>" in text

    digest = slack_body([make_alert(n) for n in range(40)])
    assert digest["text"] == "newsmon digest: 40 alerts for belarus-watch"
    assert len(digest["blocks"]) <= 50
    assert "more alerts" in json.dumps(digest["blocks"][-1])


def test_retries_on_503_and_429_honouring_retry_after_then_succeeds(receiver):
    receiver.answer(503, (429, {"Retry-After": "7"}))
    sleeps = Sleeps()
    notifier = webhook(receiver.url(), secret=Secret(SECRET), sleep=sleeps)
    notifier.deliver([make_alert()])

    assert [r.status for r in receiver.received] == [503, 429, 200]
    assert sleeps == [1.0, 7.0]  # backoff, then the server's Retry-After (longer than the 2 s backoff)
    assert len({r.headers["x-newsmon-delivery"] for r in receiver.received}) == 1
    assert all(r.signature_ok for r in receiver.received)  # every retry signed afresh


def test_permanent_400_fails_at_once_with_a_picklable_error(receiver):
    receiver.answer(400)
    sleeps = Sleeps()
    notifier = webhook(receiver.url(), sleep=sleeps, description="ops hook")
    with pytest.raises(DeliveryError) as caught:
        notifier.deliver([make_alert()])
    error = caught.value
    assert (error.notifier, error.attempts, error.permanent) == ("ops hook", 1, True)
    assert "HTTP 400 Bad Request" in error.reason
    assert sleeps == [] and len(receiver.received) == 1
    copy = pickle.loads(pickle.dumps(error))
    assert (type(copy), str(copy), copy.attempts, copy.reason, copy.permanent) == (
        DeliveryError, str(error), 1, error.reason, True)


def test_gives_up_after_its_attempts_then_tries_once_until_it_recovers(receiver):
    receiver.answer(*[500] * 5)
    sleeps = Sleeps()
    notifier = webhook(receiver.url(), sleep=sleeps, attempts=4)
    with pytest.raises(DeliveryError, match="after 4 attempt") as caught:
        notifier.deliver([make_alert(1)])
    assert not caught.value.permanent and "HTTP 500" in caught.value.reason
    assert sleeps == [1.0, 2.0, 4.0]
    # The endpoint looks dead: the next message gets a single try, no more waiting.
    with pytest.raises(DeliveryError, match="after 1 attempt"):
        notifier.deliver([make_alert(2)])
    assert sleeps == [1.0, 2.0, 4.0]
    notifier.deliver([make_alert(3)])  # it is back
    receiver.answer(503)
    notifier.deliver([make_alert(4)])  # and retries again as usual
    assert [r.status for r in receiver.received] == [500] * 5 + [200, 503, 200]


def test_retry_after_longer_than_the_cap_ends_the_delivery(receiver):
    receiver.answer((503, {"Retry-After": "3600"}))
    sleeps = Sleeps()
    with pytest.raises(DeliveryError, match="asks to wait 3600 s"):
        webhook(receiver.url(), sleep=sleeps).deliver([make_alert()])
    assert sleeps == []


def test_connection_refused_is_retried_and_reported_without_the_url_path(closed_port):
    sleeps = Sleeps()
    notifier = webhook(f"http://127.0.0.1:{closed_port}/services/{SLACK_TOKEN}", sleep=sleeps, attempts=2)
    with pytest.raises(DeliveryError) as caught:
        notifier.deliver([make_alert()])
    assert caught.value.attempts == 2 and sleeps == [1.0]
    assert "refused" in caught.value.reason.lower()
    assert SLACK_TOKEN not in str(caught.value) and "/services" not in str(caught.value)
    assert notifier.description == f"webhook http://127.0.0.1:{closed_port}"


def test_https_webhook_with_a_private_ca(tls_files, server_tls):
    server = WebhookServer(tls=server_tls)
    try:
        webhook(server.url(), ca_file=tls_files[0]).deliver([make_alert()])
        assert len(server.wait_for(1)) == 1
        with pytest.raises(DeliveryError, match="does not verify") as caught:
            webhook(server.url()).deliver([make_alert(2)])  # the system CAs do not know it
        assert caught.value.permanent
    finally:
        server.close()


# -- e-mail ----------------------------------------------------------------------------------------


def email(server: SMTPServer, **options) -> EmailNotifier:
    settings = {"host": "127.0.0.1", "port": server.port, "security": "none",
                "sender": "newsmon <alerts@example.org>",
                "recipients": ["desk@example.org", "analyst@example.org"], "timeout": 5, "sleep": Sleeps()}
    return EmailNotifier(**settings | options)


def test_email_over_starttls_with_login(smtp_starttls, tls_files):
    title = "Belarus frees 52 prisoners after talks with US envoy on sanctions and the embassy"
    alert = make_alert(title=title)
    notifier = email(smtp_starttls, security="starttls", ca_file=tls_files[0], username="newsmon",
                     password=Secret(PASSWORD))
    notifier.deliver([alert])

    [mail] = smtp_starttls.wait_for(1)
    assert mail.tls and mail.user == "newsmon" and mail.mechanism == "PLAIN"
    assert mail.mail_from == "alerts@example.org"
    assert mail.rcpt_to == ["desk@example.org", "analyst@example.org"]
    message = mail.message
    assert message["Subject"] == f"newsmon: Ihar Losik named in '{title[:79]}…'"  # titles end at 80
    assert message["From"] == "newsmon <alerts@example.org>"
    assert message["To"] == "desk@example.org, analyst@example.org"
    assert message["Message-ID"] == f"<newsmon.{alert['alert_id']}@example.org>"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message.is_multipart()
    text = message.get_body(("plain",)).get_content()
    for expected in ("Ihar Losik named in", "Matched as: Igor Losik", alert["url"], "prisoner_release",
                     "> Blogger Igor Losik was among those released", "Example News", alert["alert_id"]):
        assert expected in text
    html = message.get_body(("html",)).get_content()
    assert f'<a href="{alert["url"]}">' in html


def test_email_digest_over_implicit_tls_with_auth_login(server_tls, tls_files):
    server = SMTPServer(users={"newsmon": PASSWORD}, mechanisms=("LOGIN",), implicit_tls=server_tls)
    try:
        alerts = [make_alert(n) for n in range(5)]
        notifier = email(server, security="ssl", ca_file=tls_files[0], username="newsmon",
                         password=Secret(PASSWORD), recipients=["desk@example.org"])
        notifier.deliver(alerts)
        [mail] = server.wait_for(1)
        assert mail.tls and mail.mechanism == "LOGIN" and mail.rcpt_to == ["desk@example.org"]
        assert mail.message["Subject"] == "newsmon digest: 5 alerts for belarus-watch"
        assert mail.message["Message-ID"] == f"<newsmon.{delivery_id(alerts)}@example.org>"
        text = mail.message.get_body(("plain",)).get_content()
        assert all(alert["url"] in text for alert in alerts)
        # The same alerts give the same Message-ID whatever their order: a resend is recognisable.
        assert delivery_id(alerts[::-1]) == delivery_id(alerts)
    finally:
        server.close()


def test_email_4xx_is_retried_5xx_is_permanent():
    server = SMTPServer()
    try:
        server.fail("MAIL", 451, "4.3.0 try again later")
        sleeps = Sleeps()
        email(server, sleep=sleeps).deliver([make_alert(1)])
        assert len(server.wait_for(1)) == 1 and sleeps == [1.0]

        server.fail("DATA-END", 554, "5.7.1 message rejected as spam")
        with pytest.raises(DeliveryError, match="554 5.7.1 message rejected") as caught:
            email(server).deliver([make_alert(2)])
        assert caught.value.permanent and caught.value.attempts == 1

        server.fail("EHLO", 0)  # the server hangs up: transient
        email(server).deliver([make_alert(3)])
        assert len(server.wait_for(2)) == 2
    finally:
        server.close()


def test_email_retries_only_the_recipients_refused_for_now():
    server = SMTPServer()
    try:
        server.refuse("analyst@example.org", 450, "4.2.1 mailbox busy")
        email(server).deliver([make_alert()])
        mails = server.wait_for(2)
        assert [mail.rcpt_to for mail in mails] == [["desk@example.org"], ["analyst@example.org"]]

        server.refuse("analyst@example.org", 550, "5.1.1 no such user")
        with pytest.raises(DeliveryError, match="analyst@example.org: 550") as caught:
            email(server).deliver([make_alert(2)])
        assert caught.value.permanent
        assert server.wait_for(3)[-1].rcpt_to == ["desk@example.org"]
    finally:
        server.close()


def test_email_failures_that_retrying_cannot_fix(smtp_starttls, tls_files):
    with pytest.raises(DeliveryError, match="535") as caught:
        email(smtp_starttls, security="starttls", ca_file=tls_files[0], username="newsmon",
              password=Secret("wrong")).deliver([make_alert()])
    assert caught.value.permanent and smtp_starttls.auth_failures == 2  # smtplib tries PLAIN, then LOGIN

    with pytest.raises(DeliveryError, match="does not verify") as caught:
        email(smtp_starttls, security="starttls").deliver([make_alert()])  # no ca_file
    assert caught.value.permanent

    plain = SMTPServer()  # no STARTTLS on offer: never fall back to clear text
    try:
        with pytest.raises(DeliveryError, match="STARTTLS extension not supported") as caught:
            email(plain, security="starttls").deliver([make_alert()])
        assert caught.value.permanent and plain.mails == []
    finally:
        plain.close()


# -- dispatcher ------------------------------------------------------------------------------------


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


def test_a_failing_notifier_is_recorded_and_the_others_still_served(receiver):
    smtp = SMTPServer()
    try:
        receiver.answer(400)
        config = config_of(ListConfig("belarus-watch", (
            webhook(receiver.url("/refuses"), description="hook-400"),
            email(smtp, description="mail"),
            webhook(receiver.url("/fine"), description="hook-ok"),
        )))
        results = Results()
        dispatcher = Dispatcher(config, on_result=results, sleep=Sleeps())
        first, second = make_alert(1), make_alert(2)
        assert dispatcher.submit(first)
        assert dispatcher.submit(second)

        assert [(ids, name, ok) for ids, name, ok, _ in results] == [
            ((first["alert_id"],), "hook-400", False), ((first["alert_id"],), "mail", True),
            ((first["alert_id"],), "hook-ok", True),
            ((second["alert_id"],), "hook-400", True), ((second["alert_id"],), "mail", True),
            ((second["alert_id"],), "hook-ok", True)]
        assert "HTTP 400" in results[0][3]
        assert len(smtp.wait_for(2)) == 2
        assert (dispatcher.stats.delivered, dispatcher.stats.failed) == (5, 1)
    finally:
        smtp.close()


def test_digest_groups_alerts_per_list_and_period(receiver):
    clock = Clock()
    config = config_of(
        ListConfig("belarus-watch", (webhook(receiver.url("/belarus")),), digest_minutes=10),
        ListConfig("heads-of-state", (webhook(receiver.url("/heads")),), digest_minutes=10),
        ListConfig("quiet", (webhook(receiver.url("/quiet")),), digest_minutes=0),
    )
    handled = []
    dispatcher = Dispatcher(config, clock=clock, on_result=Results())

    def submit(alert):
        dispatcher.submit(alert, on_handled=lambda: handled.append(alert["alert_id"]))

    b1, b2, b3 = (make_alert(n) for n in (1, 2, 3))
    h1 = make_alert(4, list_name="heads-of-state", person="Alexander Lukashenko")
    q1 = make_alert(5, list_name="quiet")
    submit(b1)
    clock.now = 30
    submit(q1)  # a list without digest: at once
    assert [r.path for r in receiver.received] == ["/quiet"] and handled == [q1["alert_id"]]
    clock.now = 100
    submit(b2)
    clock.now = 200
    submit(h1)
    assert dispatcher.held == 3 and dispatcher.next_due() == 600
    assert dispatcher.flush(now=599) == 0

    assert dispatcher.flush(now=600) == 1  # belarus-watch's period, started by b1, is over
    digest = receiver.received[-1]
    assert digest.path == "/belarus"
    assert [a["alert_id"] for a in digest.json()["alerts"]] == [b1["alert_id"], b2["alert_id"]]
    assert handled[1:] == [b1["alert_id"], b2["alert_id"]]

    clock.now = 700
    submit(b3)  # a new period for belarus-watch, due at 1300
    assert dispatcher.flush(now=800) == 1  # heads-of-state's, started at 200
    assert receiver.received[-1].path == "/heads"
    assert [a["alert_id"] for a in receiver.received[-1].json()["alerts"]] == [h1["alert_id"]]
    assert dispatcher.flush(now=1299) == 0
    assert dispatcher.flush(now=900, force=True) == 1  # stopping: send what is held
    assert [a["alert_id"] for a in receiver.received[-1].json()["alerts"]] == [b3["alert_id"]]
    assert dispatcher.held == 0 and dispatcher.next_due() is None
    assert sorted(handled) == sorted(a["alert_id"] for a in (b1, b2, b3, h1, q1))
    assert dispatcher.stats.digests == 3


def test_star_list_gets_every_alert_and_holds_it_until_its_digest(receiver):
    clock = Clock()
    config = config_of(ListConfig("belarus-watch", (webhook(receiver.url("/own")),)),
                       ListConfig("*", (webhook(receiver.url("/all")),), digest_minutes=5))
    dispatcher = Dispatcher(config, clock=clock, on_result=Results())
    handled = []
    alerts = [make_alert(1), make_alert(2, list_name="other-list")]
    for alert in alerts:
        dispatcher.submit(alert, on_handled=lambda a=alert: handled.append(a["alert_id"]))
    assert [r.path for r in receiver.received] == ["/own"]
    assert handled == []  # the first alert still waits for the "*" digest
    dispatcher.flush(now=300)
    assert receiver.received[-1].path == "/all" and len(receiver.received[-1].json()["alerts"]) == 2
    assert handled == [a["alert_id"] for a in alerts]


def test_a_redelivered_alert_is_sent_once(receiver):
    config = config_of(ListConfig("belarus-watch", (webhook(receiver.url()),)))
    dispatcher = Dispatcher(config, on_result=Results(), remember=2)
    a, b, c = make_alert(1), make_alert(2), make_alert(3)
    handled = []
    for alert in (a, a, b, a):
        dispatcher.submit(dict(alert), on_handled=lambda: handled.append(1))
    assert len(receiver.received) == 2 and len(handled) == 4  # a duplicate is handled (nothing to do)
    assert dispatcher.stats.duplicates == 2
    dispatcher.submit(c)  # the memory is bounded: the oldest id ("b") is forgotten, "a" was seen lately
    dispatcher.submit(a)
    assert len(receiver.received) == 3
    dispatcher.submit(b)
    assert len(receiver.received) == 4
    assert not dispatcher.submit(make_alert(9, list_name="nobody-listens"))
    assert dispatcher.stats.unrouted == 1


# -- configuration ---------------------------------------------------------------------------------

ENV = {"NEWSMON_WEBHOOK_SECRET": SECRET, "NEWSMON_SMTP_PASSWORD": PASSWORD}


def hook(**extra) -> dict:
    return {"type": "webhook", "url": "https://hooks.example.org/x"} | extra


def mail(**extra) -> dict:
    return {"type": "email", "host": "smtp.example.org", "sender": "alerts@example.org",
            "recipients": ["desk@example.org"]} | extra


def one_list(*notifiers, **options) -> dict:
    return {"lists": {"belarus-watch": {"notifiers": list(notifiers), **options}}}


def test_configuration_is_built_from_yaml(tmp_path):
    path = tmp_path / "notifiers.yaml"
    path.write_text(
        "lists:\n"
        "  belarus-watch:\n"
        "    digest_minutes: 15\n"
        "    notifiers:\n"
        "      - {type: webhook, name: analysts, url: 'https://hooks.example.org/a/b?token=t',\n"
        "         secret_env: NEWSMON_WEBHOOK_SECRET, format: slack, timeout: 5, attempts: 2}\n"
        "      - {type: email, host: smtp.example.org, security: ssl, username: newsmon,\n"
        "         password_env: NEWSMON_SMTP_PASSWORD, sender: alerts@example.org,\n"
        "         recipients: [a@example.org]}\n"
        "  '*':\n"
        "    notifiers: [{type: webhook, url: 'http://127.0.0.1:9/all'}]\n", encoding="utf-8")
    config = load_config(path, env=ENV)
    belarus = config.lists["belarus-watch"]
    assert belarus.digest_minutes == 15 and belarus.digest_seconds == 900
    hook_, mail_ = belarus.notifiers
    assert (hook_.format, hook_.timeout, hook_.attempts, hook_.secret) == ("slack", 5, 2, Secret(SECRET))
    assert hook_.description == "belarus-watch#1 analysts (webhook https://hooks.example.org)"
    assert (mail_.port, mail_.security, mail_.password) == (465, "ssl", Secret(PASSWORD))
    assert mail_.description == "belarus-watch#2 email smtp.example.org:465"
    assert [route.name for route in config.routes("belarus-watch")] == ["belarus-watch", "*"]
    assert [route.name for route in config.routes("elsewhere")] == ["*"]


def test_the_example_file_loads():
    from pathlib import Path

    config = load_config(Path(__file__).parents[1] / "seeds" / "notifiers.example.yaml", env=ENV)
    assert {"belarus-watch", "heads-of-state", "*"} <= set(config.lists)


@pytest.mark.parametrize(("data", "message"), [
    ([], "expected a mapping with a 'lists' key"),
    ({"lists": {}, "extra": 1}, "unknown top-level key"),
    ({"lists": {}}, "'lists' must map"),
    ({"lists": {"belarus-watch": {"notifiers": [hook()], "digest": 5}}},
     "list 'belarus-watch': unknown key(s) 'digest'"),
    (one_list(hook(), digest_minutes=-1), "list 'belarus-watch': digest_minutes must be"),
    (one_list(), "list 'belarus-watch': notifiers must be a non-empty list"),
    ({"lists": {"belarus-watch": {"notifiers": hook()}}}, "notifiers must be a list, got a single mapping"),
    (one_list({"type": "pager"}), "notifier #1: type must be one of webhook, email, got 'pager'"),
    (one_list(hook(), {"type": "webhook"}), "list 'belarus-watch', notifier #2 (webhook): url is missing"),
    (one_list(hook(method="PUT")), "notifier #1 (webhook): unknown key(s) 'method'"),
    (one_list(hook(url="ftp://example.org/x")), "notifier #1 (webhook): url must be an http(s) URL"),
    (one_list(hook(format="teams")), "format must be one of json, slack, got 'teams'"),
    (one_list(hook(timeout=0)), "timeout must be a positive number"),
    (one_list(hook(attempts="3")), "attempts must be a whole number"),
    (one_list(hook(secret_env="NEWSMON_UNSET_VARIABLE")),
     "notifier #1 (webhook): secret_env: environment variable NEWSMON_UNSET_VARIABLE is not set"),
    (one_list(hook(name="ops", ca_file="/nonexistent/ca.pem")), "notifier #1 (webhook 'ops'): ca_file"),
    (one_list(mail(security="tls")),
     "notifier #1 (email): security must be one of starttls, ssl, none, got 'tls'"),
    (one_list(mail(host=None)), "notifier #1 (email): host is missing"),
    (one_list(mail(recipients="desk@example.org")), "recipients must be a list, got a string"),
    (one_list(mail(recipients=["not an address"])), "recipient 'not an address' is not"),
    (one_list(mail(sender="nobody")), "sender must be an e-mail address"),
    (one_list(mail(port=70000)), "port must be a number from 1 to 65535"),
    (one_list(mail(username="newsmon")), "username and password_env go together"),
    (one_list(mail(username="newsmon", password_env="NEWSMON_SMTP_PASSWORD", security="none")),
     "security none would send the password in clear text to smtp.example.org"),
])
def test_configuration_errors_name_the_list_and_notifier(data, message):
    with pytest.raises(ConfigError) as caught:
        parse_config(data, source="notifiers.yaml", env=ENV)
    assert message in str(caught.value)
    assert str(caught.value).startswith("notifiers.yaml: ")


def test_a_ca_file_that_is_not_a_certificate(tmp_path):
    bogus = tmp_path / "ca.pem"
    bogus.write_text("not a certificate", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"notifier #1 \(webhook\): ca_file .* holds no usable CA"):
        parse_config(one_list(hook(ca_file=str(bogus))), env=ENV)


def test_a_secret_written_in_place_of_a_variable_name_is_not_echoed():
    with pytest.raises(ConfigError, match="not the secret itself") as caught:
        parse_config(one_list(hook(secret_env="s3cr3t-value!")), env=ENV)
    assert "s3cr3t-value!" not in str(caught.value)


def test_missing_or_broken_file(tmp_path):
    with pytest.raises(ConfigError, match="cannot read the notifier configuration"):
        load_config(tmp_path / "absent.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("lists: [unclosed", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(broken)


# -- secrets -------------------------------------------------------------------------------------


def test_secrets_never_appear_in_logs_reprs_or_errors(caplog, receiver, smtp_starttls, tls_files):
    caplog.set_level(logging.DEBUG)
    slack_url = receiver.url(f"/services/{SLACK_TOKEN}")
    config = parse_config({"lists": {"belarus-watch": {"notifiers": [
        {"type": "webhook", "url": slack_url, "format": "slack", "secret_env": "NEWSMON_WEBHOOK_SECRET",
         "attempts": 2},
        {"type": "email", "host": "127.0.0.1", "port": smtp_starttls.port, "username": "newsmon",
         "password_env": "NEWSMON_SMTP_BAD_PASSWORD", "sender": "alerts@example.org",
         "recipients": ["desk@example.org"], "ca_file": str(tls_files[0])},
        {"type": "email", "host": "127.0.0.1", "port": smtp_starttls.port, "username": "newsmon",
         "password_env": "NEWSMON_SMTP_PASSWORD", "sender": "alerts@example.org",
         "recipients": ["desk@example.org"], "ca_file": str(tls_files[0])},
    ]}}}, env=ENV | {"NEWSMON_SMTP_BAD_PASSWORD": "wrong-" + PASSWORD})
    receiver.answer(500, 500, 200)
    results = Results()

    def on_result(*args):
        results(*args)
        log_result(*args)  # the default: a log line per outcome

    dispatcher = Dispatcher(config, sleep=Sleeps(), on_result=on_result)
    dispatcher.submit(make_alert(1))  # the webhook gives up (500, 500); the bad password fails
    dispatcher.submit(make_alert(2))  # the webhook recovers
    assert [ok for *_, ok, _ in results] == [False, False, True, True, False, True]
    assert len(smtp_starttls.wait_for(2)) == 2

    shown = "\n".join([caplog.text, repr(config), str(config.lists), repr(dispatcher.__dict__),
                       *(str(error) for *_, error in results)])
    assert "HTTP 500" in shown and "535" in shown  # the failures are there...
    for secret in (SECRET, PASSWORD, SLACK_TOKEN, "/services/"):  # ...the secrets are not
        assert secret not in shown
    assert f"webhook http://127.0.0.1:{receiver.port}" in shown


# -- delivery loop against Kafka -------------------------------------------------------------------


def _deliver_until(settings, config, group, receiver, count, progress=None):
    """Run the delivery loop in a thread until ``count`` requests were accepted, then stop it."""
    stop = threading.Event()
    outcome = {}

    def run():
        outcome["stats"] = run_delivery(settings, config, group=group, stop=stop, progress=progress)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        arrived = receiver.wait_for(count, timeout=60)
    finally:
        stop.set()
        thread.join(60)
    assert not thread.is_alive(), "run_delivery did not stop"
    assert len(arrived) >= count, f"only {len(arrived)} of {count} requests arrived"
    return outcome["stats"]


def test_run_delivery_commits_what_it_handled_and_resumes_there(kafka, topic, receiver, monkeypatch):
    monkeypatch.setattr(alert_delivery, "PROGRESS_EVERY", 0.0)
    settings = dataclasses.replace(kafka, topic_alerts=topic)
    config = parse_config({"lists": {
        "belarus-watch": {"notifiers": [
            {"type": "webhook", "url": receiver.url("/now"), "secret_env": "NEWSMON_WEBHOOK_SECRET"}]},
        "heads-of-state": {"digest_minutes": 60, "notifiers": [
            {"type": "webhook", "url": receiver.url("/digest"), "secret_env": "NEWSMON_WEBHOOK_SECRET"}]},
    }}, env=ENV)
    group = f"test-notifier-{uuid.uuid4().hex}"
    producer = make_producer(settings)

    def produce(*values) -> None:
        for value in values:
            if isinstance(value, dict):
                producer.send(topic, key=value["alert_id"].encode(), value=json.dumps(value).encode())
            else:
                producer.send(topic, key=b"junk", value=value)
        producer.flush(30)

    def ids(path):
        return [a["alert_id"] for r in receiver.received if r.path == path for a in r.json()["alerts"]]

    try:
        first = [make_alert(n) for n in range(3)]
        held = make_alert(7, list_name="heads-of-state", person="Alexander Lukashenko")
        # The digest alert comes first: it holds back the commit of everything after it
        # until the digest is sent (here: when the loop stops).
        produce(held, first[0], b'{"not": "an alert"}', first[1], first[0], b"\xff not JSON", first[2])
        lines = []
        stats = _deliver_until(settings, config, group, receiver, 3, progress=lines.append)
        assert ids("/now") == [a["alert_id"] for a in first]  # first[0] once, though read twice
        assert ids("/digest") == [held["alert_id"]]  # sent when the loop stopped
        assert receiver.received[-1].path == "/digest"
        assert all(r.signature_ok for r in receiver.received)
        counts = (stats.received, stats.invalid, stats.duplicates, stats.delivered, stats.digests)
        assert counts == (7, 2, 1, 4, 1)
        assert lines and lines[-1].startswith("delivery: received ")

        later = make_alert(99)
        produce(later)
        stats = _deliver_until(settings, config, group, receiver, 5)
        assert ids("/now") == [a["alert_id"] for a in first] + [later["alert_id"]]
        assert ids("/digest") == [held["alert_id"]]
        assert (stats.received, stats.delivered) == (1, 1)  # resumed after the committed offset
    finally:
        producer.close(timeout=10)
        admin = make_admin(settings)
        try:
            admin.delete_consumer_groups([group])
        except Exception:  # noqa: BLE001 - cleanup only; an empty group expires on its own
            pass
        admin.close()
