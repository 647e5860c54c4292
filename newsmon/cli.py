"""The ``newsmon`` command: one entry point, one subcommand per job."""

from __future__ import annotations

import argparse
import atexit
import json
import logging
import multiprocessing
import os
import signal
import sys
from collections.abc import Sequence
from typing import NoReturn

from newsmon import __version__
from newsmon.arguments import SECONDS, TIMEOUT, CommandParser, argument_type, finish_command
from newsmon.connectors.elasticsearch import reporting_unreachable
from newsmon.console import interrupt, progress
from newsmon.deadletter_commands import add_deadletter_commands
from newsmon.errors import NewsmonError
from newsmon.feed_commands import add_feed_commands
from newsmon.search_commands import add_search_commands
from newsmon.settings import Settings, bounded, from_args
from newsmon.story_commands import add_story_commands
from newsmon.topic_commands import add_topic_commands
from newsmon.watch_commands import add_watch_commands
from newsmon.web_commands import add_web_command

PROGRESS_EVERY_SECONDS = 30.0
DESCRIPTION = """\
newsmon watches news feeds as they publish: feed connectors push articles into Kafka,
an Apache Beam pipeline tags topics and named entities with spaCy, and the results are
indexed in Elasticsearch for search (Kibana) and for alerts on people you watch.

Settings come from NEWSMON_* environment variables or the flags each command lists
at the end of its help (`newsmon COMMAND --help`); flags win.
"""


def cmd_services(args: argparse.Namespace, settings: Settings) -> int:
    from newsmon.deploy import services

    only = tuple(args.only) if args.only else services.SERVICE_NAMES
    if args.action == "up":
        for line in services.up(settings, progress, only):
            print(line)
        print(f"data and logs: {settings.home}   downloads: {settings.cache}")
        print("stop with: newsmon services down")
    elif args.action == "down":
        for line in services.down(settings, only):
            print(line)
    else:
        statuses = services.status(settings)
        if args.json:
            print(json.dumps([vars(s) for s in statuses], indent=2))
        for s in statuses if not args.json else []:
            state = "healthy" if s.healthy else ("unhealthy" if s.running else "stopped")
            memory = f", {s.rss_mib:.0f} MiB resident" if s.rss_mib else ""
            pid = f" (pid {s.pid}{memory})" if s.pid else ""
            print(f"{s.name:<14} {state}{pid}: {s.detail}")
        return 0 if all(s.healthy for s in statuses) else 3
    return 0


def cmd_smoke(args: argparse.Namespace, settings: Settings) -> int:
    from newsmon.smoke import run_smoke

    result = run_smoke(settings, progress, timeout=args.timeout)
    topics = ", ".join(result.topics) or "no topic"
    print(f"smoke round trip passed: Kafka → the newsmon pipeline ({result.runner}) → Elasticsearch in "
          f"{result.seconds_to_searchable:.1f}s; found {result.document_id} “{result.title}” [{topics}]")
    return 0


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    from newsmon.demo import run_demo

    return run_demo(settings, progress, feeds_port=args.feeds_port, follow=args.follow, timeout=args.timeout)



