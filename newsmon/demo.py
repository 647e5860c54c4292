"""The README's main job: the whole monitor on the demo feeds, end to end.

Services up; the demo feeds (``seeds/demo``: the seed article and stories written for the
demo, one syndicated in both feeds) served over HTTP on 127.0.0.1; the example watch list
in Elasticsearch; the feeds polled into Kafka; the streaming pipeline on DirectRunner
(Prism) until every demo story is indexed; then the alerts, a count per topic and a
search. Running it again finds everything already done: no article is sent twice and no
alert is raised twice.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import format_datetime
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from urllib.parse import urlsplit
from xml.sax.saxutils import escape

import yaml

from newsmon.analysis.messages import rfc3339
from newsmon.analysis.spikes import SpikeConfig, Window
from newsmon.analysis.watch_entries import load_watchlist_file
from newsmon.connectors.elasticsearch import make_client
from newsmon.connectors.feed_list import read_opml
from newsmon.connectors.feed_parse import parse_feed
from newsmon.connectors.feed_poller import FeedPoller
from newsmon.connectors.feed_store import FeedStore
from newsmon.connectors.search import SearchRequest, build_search
from newsmon.connectors.spike_store import detect_spikes
from newsmon.connectors.watchlist_store import WatchlistStore
from newsmon.console import printable
from newsmon.deploy import services
from newsmon.errors import NewsmonError
from newsmon.pipelines import article_pipeline
from newsmon.settings import Settings
from newsmon.smoke import SEED_ARTICLE
from newsmon.story_commands import print_spikes
from newsmon.web.server import DEFAULT_HOST, DEFAULT_PORT

SEEDS = resources.files("newsmon.seeds")
FEEDS = {"baltic-wire": ("Baltic Wire", "rss"), "europe-desk": ("Europe Desk", "atom")}
SYNDICATION = "?utm_source=partner&utm_medium=feed"
BURST_END = datetime(2025, 9, 11, 15, 20, tzinfo=UTC)  # the hour of the release reports (stories.yaml)


def _paragraphs(text: str) -> str:
    return "".join(f"<p>{escape(line.strip())}</p>" for line in text.splitlines() if line.strip())


def _stories() -> list[dict]:
    stories = yaml.safe_load((SEEDS / "demo" / "stories.yaml").read_text(encoding="utf-8"))["stories"]
    for story in stories:
        published = story["published"]  # YAML reads timestamps as datetimes
        if isinstance(published, str):
            published = datetime.fromisoformat(published)
        story["published"] = published if published.tzinfo else published.replace(tzinfo=UTC)
        if story.get("seed") or story.get("seed_copy"):
            story["body"] = (SEEDS / SEED_ARTICLE).read_text(encoding="utf-8")
        if story.get("furniture"):
            story["body"] += f"\n{story['furniture']}"
    return stories


def rss_feed(name: str, stories: list[dict], *, about: str = "newsmon demo feed") -> bytes:
    """An RSS 2.0 feed of ``stories`` (title, link, published, body; author and categories
    when they have them), in the order given, with full text in ``content:encoded``.
    """
    items = "".join(
        f"<item><title>{escape(s['title'])}</title><link>{escape(s['link'])}</link>"
        f"<guid isPermaLink=\"true\">{escape(s['link'])}</guid>"
        f"<pubDate>{format_datetime(s['published'], usegmt=True)}</pubDate>"
        + (f"<dc:creator>{escape(s['author'])}</dc:creator>" if s.get("author") else "")
        + "".join(f"<category>{escape(c)}</category>" for c in s.get("categories", []))
        + f"<description>{escape(s['body'].strip().splitlines()[0][:300])}</description>"
        f"<content:encoded><![CDATA[{_paragraphs(s['body'])}]]></content:encoded></item>"
        for s in stories)
    return ('<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0" '
            'xmlns:content="http://purl.org/rss/1.0/modules/content/" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>'
            f"<title>{escape(name)}</title><link>https://example.net/</link><description>{escape(about)}"
            f"</description><language>en</language>{items}</channel></rss>").encode()


def _atom(name: str, stories: list[dict]) -> bytes:
    entries = "".join(
        f"<entry><title>{escape(s['title'])}</title><id>{escape(s['link'])}</id>"
        f"<link rel=\"alternate\" href=\"{escape(s['link'])}\"/>"
        f"<published>{rfc3339(s['published'])}</published><updated>{rfc3339(s['published'])}</updated>"
        f"<author><name>{escape(s['author'])}</name></author>"
        f"<content type=\"html\">{escape(_paragraphs(s['body']))}</content></entry>"
        for s in stories)
    return ('<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="en">'
            f"<title>{escape(name)}</title><id>urn:newsmon:demo:{escape(name)}</id>"
            f"<updated>2025-09-14T20:00:00Z</updated>{entries}</feed>").encode()


def demo_feeds() -> dict[str, tuple[str, bytes]]:
    """Path → (content type, body) of each demo feed."""
    stories = _stories()
    feeds = {}
    for slug, (name, kind) in FEEDS.items():
        mine = [s for s in stories if s["feed"] == slug]
        mine += [s | {"link": s["link"] + SYNDICATION} for s in stories if s.get("syndicate") == slug]
        if kind == "rss":
            feeds[f"/{slug}.rss"] = ("application/rss+xml; charset=utf-8", rss_feed(name, mine))
        else:
            feeds[f"/{slug}.atom"] = ("application/atom+xml; charset=utf-8", _atom(name, mine))
    return feeds


class _FeedHandler(BaseHTTPRequestHandler):
    def __init__(self, feeds, *args, **kwargs) -> None:
        self._feeds = feeds
        super().__init__(*args, **kwargs)

    def do_GET(self) -> None:  # noqa: N802 - the name http.server dispatches to
        found = self._feeds.get(self.path)
        body = found[1] if found else b"not found"
        self.send_response(200 if found else 404)
        self.send_header("Content-Type", found[0] if found else "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


def serve_demo_feeds(port: int) -> ThreadingHTTPServer:
    try:
        server = ThreadingHTTPServer(("127.0.0.1", port), partial(_FeedHandler, demo_feeds()))
    except OSError as exc:
        msg = f"cannot serve the demo feeds on 127.0.0.1:{port} ({exc.strerror}); choose another --feeds-port"
        raise NewsmonError(msg) from exc
    threading.Thread(target=server.serve_forever, args=(0.2,), daemon=True).start()
    return server


def expected_articles(base: str) -> dict[str, str]:
    """article_id → title of every story in the demo feeds, as the poller will read them."""
    feeds = read_opml((SEEDS / "demo" / "feeds.opml").read_text(encoding="utf-8").replace("{base}", base))
    served = demo_feeds()
    found = {}
    for feed in feeds:
        content_type, body = served[urlsplit(feed.url).path]
        parsed = parse_feed(body, feed=feed, url=feed.url, content_type=content_type,
                            fetched_at=datetime.now(UTC))
        found |= {m["article_id"]: m["title"] for m in parsed.messages}
    return found


def _wait(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            msg = f"demo: timed out after {timeout:.0f}s waiting for {what}"
            raise NewsmonError(msg)
        time.sleep(1)


def run_demo(settings: Settings, progress: Callable[[str], None], *, feeds_port: int = 0,
             follow: bool = False, timeout: float = 300.0) -> int:
    started = time.monotonic()
    for line in services.up(settings, progress):
        progress(line)
    server = serve_demo_feeds(feeds_port)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    # The demo's own feed server is on loopback, which fetches otherwise refuse.
    settings = dataclasses.replace(settings, fetch_allowed_networks=(*settings.fetch_allowed_networks,
                                                                     "127.0.0.1/32"))
    progress(f"demo feeds served at {base} (Baltic Wire: RSS 2.0, Europe Desk: Atom 1.0)")
    es = make_client(settings)
    watchlist = load_watchlist_file(SEEDS / "watchlist.example.yaml")
    WatchlistStore(es, settings.es_index_watchlist).put(watchlist)
    progress(f"watch list: {', '.join(e.name for e in watchlist)} (seeds/watchlist.example.yaml)")

    # What was sent is remembered per topic: the demo against a fresh topic sends it all again.
    store = FeedStore(settings.home / "demo" / f"feeds-{settings.topic_articles}.sqlite3")
    feeds = read_opml((SEEDS / "demo" / "feeds.opml").read_text(encoding="utf-8").replace("{base}", base))
    for status in store.statuses():  # the feed server's port may have changed since the last run
        store.remove(status.spec.url)
    store.add(feeds)
    poller = FeedPoller(dataclasses.replace(settings, feed_parse_processes=0), store, progress=progress)
    try:
        stats = poller.run(once=True)
    finally:
        poller.close()
    progress(f"feeds polled: {stats.line()}")
    if stats.articles_unacknowledged:
        msg = "Kafka did not acknowledge every article; run the demo again"
        raise NewsmonError(msg)

    expected = expected_articles(base)
    result = article_pipeline.run(settings, [])
    progress(f"pipeline running on {result.runner}; waiting until the {len(expected)} demo stories "
             "are indexed")
    try:
        _wait(lambda: _indexed(es, settings, expected) == len(expected), timeout,
              "the demo stories to be indexed")
        progress(f"all {len(expected)} demo stories indexed in {settings.es_index_articles}")
        _report(es, settings, expected)
        if follow:
            web = _serve_web(settings, progress)
            progress("following the feeds and the pipeline; Ctrl-C stops (services keep running)")
            try:
                _follow(settings, store, progress)
            finally:
                web.stop()
    finally:
        result.cancel()
        server.shutdown()
    print(f"\nDone in {time.monotonic() - started:.0f}s. The services keep running:\n"
          f"  search:  .venv/bin/newsmon search --topic prisoner_release --person \"Ihar Losik\"\n"
          f"           .venv/bin/newsmon search prisoner lukashenka   (any word form, any spelling)\n"
          f"  alerts:  .venv/bin/newsmon alerts list --since 30d\n"
          f"  Kibana:  docker compose -f deploy/docker-compose.yml up -d kibana, then "
          f".venv/bin/newsmon kibana import (README: \"Search in Kibana\")\n"
          f"  stop:    .venv/bin/newsmon services down\n"
          f"  browse:  .venv/bin/newsmon web, then open http://{DEFAULT_HOST}:{DEFAULT_PORT}/")
    return 0


def _serve_web(settings: Settings, progress: Callable[[str], None]):
    """``newsmon web`` in a thread while the demo follows (on a free port if 8088 is taken)."""
    from newsmon.web.app import create_app
    from newsmon.web.server import WebServer, bind

    try:
        sock = bind(DEFAULT_HOST, DEFAULT_PORT)
    except NewsmonError:
        sock = bind(DEFAULT_HOST, 0)
    web = WebServer(create_app(settings, token=settings.web_token), sock).start()
    progress(f"newsmon web is serving the demo at {web.url}")
    print(f"\nBrowse the demo: {web.url} (search, stories, live alerts, watch list, health)", flush=True)
    return web


def _indexed(es, settings: Settings, expected: dict[str, str]) -> int:
    if not es.indices.exists_alias(name=settings.es_index_articles):
        return 0
    docs = es.mget(index=settings.es_index_articles, ids=list(expected), source=False)["docs"]
    return sum(1 for doc in docs if doc.get("found"))


def _report(es, settings: Settings, expected: dict[str, str]) -> None:
    es.indices.refresh(index=settings.es_index_articles)
    alerts = []
    if es.indices.exists_alias(name=settings.es_index_alerts):
        es.indices.refresh(index=settings.es_index_alerts)
        alerts = [hit["_source"] for hit in es.search(
            index=settings.es_index_alerts, query={"terms": {"article_id": list(expected)}},
            sort=[{"person": "asc"}, {"alert_time": "asc"}], size=1000)["hits"]["hits"]]
    print(f"\nAlerts fired ({len(alerts)}):")
    for alert in alerts:
        topics = ", ".join(alert["topics"]) or "no topic"
        story = (f" — {alert['article_count']} articles from {', '.join(alert['sources'])}"
                 if alert.get("article_count", 1) > 1 else "")
        lines = (f"  {alert['person']} ({alert['list']}) as “{', '.join(alert['matched_forms'])}” in "
                 f"“{alert['title']}” [{topics}]{story}", f"      evidence: {alert['evidence'][0][:200]}",
                 f"      {alert['url']}")
        print("\n".join(printable(line) for line in lines))
    _report_stories(es, settings, expected)
    _report_spikes(es, settings)
    counts = es.search(index=settings.es_index_articles, query={"ids": {"values": list(expected)}}, size=0,
                       aggs={"per_topic": {"terms": {"field": "topics.name", "size": 50}}})
    buckets = counts["aggregations"]["per_topic"]["buckets"]
    print(f"\nArticles per topic (of {len(expected)} demo articles):")
    for bucket in buckets:
        print(f"  {bucket['key']:<20} {bucket['doc_count']}")
    untagged = len(expected) - es.count(index=settings.es_index_articles, query={"bool": {
        "filter": [{"ids": {"values": list(expected)}}, {"exists": {"field": "topics.name"}}]}})["count"]
    print(f"  {'(no topic)':<20} {untagged}")
    request = SearchRequest(topics=("prisoner_release",), persons=("Ihar Losik",), size=10)
    hits = es.search(index=settings.es_index_articles, **build_search(request))["hits"]["hits"]
    print("\nSearch: stories tagged prisoner_release that name Ihar Losik "
          "(newsmon search --topic prisoner_release --person \"Ihar Losik\"):")
    for hit in hits:
        print(f"  {hit['_source']['published_at'][:10]}  {printable(hit['_source']['title'])}")


def _report_stories(es, settings: Settings, expected: dict[str, str]) -> None:
    """The stories the demo articles were grouped into, earliest first."""
    hits = es.search(index=settings.es_index_articles, query={"ids": {"values": list(expected)}},
                     source=["story_id", "title", "published_at"], sort=[{"published_at": "asc"}],
                     size=len(expected))["hits"]["hits"]
    stories: dict[str, list[dict]] = {}
    for hit in hits:
        stories.setdefault(hit["_source"].get("story_id") or hit["_id"], []).append(hit["_source"])
    print(f"\nStories ({len(stories)} from {len(hits)} articles):")
    for story_id, articles in stories.items():
        print(printable(f"  {story_id[:12]}  {len(articles)} article(s): “{articles[0]['title']}”"))
        for article in articles[1:]:
            print(printable(f"      + {article['published_at'][:10]}  “{article['title']}”"))


def _report_spikes(es, settings: Settings) -> None:
    """The spikes of the hour the release was reported in: the demo's articles are dated 2025."""
    config = SpikeConfig()
    window = Window.ending(BURST_END, config)
    print(f"\nWhat was breaking that hour (newsmon stories --trending --at {rfc3339(BURST_END)}):")
    print_spikes(detect_spikes(es, settings, window, config), window, config, as_json=False)


def _follow(settings: Settings, store: FeedStore, progress: Callable[[str], None]) -> None:
    """Keep polling the feeds and print alerts as they arrive, until Ctrl-C."""
    from newsmon.watch_commands import tail_alerts

    stop = threading.Event()
    poller = FeedPoller(settings, store, progress=progress)
    worker = threading.Thread(target=poller.run, kwargs={"stop": stop}, daemon=True)
    worker.start()
    try:
        tail_alerts(settings, from_beginning=False)
    except KeyboardInterrupt:
        progress("stopping")
    finally:
        stop.set()
        worker.join(30)
        poller.close()
