"""The limits of one download against servers that stall at every stage, the addresses
feeds may be fetched from, and the budget of full-text extraction; real local servers
throughout.
"""

from __future__ import annotations

import dataclasses
import logging
import socket
import time

import pytest

from newsmon.connectors.feed_list import FeedSpec
from newsmon.connectors.feed_poller import FeedPoller
from newsmon.connectors.feed_store import FeedStore
from newsmon.connectors.worker_processes import WorkerProcesses
from tests.support.feed_server import FeedServer

LIMIT = 1.0  # seconds NEWSMON_FETCH_TIMEOUT allows in these tests
SLACK = 0.5  # seconds of scheduling on a loaded machine
RSS = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>T</title><link>https://t.example.com/</link><description>x</description>
<item><title>Story</title><link>https://t.example.com/1</link></item></channel></rss>"""


def status_of(store, url):
    return next(s for s in store.statuses() if s.spec.url == url)


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


def article_page(paragraphs: int) -> str:
    body = "".join(f"<div class='c{n % 7}'><p>Paragraph {n} of the full story, long enough for the "
                   f"extractor to treat it as body text.</p><span>{n}</span></div>"
                   for n in range(paragraphs))
    return f"<html><head><title>Page</title></head><body><article>{body}</article></body></html>"


def feed_of(*links: str) -> str:
    items = "".join(f"<item><title>Story {link}</title><link>{link}</link><description>Teaser.</description>"
                    "</item>" for link in links)
    return RSS[:RSS.index("<item>")] + items + "</channel></rss>"


def test_full_text_extraction_runs_within_its_budget(feed_server, feed_settings, caplog):
    """trafilatura ran in the poller's process with no budget (a 10 MiB page: 113 s of CPU,
    1 GiB resident); over its budget, the article is sent without full text.
    """
    html = {"Content-Type": "text/html"}
    small = feed_server.serve("/small", article_page(10), headers=html)
    huge = feed_server.serve("/huge", article_page(20_000), headers=html)  # 3 MiB: some 5 s of extraction
    warm = feed_server.serve("/warm.xml", feed_of(small))
    both = feed_server.serve("/both.xml", feed_of(small, huge))
    settings = dataclasses.replace(feed_settings, full_text_timeout=1.0, fetch_timeout=10.0)
    store = FeedStore.at_home(settings.home)
    store.add([FeedSpec(url=url, name=url, full_text=True) for url in (warm, both)])
    poller = FeedPoller(settings, store)
    try:
        [whole] = poller.poll(status_of(store, warm)).messages  # the extracting process is started
        assert whole["content"].startswith("Paragraph 0 of the full story")
        with caplog.at_level(logging.INFO):
            started = time.monotonic()
            messages = poller.poll(status_of(store, both)).messages
            took = time.monotonic() - started
    finally:
        poller.close()
    assert [m["url"] for m in messages] == [small, huge]
    assert messages[0]["content"].startswith("Paragraph 0 of the full story")
    assert messages[1]["content"] is None  # the feed carries no full text, and the page gave none
    assert f"full text of {huge} not used: extraction took longer than 1s" in caplog.text
    assert took < 1.0 + 1.5  # the budget, the small page and the two downloads


def test_a_worker_process_over_its_time_is_stopped_and_the_pool_starts_afresh():
    workers = WorkerProcesses(1, name="test")
    try:
        assert workers.call(sum, [1, 2]) == 3  # started
        started = time.monotonic()
        with pytest.raises(TimeoutError, match="no result within 0.5s; the process was stopped"):
            workers.call(time.sleep, 60, timeout=0.5)
        assert time.monotonic() - started < 0.5 + SLACK
        assert workers.call(sum, [3, 4]) == 7  # a new process
    finally:
        workers.close()


def test_a_worker_process_is_capped_in_address_space():
    workers = WorkerProcesses(1, name="test", memory=1024**3)
    try:
        with pytest.raises(MemoryError):
            workers.call(bytearray, 2 * 1024**3)
        assert workers.call(len, bytearray(1000)) == 1000
    finally:
        workers.close()
