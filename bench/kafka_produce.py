"""Benchmark: article-sized messages produced the way newsmon produces them.

newsmon's producer waits for every in-sync replica and de-duplicates retries (acks=all,
idempotence). This measures its throughput against a baseline producer that only waits
for the leader (acks=1, no idempotence), in the same run, on the same broker.

    python -m bench.kafka_produce [--messages 20000] [--size 4096]
"""

from __future__ import annotations

import argparse
import os
import time
import uuid

from newsmon.connectors.kafka import ensure_topics, make_admin, make_producer
from newsmon.settings import Settings


def produce(settings: Settings, topic: str, count: int, size: int, **overrides) -> float:
    producer = make_producer(settings, **overrides)
    payload = os.urandom(size // 2).hex().encode()
    started = time.perf_counter()
    for i in range(count):
        producer.send(topic, key=str(i).encode(), value=payload)
    producer.flush(120)
    elapsed = time.perf_counter() - started
    producer.close()
    return count / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--size", type=int, default=4096, help="bytes per message (an article is ~2-8 KiB)")
    args = parser.parse_args()
    settings = Settings.load()
    topic = f"bench.produce.{uuid.uuid4().hex[:8]}"
    ensure_topics(settings, [topic], partitions=3)
    try:
        baseline = produce(settings, topic, args.messages, args.size, acks=1, enable_idempotence=False)
        newsmon = produce(settings, topic, args.messages, args.size)
    finally:
        admin = make_admin(settings)
        admin.delete_topics([topic])
        admin.close()
    print(f"messages: {args.messages} x {args.size} bytes, 3 partitions, one local broker")
    print(f"baseline (acks=1, no idempotence): {baseline:,.0f} msg/s")
    print(f"newsmon  (acks=all, idempotent):   {newsmon:,.0f} msg/s")
    print(f"ratio newsmon/baseline: {newsmon / baseline:.2f}")


if __name__ == "__main__":
    main()
