"""The poller's schedule, without Kafka: a feed whose articles still wait for Kafka's
acknowledgement is not polled again (a second poll would skip them as in flight and store
the feed's new validators, so that if they then failed they would never be sent).
"""

from __future__ import annotations

import threading

from kafka.future import Future as KafkaFuture

from newsmon.connectors.feed_list import FeedSpec
from newsmon.connectors.feed_poller import FeedPoller
from newsmon.connectors.feed_store import FeedStore

RSS = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>f</title><link>https://f.example.com/</link><description>x</description>
<item><title>One</title><link>https://f.example.com/1</link><description>About one.</description></item>
</channel></rss>"""


class Unanswered(FeedPoller):
    """A poller whose Kafka never answers: every send stays pending."""

    def _send(self, message: dict) -> KafkaFuture:
        return KafkaFuture()


def test_a_feed_waiting_for_kafka_is_not_polled_again(feed_server, feed_settings):
    url = feed_server.serve("/f.xml", RSS, etag='"1"')
    store = FeedStore.at_home(feed_settings.home)
    store.add([FeedSpec(url=url, name="F")])
    poller = Unanswered(feed_settings, store)
    stop = threading.Event()
    worker = threading.Thread(target=poller.run, kwargs={"stop": stop})
    worker.start()
    try:
        stop.wait(3)  # the poll loop comes round every half second
    finally:
        stop.set()
        worker.join(30)
        poller.close()
    assert len(feed_server.requests_for("/f.xml")) == 1
    status = store.statuses()[0]
    assert status.etag is None and status.items_sent == 0  # nothing recorded while unacknowledged
