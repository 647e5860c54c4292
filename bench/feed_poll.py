"""Benchmark: feeds from HTTP to acknowledged in Kafka, next to feedparser's own parse rate.

A local HTTP server serves FEEDS feeds of ITEMS items each (RSS 2.0 with HTML
descriptions, content:encoded, Dublin Core and categories, as publishers write them).
The poller fetches, parses, normalises, validates and sends them all, and the clock
stops when Kafka has acknowledged the last one. The baseline is feedparser alone parsing
the same bytes in one thread, in the same run. Then the poller polls the same feeds for
more rounds (served without validators, so each round parses everything again and finds
it all seen) and its resident memory is printed after each round: it should stay flat.

    python -m bench.feed_poll [--feeds 500] [--items 50] [--rounds 10]
"""

from __future__ import annotations

import argparse
import dataclasses
import multiprocessing
import tempfile
import time
import uuid
from pathlib import Path

import feedparser

from newsmon.connectors.feed_list import FeedSpec
from newsmon.connectors.feed_poller import FeedPoller
from newsmon.connectors.feed_store import FeedStore
from newsmon.connectors.kafka import ensure_topics, make_admin
from newsmon.settings import Settings
from tests.support.feed_server import FeedServer

ITEM = """<item>
  <title>Story {feed}-{item}: talks on the release of detained journalists continue</title>
  <link>https://news{feed}.example.com/world/2026/story-{item}?utm_source=rss</link>
  <guid isPermaLink="false">news{feed}-{item}</guid>
  <pubDate>Tue, 24 Nov 2026 {hour:02d}:{minute:02d}:00 GMT</pubDate>
  <dc:creator>Reporter {item}</dc:creator>
  <category>World</category><category>Europe</category>
  <description><![CDATA[<p>Negotiators met again on <b>Tuesday</b> to discuss the release of
  journalists held since 2021. Officials said progress had been made &amp; more talks
  would follow.</p>]]></description>
  <content:encoded><![CDATA[<p>Negotiators met again on Tuesday.</p>{paragraphs}]]></content:encoded>
</item>"""
PARAGRAPH = ("<p>Diplomats from several countries said the talks, which began in the spring, had "
             "reached a stage where a list of names was being discussed.</p>")


def feed_body(feed: int, items: int) -> bytes:
    entries = "".join(ITEM.format(feed=feed, item=n, hour=n % 24, minute=n % 60, paragraphs=PARAGRAPH * 6)
                      for n in range(items))
    return (f'<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0" '
            f'xmlns:content="http://purl.org/rss/1.0/modules/content/" '
            f'xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>News {feed}</title>'
            f"<link>https://news{feed}.example.com/</link><description>d</description>{entries}"
            f"</channel></rss>").encode()


def serve(feeds: int, items: int, ready, stop) -> None:
    server = FeedServer()
    headers = {"Content-Type": "application/rss+xml"}
    ready.put([server.serve(f"/feed/{n}.xml", feed_body(n, items), headers=headers) for n in range(feeds)])
    stop.wait()
    server.close()


def rss_mib(pid: int | str = "self") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def poller_mib(server_pid: int) -> float:
    """The poller's resident memory: this process and its parser processes."""
    children = [c.pid for c in multiprocessing.active_children() if c.pid != server_pid]
    return rss_mib() + sum(rss_mib(pid) for pid in children)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--feeds", type=int, default=500)
    parser.add_argument("--items", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()

    bodies = [feed_body(feed, args.items) for feed in range(args.feeds)]
    total = args.feeds * args.items
    print(f"{args.feeds} feeds x {args.items} items = {total} items, "
          f"{sum(map(len, bodies)) / 1e6:.1f} MB of XML")

    started = time.perf_counter()
    parsed = sum(len(feedparser.parse(body).entries) for body in bodies)
    baseline = parsed / (time.perf_counter() - started)
    print(f"baseline, feedparser.parse alone, one thread: {baseline:,.0f} items/s")

    # The publishers' server runs in its own process, as it would on its own machine.
    context = multiprocessing.get_context("spawn")
    ready, stop = context.Queue(), context.Event()
    server = context.Process(target=serve, args=(args.feeds, args.items, ready, stop), daemon=True)
    server.start()
    urls = ready.get(timeout=120)
    topic = f"bench.feeds.{uuid.uuid4().hex[:8]}"
    base = Settings.load()
    ensure_topics(base, [topic])
    try:
        with tempfile.TemporaryDirectory() as home:
            settings = dataclasses.replace(base, home=Path(home), topic_articles=topic,
                                           fetch_allowed_networks=("127.0.0.1/32",))  # the local publishers
            store = FeedStore.at_home(settings.home)
            store.add([FeedSpec(url=url, name=f"News {n}") for n, url in enumerate(urls)])
            poller = FeedPoller(settings, store)
            started = time.perf_counter()
            stats = poller.run(once=True)
            rate = stats.articles_sent / (time.perf_counter() - started)
            print(f"newsmon, HTTP to acknowledged in Kafka: {rate:,.0f} items/s "
                  f"({stats.articles_sent} sent, {stats.failed_polls} failed polls)")
            print(f"ratio to feedparser alone: {rate / baseline:.2f} (goal >= 0.75)")
            memory = [poller_mib(server.pid)]
            for _ in range(args.rounds - 1):
                poller.run(once=True)
                memory.append(poller_mib(server.pid))
            poller.close()
            rounds = ", ".join(f"{m:.0f}" for m in memory)
            print(f"poller resident memory (with its parser processes) after each round, MiB: {rounds}")
            print(f"growth from round 2 to round {args.rounds}: {memory[-1] - memory[1]:+.0f} MiB")
    finally:
        stop.set()
        server.join(10)
        admin = make_admin(base)
        admin.delete_topics([topic])
        admin.close()


if __name__ == "__main__":
    main()
