"""Alert delivery: the dispatcher routing alerts to the notifiers of their list (at once or as
digests) against a real webhook receiver and SMTP server, secrets kept out of every log
and error, and the delivery loop against the real Kafka.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import threading
import time
import uuid

from newsmon.connectors import alert_delivery
from newsmon.connectors.alert_delivery import Dispatcher, log_result, run_delivery
from newsmon.connectors.kafka import make_admin, make_producer
from newsmon.connectors.notifier_config import ListConfig, parse_config
from tests.support.notifiers import (
    ENV,
    PASSWORD,
    SECRET,
    SLACK_TOKEN,
    Clock,
    Results,
    Sleeps,
    config_of,
    email,
    make_alert,
    webhook,
)
from tests.support.smtp_server import SMTPServer


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
    dispatcher.submit(make_alert(1))  # the webhook's attempts fail (500, 500): it waits; bad password: fails
    dispatcher.submit(make_alert(2))  # the webhook recovers
    assert [ok for *_, ok, _ in results] == [False, True, True, False, True]
    assert dispatcher.retry(now=time.monotonic() + 60) == 1  # the first alert, tried again
    assert [ok for *_, ok, _ in results] == [False, True, True, False, True, True]
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
    # An alerts alias of its own (never created): no delivery records are read or written.
    settings = dataclasses.replace(kafka, topic_alerts=topic,
                                   es_index_alerts=f"test-alerts-{uuid.uuid4().hex}")
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
            admin.delete_groups([group])
        except Exception:  # noqa: BLE001 - cleanup only; an empty group expires on its own
            pass
        admin.close()
