"""How the poller talks HTTP to publishers, against a real local HTTP server."""

from __future__ import annotations

import dataclasses
import gzip
import ipaddress
import logging
from datetime import UTC, datetime, timedelta
from email.utils import formatdate

import pytest

from newsmon.connectors.feed_list import FeedSpec
from newsmon.connectors.feed_poller import FeedPoller, next_poll_at
from newsmon.connectors.feed_store import FeedStore
from newsmon.connectors.http_fetch import blocked_reason, retry_after_seconds
from tests.support.feed_server import FeedServer

RSS = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>T</title><link>https://t.example.com/</link><description>x</description>
{items}</channel></rss>"""
PARAGRAPHS = "".join(f"<p>Paragraph {n} of the full story, long enough for the extractor to treat it "
                     "as body text.</p>" for n in range(6))
ARTICLE_PAGE = ("<html><head><title>Page</title></head><body><nav>Home | World | Sport</nav>"
                f"<article>{PARAGRAPHS}</article><footer>Copyright</footer></body></html>")


def rss(*links: str) -> str:
    return RSS.format(items="".join(
        f"<item><title>Story {link}</title><link>{link}</link></item>" for link in links))


def poller_for(settings, *urls, **spec):
    store = FeedStore.at_home(settings.home)
    store.add([FeedSpec(url=url, name=f"feed {n}", **spec) for n, url in enumerate(urls)])
    return FeedPoller(settings, store), store


def status_of(store, url):
    return next(s for s in store.statuses() if s.spec.url == url)


def record(store, outcome):
    store.record_success(outcome.status.spec.url, polled_at=outcome.polled_at,
                         next_poll_at=outcome.polled_at, etag=outcome.etag,
                         last_modified=outcome.last_modified, items_in_feed=outcome.items,
                         sent=[m["article_id"] for m in outcome.messages], rejected=0, warning=None)


def test_etag_answered_304_is_not_parsed_again(feed_server, feed_settings):
    url = feed_server.serve("/f", rss("https://t.example.com/1"), etag='"v1"')
    poller, store = poller_for(feed_settings, url)
    first = poller.poll(status_of(store, url))
    assert len(first.messages) == 1 and first.etag == '"v1"'
    record(store, first)
    second = poller.poll(status_of(store, url))
    assert second.not_modified and second.messages == [] and second.items is None
    requests = feed_server.requests_for("/f")
    assert requests[1].headers.get("If-None-Match") == '"v1"'
    assert [r.status for r in requests] == [200, 304]


def test_last_modified_is_sent_back(feed_server, feed_settings):
    url = feed_server.serve("/f", rss("https://t.example.com/1"), last_modified=1_700_000_000)
    poller, store = poller_for(feed_settings, url)
    record(store, poller.poll(status_of(store, url)))
    assert poller.poll(status_of(store, url)).not_modified
    sent = feed_server.requests_for("/f")[1].headers["If-Modified-Since"]
    assert sent == formatdate(1_700_000_000, usegmt=True)


def test_validators_move_on_only_when_recorded(feed_server, feed_settings):
    """Until the articles are acknowledged the old validators stay, so nothing is skipped."""
    url = feed_server.serve("/f", rss("https://t.example.com/1"), etag='"v1"')
    poller, store = poller_for(feed_settings, url)
    poller.poll(status_of(store, url))  # polled, but never recorded (Kafka did not answer)
    again = poller.poll(status_of(store, url))
    assert not again.not_modified and len(again.messages) == 1


def test_gzip_and_a_clear_user_agent(feed_server, feed_settings):
    url = feed_server.serve("/f", rss("https://t.example.com/1"), gzip=True)
    poller, store = poller_for(feed_settings, url)
    assert len(poller.poll(status_of(store, url)).messages) == 1
    request = feed_server.requests_for("/f")[0]
    assert "gzip" in request.headers["Accept-Encoding"]
    assert request.headers["User-Agent"].startswith("newsmon/")


def test_gzip_bomb_stops_at_the_size_limit(feed_server, feed_settings):
    settings = dataclasses.replace(feed_settings, fetch_max_bytes=1024 * 1024)
    padding = " " * 50_000_000  # 50 MB that compress to 50 kB
    body = rss("https://t.example.com/1").replace("<title>T</title>", f"<title>T{padding}</title>")
    url = feed_server.serve("/bomb", gzip.compress(body.encode(), 9), headers={"Content-Encoding": "gzip"})
    poller, store = poller_for(settings, url)
    assert "larger than the limit" in poller.poll(status_of(store, url)).error


def test_declared_size_over_the_limit_is_refused_before_reading(feed_server, feed_settings):
    settings = dataclasses.replace(feed_settings, fetch_max_bytes=10_000)
    url = feed_server.serve("/big", rss(*(f"https://t.example.com/{n}" for n in range(1000))))
    poller, store = poller_for(settings, url)
    assert "more than the limit" in poller.poll(status_of(store, url)).error


def test_undeclared_size_over_the_limit(feed_server, feed_settings):
    settings = dataclasses.replace(feed_settings, fetch_max_bytes=10_000)
    url = feed_server.serve("/big", rss(*(f"https://t.example.com/{n}" for n in range(1000))),
                            declare_length=False)
    poller, store = poller_for(settings, url)
    assert "larger than the limit" in poller.poll(status_of(store, url)).error


def test_a_trickling_server_meets_the_total_timeout(feed_server, feed_settings):
    settings = dataclasses.replace(feed_settings, fetch_timeout=1.0)
    url = feed_server.serve("/slow", rss("https://t.example.com/1"), trickle=0.02)
    poller, store = poller_for(settings, url)
    assert "took longer than 1s" in poller.poll(status_of(store, url)).error


def test_redirects_are_followed_up_to_the_limit(feed_server, feed_settings):
    feed_server.serve("/final", rss("https://t.example.com/1"))
    feed_server.serve("/moved", status=301, headers={"Location": "/final"})
    feed_server.serve("/loop", status=302, headers={"Location": "/loop"})
    feed_server.serve("/ftp", status=302, headers={"Location": "ftp://t.example.com/feed"})
    moved, loop, ftp = (feed_server.url(p) for p in ("/moved", "/loop", "/ftp"))
    poller, store = poller_for(feed_settings, moved, loop, ftp)
    assert len(poller.poll(status_of(store, moved)).messages) == 1
    assert "more than 5 redirects" in poller.poll(status_of(store, loop)).error
    assert "not http(s)" in poller.poll(status_of(store, ftp)).error
    assert len(feed_server.requests_for("/loop")) == 6


def test_retry_after_is_honoured(feed_server, feed_settings):
    url = feed_server.serve("/busy", status=429, headers={"Retry-After": "600"})
    poller, store = poller_for(feed_settings, url, poll_interval=timedelta(seconds=30))
    outcome = poller.poll(status_of(store, url))
    assert "HTTP 429" in outcome.error and outcome.retry_after == 600
    assert next_poll_at(outcome, failed=True) - outcome.polled_at >= timedelta(seconds=540)


def test_a_huge_retry_after_waits_a_day_at_most(feed_server, feed_settings):
    url = feed_server.serve("/busy", status=503, headers={"Retry-After": "9" * 30})
    poller, store = poller_for(feed_settings, url)
    outcome = poller.poll(status_of(store, url))
    assert outcome.retry_after == float("9" * 30)
    assert timedelta(hours=21) < next_poll_at(outcome, failed=True) - outcome.polled_at < timedelta(hours=27)


def test_retry_after_as_http_date():
    now = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    assert retry_after_seconds("Thu, 01 Jan 2026 12:02:00 GMT", now) == 120
    assert retry_after_seconds("120") == 120
    assert retry_after_seconds("soon") is None


def test_errors_back_off_exponentially(feed_server, feed_settings):
    url = feed_server.serve("/down", status=500)
    poller, store = poller_for(feed_settings, url, poll_interval=timedelta(seconds=60))
    delays = []
    for _ in range(3):
        outcome = poller.poll(status_of(store, url))
        when = next_poll_at(outcome, failed=True)
        store.record_failure(url, polled_at=outcome.polled_at, next_poll_at=when, error=outcome.error)
        delays.append((when - outcome.polled_at).total_seconds())
    assert [round(d / 60) for d in delays] == [1, 2, 4]  # ±10 % jitter rounds away
    status = status_of(store, url)
    assert status.consecutive_errors == 3 and "HTTP 500" in status.last_error


def test_a_slow_feed_does_not_hold_the_others_back(feed_settings):
    server = FeedServer()
    try:
        empty = RSS.format(items="")
        slow = server.serve("/slow", empty, delay=3.0)
        fast = [server.serve(f"/fast{n}", empty) for n in range(12)]
        settings = dataclasses.replace(feed_settings, feed_concurrency=4)
        poller, _ = poller_for(settings, slow, *fast)
        stats = poller.run(once=True)
        assert stats.polls == 13 and stats.failed_polls == 0
        slow_done = server.requests_for("/slow")[0].answered_at
        assert all(server.requests_for(f"/fast{n}")[0].answered_at < slow_done for n in range(12))
    finally:
        server.close()


def test_an_html_page_is_reported_in_the_feed_status(feed_server, feed_settings):
    url = feed_server.serve("/html", "<!DOCTYPE html><html><body>Login</body></html>",
                            headers={"Content-Type": "text/html"})
    poller, store = poller_for(feed_settings, url)
    poller.run(once=True)
    status = status_of(store, url)
    assert status.consecutive_errors == 1 and "an HTML page" in status.last_error
    assert status.last_success_at is None


@pytest.mark.parametrize("allowed", [("127.0.0.1/32", "127.0.0.2/32"), ("127.0.0.1/32",)])
def test_full_text_only_from_allowed_addresses(feed_server, feed_settings, allowed, caplog):
    site = FeedServer(host="127.0.0.2")  # the feed is on 127.0.0.1, its article pages here
    try:
        page = site.serve("/story", ARTICLE_PAGE, headers={"Content-Type": "text/html"})
        url = feed_server.serve("/f", rss(page))
        settings = dataclasses.replace(feed_settings, fetch_allowed_networks=allowed)
        poller, store = poller_for(settings, url, full_text=True)
        with caplog.at_level(logging.WARNING):
            [message] = poller.poll(status_of(store, url)).messages
        if "127.0.0.2/32" in allowed:
            assert message["content"].startswith("Paragraph 0 of the full story")
            assert "Home | World" not in message["content"]
        else:
            assert message["content"] is None
            assert "127.0.0.2 is a loopback address" in caplog.text
            assert site.requests_for("/story") == []
    finally:
        site.close()


def test_full_text_redirect_to_a_blocked_address_is_refused(feed_server, feed_settings, caplog):
    other = FeedServer(host="127.0.0.2")
    try:
        other.serve("/inside", ARTICLE_PAGE)
        page = feed_server.serve("/story", status=302, headers={"Location": other.url("/inside")})
        url = feed_server.serve("/f", rss(page))
        settings = dataclasses.replace(feed_settings, fetch_allowed_networks=("127.0.0.1/32",))
        poller, store = poller_for(settings, url, full_text=True)
        with caplog.at_level(logging.WARNING):
            [message] = poller.poll(status_of(store, url)).messages
        assert message["content"] is None
        assert "127.0.0.2 is a loopback address" in caplog.text
        assert other.requests_for("/inside") == []
    finally:
        other.close()


@pytest.mark.parametrize(("address", "kind"), [
    ("127.0.0.1", "loopback"), ("::1", "loopback"), ("::ffff:127.0.0.1", "loopback"),
    ("10.1.2.3", "private"), ("192.168.0.1", "private"), ("fd00:ec2::254", "private"),
    ("169.254.169.254", "link-local"), ("fe80::1", "link-local"), ("0.0.0.0", "unspecified"),
    ("100.100.100.200", "not a public"), ("224.0.0.1", "multicast"),
])
def test_non_public_addresses_are_blocked(address, kind):
    assert kind in blocked_reason(address)


def test_public_and_allowed_addresses_pass():
    assert blocked_reason("93.184.216.34") is None
    assert blocked_reason("2606:4700::1111") is None
    assert blocked_reason("10.1.2.3", (ipaddress.ip_network("10.0.0.0/8"),)) is None
