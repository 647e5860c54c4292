"""The limits of one download against servers that stall at every stage, the addresses
feeds may be fetched from, and the budget of full-text extraction; real local servers
throughout.
"""

from __future__ import annotations

import dataclasses
import socket
import time

import pytest

from newsmon.connectors.feed_list import FeedSpec
from newsmon.connectors.feed_poller import FeedPoller
from newsmon.connectors.feed_store import FeedStore
from tests.feed_server import FeedServer

LIMIT = 1.0  # seconds NEWSMON_FETCH_TIMEOUT allows in these tests
SLACK = 0.5  # seconds of scheduling on a loaded machine
RSS = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>T</title><link>https://t.example.com/</link><description>x</description>
<item><title>Story</title><link>https://t.example.com/1</link></item></channel></rss>"""


def poll(settings, url: str):
    store = FeedStore.at_home(settings.home)
    store.add([FeedSpec(url=url, name="feed")])
    poller = FeedPoller(dataclasses.replace(settings, fetch_timeout=LIMIT), store)
    try:
        started = time.monotonic()
        outcome = poller.poll(store.statuses()[0])
        return outcome, time.monotonic() - started
    finally:
        poller.close()


def test_trickled_headers_meet_the_total_deadline(feed_server, feed_settings):
    # About 1,200 bytes of status line and headers at one byte per 10 ms: 12 s against a 1 s limit.
    url = feed_server.serve("/slow-head", RSS, trickle_headers=0.01, headers={"X-Padding": "p" * 1100})
    outcome, took = poll(feed_settings, url)
    assert outcome.error and "took longer than 1s" in outcome.error
    assert took < LIMIT + SLACK


def test_a_connection_never_accepted_meets_the_total_deadline(feed_settings):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    queued = []  # fill the accept queue: further handshakes are left unanswered
    for _ in range(8):
        client = socket.socket()
        client.setblocking(False)
        client.connect_ex(("127.0.0.1", port))
        queued.append(client)
    try:
        outcome, took = poll(feed_settings, f"http://127.0.0.1:{port}/feed")
    finally:
        for client in queued:
            client.close()
        listener.close()
    assert outcome.error and "took longer than 1s" in outcome.error
    assert took < LIMIT + SLACK


def test_the_deadline_spans_every_redirect(feed_server, feed_settings):
    feed_server.serve("/final", RSS)
    for hop in range(4):  # each hop answers in 0.4 s, well within a per-request timeout of 1 s
        target = "/final" if hop == 3 else f"/hop{hop + 1}"
        feed_server.serve(f"/hop{hop}", status=302, headers={"Location": target}, delay=0.4)
    outcome, took = poll(feed_settings, feed_server.url("/hop0"))
    assert outcome.error and "took longer than 1s" in outcome.error
    assert took < LIMIT + SLACK


@pytest.mark.parametrize("declare_length", [True, False])
def test_a_trickled_body_is_an_error_not_a_shorter_feed(feed_server, feed_settings, declare_length):
    url = feed_server.serve("/slow-body", RSS, trickle=0.01, declare_length=declare_length)
    outcome, took = poll(feed_settings, url)
    assert outcome.error and "took longer than 1s" in outcome.error and outcome.messages == []
    assert took < LIMIT + SLACK


def test_feed_fetches_reach_only_allowed_addresses(feed_server, feed_settings):
    """A feed that redirects into loopback or private ranges is refused, as article pages are."""
    inside = FeedServer(host="127.0.0.2")
    try:
        inside.serve("/admin/feed", RSS)
        moved = feed_server.serve("/moved", status=302, headers={"Location": inside.url("/admin/feed")})
        settings = dataclasses.replace(feed_settings, fetch_allowed_networks=("127.0.0.1/32",))
        outcome, _ = poll(settings, moved)
        assert outcome.error and "127.0.0.2 is a loopback address" in outcome.error
        assert inside.requests_for("/admin/feed") == []

        direct = feed_server.serve("/feed", RSS)
        outcome, _ = poll(dataclasses.replace(feed_settings, fetch_allowed_networks=()), direct)
        assert outcome.error and "127.0.0.1 is a loopback address" in outcome.error
        assert feed_server.requests_for("/feed") == []
    finally:
        inside.close()
