"""``newsmon watch …`` (the watch list in Elasticsearch) and ``newsmon alerts …``."""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from newsmon.analysis.watch_entries import (
    DEFAULT_LIST,
    WatchEntry,
    dump_watchlist_csv,
    dump_watchlist_yaml,
    load_watchlist_file,
)
from newsmon.arguments import SECONDS
from newsmon.connectors.elasticsearch import make_client
from newsmon.connectors.watchlist_store import WatchlistStore, stories_naming
from newsmon.console import interrupt, printable, printable_json, progress
from newsmon.errors import NewsmonError, not_utf8
from newsmon.moments import parse_moment
from newsmon.settings import Settings


def add_watch_commands(watch: argparse.ArgumentParser, alerts: argparse.ArgumentParser,
                       leaf: Callable[..., argparse.ArgumentParser]) -> None:
    actions = watch.add_subparsers(dest="action", required=True, metavar="ACTION")
    add = leaf(actions, "add", watch_add, "watch a person (or update the entry), and list the stories "
               "already indexed that name them")
    add.add_argument("name", metavar="NAME", help="the person's canonical name, e.g. \"Ihar Losik\"")
    add.add_argument("--alias", action="append", default=[], help="another form of the name the matcher "
                     "cannot derive: maiden name, nickname (repeatable; transliterations are automatic)")
    add.add_argument("--list", dest="list_name", default=DEFAULT_LIST, help="watch list (owner); "
                     "notifiers are configured per list (default: default)")
    add.add_argument("--topic", action="append", default=[], help="only alert on stories with this topic")
    add.add_argument("--source", action="append", default=[], help="only alert on stories from this source")
    add.add_argument("--language", action="append", default=[], help="only alert on stories in this language")
    add.add_argument("--notes", help="free text for the analysts")
    add.add_argument("--no-retro", action="store_true", help="skip the search of stories already indexed")

    listed = leaf(actions, "list", watch_list, "print the watch entries")
    listed.add_argument("--list", dest="list_name", help="only this watch list")
    listed.add_argument("--json", action="store_true")

    remove = leaf(actions, "remove", watch_remove, "stop watching a person")
    remove.add_argument("name", metavar="NAME", help="the canonical name, or the entry id")
    remove.add_argument("--list", dest="list_name", default=DEFAULT_LIST)

    imported = leaf(actions, "import", watch_import, "add or update the entries of a YAML (`watch:` list) "
                    "or CSV file (name,aliases,list,topics,sources,languages,notes; `;` between values)")
    imported.add_argument("file", type=Path, metavar="FILE", help="a .yaml, .yml or .csv file")

    exported = leaf(actions, "export", watch_export, "print the watch list as YAML or CSV (importable)")
    exported.add_argument("--format", choices=("yaml", "csv"), default="yaml")
    exported.add_argument("--list", dest="list_name", help="only this watch list")

    alert_actions = alerts.add_subparsers(dest="action", required=True, metavar="ACTION")
    recent = leaf(alert_actions, "list", alerts_list, "alerts raised (or revised) recently, newest first")
    recent.add_argument("--since", default="1d", help="how far back: 30m, 12h, 1d, 2w (default 1d)")
    recent.add_argument("--list", dest="list_name", help="only this watch list")
    recent.add_argument("--json", action="store_true")
    tail = leaf(alert_actions, "tail", alerts_tail, "print alerts as they arrive on Kafka (Ctrl-C stops)")
    tail.add_argument("--from-beginning", action="store_true", help="first print every alert on the topic")
    deliver = leaf(alert_actions, "deliver", alerts_deliver,
                   "send alerts to the webhooks and mailboxes configured per watch list; an alert whose "
                   "endpoint is down waits for it, uncommitted, and none is sent twice to a notifier "
                   "(Ctrl-C stops; exit status 2 when it stops on an error)")
    deliver.add_argument("--config", type=Path, required=True,
                         help="notifier configuration (see seeds/notifiers.example.yaml)")
    deliver.add_argument("--group", default="newsmon-notifier",
                         help="Kafka consumer group; its committed offsets say where delivery resumes "
                              "(default newsmon-notifier)")
    deliver.add_argument("--progress-every", type=SECONDS, default=10.0, metavar="SECONDS",
                         help="seconds between progress reports on stderr (default 10)")



