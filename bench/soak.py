"""Soak: the poller, the pipeline and alert delivery running together for a long while at a
steady rate, on services of their own (``bench.local_services``).

Feeds served over HTTP (``bench.wire_feeds``) grow by ``--rate`` stories a minute, some
naming people of the watch list (``newsmon watch import``); ``newsmon feeds run``,
``newsmon pipeline run`` and ``newsmon alerts deliver`` (to a local webhook receiver)
run as subprocesses. Every minute, and at the end, it prints the stories indexed (the
throughput, next to the baseline: the rate offered), the consumer lag of the pipeline's
group per partition, the resident memory of each process (the pipeline with its spaCy
processes and Prism, from ``/proc``), the error lines (tracebacks, ERROR) in each
process's stderr, and the alerts raised and delivered. At the end, publishing stops and
it waits for the pipeline to catch up; memory after the first minute (every spaCy and parser
process started) and at the end side by side.

Exits 1 when a process wrote an error, died, or when at the end a story is not indexed,
the lag is not zero, or an alert raised was not delivered.

    python -m bench.soak [--minutes 30] [--rate 30]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import UTC, datetime

import yaml

from bench.local_services import (
    SERVICES,
    LocalStack,
    consumer_lag,
    descendants,
    lag_line,
    rss_mib,
    tree_rss_mib,
)
from bench.wire_feeds import (
    WATCH_LIST,
    IndexWatcher,
    Publisher,
    WireFeeds,
    summary,
    wait_all_indexed,
    watchlist_yaml,
)
from newsmon.connectors.elasticsearch import make_client
from newsmon.pipelines.article_pipeline import DEFAULT_CONSUMER_GROUP
from tests.support.webhook_server import WebhookServer

COMMANDS = {"poller": ("feeds", "run"), "pipeline": ("pipeline", "run", "--progress-every", "60"),
            "delivery": ("alerts", "deliver")}
WARM_UP = 900.0  # seconds for the first story to be indexed (Prism, the model, the first poll)
CATCH_UP = 600.0  # seconds at the end for the pipeline to index what was published


def log(text: str) -> None:
    print(f"[{datetime.now(UTC):%H:%M:%S}] {text}", flush=True)


class Soak:
    def __init__(self, args: argparse.Namespace, stack: LocalStack) -> None:
        self.args = args
        self.stack = stack
        self.procs = {}
        self.webhook = WebhookServer()
        self.es = None  # made once the services are up: the node's password is generated then

    def memory(self) -> dict[str, str]:
        """Resident MiB of each process; the pipeline and the poller with what runs below them."""
        shown = {}
        for name, proc in self.procs.items():
            below = len(descendants(proc.pid))
            shown[name] = (f"{rss_mib(proc.pid):.0f} MiB (+{below} below it: "
                           f"{tree_rss_mib(proc.pid):.0f} MiB)") if below else f"{rss_mib(proc.pid):.0f} MiB"
        for service in SERVICES:
            pid = self.stack.service_pid(service)
            shown[service] = f"{rss_mib(pid):.0f} MiB" if pid else "not running"
        return shown

    def totals(self) -> dict[str, float]:
        """Resident MiB per process, with what runs below it, for the start/end comparison."""
        found = {name: tree_rss_mib(proc.pid) for name, proc in self.procs.items()}
        for service in SERVICES:
            pid = self.stack.service_pid(service)
            found[service] = rss_mib(pid) if pid else 0.0
        return found

    def errors(self) -> dict[str, list[str]]:
        return {name: proc.error_lines() for name, proc in self.procs.items()}

    def alerts(self) -> tuple[int, int, int]:
        """(alerts in news-alerts, alerts delivered to the webhook, of which delivered twice or more)."""
        try:
            self.es.indices.refresh(index=self.stack.settings.es_index_alerts)
            raised = self.es.count(index=self.stack.settings.es_index_alerts)["count"]
        except Exception:  # noqa: BLE001 - no alert raised yet: the index does not exist
            raised = 0
        ids = [alert["alert_id"] for received in list(self.webhook.received) if received.status == 200
               for alert in received.json()["alerts"]]
        return raised, len(set(ids)), len(ids) - len(set(ids))

    def lag(self) -> dict[int, tuple[int | None, int]]:
        try:
            settings = self.stack.settings
            return consumer_lag(settings, DEFAULT_CONSUMER_GROUP, settings.topic_articles)
        except Exception as exc:  # noqa: BLE001 - reported, not fatal
            log(f"consumer lag not available: {exc}")
            return {}

    def report(self, minute: int, watcher: IndexWatcher, publisher: Publisher, started: float,
               last: tuple[int, float]) -> tuple[int, float]:
        indexed = len(watcher.latencies(publisher.items))
        now = time.monotonic()
        per_minute = (indexed - last[0]) / max(1e-9, (now - last[1]) / 60)
        raised, delivered, twice = self.alerts()
        errors = {name: len(lines) for name, lines in self.errors().items()}
        dead = [name for name, proc in self.procs.items() if not proc.alive()]
        log(f"minute {minute}: published {len(publisher.items)}, indexed {indexed} "
            f"({per_minute:.1f}/min in the last minute, {indexed / max(1e-9, (now - started) / 60):.1f}/min "
            f"overall; offered {self.args.rate:g}/min)")
        log(f"  lag {lag_line(self.lag()) or '?'}")
        log("  memory " + "; ".join(f"{name} {value}" for name, value in self.memory().items()))
        log(f"  alerts raised {raised}, delivered {delivered}" + (f" ({twice} twice)" if twice else "")
            + "; errors " + ", ".join(f"{name} {count}" for name, count in errors.items())
            + (f"; DIED: {', '.join(dead)}" if dead else ""))
        return indexed, now

    def run(self) -> int:
        args, stack = self.args, self.stack
        log(f"services of its own in {stack.home}: Kafka {stack.env['NEWSMON_KAFKA_BOOTSTRAP_SERVERS']}, "
            f"Elasticsearch {stack.env['NEWSMON_ES_URL']}")
        log(f"services up in {stack.up():.0f}s")
        self.es = make_client(stack.settings, request_timeout=10)
        feeds = WireFeeds(args.feeds, seed=args.seed, window=max(60, int(args.rate * 2)))
        (stack.home / "feeds.yaml").write_text(feeds.feed_list_yaml())
        (stack.home / "watch.yaml").write_text(watchlist_yaml())
        config = stack.home / "notifiers.yaml"
        config.write_text(yaml.safe_dump({"lists": {WATCH_LIST: {"notifiers": [
            {"type": "webhook", "name": "soak", "url": self.webhook.url()}]}}}))
        stack.newsmon("feeds", "import-opml", str(stack.home / "feeds.yaml"))
        stack.newsmon("watch", "import", str(stack.home / "watch.yaml"))
        watcher = IndexWatcher(stack.settings)
        try:
            for name in ("pipeline", "poller", "delivery"):
                extra = ("--config", str(config)) if name == "delivery" else ()
                self.procs[name] = stack.start(name, *COMMANDS[name], *extra)
            warm = feeds.publish(2)
            watcher.watch(warm)
            took = wait_all_indexed(watcher, warm, WARM_UP, tick=lambda: None)
            if took is None:
                log("the pipeline indexed nothing in time; its stderr:\n" + self.procs["pipeline"].tail(30))
                return 2
            log(f"warmed up: first stories indexed after {took:.0f}s; {args.rate:g} stories a minute for "
                f"{args.minutes:g} min from {args.feeds} feeds")
            started = time.monotonic()
            publisher = Publisher(feeds, watcher, args.rate).start()
            last = (0, started)
            for minute in range(1, int(args.minutes) + 1):
                time.sleep(max(0.0, started + 60 * minute - time.monotonic()))
                last = self.report(minute, watcher, publisher, started, last)
                if minute == 1:  # "start": at full rate, every spaCy and parser process spawned
                    memory_start, memory_shown = self.totals(), self.memory()
            time.sleep(max(0.0, started + 60 * args.minutes - time.monotonic()))
            items = publisher.stop()
            published_for = time.monotonic() - started
            indexed_in_time = len(watcher.latencies(items))
            log(f"publishing stopped; waiting up to {CATCH_UP:.0f}s for the pipeline to catch up")
            caught_up = wait_all_indexed(watcher, items, CATCH_UP, tick=lambda: None)
            deadline = time.monotonic() + 120
            lag = self.lag()
            while any(done != end for done, end in lag.values()) and time.monotonic() < deadline:
                time.sleep(5)
                lag = self.lag()
            raised, delivered, twice = self.alerts()
            deadline = time.monotonic() + 120
            while delivered < raised and time.monotonic() < deadline:
                time.sleep(2)
                raised, delivered, twice = self.alerts()
            memory_end, memory_end_shown = self.totals(), self.memory()
            errors = self.errors()
            dead = [name for name, proc in self.procs.items() if not proc.alive()]
            latencies = watcher.latencies(items)
            missing = len(items) - len(latencies)
        finally:
            watcher.close()
            feeds.close()
            self.webhook.close()

        print("\n==== soak: outcome ====")
        print(f"{args.minutes:g} min at {args.rate:g} stories a minute from {args.feeds} feeds "
              f"(the baseline: the rate offered)")
        minutes = published_for / 60
        print(f"published {len(items)}; indexed while publishing {indexed_in_time} "
              f"({indexed_in_time / minutes:.1f}/min vs {len(items) / minutes:.1f}/min offered); "
              "all indexed: "
              + (f"{caught_up:.0f}s after publishing stopped" if caught_up is not None
                 else f"NO, {missing} missing"))
        print(f"publish → searchable: {summary(latencies)}")
        print(f"consumer lag of {DEFAULT_CONSUMER_GROUP} at the end: {lag_line(lag) or '?'}")
        print("resident memory, after the first minute → end (MiB, with the processes below each):")
        for name in memory_start:
            change = memory_end.get(name, 0) - memory_start[name]
            print(f"  {name:<14} {memory_start[name]:7.0f} → {memory_end.get(name, 0):7.0f} ({change:+.0f})")
        print(f"  first minute: {'; '.join(f'{k} {v}' for k, v in memory_shown.items())}")
        print(f"  at the end:   {'; '.join(f'{k} {v}' for k, v in memory_end_shown.items())}")
        print(f"alerts raised {raised}, delivered to the webhook {delivered}"
              + (f", {twice} delivered twice" if twice else ""))
        print("errors in stderr: " + ", ".join(f"{name} {len(lines)}" for name, lines in errors.items()))
        for name, lines in errors.items():
            for line in lines[:5]:
                print(f"    {name}: {line[:200]}")
        if dead:
            print(f"DIED: {', '.join(dead)}")
        if latencies:
            print(f"median publish → searchable {statistics.median(latencies):.1f}s")
        failed = (any(errors.values()) or dead or missing or any(done != end for done, end in lag.values())
                  or delivered < raised)
        print("RESULT: " + ("FAILED" if failed else "passed"))
        return 1 if failed else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--rate", type=float, default=30, help="stories published per minute")
    parser.add_argument("--feeds", type=int, default=4)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", action="store_true", help="keep the services' home (logs) afterwards")
    args = parser.parse_args()
    if args.minutes < 2 or args.rate <= 0:
        parser.error("--minutes takes 2 or more (memory is compared from the first minute on), --rate a rate")
    with LocalStack(seed=args.seed, keep=args.keep, progress=log) as stack:
        code = Soak(args, stack).run()
    sys.exit(code)


if __name__ == "__main__":
    main()
