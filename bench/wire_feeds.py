"""Feeds that grow while a benchmark runs, served over real HTTP, and the watch list they name.

:class:`WireFeeds` serves ``feeds`` RSS 2.0 feeds on 127.0.0.1; :meth:`WireFeeds.publish`
puts new synthetic wire stories (``tests/support/stories.py``: about 700 words, naming
people of ``PEOPLE``) at the top of a feed, which shows its newest ``window`` items as
publishers' feeds do. ETag/If-None-Match is answered, so an unchanged feed costs a 304.

What was *served* is exact: an item counts once a 200 response carried it. Each item's
``article_id`` comes from the poller's own parser (``parse_feed``), so the benchmark asks
the index for exactly the ids the poller sends. :class:`Publisher` publishes at a steady
rate; :class:`IndexWatcher` notes when a search first finds each published story.
"""

from __future__ import annotations

import random
import statistics
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import yaml

from newsmon.connectors.elasticsearch import make_client
from newsmon.connectors.feed_list import FeedSpec
from newsmon.connectors.feed_parse import parse_feed
from newsmon.demo import rss_feed
from newsmon.settings import Settings
from tests.support.stories import PEOPLE, news_text

CONTENT_TYPE = "application/rss+xml; charset=utf-8"
WATCH_LIST = "bench-watch"
WATCHED = PEOPLE[:4]  # a third of the people the stories name


def watchlist_yaml(people: list[str] = WATCHED) -> str:
    """The watch list file for ``newsmon watch import``."""
    return yaml.safe_dump({"watch": [{"name": name, "list": WATCH_LIST} for name in people]})


@dataclass
class Item:
    feed: int
    index: int  # position in its feed, oldest first
    url: str
    title: str
    body: str
    published: datetime
    added_at: float  # time.monotonic() when published
    message: dict = field(default_factory=dict)  # what the poller makes of it

    @property
    def article_id(self) -> str:
        return self.message["article_id"]


@dataclass
class _Feed:
    spec: FeedSpec
    items: list[Item] = field(default_factory=list)
    body: bytes = b""
    served: set[int] = field(default_factory=set)  # versions (item counts) a 200 carried


def _rss(name: str, items: list[Item]) -> bytes:
    """The feed of ``items``, newest first as publishers order them."""
    stories = [{"title": i.title, "link": i.url, "published": i.published, "body": i.body}
               for i in reversed(items)]
    return rss_feed(name, stories, about="newsmon benchmark feed")


class WireFeeds:
    def __init__(self, feeds: int = 4, *, seed: int = 0, window: int = 60) -> None:
        if feeds < 1 or window < 1:
            msg = f"feeds and window must be at least 1, got {feeds} and {window}"
            raise ValueError(msg)
        self._rng = random.Random(seed)
        self._uuids = random.Random(f"urls-{seed}")
        self._window = window
        self._lock = threading.Lock()
        self._feeds: dict[str, _Feed] = {}
        self.items: list[Item] = []
        wire = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802 - the name http.server dispatches to
                with wire._lock:
                    feed = wire._feeds.get(self.path)
                    version, body = (len(feed.items), feed.body) if feed else (0, b"")
                    etag = f'"v{version}"'
                    fresh = feed is not None and self.headers.get("If-None-Match") == etag
                    if feed is not None and not fresh:
                        feed.served.add(version)
                if feed is None:
                    self._send(404, b"not found", {})
                elif fresh:
                    self._send(304, b"", {"ETag": etag})
                else:
                    self._send(200, body, {"ETag": etag, "Content-Type": CONTENT_TYPE})

            def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                try:
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the poller was killed mid-answer

            def log_message(self, *args) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        port = self._server.server_address[1]
        for n in range(feeds):
            url = f"http://127.0.0.1:{port}/wire-{n}.rss"
            spec = FeedSpec(url=url, name=f"Bench Wire {n}", poll_interval=timedelta(seconds=30),
                            language="en")
            self._feeds[f"/wire-{n}.rss"] = _Feed(spec, body=_rss(spec.name, []))
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.2,), daemon=True)
        self._thread.start()

    @property
    def specs(self) -> list[FeedSpec]:
        return [feed.spec for feed in self._feeds.values()]

    def feed_list_yaml(self) -> str:
        """The feed list for ``newsmon feeds import-opml FILE.yaml``."""
        return yaml.safe_dump({"feeds": [
            {"url": s.url, "name": s.name, "poll_interval": "30s", "language": s.language}
            for s in self.specs]})

    def publish(self, count: int = 1) -> list[Item]:
        """Put ``count`` new stories at the top of randomly chosen feeds."""
        new = []
        with self._lock:
            for _ in range(count):
                number = self._rng.randrange(len(self._feeds))
                feed = list(self._feeds.values())[number]
                title, body = news_text(self._rng)
                url = f"https://wire.example.com/{uuid.UUID(int=self._uuids.getrandbits(128)).hex}"
                item = Item(number, len(feed.items), url, title, body,
                            datetime.now(UTC).replace(microsecond=0), time.monotonic())
                [item.message] = parse_feed(_rss(feed.spec.name, [item]), feed=feed.spec, url=feed.spec.url,
                                            content_type=CONTENT_TYPE, fetched_at=item.published).messages
                feed.items.append(item)
                feed.body = _rss(feed.spec.name, feed.items[-self._window:])
                self.items.append(item)
                new.append(item)
        return new

    def served(self) -> list[Item]:
        """The items some 200 response carried."""
        found = []
        with self._lock:
            for feed in self._feeds.values():
                for item in feed.items:
                    if any(item.index < version <= item.index + self._window for version in feed.served):
                        found.append(item)
        return sorted(found, key=lambda item: item.added_at)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


