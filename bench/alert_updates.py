"""Benchmark: what a later article of a story costs WriteAlerts in Elasticsearch, next to
raising a new alert (the baseline, measured in the same run on the same index).

The alert is the one the pipeline's own code raises for the seed article (spaCy analysis,
topics, the example watch list). Three kinds of write through ``AlertStore.write``:
``new`` raises ``--writes`` alerts, one per story (a create); ``update`` folds ``--writes``
later articles into one story's alert (create refused, read, conditional write); ``replay``
writes those articles again (create refused, read, nothing written). Also printed: the
size of the alert document once it counts the articles, and per article.

    python -m bench.alert_updates [--writes 300]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
import uuid
from datetime import timedelta

from newsmon.analysis.alerts import alert_id
from newsmon.analysis.messages import parse_time, rfc3339
from newsmon.connectors.alert_store import AlertStore
from newsmon.connectors.elasticsearch import drop_index, make_client, setup_index
from newsmon.settings import Settings
from tests.support.pipeline import analysed

SOURCES = ["Baltic Wire", "Europe Desk", "Global Agency", "Capital Times", "Daily Courier", "News Today"]


def timed(store: AlertStore, alerts: list[dict]) -> list[float]:
    times = []
    for alert in alerts:
        started = time.perf_counter()
        store.write(alert)
        times.append((time.perf_counter() - started) * 1000)
    return sorted(times)


def line(name: str, times: list[float], baseline: list[float]) -> str:
    p50, p95 = statistics.median(times), times[int(0.95 * (len(times) - 1))]
    return (f"{name:<8} p50 {p50:6.2f} ms  p95 {p95:6.2f} ms  "
            f"(x{p50 / statistics.median(baseline):.2f} of new, p50)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--writes", type=int, default=300, help="writes of each kind (default 300)")
    args = parser.parse_args()
    seed = analysed().alerts[0].to_message()
    first_time = parse_time(seed["published_at"])

    def of_story(n: int) -> dict:
        story = f"{n:032x}"
        return seed | {"story_id": story, "alert_id": alert_id(seed["entry_id"], story)}

    later = [seed | {"article_id": uuid.uuid4().hex, "source_name": SOURCES[n % len(SOURCES)],
                     "published_at": rfc3339(first_time + timedelta(minutes=n + 1))}
             for n in range(args.writes)]
    settings = Settings.load()
    es = make_client(settings)
    alias = f"bench-alerts-{uuid.uuid4().hex[:10]}"
    try:
        setup_index(es, "news-alerts", alias)
        store = AlertStore(es, alias, realert_on="new-topic")
        store.write(seed)
        baseline = timed(store, [of_story(n) for n in range(1, args.writes + 1)])
        updates = timed(store, later)
        replays = timed(store, later)
        document = es.get(index=alias, id=seed["alert_id"])["_source"]
        assert document["article_count"] == args.writes + 1, document["article_count"]
        size = len(json.dumps(document).encode())
        print(f"alert writes on {settings.es_url} ({args.writes} of each)")
        print(line("new", baseline, baseline))
        print(line("update", updates, baseline))
        print(line("replay", replays, baseline))
        print(f"document of an alert counting {document['article_count']} articles: {size / 1024:.1f} KiB "
              f"({(size - len(json.dumps(seed).encode())) / args.writes:.0f} bytes per later article)")
    finally:
        drop_index(es, alias)
        es.close()


if __name__ == "__main__":
    main()
