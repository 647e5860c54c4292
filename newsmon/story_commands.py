"""``newsmon stories``: the stories newest first, one story's timeline, and what is breaking
(spikes per topic, person and story; the statistic is in :mod:`newsmon.analysis.spikes`).
"""

from __future__ import annotations

import argparse
import logging
import re
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from newsmon import backoff
from newsmon.analysis.spikes import Spike, SpikeConfig, Window
from newsmon.arguments import argument_type
from newsmon.connectors.elasticsearch import make_client
from newsmon.connectors.elasticsearch import worth_waiting as es_worth_waiting
from newsmon.connectors.kafka import ensure_topics, make_producer
from newsmon.connectors.kafka import worth_waiting as kafka_worth_waiting
from newsmon.connectors.spike_store import detect_spikes, record_spikes
from newsmon.connectors.story_search import StoryListRequest, list_stories, story_timeline
from newsmon.console import printable, printable_json, progress
from newsmon.errors import ConfigError, NewsmonError
from newsmon.moments import parse_duration, parse_moment
from newsmon.settings import Settings, bounded

log = logging.getLogger(__name__)
MAX_STORIES = 10_000  # Elasticsearch's default index.max_result_window
DEFAULT_SIZE = 20
SETTLE = timedelta(minutes=1)  # a window is judged this long after it ends: its last articles are indexed
STORY_ID = re.compile(r"^[0-9a-f]{32}$")
LIST_OPTIONS = ("topic", "person", "since", "size", "trending")
SPIKE_OPTIONS = ("at", "window", "step", "baseline", "factor", "min_count", "floor")

ABOUT = ("the stories (articles grouped by event across outlets), newest first; `stories show STORY_ID` "
         "for one story's timeline; `stories --trending` for what is breaking now; `stories spikes` "
         "records spikes in Elasticsearch news-spikes and Kafka news.spikes (--follow: every step)")


def add_story_commands(commands: Any, leaf: Callable[..., argparse.ArgumentParser]) -> None:
    stories = leaf(commands, "stories", stories_command, ABOUT)
    stories.add_argument("action", nargs="?", choices=("list", "show", "spikes"), default="list",
                         help="list (the default): stories newest (last seen) first; show: one story's "
                         "articles as a timeline, its sources, topics and people; spikes: find the spikes "
                         "of the last window and record them")
    stories.add_argument("story_id", nargs="?", metavar="STORY_ID", help="show: the story (32 hex digits)")
    stories.add_argument("--topic", action="append", default=[], help="list: tagged with this topic "
                         "(repeatable: any)")
    stories.add_argument("--person", action="append", default=[], help="list: naming this person, canonical "
                         "name as indexed (repeatable: all)")
    stories.add_argument("--since", help="list: last seen since 30m, 12h, 7d, 2w ago or an ISO date")
    stories.add_argument("--size", type=argument_type(bounded(int, 1, MAX_STORIES)), metavar="N",
                         help=f"list: stories to show (default 20, at most {MAX_STORIES})")
    stories.add_argument("--trending", action="store_true", help="instead of stories, the spikes of the last "
                         "window, counted from the indexed articles now (nothing is written): kind, key, "
                         "count, baseline, ratio, window")
    stories.add_argument("--json", action="store_true", help="the result as JSON")
    spikes = stories.add_argument_group(
        "spikes (--trending and spikes)",
        "a topic, person or story spikes when its articles in the window are at least --min-count and at "
        "least --factor times the expected count, max(--floor, its articles in the --baseline period before "
        "the window x window / baseline); see docs/stories.md")
    spikes.add_argument("--at", metavar="TIME", help="the window that ended at or before this time (ISO, "
                        "or 30m, 2h ago; default: now less a minute, so that the window's last articles "
                        "are indexed)")
    spikes.add_argument("--window", metavar="DURATION", help="length of the window (default 1h)")
    spikes.add_argument("--step", metavar="DURATION", help="windows end on multiples of this (default 10m)")
    spikes.add_argument("--baseline", metavar="DURATION",
                        help="the trailing period before the window (default 24h)")
    spikes.add_argument("--factor", type=argument_type(bounded(float, 1, 1e6)), metavar="X",
                        help="times the expected count (default 3)")
    spikes.add_argument("--min-count", type=argument_type(bounded(int, 1, 1_000_000)), metavar="N",
                        help="at least this many articles in the window (default 5)")
    spikes.add_argument("--floor", type=argument_type(bounded(float, 0.001, 1e6)), metavar="COUNT",
                        help="the least expected count of a window (default 1)")
    spikes.add_argument("--follow", action="store_true", help="spikes: keep going, one window every step, "
                        "until Ctrl-C")


