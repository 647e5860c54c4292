"""The poller under failure: backoff, oversized articles, sends that fail, validators that
must not move on while articles are unacknowledged. Real Kafka, real HTTP.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta

from newsmon.analysis.messages import Article
from newsmon.connectors.feed_list import FeedSpec
from newsmon.connectors.feed_poller import FeedPoller, PollOutcome, next_poll_at
from newsmon.connectors.feed_store import FeedStatus, FeedStore
from newsmon.connectors.kafka import ensure_topics, make_admin, make_consumer
from newsmon.schemas import problems

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def status(interval: timedelta, errors: int = 0) -> FeedStatus:
    spec = FeedSpec(url="https://feed.example.org/rss", name="F", poll_interval=interval)
    return FeedStatus(spec=spec, etag=None, last_modified=None, next_poll_at=None, last_polled_at=None,
                      last_success_at=None, last_error=None, last_error_at=None, last_warning=None,
                      consecutive_errors=errors, items_in_feed=0, items_sent=0, items_rejected=0)


def test_backoff_doubles_to_six_hours_and_never_undercuts_retry_after():
    waits = [(next_poll_at(PollOutcome(status(timedelta(minutes=5), errors), NOW), failed=True) - NOW)
             for errors in range(12)]
    for wait, doubled in zip(waits, (1, 2, 4, 8, 16), strict=False):
        assert 0.9 <= wait / (doubled * timedelta(minutes=5)) <= 1.1
    assert all(timedelta(hours=5.4) <= w <= timedelta(hours=6.6) for w in waits[8:])
    # Jitter spreads the feeds out, but a server's Retry-After is a floor, not a suggestion.
    outcome = PollOutcome(status(timedelta(minutes=1)), NOW, retry_after=600)
    assert min(next_poll_at(outcome, failed=True) - NOW for _ in range(200)) >= timedelta(seconds=600)
    assert next_poll_at(PollOutcome(status(timedelta(minutes=1)), NOW, retry_after=10**9),
                        failed=True) - NOW <= timedelta(hours=24)


RSS = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel><title>{name}</title>
<link>https://{name}.example.com/</link><description>x</description>{items}</channel></rss>"""
# 660,600 characters of Cyrillic: within the schema's 1,000,000, but 1.2 MB as UTF-8 JSON,
# over Kafka's default request size of 1 MiB.
HUGE = "Беларусь " * 73_400


def rss(name: str, *items: tuple[str, str]) -> str:
    """A feed of (link, full text) items."""
    return RSS.format(name=name, items="".join(
        f"<item><title>Story {link}</title><link>{link}</link><description>Teaser of {link}.</description>"
        f"<content:encoded><![CDATA[{content}]]></content:encoded></item>" for link, content in items))


def poller_for(settings, *urls):
    store = FeedStore.at_home(settings.home)
    store.add([FeedSpec(url=url, name=f"feed {n}") for n, url in enumerate(urls)])
    return FeedPoller(settings, store), store


def status_of(store, url):
    return next(s for s in store.statuses() if s.spec.url == url)


def read_topic(settings, topic: str) -> dict[str, tuple[bytes, dict]]:
    """url → (value bytes, message) of every record on ``topic``."""
    consumer = make_consumer(settings, topic, consumer_timeout_ms=4000, group_id=None)
    try:
        return {json.loads(r.value)["url"]: (r.value, json.loads(r.value)) for r in consumer}
    finally:
        consumer.close()