def cmd_pipeline(args: argparse.Namespace, settings: Settings) -> int:
    from apache_beam.runners.runner import PipelineState

    from newsmon.connectors.kafka import check_kafka, ensure_topics, pipeline_topics
    from newsmon.pipelines import article_pipeline

    check_kafka(settings)
    ensure_topics(settings, pipeline_topics(settings))
    options = article_pipeline.pipeline_options(args.beam_args)
    bounded = options.view_as(article_pipeline.ArticlePipelineOptions).stop is not None
    running = article_pipeline.run(settings, args.beam_args)
    progress(f"pipeline running on {running.runner}: Kafka {settings.topic_articles} → "
             f"Elasticsearch {settings.es_index_articles}" + ("" if bounded else "; Ctrl-C stops it"))
    signal.signal(signal.SIGTERM, interrupt)  # a service manager stops it like Ctrl-C
    signal.signal(signal.SIGINT, interrupt)  # not the default handler, which gRPC reacts to as well
    try:
        while not running.wait(args.progress_every):
            counts = running.counters()
            progress("pipeline: " + (", ".join(f"{k} {v}" for k, v in counts.items()) or "no counts yet"))
    except KeyboardInterrupt:
        for stop in (signal.SIGINT, signal.SIGTERM):  # a second Ctrl-C must not cut the cancel short
            signal.signal(stop, signal.SIG_IGN)
        progress("stopping the pipeline")
        running.cancel()  # the local job service goes with it: no state or counters to ask for
        print("pipeline stopped; it resumes from the committed offsets when started again")
        return 0
    if running.error is not None:
        print(f"newsmon: error: the pipeline failed: {running.error}", file=sys.stderr)
    print(f"pipeline {running.state}")
    for name, value in running.counters().items():
        print(f"  {name:<32} {value}")
    return 0 if running.state == PipelineState.DONE else 1


def cmd_settings(args: argparse.Namespace, settings: Settings) -> int:
    for name, value in settings.describe().items():
        print(f"{name:<26} {value}")
    return 0