def stories_command(args: argparse.Namespace, settings: Settings) -> int:
    _check_options(args)
    if args.action == "show":
        return _show(args, settings)
    if args.action == "spikes":
        return _record(args, settings)
    if args.trending:
        return _trending(args, settings)
    return _list(args, settings)


def _given(args: argparse.Namespace, name: str) -> bool:
    return getattr(args, name) not in ([], None, False)


def _check_options(args: argparse.Namespace) -> None:
    """Refuse options the action does not use, rather than ignore them."""
    if args.action == "list":
        allowed = ("trending", *SPIKE_OPTIONS) if args.trending else LIST_OPTIONS
        doing = "stories --trending" if args.trending else "stories"
    else:
        allowed = {"show": (), "spikes": (*SPIKE_OPTIONS, "follow")}[args.action]
        doing = f"stories {args.action}"
    for name in (*LIST_OPTIONS, *SPIKE_OPTIONS, "follow"):
        if name not in allowed and _given(args, name):
            flag = "--" + name.replace("_", "-")
            if doing == "stories" and name in SPIKE_OPTIONS:
                msg = f"{flag} needs --trending or `stories spikes`"
            elif name == "follow":
                msg = "--follow is for `stories spikes`"
            else:
                msg = f"{flag} does not apply to `{doing}`"
            raise ConfigError(msg)
    if args.action == "show":
        if args.story_id is None:
            msg = "stories show needs a STORY_ID (as `newsmon stories` lists them)"
            raise ConfigError(msg)
        if not STORY_ID.match(args.story_id):
            msg = f"a story id is 32 hex digits, got {args.story_id!r}"
            raise ConfigError(msg)
    elif args.story_id is not None:
        msg = f"unexpected {args.story_id!r}: only `stories show` takes a STORY_ID"
        raise ConfigError(msg)


def _when(value: str | None) -> str:
    return (value or "")[:16].replace("T", " ")


def _list(args: argparse.Namespace, settings: Settings) -> int:
    request = StoryListRequest(topics=tuple(args.topic), persons=tuple(args.person),
                               since=parse_moment(args.since) if args.since else None,
                               size=args.size or DEFAULT_SIZE)
    total, stories = list_stories(make_client(settings), settings.es_index_stories, request)
    if args.json:
        print(printable_json({"total": total, "stories": stories}))
        return 0
    for story in stories:
        print(f"{_when(story['last_seen'])}  {printable(story['headline'])}")
        print(f"    story {story['story_id']}  first seen {_when(story['first_seen'])}, "
              f"{story['article_count']} articles from {story['source_count']} sources")
        topics = ", ".join(story.get("topics", []))
        people = ", ".join(story.get("persons", [])[:5])
        details = "  ".join(part for part in (f"[{topics}]" if topics else "", people) if part)
        if details:
            print(f"    {printable(details)}")
    print(f"{total} stories match, {len(stories)} shown" if total else
          "no stories match (stories are made by the pipeline: newsmon pipeline run)")
    return 0


def _show(args: argparse.Namespace, settings: Settings) -> int:
    timeline = story_timeline(make_client(settings), settings.es_index_stories, settings.es_index_articles,
                              args.story_id)
    if timeline.story is None and not timeline.articles:
        msg = f"no story {args.story_id} in {settings.es_index_stories}, and no article of it indexed"
        raise NewsmonError(msg)
    if args.json:
        print(printable_json({"story": timeline.story, "articles": timeline.articles}))
        return 0
    story = timeline.story or {}
    headline = story.get("headline") or timeline.articles[0]["title"]
    print(f"story {args.story_id}: {printable(headline)}")
    if story:
        print(f"  first seen {_when(story['first_seen'])}, last seen {_when(story['last_seen'])}; "
              f"{story['article_count']} articles from {story['source_count']} sources")
    else:
        print(f"  not in {settings.es_index_stories} (an article indexed before stories were clustered)")
    sources = story.get("sources") or sorted({article["source_name"] for article in timeline.articles})
    for label in ("sources", "topics", "persons", "organisations", "places"):
        values = sources if label == "sources" else story.get(label, [])
        if values:
            print(f"  {label}: {printable(', '.join(values))}")
    print(f"timeline ({len(timeline.articles)} articles indexed):")
    for article in timeline.articles:
        print(f"  {_when(article['published_at'])}  {printable(article['source_name'])}: "
              f"{printable(article['title'])}")
        print(f"{'':20}{printable(article.get('url') or article['article_id'])}")
    return 0