def test_an_oversized_article_is_truncated_to_fit_and_the_items_after_it_are_sent(
        feed_server, feed_settings, topic):
    settings = dataclasses.replace(feed_settings, topic_articles=topic)
    links = [f"https://big.example.com/{n}" for n in range(3)]
    url = feed_server.serve("/big.xml", rss("big", (links[0], "First body."), (links[1], HUGE),
                                            (links[2], "Third body.")), etag='"1"')
    poller, store = poller_for(settings, url)
    try:
        stats = poller.run(once=True)
    finally:
        poller.close()
    assert (stats.articles_sent, stats.articles_unacknowledged) == (3, 0)
    status = status_of(store, url)
    assert status.last_error is None and status.etag == '"1"'

    records = read_topic(settings, topic)
    assert sorted(records) == links
    value, big = records[links[1]]
    assert len(value) < 1024 * 1024  # what Kafka takes by default
    assert big["content_truncated"] is True and problems("article", big) == []
    assert len(big["content"]) > 300_000 and HUGE.startswith(big["content"])
    assert Article.from_message(big).content_truncated
    for link in (links[0], links[2]):
        assert not records[link][1].get("content_truncated", False)
        assert not Article.from_message(records[link][1]).content_truncated


def test_an_oversized_article_beside_records_in_flight_never_raises(feed_server, feed_settings, topic):
    """One feed's failure path ran ``producer.close(timeout=0)``, which raised KafkaTimeoutError
    while another feed's records were still in flight, and that ended ``feeds run``.
    """
    settings = dataclasses.replace(feed_settings, topic_articles=topic)
    busy = feed_server.serve("/busy.xml", rss("busy", *((f"https://busy.example.com/{n}", f"Body {n}.")
                                                        for n in range(50))))
    big = feed_server.serve("/big.xml", rss("big", ("https://big.example.com/1", HUGE)))
    poller, store = poller_for(settings, busy, big)
    try:
        outcomes = [poller.poll(status_of(store, url)) for url in (busy, big)]
        # The busy feed's 50 records are in flight (the producer lingers 10 ms before a
        # request) when the big feed's outcome is dispatched and settled.
        for outcome in outcomes:
            poller._dispatch(outcome)
        poller._settle()
        poller._flush()
    finally:
        poller.close()
    assert poller.stats.articles_sent == 51 and poller.stats.articles_unacknowledged == 0
    assert len(read_topic(settings, topic)) == 51


def test_feeds_run_sends_every_article_beside_an_oversized_one(feed_server, feed_settings, topic):
    settings = dataclasses.replace(feed_settings, topic_articles=topic)
    busy = feed_server.serve("/busy.xml", rss("busy", *((f"https://busy.example.com/{n}", f"Body {n}.")
                                                        for n in range(200))))
    big = feed_server.serve("/big.xml", rss("big", ("https://big.example.com/1", HUGE),
                                            ("https://big.example.com/2", "Small.")))
    FeedStore.at_home(settings.home).add([FeedSpec(url=busy, name="Busy"), FeedSpec(url=big, name="Big")])
    env = os.environ | {"NEWSMON_HOME": str(settings.home), "NEWSMON_TOPIC_ARTICLES": topic,
                        "NEWSMON_FETCH_ALLOWED_NETWORKS": "127.0.0.1/32"}
    run = subprocess.run([sys.executable, "-m", "newsmon", "feeds", "run", "--once"], env=env,
                         capture_output=True, text=True, timeout=180, check=False)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "202 articles sent (1 truncated to fit)" in run.stdout
    assert len(read_topic(settings, topic)) == 202


def test_a_retired_producer_still_delivers_what_is_in_flight(feed_server, feed_settings, topic):
    settings = dataclasses.replace(feed_settings, topic_articles=topic)
    busy = feed_server.serve("/busy.xml", rss("busy", *((f"https://busy.example.com/{n}", f"Body {n}.")
                                                        for n in range(50))))
    poller, store = poller_for(settings, busy)
    try:
        poller._dispatch(poller.poll(status_of(store, busy)))
        first = poller._producer
        poller._retire_producer()  # what another feed's failed batch does; 50 records are in flight
        assert poller._producer is None
        poller._flush()
        assert poller.stats.articles_sent == 50 and poller.stats.articles_unacknowledged == 0
        assert first._closed  # closed in the background once its records were answered
    finally:
        poller.close()
    assert len(read_topic(settings, topic)) == 50


