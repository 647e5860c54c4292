"""Fault harness: the real poller and the real pipeline while their processes, the Kafka
broker and the Elasticsearch node are SIGKILLed at random (seeded) moments.

On services of its own (``bench.local_services``): feeds served over HTTP grow at
``--rate`` stories a minute (``bench.wire_feeds``; some name people on the watch list,
loaded with ``newsmon watch import``); ``newsmon feeds run`` and ``newsmon pipeline run``
run as subprocesses in process groups of their own.

1. baseline: stories published for ``--baseline-minutes`` with no fault; for each, the
   time from its publication until a search finds it in ``news-articles``;
2. faults: the same for ``--minutes`` while ``--kills`` SIGKILLs hit the poller, the
   pipeline, the broker and the node in turn (random order and moments from ``--seed``).
   A killed poller or pipeline is started again at once, a killed broker or node after a
   few seconds (``newsmon services up --only ...``). The pipeline is never restarted after
   a broker or node kill: it must ride that out; if it dies all the same, that is a
   finding, printed, and it is restarted so the run goes on. After every kill the
   processes that were below the killed one (spaCy processes, Prism, feed parsers) must
   be gone within 10 s; any left behind is reported and then killed. Poison is written
   straight into ``news.articles`` meanwhile: a message that is not JSON, JSON that breaks
   the article schema, an oversized article (over the schema's 1,000,000 characters), and
   a large but valid one (300,000 characters) that must be indexed;
3. quiet: publishing stops; once every served story is indexed and the pipeline's
   consumer group has no lag, the poller and the pipeline are stopped and the outcome is
   checked: stories served vs indexed (lost), documents per URL (duplicated), dead letters
   (exactly the poison), alerts expected (the analysis core over the served stories and
   the watch list) vs ``news-alerts`` (lost, doubled), kills per process, restarts the
   pipeline needed, processes left behind.

Exits 1 when a story or an alert is lost or doubled, a dead letter is missing or
unexpected, or a process was left behind.

    python -m bench.faults [--minutes 10] [--kills 20] [--seed 1] [--rate 20] [--targets kafka,...]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import signal
import statistics
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime

from elasticsearch import helpers

from bench.local_services import (
    LocalStack,
    Proc,
    consumer_lag,
    descendants,
    lag_line,
    short_command,
    survivors,
)
from bench.wire_feeds import (
    WATCHED,
    IndexWatcher,
    Publisher,
    WireFeeds,
    summary,
    wait_all_indexed,
    watchlist_yaml,
)
from newsmon.connectors.elasticsearch import make_client
from newsmon.connectors.kafka import make_consumer, make_producer
from newsmon.pipelines.article_pipeline import DEFAULT_CONSUMER_GROUP

TARGETS = ("poller", "pipeline", "kafka", "elasticsearch")
COMMANDS = {"poller": ("feeds", "run"), "pipeline": ("pipeline", "run", "--progress-every", "60")}
LEFTOVER_WAIT = 10.0  # seconds a killed process's descendants get to go
INDEX_WAIT = 900.0  # seconds to wait for the first article (Prism, the model) and for quiet


def log(text: str) -> None:
    print(f"[{datetime.now(UTC):%H:%M:%S}] {text}", flush=True)


@dataclass
class Outcome:
    kills: Counter = field(default_factory=Counter)
    restarts_needed: Counter = field(default_factory=Counter)  # deaths nobody caused, while running
    refused_to_start: Counter = field(default_factory=Counter)  # started while a service was down
    findings: list[str] = field(default_factory=list)
    leftovers: list[str] = field(default_factory=list)


class Harness:
    def __init__(self, args: argparse.Namespace, stack: LocalStack) -> None:
        self.args = args
        self.stack = stack
        self.rng = random.Random(args.seed)
        self.outcome = Outcome()
        self.procs: dict[str, Proc] = {}
        self.expected_exit: set[int] = set()  # pids the harness killed or stopped itself
        self.injected: dict[str, tuple[int, int]] = {}  # name → (partition, offset)
        self.large_id = ""
        self._below: dict[int, list[int]] = {}  # pid → every process seen below it

    # -- processes ---------------------------------------------------------------------------

    def start(self, name: str) -> Proc:
        proc = self.stack.start(name, *COMMANDS[name])
        self.procs[name] = proc
        return proc

    def check_processes(self) -> None:
        """Restart a poller or pipeline that died by itself (a finding)."""
        for name, proc in list(self.procs.items()):
            if proc.alive() or proc.pid in self.expected_exit:
                continue
            tail = proc.tail(12)
            refused = proc.popen.returncode == 2 and "is not reachable" in tail and "running on" not in tail
            if refused:  # `newsmon` commands check their services as they start, and say so
                self.outcome.refused_to_start[name] += 1
                what = "refused to start while a service it needs was down (exit 2 with a clear message)"
            else:
                self.outcome.restarts_needed[name] += 1
                what = f"exited by itself with code {proc.popen.returncode}"
            finding = (f"{name} (pid {proc.pid}) {what} after {time.monotonic() - proc.started:.0f}s; last "
                       "lines of its stderr:\n" + "\n".join("      " + line for line in tail.splitlines()))
            self.outcome.findings.append(finding)
            log("FINDING: " + finding)
            self.reap_leftovers(name, proc.pid, self._below.get(proc.pid, []))
            self.wait_services()
            self.start(name)

    def note_descendants(self) -> None:
        """Remember what runs below each process, to find what it leaves behind when it dies."""
        for proc in self.procs.values():
            if proc.alive():
                seen = set(self._below.get(proc.pid, [])) | set(descendants(proc.pid))
                self._below[proc.pid] = sorted(seen)

    def reap_leftovers(self, name: str, pid: int, below: list[int]) -> list[str]:
        left = survivors(below, LEFTOVER_WAIT)
        lines = [f"{name} (pid {pid}) left pid {child} behind: {short_command(child)}" for child in left]
        for child in left:
            try:
                os.kill(child, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.outcome.leftovers.extend(lines)
        return lines

    def wait_services(self) -> None:
        for service in ("kafka", "elasticsearch"):
            if self.stack.service_pid(service) is None:
                log(f"{service} is not running: starting it")
                self.stack.up(service)

    # -- faults ------------------------------------------------------------------------------

    def kill(self, target: str, number: int) -> None:
        self.check_processes()  # a process that died meanwhile is a finding, not a kill
        self.note_descendants()
        if target in COMMANDS:
            proc = self.procs[target]
            pid, below = proc.pid, sorted(set(self._below.get(proc.pid, [])) | set(descendants(proc.pid)))
            self.expected_exit.add(pid)
            proc.kill()
            left = self.reap_leftovers(target, pid, below)
            self.start(target)
            restarted = f"started again (pid {self.procs[target].pid})"
        else:
            pid = self.stack.service_pid(target)
            if pid is None:
                log(f"kill #{number}: {target} is not running; starting it")
                self.stack.up(target)
                pid = self.stack.service_pid(target)
            below = descendants(pid)
            os.kill(pid, signal.SIGKILL)
            left = self.reap_leftovers(target, pid, below)
            down = self.rng.uniform(2, 15)
            time.sleep(down)
            took = self.stack.up(target)
            restarted = f"down {down:.0f}s, then `services up --only {target}` took {took:.0f}s"
        self.outcome.kills[target] += 1
        log(f"kill #{number}: SIGKILL {target} (pid {pid}, {len(below)} processes below it); "
            f"left behind: {len(left)}; {restarted}")
        for line in left:
            log("  LEFT BEHIND: " + line)

    def inject(self, kind: str) -> None:
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        article = {"schema_version": 1, "url": None, "guid": f"urn:bench:{kind}", "title": f"Injected {kind}",
                   "summary": None, "authors": [], "categories": [], "language": "en",
                   "source_name": "Bench injector", "feed_url": "https://wire.example.com/injected",
                   "published_at": now, "published_at_estimated": False, "fetched_at": now}
        if kind == "not-json":
            key, value = None, b"\x00this is not JSON {"
        elif kind == "breaks-schema":
            key, value = None, json.dumps({"schema_version": 1, "article_id": "nope", "title": 42}).encode()
        else:
            size = 1_000_001 if kind == "oversized" else 300_000
            words = ("Officials in Minsk said talks would continue next week. " * (size // 55 + 1))[:size]
            article |= {"article_id": hashlib.sha256(f"{kind} {time.time()}".encode()).hexdigest()[:32],
                        "content": words}
            key, value = article["article_id"].encode(), json.dumps(article).encode()
        producer = make_producer(self.stack.settings, max_request_size=2 * 1024 * 1024)
        try:
            meta = producer.send(self.stack.settings.topic_articles, key=key, value=value).get(150)
        finally:
            producer.close()
        self.injected[kind] = (meta.partition, meta.offset)
        if kind == "large-valid":
            self.large_id = article["article_id"]
        log(f"injected {kind} ({len(value):,} bytes) at partition {meta.partition} offset {meta.offset}")

    # -- the run -----------------------------------------------------------------------------

    def run(self) -> int:
        args, stack = self.args, self.stack
        log(f"services of its own in {stack.home}: Kafka {stack.env['NEWSMON_KAFKA_BOOTSTRAP_SERVERS']}, "
            f"Elasticsearch {stack.env['NEWSMON_ES_URL']}")
        log(f"services up in {stack.up():.0f}s")
        feeds = WireFeeds(args.feeds, seed=args.seed)
        (stack.home / "feeds.yaml").write_text(feeds.feed_list_yaml())
        (stack.home / "watch.yaml").write_text(watchlist_yaml())
        stack.newsmon("feeds", "import-opml", str(stack.home / "feeds.yaml"))
        stack.newsmon("watch", "import", str(stack.home / "watch.yaml"))
        log(f"{args.feeds} feeds served, watch list: {', '.join(WATCHED)}")
        watcher = IndexWatcher(stack.settings)
        try:
            for name in ("pipeline", "poller"):
                self.start(name)
            warm = feeds.publish(2)
            watcher.watch(warm)
            took = wait_all_indexed(watcher, warm, INDEX_WAIT, tick=self.check_processes)
            if took is None:
                log("the pipeline indexed nothing in time; stderr of the pipeline:\n"
                    + self.procs["pipeline"].tail(30))
                return 2
            log(f"warmed up: first stories indexed after {took:.0f}s (Prism, spaCy, the first poll)")
            self.note_descendants()

            log(f"phase 1, baseline: {args.rate:g} stories a minute for {args.baseline_minutes:g} min, "
                "no faults")
            baseline = self.phase(feeds, watcher, args.baseline_minutes * 60, kills=0)
            log(f"phase 2, faults: {args.rate:g} stories a minute for {args.minutes:g} min, "
                f"{args.kills} kills")
            faulted = self.phase(feeds, watcher, args.minutes * 60, kills=args.kills)

            log("quiet: waiting until every served story is indexed and the pipeline has no lag")
            quiet = self.wait_quiet(feeds, watcher)
            if quiet.startswith("NOT"):
                finding = (f"{quiet}: the pipeline's committed offsets stopped short of what it finished "
                           "(a restart would read those records again); its last progress line: "
                           + next((line for line in reversed(self.procs["pipeline"].tail(40).splitlines())
                                   if "pipeline:" in line), "none"))
                self.outcome.findings.append(finding)
                log("FINDING: " + finding)
            for name in ("poller", "pipeline"):
                proc = self.procs[name]
                self.expected_exit.add(proc.pid)
                below = descendants(proc.pid)
                code = proc.stop(timeout=60)
                self.reap_leftovers(name, proc.pid, below)
                log(f"{name} stopped (exit code {code})")
            services = {self.stack.service_pid(name) for name in ("kafka", "elasticsearch")}
            for pid in survivors([pid for pid in stack.strays() if pid not in services], 5):
                line = (f"still running after the poller and the pipeline stopped: pid {pid} "
                        f"{short_command(pid)}")
                self.outcome.leftovers.append(line)
                log("LEFT BEHIND: " + line)
            return self.report(feeds, watcher, baseline, faulted, quiet)
        finally:
            watcher.close()
            feeds.close()

    def phase(self, feeds: WireFeeds, watcher: IndexWatcher, seconds: float, kills: int) -> dict:
        events: list[tuple[float, str, str]] = []
        if kills:
            targets = [self.args.targets[n % len(self.args.targets)] for n in range(kills)]
            self.rng.shuffle(targets)
            events += [(self.rng.uniform(0.03, 0.97) * seconds, "kill", target) for target in targets]
            events += [(self.rng.uniform(0.1, 0.9) * seconds, "inject", kind)
                       for kind in ("not-json", "breaks-schema", "oversized", "large-valid")]
        events.sort()
        started = time.monotonic()
        publisher = Publisher(feeds, watcher, self.args.rate).start()
        number = 0
        for at, action, what in events:
            while time.monotonic() - started < at:
                self.check_processes()
                self.note_descendants()
                time.sleep(0.5)
            if action == "kill":
                number += 1
                self.kill(what, number)
            else:
                self.inject(what)
        while time.monotonic() - started < seconds:
            self.check_processes()
            self.note_descendants()
            time.sleep(0.5)
        items = publisher.stop()
        ended = time.monotonic()
        drained = wait_all_indexed(watcher, items, INDEX_WAIT, tick=self.check_processes) or INDEX_WAIT
        latencies = watcher.latencies(items)
        result = {"items": items, "latencies": latencies, "seconds": ended - started, "drain": drained,
                  "missing": len(watcher.missing(items))}
        log(f"  {len(items)} stories published, {len(latencies)} indexed; publish → searchable "
            f"{summary(latencies)}; all indexed {drained:.0f}s after the last was published"
            + (f"; {result['missing']} NOT indexed" if result["missing"] else ""))
        return result

    def wait_quiet(self, feeds: WireFeeds, watcher: IndexWatcher) -> str:
        started = time.monotonic()
        lag = {}
        while time.monotonic() - started < INDEX_WAIT:
            self.check_processes()
            served = feeds.served()
            watcher.watch(served)
            try:
                lag = consumer_lag(self.stack.settings, DEFAULT_CONSUMER_GROUP,
                                   self.stack.settings.topic_articles)
            except Exception as exc:  # noqa: BLE001 - the broker may still be settling
                log(f"  consumer lag not available: {exc}")
                time.sleep(5)
                continue
            unserved = len(feeds.items) - len(served)
            caught_up = all(done == end for done, end in lag.values())
            if not watcher.missing(served) and not unserved and caught_up:
                return f"quiet after {time.monotonic() - started:.0f}s; lag {lag_line(lag)}"
            time.sleep(5)
        return f"NOT quiet after {INDEX_WAIT:.0f}s; lag {lag_line(lag)}"

    # -- the outcome -------------------------------------------------------------------------

    def report(self, feeds: WireFeeds, watcher: IndexWatcher, baseline: dict, faulted: dict,
               quiet: str) -> int:
        settings = self.stack.settings
        es = make_client(settings)
        es.indices.refresh(index=settings.es_index_articles)
        served = feeds.served()
        ids = [item.article_id for item in served]
        found = set()
        for start in range(0, len(ids), 1000):
            docs = es.mget(index=settings.es_index_articles, ids=ids[start:start + 1000],
                           source=False)["docs"]
            found |= {doc["_id"] for doc in docs if doc.get("found")}
        lost = [item for item in served if item.article_id not in found]
        urls = es.search(index=settings.es_index_articles, size=0, aggs={"urls": {"terms": {
            "field": "url", "min_doc_count": 2, "size": 1000}}})["aggregations"]["urls"]["buckets"]
        total_docs = es.count(index=settings.es_index_articles)["count"]
        large_indexed = bool(es.options(ignore_status=404).get(
            index=settings.es_index_articles, id=self.large_id, source=False).get("found")) \
            if "large-valid" in self.injected else None

        letters = self.dead_letters()
        poison = {position: kind for kind, position in self.injected.items() if kind != "large-valid"}
        letter_positions = Counter((m["source_partition"], m["source_offset"]) for m in letters)
        unexpected_letters = [m for m in letters if (m["source_partition"], m["source_offset"]) not in poison]
        missing_letters = [kind for position, kind in poison.items() if position not in letter_positions]

        log(f"expected alerts: the analysis core over the {len(served)} served stories (spaCy, here)")
        expected = expected_alerts([item.message for item in served], self.stack.home / "watch.yaml")
        es.indices.refresh(index=settings.es_index_alerts)
        alerts = [hit["_source"] for hit in helpers.scan(es, index=settings.es_index_alerts,
                                                         query={"query": {"match_all": {}}})]
        per_pair = Counter((a["entry_id"], a["story_id"]) for a in alerts)
        doubled = {pair: n for pair, n in per_pair.items() if n > 1}
        raised = {a["alert_id"] for a in alerts}
        alerts_lost = sorted(set(expected) - raised)
        unexpected_alerts = sorted(raised - set(expected))
        named = sum(1 for item in served for person in WATCHED
                    if person in item.message["title"] or person in (item.message["content"] or ""))
        sent = self.kafka_alert_counts()
        resent = {key: n for key, n in sent.items() if n > 1}
        es.close()

        print("\n==== fault harness: outcome ====")
        print(f"seed {self.args.seed}; {self.args.feeds} feeds; {self.args.rate:g} stories a minute")
        print(f"baseline (no faults, {baseline['seconds'] / 60:.1f} min): {len(baseline['items'])} stories, "
              f"publish → searchable {summary(baseline['latencies'])}; all indexed "
              f"{baseline['drain']:.0f}s after the last was published")
        print(f"with faults ({faulted['seconds'] / 60:.1f} min): {len(faulted['items'])} stories, "
              f"publish → searchable {summary(faulted['latencies'])}; all indexed "
              f"{faulted['drain']:.0f}s after the last was published")
        if baseline["latencies"] and faulted["latencies"]:
            ratio = statistics.median(faulted["latencies"]) / statistics.median(baseline["latencies"])
            p95 = faulted["latencies"][int(0.95 * (len(faulted["latencies"]) - 1))]
            p95_base = baseline["latencies"][int(0.95 * (len(baseline["latencies"]) - 1))]
            print(f"faults vs baseline: p50 x{ratio:.1f}, p95 x{p95 / p95_base:.1f}")
        print(quiet)
        print(f"articles served:        {len(served)} (published {len(feeds.items)})")
        print(f"articles lost:          {len(lost)} (served, not in {settings.es_index_articles})")
        for item in lost[:10]:
            print(f"    {item.article_id} {item.url} published at {item.published:%H:%M:%S}")
        print(f"articles duplicated:    {len(urls)} URLs with more than one document "
              f"({total_docs} documents in the index)")
        if large_indexed is not None:
            print(f"large valid article:    {'indexed' if large_indexed else 'NOT indexed'}")
        print(f"dead letters:           {len(letters)} messages for {len(letter_positions)} records; "
              f"poison injected {len(poison)}, dead-lettered {len(poison) - len(missing_letters)}"
              + (f", MISSING {', '.join(missing_letters)}" if missing_letters else "")
              + f"; others {len(unexpected_letters)}")
        for letter in unexpected_letters[:10]:
            print(f"    {letter['stage']} p{letter['source_partition']}@{letter['source_offset']}: "
                  f"{letter['reason'][:200]}")
        print(f"alerts expected:        {len(expected)} (watched person × story; {named} watched full names "
              f"written in the served stories)")
        print(f"alerts in {settings.es_index_alerts}:  {len(alerts)}")
        print(f"alerts lost:            {len(alerts_lost)}")
        for alert_id in alerts_lost[:10]:
            print(f"    {expected[alert_id]}")
        print(f"alerts doubled:         {len(doubled)} (two alerts or more for one entry and story)")
        print(f"alerts unexpected:      {len(unexpected_alerts)} (raised, not expected)")
        print(f"alerts on {settings.topic_alerts}: {sum(sent.values())} messages for {len(sent)} alert "
              f"revisions ({len(resent)} sent more than once: allowed, consumers de-duplicate on alert id "
              "and revision)")
        print("kills:                  " + ", ".join(f"{t} {self.outcome.kills[t]}" for t in TARGETS)
              + f" ({sum(self.outcome.kills.values())} in all)")
        needed = ", ".join(f"{name} {count}" for name, count in self.outcome.restarts_needed.items())
        print(f"restarts needed:        {needed or 'none (nothing died while running unless killed)'}")
        if self.outcome.refused_to_start:
            refused = ", ".join(f"{name} {count}" for name, count in self.outcome.refused_to_start.items())
            print(f"refused to start:       {refused} (started again by the harness while Kafka or "
                  "Elasticsearch was down: exit 2, started again)")
        print(f"left behind:            {len(self.outcome.leftovers)} processes")
        for line in self.outcome.leftovers:
            print(f"    {line}")
        for finding in self.outcome.findings:
            print(f"FINDING: {finding}")
        failed = (lost or urls or doubled or alerts_lost or missing_letters or unexpected_letters
                  or self.outcome.leftovers or large_indexed is False)
        findings = len(self.outcome.findings)
        verdict = "FAILED" if failed else "passed: nothing lost, nothing doubled, nothing left behind"
        print(f"RESULT: {verdict}"
              + (f"; {findings} finding(s) above" if findings else ""))
        return 1 if failed else 0

    def dead_letters(self) -> list[dict]:
        settings = self.stack.settings
        consumer = make_consumer(settings, settings.topic_deadletter, group_id=None,
                                 auto_offset_reset="earliest", consumer_timeout_ms=5000)
        try:
            return [json.loads(record.value) for record in consumer]
        finally:
            consumer.close()

    def kafka_alert_counts(self) -> Counter:
        settings = self.stack.settings
        consumer = make_consumer(settings, settings.topic_alerts, group_id=None,
                                 auto_offset_reset="earliest", consumer_timeout_ms=5000)
        try:
            return Counter((record.key.decode(), json.loads(record.value).get("revision", 1))
                           for record in consumer)
        finally:
            consumer.close()


def expected_alerts(messages: list[dict], watch_file) -> dict[str, str]:
    """alert_id → "person in article" of every alert the analysis core raises on ``messages``."""
    from newsmon.analysis.analyse import Analyser, analyse
    from newsmon.analysis.messages import AnalysedArticle, Article, KafkaRecord
    from newsmon.analysis.name_matcher import WatchMatcher
    from newsmon.analysis.topic_tagger import TopicTagger
    from newsmon.analysis.watch_entries import load_watchlist_file

    analyser, tagger = Analyser(), TopicTagger.load()
    matcher = WatchMatcher(load_watchlist_file(watch_file))
    found = {}
    for message in messages:
        record = KafkaRecord("expected", 0, 0, None, b"", 0)
        item = AnalysedArticle(record=record, article=Article.from_message(message))
        for alert in analyse(item, analyser, tagger, matcher, alert_time=datetime.now(UTC)).alerts:
            found[alert.alert_id] = f"{alert.person} in {message['article_id']} {message['url']}"
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=10, help="length of the phase with faults")
    parser.add_argument("--kills", type=int, default=20, help="SIGKILLs, shared evenly by the four targets")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rate", type=float, default=20, help="stories published per minute")
    parser.add_argument("--feeds", type=int, default=4)
    parser.add_argument("--baseline-minutes", type=float, default=2)
    parser.add_argument("--targets", type=lambda text: text.split(","), default=list(TARGETS),
                        help="what to kill, comma-separated (default: poller,pipeline,kafka,elasticsearch)")
    parser.add_argument("--keep", action="store_true", help="keep the services' home (logs) afterwards")
    args = parser.parse_args()
    if set(args.targets) - set(TARGETS) or not args.targets:
        parser.error(f"--targets takes some of {','.join(TARGETS)}")
    with LocalStack(seed=args.seed, keep=args.keep, progress=log) as stack:
        code = Harness(args, stack).run()
    sys.exit(code)


if __name__ == "__main__":
    main()