def _config(args: argparse.Namespace) -> SpikeConfig:
    """The statistic's settings: those given, SpikeConfig's defaults for the rest."""
    given: dict[str, Any] = {name: parse_duration(getattr(args, name), "--" + name)
                             for name in ("window", "step", "baseline") if getattr(args, name)}
    given |= {name: getattr(args, name) for name in ("factor", "min_count", "floor")
              if getattr(args, name) is not None}
    return SpikeConfig(**given)


def _window(args: argparse.Namespace, config: SpikeConfig, now: datetime | None = None) -> Window:
    moment = parse_moment(args.at, "--at") if args.at else (now or datetime.now(UTC)) - SETTLE
    return Window.ending(moment, config)


def print_spikes(spikes: list[Spike], window: Window, config: SpikeConfig, as_json: bool) -> None:
    if as_json:
        print(printable_json({"window_start": window.start.isoformat(), "window_end": window.end.isoformat(),
                              "spikes": [spike.to_message() for spike in spikes]}))
        return
    print(f"window {_when(window.start.isoformat())} to {_when(window.end.isoformat())} UTC against the "
          f"{_hours(config.baseline)} before it (factor {config.factor:g}, at least {config.min_count} "
          f"articles, floor {config.floor:g})")
    if not spikes:
        print("no spikes")
        return
    print(f"  {'kind':<7} {'count':>5} {'baseline':>8} {'ratio':>6}  key")
    for spike in spikes:
        key = f"{spike.label} ({spike.key})" if spike.label else spike.key
        print(f"  {spike.kind:<7} {spike.count:>5} {spike.expected:>8.2f} {spike.ratio:>6.1f}  "
              f"{printable(key)}")
    print(f"{len(spikes)} spikes; baseline: the count expected in the window at the baseline's mean rate")


def _hours(length: timedelta) -> str:
    hours = length.total_seconds() / 3600
    return f"{hours:g} h"


def _trending(args: argparse.Namespace, settings: Settings) -> int:
    config = _config(args)
    window = _window(args, config)
    spikes = detect_spikes(make_client(settings), settings, window, config)
    print_spikes(spikes, window, config, args.json)
    return 0


def _outage(error: BaseException) -> bool:
    return es_worth_waiting(error) or kafka_worth_waiting(error)


def _record(args: argparse.Namespace, settings: Settings) -> int:
    config = _config(args)
    if args.follow and args.at:
        msg = "--follow and --at do not go together: --follow judges each window as it ends"
        raise ConfigError(msg)
    client = make_client(settings)
    ensure_topics(settings, [settings.topic_spikes])
    producer = make_producer(settings)
    try:
        judged = None
        while True:
            window = _window(args, config)
            if window != judged:
                def judge(window: Window = window) -> tuple[list[Spike], list[Spike]]:
                    spikes = detect_spikes(client, settings, window, config)
                    return spikes, record_spikes(client, producer, settings, spikes)

                if args.follow:  # an outage delays the window rather than end the job; a retry is harmless
                    spikes, sent = backoff.patiently(judge, what="spikes", retry_if=_outage, log=log)
                else:
                    spikes, sent = judge()
                print_spikes(spikes, window, config, args.json)
                progress(f"spikes: window ending {window.end:%Y-%m-%d %H:%M} UTC judged, {len(spikes)} "
                         f"spikes, {len(sent)} new sent to {settings.topic_spikes}, all in "
                         f"{settings.es_index_spikes}")
                judged = window
            if not args.follow:
                return 0
            next_judged = window.end + config.step + SETTLE
            time.sleep(max(1.0, (next_judged - datetime.now(UTC)).total_seconds()))
    except KeyboardInterrupt:
        progress("spikes: stopped")
        return 0
    finally:
        producer.close(timeout=10)
        client.close()