def wait_for(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"no {what} within {timeout}s"
        time.sleep(0.05)


def topic_exists(kafka, topic: str) -> bool:
    admin = make_admin(kafka)
    try:
        return topic in admin.list_topics()
    finally:
        admin.close()


def delete_topic(kafka, topic: str) -> None:
    """Kafka loses the topic: a producer that knows its partitions sends to it all the same,
    and its records wait, unacknowledged, until the delivery timeout fails them.
    """
    admin = make_admin(kafka)
    admin.delete_topics([topic])
    admin.close()
    wait_for(lambda: not topic_exists(kafka, topic), 30, f"deletion of {topic}")


def recreate_topic(kafka, topic: str) -> None:
    wait_for(lambda: ensure_topics(kafka, [topic], partitions=1) or topic_exists(kafka, topic), 30,
             f"topic {topic} created again")


def primed_poller(feed_server, settings):
    """A poller whose producer is connected and knows the topic's partitions."""
    primer = feed_server.serve("/primer.xml", rss("primer", ("https://primer.example.com/1", "Body.")))
    poller, store = poller_for(settings, primer)
    assert poller.run(once=True).articles_sent == 1
    return poller, store


def test_no_second_poll_while_a_feeds_articles_are_in_flight(feed_server, feed_settings, topic, kafka):
    """A second poll used to skip the articles still in flight, count "nothing to send" as a
    success and store the new ETag: when the first batch then failed, the next poll got 304
    and those articles were never sent.
    """
    settings = dataclasses.replace(feed_settings, topic_articles=topic, kafka_delivery_timeout=2.0)
    poller, store = primed_poller(feed_server, settings)
    links = ["https://f.example.com/1", "https://f.example.com/2"]
    url = feed_server.serve("/f.xml", rss("f", *((link, "Body.") for link in links)), etag='"1"')
    store.add([FeedSpec(url=url, name="F")])
    delete_topic(kafka, topic)
    stop = threading.Event()
    running = threading.Thread(target=poller.run, kwargs={"stop": stop})
    running.start()
    try:
        wait_for(lambda: "Kafka did not acknowledge 2" in (status_of(store, url).last_error or ""), 60,
                 "failed batch")
    finally:
        stop.set()
        running.join(60)
        poller.close()
        recreate_topic(kafka, topic)
    assert len(feed_server.requests_for("/f.xml")) == 1  # not polled while its articles were in flight
    status = status_of(store, url)
    assert status.etag is None and store.unseen(links) == set(links)
    assert timedelta(seconds=25) < status.next_poll_at - status.last_polled_at < timedelta(seconds=35)

    again = FeedPoller(settings, store)
    try:
        assert again.run(once=True).articles_sent == 2  # the feed was read in full, not answered 304
    finally:
        again.close()
    assert status_of(store, url).etag == '"1"'
    assert sorted(read_topic(settings, topic)) == links


def test_validators_wait_for_an_article_another_feed_is_sending(feed_server, feed_settings, topic, kafka):
    """Two feeds carry one story: the second feed's poll must not count it as done (and store
    its ETag) while the first feed's send of it can still fail.
    """
    settings = dataclasses.replace(feed_settings, topic_articles=topic, kafka_delivery_timeout=2.0)
    poller, store = primed_poller(feed_server, settings)
    story = "https://shared.example.com/story"
    first = feed_server.serve("/first.xml", rss("first", (story, "Body.")), etag='"a"')
    second = feed_server.serve("/second.xml", rss("second", (story, "Body.")), etag='"b"')
    store.add([FeedSpec(url=first, name="First"), FeedSpec(url=second, name="Second")])
    delete_topic(kafka, topic)
    try:
        stats = poller.run(once=True)
    finally:
        poller.close()
        recreate_topic(kafka, topic)
    assert stats.articles_unacknowledged == 1  # sent once, for one of the two feeds
    for url in (first, second):
        status = status_of(store, url)
        assert status.etag is None and "Kafka did not acknowledge 1" in status.last_error

    again = FeedPoller(settings, store)
    try:
        assert again.run(once=True).articles_sent == 1
    finally:
        again.close()
    assert [status_of(store, url).etag for url in (first, second)] == ['"a"', '"b"']
    assert list(read_topic(settings, topic)) == [story]
