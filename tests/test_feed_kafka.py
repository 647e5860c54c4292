"""Feeds served over real HTTP, polled into the real Kafka: once per article, across
restarts and a Kafka outage.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess

from newsmon.connectors.feed_list import FeedSpec
from newsmon.connectors.feed_poller import FeedPoller
from newsmon.connectors.feed_store import FeedStore
from newsmon.connectors.kafka import make_consumer
from newsmon.deploy.kafka_service import KafkaService
from newsmon.schemas import problems
from tests.support.commands import run_newsmon

RSS = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>{name}</title><link>https://{name}.example.com/</link>
<description>x</description>{items}</channel></rss>"""


def rss(name: str, *links: str) -> str:
    items = "".join(f"<item><title>Story at {link}</title><link>{link}</link>"
                    f"<description>About {link}.</description></item>" for link in links)
    return RSS.format(name=name, items=items)


def read_topic(settings, topic: str) -> list:
    consumer = make_consumer(settings, topic, consumer_timeout_ms=4000, group_id=None)
    try:
        return list(consumer)
    finally:
        consumer.close()


def newsmon(settings, *args: str) -> subprocess.CompletedProcess:
    env = os.environ | {"NEWSMON_HOME": str(settings.home), "NEWSMON_TOPIC_ARTICLES": settings.topic_articles,
                        "NEWSMON_FETCH_ALLOWED_NETWORKS": "127.0.0.1/32"}  # the test feed server
    return run_newsmon(*args, env=env)


def test_feeds_reach_kafka_once_across_restarts(feed_server, feed_settings, topic, tmp_path):
    settings = dataclasses.replace(feed_settings, topic_articles=topic)
    # No validators: every poll downloads and parses the feeds in full again.
    first = feed_server.serve("/a.xml", rss("a", "https://a.example.com/1", "https://a.example.com/2",
                                            "https://shared.example.com/story?utm_source=a"))
    second = feed_server.serve("/b.xml", rss("b", "https://b.example.com/1",
                                             "https://shared.example.com/story?utm_source=b#top"))
    opml = tmp_path / "feeds.opml"
    opml.write_text(f"""<?xml version="1.0"?><opml version="2.0"><head><title>t</title></head><body>
      <outline text="News"><outline text="Feed A" xmlUrl="{first}"/><outline text="Feed B" xmlUrl="{second}"/>
      </outline></body></opml>""")
    imported = newsmon(settings, "feeds", "import-opml", str(opml))
    assert imported.returncode == 0, imported.stderr
    assert "2 feeds, 2 added" in imported.stdout

    run = newsmon(settings, "feeds", "run", "--once")
    assert run.returncode == 0, run.stderr
    assert "4 articles sent" in run.stdout
    records = read_topic(settings, topic)
    messages = [json.loads(record.value) for record in records]
    assert sorted(m["url"] for m in messages) == [
        "https://a.example.com/1", "https://a.example.com/2", "https://b.example.com/1",
        "https://shared.example.com/story"]
    for record, message in zip(records, messages, strict=True):
        assert problems("article", message) == []
        assert record.key.decode() == message["article_id"]

    again = newsmon(settings, "feeds", "run", "--once")  # a restarted poller
    assert again.returncode == 0, again.stderr
    assert "2 polls (0 not modified, 0 failed), 0 articles sent" in again.stdout
    assert len(read_topic(settings, topic)) == 4

    status = newsmon(settings, "feeds", "status", "--json")
    feeds = {feed["name"]: feed for feed in json.loads(status.stdout)}
    assert feeds["Feed A"]["items_sent"] + feeds["Feed B"]["items_sent"] == 4
    assert feeds["Feed A"]["items_in_feed"] == 3 and feeds["Feed A"]["last_error"] is None


def test_a_kafka_outage_delays_articles_and_loses_none(feed_server, feed_settings, topic, kafka):
    settings = dataclasses.replace(feed_settings, topic_articles=topic)
    url = feed_server.serve("/f.xml", rss("f", "https://f.example.com/1"), etag='"1"')
    store = FeedStore.at_home(settings.home)
    store.add([FeedSpec(url=url, name="F")])
    poller = FeedPoller(settings, store)
    broker = KafkaService(kafka)  # the broker the test session runs (its state is under kafka.home)
    try:
        assert poller.run(once=True).articles_sent == 1  # the producer is connected

        feed_server.serve("/f.xml", rss("f", *(f"https://f.example.com/{n}" for n in (1, 2, 3))), etag='"2"')
        broker.down()
        during = poller.run(once=True)
        assert during.articles_unacknowledged == 2
        status = store.statuses()[0]
        assert "Kafka did not acknowledge 2 article(s)" in status.last_error
        assert status.etag == '"1"'  # the old validator stays, so the feed is read in full again
    finally:
        broker.up()
    after = FeedPoller(settings, store).run(once=True)  # as after a restart
    assert after.articles_sent == 2 and after.articles_unacknowledged == 0
    urls = [json.loads(record.value)["url"] for record in read_topic(settings, topic)]
    assert sorted(urls) == ["https://f.example.com/1", "https://f.example.com/2", "https://f.example.com/3"]
    assert store.statuses()[0].etag == '"2"'