class IndexWatcher:
    """Notes when a search first finds each published story (by ``_id``), every 2 s."""

    def __init__(self, settings: Settings) -> None:
        self._es = make_client(settings, request_timeout=10, max_retries=0)
        self._alias = settings.es_index_articles
        self.published: dict[str, float] = {}
        self.found: dict[str, float] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def watch(self, items: list[Item]) -> None:
        with self._lock:
            for item in items:
                self.published.setdefault(item.article_id, item.added_at)

    def _run(self) -> None:
        while not self._stop.wait(2.0):
            with self._lock:
                pending = [i for i in self.published if i not in self.found]
            for start in range(0, len(pending), 500):
                try:
                    docs = self._es.mget(index=self._alias, ids=pending[start:start + 500],
                                         source=False)["docs"]
                except Exception:  # noqa: BLE001 - the node is down or the index not made yet
                    break
                now = time.monotonic()
                with self._lock:
                    for doc in docs:
                        if doc.get("found"):
                            self.found.setdefault(doc["_id"], now)

    def latencies(self, items: list[Item]) -> list[float]:
        with self._lock:
            return sorted(self.found[i.article_id] - i.added_at for i in items if i.article_id in self.found)

    def missing(self, items: list[Item]) -> list[Item]:
        with self._lock:
            return [item for item in items if item.article_id not in self.found]

    def close(self) -> None:
        self._stop.set()
        self._thread.join(10)
        self._es.close()


class Publisher:
    """Publishes one story every ``60 / rate`` seconds while running."""

    def __init__(self, feeds: WireFeeds, watcher: IndexWatcher, rate: float) -> None:
        self._feeds, self._watcher, self._every = feeds, watcher, 60.0 / rate
        self.items: list[Item] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> Publisher:
        self._thread.start()
        return self

    def _run(self) -> None:
        next_at = time.monotonic()
        while not self._stop.wait(max(0.0, next_at - time.monotonic())):
            items = self._feeds.publish(1)
            self._watcher.watch(items)
            self.items.extend(items)
            next_at += self._every

    def stop(self) -> list[Item]:
        self._stop.set()
        self._thread.join()
        return self.items


def summary(latencies: list[float]) -> str:
    if not latencies:
        return "none indexed"
    p95 = latencies[min(len(latencies) - 1, int(0.95 * len(latencies)))]
    return f"p50 {statistics.median(latencies):.1f}s, p95 {p95:.1f}s, max {latencies[-1]:.1f}s"


def wait_all_indexed(watcher: IndexWatcher, items: list[Item], timeout: float,
                     tick: Callable[[], None]) -> float | None:
    """Seconds until every one of ``items`` was found, or None after ``timeout``; ``tick`` every second."""
    started = time.monotonic()
    while watcher.missing(items):
        if time.monotonic() - started > timeout:
            return None
        tick()
        time.sleep(1)
    return time.monotonic() - started
