"""The webhook notifier against a real local receiver (``tests/support/webhook_server.py``) on
127.0.0.1, over http and https with a certificate made for the test run: signatures,
Slack bodies, retries with backoff, and failures that retrying cannot fix.
"""

from __future__ import annotations

import json
import pickle
import time

import pytest

from newsmon.analysis.alert_text import slack_body
from newsmon.connectors.notifiers import DeliveryError
from newsmon.connectors.webhook_signing import sign, verify_signature
from newsmon.settings import Secret
from tests.support.notifiers import SECRET, SLACK_TOKEN, Sleeps, make_alert, webhook
from tests.support.webhook_server import WebhookServer


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
    assert request.json()["alerts"] == [alert]
    [story] = request.json()["stories"]
    assert (story["story_id"], story["alert_ids"], story["article_count"]) == (
        alert["story_id"], [alert["alert_id"]], 1)

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
    assert "more stories" in json.dumps(digest["blocks"][-1])


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


def test_gives_up_after_its_attempts_and_the_next_message_gets_its_attempts_too(receiver):
    receiver.answer(*[500] * 6)
    sleeps = Sleeps()
    notifier = webhook(receiver.url(), sleep=sleeps, attempts=4)
    with pytest.raises(DeliveryError, match="after 4 attempt") as caught:
        notifier.deliver([make_alert(1)])
    assert not caught.value.permanent and "HTTP 500" in caught.value.reason
    assert sleeps == [1.0, 2.0, 4.0]
    # A failed message says nothing about the next one: it gets every attempt, with the waits.
    notifier.deliver([make_alert(2)])
    assert sleeps == [1.0, 2.0, 4.0, 1.0, 2.0]
    assert [r.status for r in receiver.received] == [500] * 6 + [200]
    # A caller retrying a message it gave up on may ask for fewer attempts (one probe).
    receiver.answer(503)
    with pytest.raises(DeliveryError, match="after 1 attempt"):
        notifier.deliver([make_alert(1)], attempts=1)
    assert sleeps == [1.0, 2.0, 4.0, 1.0, 2.0]


def test_backoff_doubles_up_to_30_seconds(receiver):
    receiver.answer(*[503] * 7, (503, {"Retry-After": "45"}))
    sleeps = Sleeps()
    webhook(receiver.url(), sleep=sleeps, attempts=9).deliver([make_alert()])
    # Doubling from 1 s stops at the cap; a Retry-After above the cap is still honoured.
    assert sleeps == [1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0, 45.0]
    assert len(receiver.received) == 9


def test_retry_after_longer_than_the_cap_ends_the_attempts_and_is_passed_on(receiver):
    receiver.answer((503, {"Retry-After": "3600"}))
    sleeps = Sleeps()
    with pytest.raises(DeliveryError, match="asks to wait 3600 s") as caught:
        webhook(receiver.url(), sleep=sleeps).deliver([make_alert()])
    assert sleeps == [] and not caught.value.permanent
    assert caught.value.retry_after == 3600.0  # the caller waits that long before trying again
    copy = pickle.loads(pickle.dumps(caught.value))
    assert (copy.retry_after, copy.permanent) == (3600.0, False)


def test_a_stop_cuts_the_wait_between_attempts_short(receiver):
    receiver.answer(503, 503)
    waits = []

    def interrupted(seconds):  # what threading.Event.wait answers once the event is set
        waits.append(seconds)
        return True

    with pytest.raises(DeliveryError, match="stopped") as caught:
        webhook(receiver.url(), sleep=interrupted, attempts=4).deliver([make_alert()])
    assert waits == [1.0] and caught.value.attempts == 1 and not caught.value.permanent
    assert len(receiver.received) == 1


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