def cmd_model(args: argparse.Namespace, settings: Settings) -> int:
    from newsmon.analysis.nlp import load_model, model_id

    nlp = load_model()
    print(f"{model_id(nlp)} loaded; components: {', '.join(nlp.pipe_names)}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = CommandParser(prog="newsmon", description=DESCRIPTION, allow_abbrev=False,
                           formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"newsmon {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debugging detail")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    leaves: list[argparse.ArgumentParser] = []

    def leaf(parent, name: str, handler, help: str) -> argparse.ArgumentParser:  # noqa: A002
        """A command that runs ``handler``; its settings flags are added once all its own are."""
        sub = parent.add_parser(name, help=help, description=help, allow_abbrev=False)
        sub.set_defaults(handler=handler)
        leaves.append(sub)
        return sub

    def command(name: str, handler, help: str) -> argparse.ArgumentParser:  # noqa: A002
        return leaf(commands, name, handler, help)

    svc = command("services", cmd_services,
                  "start, stop or check the local Kafka broker and Elasticsearch node "
                  "(and build Prism, Beam's local streaming runner)")
    svc.add_argument("action", choices=("up", "down", "status"),
                     help="up: start and wait for health (idempotent); down: stop; status: health, "
                          "memory and where data and logs live (exit code 3 when not all healthy)")
    svc.add_argument("--only", action="append", choices=("kafka", "elasticsearch"),
                     help="act on this service only (repeatable)")
    svc.add_argument("--json", action="store_true", help="status as JSON")

    smoke = command("smoke", cmd_smoke,
                    "round trip: the seed article through Kafka, the real pipeline (a backfill on "
                    "throw-away topics and indices) and an Elasticsearch search")
    smoke.add_argument("--timeout", type=TIMEOUT, default=180.0, metavar="SECONDS",
                       help="seconds to wait (default 180)")

    demo = command("demo", cmd_demo,
                   "the whole monitor on the demo feeds: services, feeds served and polled, the streaming "
                   "pipeline, alerts on the example watch list, a count per topic and a search")
    demo.add_argument("--follow", action="store_true", help="keep polling, serve `newsmon web` "
                      "(http://127.0.0.1:8088/, or a free port) and print alerts until Ctrl-C")
    demo.add_argument("--feeds-port", type=argument_type(bounded(int, 0, 65535)), default=0, metavar="PORT",
                      help="port of the local server of the demo feeds (default: any free port)")
    demo.add_argument("--timeout", type=TIMEOUT, default=300.0, metavar="SECONDS",
                      help="seconds to wait for the stories to be indexed (default 300)")

    about = "the feed list, its status, and the poller that sends new articles to Kafka"
    feeds = commands.add_parser("feeds", help=about,
                                description=about + " (state in NEWSMON_HOME/feeds.sqlite3)")
    add_feed_commands(feeds, leaf)

    pipeline = command("pipeline", cmd_pipeline,
                       "run the Beam pipeline: articles from Kafka, entities and topics, into "
                       "Elasticsearch. Any Beam pipeline option passes through: --runner (default "
                       "DirectRunner, which runs streaming pipelines on Prism), --streaming, Flink or "
                       "Dataflow options; and newsmon's own: --start committed|earliest|latest|TIME|P=O,..., "
                       "--consumer_group NAME, --stop end|TIME|P=O,... (a backfill that ends by itself)")
    pipeline.add_argument("action", choices=("run",), help="run: start it and wait (Ctrl-C stops it)")
    pipeline.add_argument("--progress-every", type=SECONDS, default=PROGRESS_EVERY_SECONDS,
                          metavar="SECONDS",
                          help="seconds between progress reports (counters per step; default 30)")

    about = "the watch list: people whose naming in a story raises an alert (stored in Elasticsearch)"
    watch = commands.add_parser("watch", help=about, description=about)
    about = "alerts raised on watched people: recent ones, a live tail, delivery to webhooks and e-mail"
    alerts = commands.add_parser("alerts", help=about, description=about)
    add_watch_commands(watch, alerts, leaf)
    add_deadletter_commands(commands, leaf)
    add_topic_commands(commands, leaf)

    add_search_commands(commands, leaf)
    add_story_commands(commands, leaf)
    add_web_command(commands, leaf)

    command("settings", cmd_settings, "print the effective settings (secrets masked)")
    command("model", cmd_model, "check that the spaCy English model loads")
    for sub in leaves:
        finish_command(sub, trailing="[BEAM_OPTION ...]" if sub is pipeline else "")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """The ``newsmon`` command; ``argv`` defaults to the command line."""
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra and args.command != "pipeline":
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    args.beam_args = extra  # Beam's own options, for `newsmon pipeline run`
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if not args.verbose:
        # Beam tells each time it starts or stops its local Prism server, kafka-python each
        # time its network loop was slow (the CPU being busy with spaCy) or a group member
        # (the pipeline's group lock) joined before the topic's metadata came, the
        # Elasticsearch client with a traceback each time it retries: nothing to act on, or
        # said once by newsmon itself (an unreachable service is a `newsmon: error`).
        for name in ("apache_beam.utils.subprocess_server", "PrismRunner", "kafka.net.selector",
                     "kafka.coordinator.assignors.range", "elastic_transport"):
            logging.getLogger(name).setLevel(logging.ERROR)
        logging.getLogger("kafka.cluster").addFilter(_not_cancelled_on_close)
    try:
        settings = from_args(args)
        with reporting_unreachable(settings):
            code = args.handler(args, settings)
    except NewsmonError as exc:
        print(f"newsmon: error: {exc}", file=sys.stderr)
        code = 2
    except KeyboardInterrupt:
        print("newsmon: interrupted", file=sys.stderr)
        code = 130
    if argv is None and args.command in RUNS_A_PIPELINE:
        _exit_now(code)
    return code


def _not_cancelled_on_close(record: logging.LogRecord) -> bool:
    """False for kafka-python's error about a metadata request that it cancelled itself
    because the client was closing (`Metadata refresh: failed Cancelled`): the command had its
    answer already. Other metadata failures are still logged.
    """
    from kafka.errors import Cancelled
    return not any(isinstance(arg, Cancelled) for arg in (record.args or ()))


RUNS_A_PIPELINE = frozenset({"demo", "pipeline", "smoke"})


def _exit_now(code: int) -> NoReturn:
    """Leave the process after a Beam pipeline ran in it, without interpreter finalisation.

    The in-process SDK worker's gRPC threads are still alive at exit, and tearing modules
    down under them crashes CPython now and then (exit status 139 after a clean run).
    Exit handlers still run first: Beam stops its local Prism server in one. The spaCy
    processes are stopped before them (multiprocessing's handler would wait for them).
    """
    for child in multiprocessing.active_children():  # spaCy processes wait for work until told
        child.terminate()
    atexit._run_exitfuncs()  # what a normal exit runs, before the crash-prone part
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