def _store(settings: Settings) -> WatchlistStore:
    return WatchlistStore(make_client(settings), settings.es_index_watchlist)


def watch_add(args: argparse.Namespace, settings: Settings) -> int:
    entry = WatchEntry.create(args.name, aliases=args.alias, list_name=args.list_name, topics=args.topic,
                              sources=args.source, languages=args.language, notes=args.notes)
    added, _ = _store(settings).put([entry])
    state = "watching" if added else "updated"
    print(f"{state} {entry.name} on list {entry.list_name} (entry {entry.entry_id})")
    if args.no_retro:
        return 0
    stories = stories_naming(make_client(settings), settings.es_index_articles, entry)
    print(f"{len(stories)} indexed stories already name {entry.name}" + (":" if stories else "."))
    for story in stories:
        print(f"  {story.published_at[:10]}  {printable(story.title)}\n"
              f"      “{printable(story.form)}”: {printable(story.evidence[:200])}\n"
              f"      {printable(story.url or story.article_id)}")
    return 0


def watch_list(args: argparse.Namespace, settings: Settings) -> int:
    entries = _store(settings).entries(args.list_name)
    if args.json:
        print(printable_json([entry.to_dict() for entry in entries]))
        return 0
    for entry in entries:
        extra = [f"aka {', '.join(entry.aliases)}"] if entry.aliases else []
        filters = (("topics", entry.topics), ("sources", entry.sources), ("languages", entry.languages))
        extra += [f"{what}: {', '.join(values)}" for what, values in filters if values]
        print(printable(f"{entry.list_name:<16} {entry.name:<32} {'; '.join(extra)}"))
    print(f"{len(entries)} watch entries")
    return 0


def watch_remove(args: argparse.Namespace, settings: Settings) -> int:
    entry = _store(settings).remove(args.name, args.list_name)
    print(f"stopped watching {entry.name} on list {entry.list_name}")
    return 0


def watch_import(args: argparse.Namespace, settings: Settings) -> int:
    entries = load_watchlist_file(args.file)
    added, updated = _store(settings).put(entries)
    print(f"{args.file}: {len(entries)} entries, {added} added, {updated} updated")
    return 0


def watch_export(args: argparse.Namespace, settings: Settings) -> int:
    entries = _store(settings).entries(args.list_name)
    sys.stdout.write(dump_watchlist_csv(entries) if args.format == "csv" else dump_watchlist_yaml(entries))
    return 0


def _print_alert(alert: dict) -> None:
    topics = f" [{', '.join(alert['topics'])}]" if alert["topics"] else ""
    lines = [f"{alert['alert_time']}  {alert['person']} ({alert['list']}) named as "
             f"“{alert['matched_forms'][0]}” in “{alert['title']}” — {alert['source_name']}{topics}",
             f"    {alert['evidence'][0][:240]}", f"    {alert['url'] or alert['article_id']}"]
    if alert.get("article_count", 1) > 1:
        lines.append(f"    story: {alert['article_count']} articles from {len(alert['sources'])} source(s), "
                     f"last seen {alert['last_seen']}")
    if alert.get("revision", 1) > 1:
        lines.append(f"    revision {alert['revision']} ({alert.get('revised_at', '?')}): now also "
                     f"{', '.join(alert.get('gained_topics') or ())}")
    print("\n".join(printable(line) for line in lines), flush=True)


