"""``newsmon feeds …``: the feed list, its status, and the poller."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from newsmon.arguments import argument_type
from newsmon.connectors.feed_list import (
    DEFAULT_POLL_INTERVAL,
    FeedSpec,
    parse_duration,
    read_opml,
    read_yaml,
    write_opml,
)
from newsmon.connectors.feed_poller import FeedPoller
from newsmon.connectors.feed_store import FeedStatus, FeedStore
from newsmon.connectors.kafka import check_kafka, ensure_topics
from newsmon.console import printable, progress
from newsmon.errors import ConfigError, not_utf8
from newsmon.settings import Settings

DURATION = argument_type(parse_duration)


def add_feed_commands(feeds: argparse.ArgumentParser,
                      leaf: Callable[..., argparse.ArgumentParser]) -> None:
    """Wire the ``feeds`` sub-commands; ``leaf(parent, name, handler, help)`` makes one."""
    actions = feeds.add_subparsers(dest="action", required=True, metavar="ACTION")

    add = leaf(actions, "add", add_feed, "add a feed, or change the settings of one already listed")
    add.add_argument("url", metavar="URL", help="the feed's http(s) URL")
    add.add_argument("--name", help="source name shown with its articles (default: the host name)")
    add.add_argument("--interval", type=DURATION, default=DEFAULT_POLL_INTERVAL,
                     help="poll interval such as 90s, 5m, 1h (default 5m, at least 30s)")
    add.add_argument("--language", help="BCP 47 language hint such as en or be, when the feed has none")
    add.add_argument("--full-text", action="store_true",
                     help="fetch each new article's page and extract its text (for teaser-only feeds)")
    add.add_argument("--disabled", action="store_true", help="list it, but do not poll it")

    remove = leaf(actions, "remove", remove_feed, "remove a feed (articles already sent stay seen)")
    remove.add_argument("url", metavar="URL", help="the feed's URL as listed")

    imported = leaf(actions, "import-opml", import_feeds,
                    "add every feed of an OPML file (any feed reader's export) or a YAML feed list "
                    "(.yaml/.yml: a `feeds:` list of url, name, poll_interval, language, enabled, full_text)")
    imported.add_argument("file", type=Path, metavar="FILE", help="an .opml, .xml, .yaml or .yml file")
    imported.add_argument("--interval", type=DURATION, default=DEFAULT_POLL_INTERVAL,
                          help="poll interval for feeds from OPML (default 5m)")

    listed = leaf(actions, "list", list_feeds, "print the feed list")
    listed.add_argument("--opml", action="store_true", help="as OPML, to import into a feed reader")
    listed.add_argument("--json", action="store_true", help="as JSON")

    status = leaf(actions, "status", feed_status,
                  "each feed's last success, last error, items in the feed and articles sent")
    status.add_argument("--json", action="store_true", help="as JSON")

    run = leaf(actions, "run", run_poller,
               "poll the feeds into Kafka until interrupted, each on its own schedule")
    run.add_argument("--once", action="store_true",
                     help="poll every enabled feed once, wait until Kafka acknowledged every new "
                          "article, print a summary and exit (exit code 1 if some were not acknowledged)")


def _store(settings: Settings) -> FeedStore:
    return FeedStore.at_home(settings.home)


def add_feed(args: argparse.Namespace, settings: Settings) -> int:
    name = args.name or urlsplit(args.url).hostname or args.url
    feed = FeedSpec(url=args.url, name=name, poll_interval=args.interval, language=args.language,
                    enabled=not args.disabled, full_text=args.full_text)
    added, _ = _store(settings).add([feed])
    print(f"{'added' if added else 'updated'} {feed.url} ({feed.name})")
    return 0


def remove_feed(args: argparse.Namespace, settings: Settings) -> int:
    _store(settings).remove(args.url)
    print(f"removed {args.url}")
    return 0


def import_feeds(args: argparse.Namespace, settings: Settings) -> int:
    try:
        data = args.file.read_bytes()
    except OSError as exc:
        msg = f"cannot read {args.file}: {exc.strerror}"
        raise ConfigError(msg) from exc
    try:
        if args.file.suffix.lower() in (".yaml", ".yml"):
            feeds = read_yaml(data.decode("utf-8"))
        else:
            feeds = read_opml(data, poll_interval=args.interval)  # XML declares its own encoding
    except UnicodeDecodeError as exc:
        raise not_utf8(args.file, exc) from exc
    except ConfigError as exc:
        msg = f"{args.file}: {exc}"
        raise ConfigError(msg) from exc
    added, updated = _store(settings).add(feeds)
    print(f"{args.file}: {len(feeds)} feeds, {added} added, {updated} updated")
    return 0


def list_feeds(args: argparse.Namespace, settings: Settings) -> int:
    feeds = [status.spec for status in _store(settings).statuses()]
    if args.opml:
        sys.stdout.write(write_opml(feeds).decode("utf-8") + "\n")
    elif args.json:
        print(json.dumps([feed.to_dict() for feed in feeds], indent=2))
    else:
        for feed in feeds:
            flags = (" [disabled]" if not feed.enabled else "") + (" [full text]" if feed.full_text else "")
            every = int(feed.poll_interval.total_seconds())
            line = f"{feed.name:<30} every {every:>5}s  {feed.language or '--':<5} {feed.url}{flags}"
            print(printable(line))
        print(f"{len(feeds)} feeds in {settings.home / 'feeds.sqlite3'}")
    return 0


def _ago(moment: datetime | None) -> str:
    if moment is None:
        return "never"
    seconds = (datetime.now(UTC) - moment).total_seconds()
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if abs(seconds) >= size:
            return f"{seconds / size:.0f}{unit} ago" if seconds > 0 else f"in {-seconds / size:.0f}{unit}"
    return f"{seconds:.0f}s ago" if seconds >= 0 else f"in {-seconds:.0f}s"


def _status_dict(status: FeedStatus) -> dict:
    fields = {key: value for key, value in vars(status).items() if key != "spec"}
    shown = {key: value.isoformat() if isinstance(value, datetime) else value
             for key, value in fields.items()}
    return status.spec.to_dict() | shown


def feed_status(args: argparse.Namespace, settings: Settings) -> int:
    statuses = _store(settings).statuses()
    if args.json:
        print(json.dumps([_status_dict(status) for status in statuses], indent=2))
        return 0
    for status in statuses:
        state = "disabled" if not status.spec.enabled else (
            "failing" if status.consecutive_errors else ("ok" if status.last_success_at else "new"))
        print(f"{printable(status.spec.name)} <{printable(status.spec.url)}>: {state}; "
              f"last success {_ago(status.last_success_at)}, "
              f"next poll {_ago(status.next_poll_at) if status.next_poll_at else 'now'}; "
              f"{status.items_in_feed} items in feed, {status.items_sent} articles sent"
              + (f", {status.items_rejected} rejected" if status.items_rejected else ""))
        if status.consecutive_errors:
            print(f"    last error ({_ago(status.last_error_at)}, {status.consecutive_errors} in a row): "
                  f"{printable(status.last_error)}")
        if status.last_warning:
            print(f"    warning: {printable(status.last_warning)}")
    print(f"{len(statuses)} feeds")
    return 0


def run_poller(args: argparse.Namespace, settings: Settings) -> int:
    check_kafka(settings)
    ensure_topics(settings, [settings.topic_articles])
    store = _store(settings)
    enabled = [status for status in store.statuses() if status.spec.enabled]
    if not enabled:
        msg = "no enabled feeds: add some with `newsmon feeds add URL` or `newsmon feeds import-opml FILE`"
        raise ConfigError(msg)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    progress(f"polling {len(enabled)} feeds into Kafka topic {settings.topic_articles}"
             + (" once" if args.once else " (Ctrl-C stops)"))
    poller = FeedPoller(settings, store, progress=progress)
    try:
        stats = poller.run(once=args.once, stop=stop)
    finally:
        poller.close()
    print(f"feeds: {stats.line()}")
    if stats.articles_unacknowledged:
        print("articles Kafka did not acknowledge are not marked seen: the next run sends them",
              file=sys.stderr)
        return 1
    return 0