def alerts_list(args: argparse.Namespace, settings: Settings) -> int:
    client = make_client(settings)
    if not client.indices.exists_alias(name=settings.es_index_alerts):
        print("no alerts yet")
        return 0
    since = parse_moment(args.since)
    recent = [{"range": {field: {"gte": since.isoformat()}}} for field in ("alert_time", "revised_at")]
    filters = [{"bool": {"should": recent, "minimum_should_match": 1}}]
    if args.list_name:
        filters.append({"term": {"list": args.list_name}})
    hits = client.search(index=settings.es_index_alerts, query={"bool": {"filter": filters}},
                         sort=[{"alert_time": "desc"}], size=1000)["hits"]["hits"]
    from newsmon.analysis.alert_updates import message_of

    alerts = [message_of(hit["_source"]) for hit in hits]
    if args.json:
        print(printable_json(alerts))
        return 0
    for alert in alerts:
        _print_alert(alert)
    print(f"{len(alerts)} alerts since {since:%Y-%m-%d %H:%M} UTC")
    return 0


def alerts_tail(args: argparse.Namespace, settings: Settings) -> int:
    from newsmon.connectors.kafka import check_kafka

    check_kafka(settings)
    progress(f"waiting for alerts on {settings.topic_alerts} (Ctrl-C stops)")
    try:
        tail_alerts(settings, from_beginning=args.from_beginning)
    except KeyboardInterrupt:
        pass
    return 0


def tail_alerts(settings: Settings, *, from_beginning: bool) -> None:
    """Print alerts from Kafka as they arrive, until interrupted."""
    from newsmon.connectors.kafka import make_consumer

    consumer = make_consumer(settings, settings.topic_alerts, group_id=None,
                             auto_offset_reset="earliest" if from_beginning else "latest")
    try:
        while True:
            for records in consumer.poll(timeout_ms=1000).values():
                for record in records:
                    _print_alert(json.loads(record.value))
    finally:
        consumer.close()


class DeliveryStoppedError(NewsmonError):
    """Alert delivery stopped on an error it could not wait out."""


STOP_SECONDS = 60.0  # after Ctrl-C: time to send the digests held and commit


def alerts_deliver(args: argparse.Namespace, settings: Settings) -> int:
    from newsmon.connectors import alert_delivery
    from newsmon.connectors.notifier_config import load_config

    try:
        config = load_config(args.config)
    except UnicodeDecodeError as exc:  # load_config reports unreadable files, not undecodable ones
        raise not_utf8(args.config, exc) from exc
    stop, finished = threading.Event(), threading.Event()
    outcome: dict[str, Any] = {}

    def deliver() -> None:
        try:
            outcome["stats"] = alert_delivery.run_delivery(
                settings, config, stop=stop, progress=progress, group=args.group,
                progress_every=args.progress_every)
        except BaseException as exc:  # noqa: BLE001 - handed to the main thread, which reports it
            outcome["error"] = exc
        finally:
            finished.set()

    # In a thread, so that Ctrl-C (or SIGTERM from a service manager) reaches this one and the
    # loop stops cleanly: digests sent, offsets committed.
    worker = threading.Thread(target=deliver, name="alert-delivery", daemon=True)
    in_main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, interrupt) if in_main else None
    try:
        worker.start()
        # Waiting on an event, not in Thread.join: a join interrupted by Ctrl-C can leave the
        # thread looking finished while it still runs.
        try:
            while not finished.wait(0.5):
                pass
        except KeyboardInterrupt:
            progress("stopping: sending the digests held and committing what was delivered")
            stop.set()
            if not finished.wait(STOP_SECONDS):
                msg = (f"alert delivery did not stop within {STOP_SECONDS:.0f} s; the alerts it had not "
                       "committed are delivered when it starts again")
                raise DeliveryStoppedError(msg) from None
    finally:
        if in_main:
            signal.signal(signal.SIGTERM, previous)
    error = outcome.get("error")
    if error is not None:
        logging.getLogger(__name__).debug("alert delivery failed", exc_info=error)
        if isinstance(error, NewsmonError):
            raise error
        detail = alert_delivery.redact(f"{type(error).__name__}: {error}", settings, config)
        msg = (f"alert delivery stopped on an error: {detail}. The alerts it had not committed are "
               "delivered when it starts again")
        raise DeliveryStoppedError(msg)
    if "stats" not in outcome:  # pragma: no cover - the loop only returns once stopped
        msg = "alert delivery stopped without a reason"
        raise DeliveryStoppedError(msg)
    print(f"alert delivery stopped: {outcome['stats'].line()}")
    return 0


