"""Alerts as they arrive on Kafka ``news.alerts``, for the alerts page's server-sent events.

Each open page gets its own consumer without a group, positioned at the end of every
partition when the page connects; the first event (``ready``) says so, and then every
alert that passes the page's filters comes as a ``message`` event carrying the alert's
row, rendered (and escaped) by the server. A comment every 15 s keeps proxies from
closing a quiet stream.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

from kafka import TopicPartition
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from newsmon.connectors.kafka import make_consumer
from newsmon.schemas import problems
from newsmon.settings import Settings
from newsmon.web.other_pages import AlertFilter

log = logging.getLogger(__name__)
KEEPALIVE_SECONDS = 15.0
POLL_MS = 1000


def open_at_end(settings: Settings) -> Any:
    """A consumer of the alerts topic, at the end of each partition now (not at the first poll)."""
    consumer = make_consumer(settings, group_id=None)
    partitions = consumer.partitions_for_topic(settings.topic_alerts) or set()
    tps = [TopicPartition(settings.topic_alerts, p) for p in sorted(partitions)]
    consumer.assign(tps)
    consumer.seek_to_end(*tps)
    for tp in tps:
        consumer.position(tp)  # resolves "the end" now
    return consumer


def event(data: str, name: str | None = None) -> str:
    lines = "".join(f"data: {line}\n" for line in data.splitlines() or [""])
    return (f"event: {name}\n" if name else "") + lines + "\n"


async def alert_events(request: Request, settings: Settings, chosen: AlertFilter,
                       render: Callable[[dict[str, Any]], str]) -> AsyncIterator[str]:
    """Server-sent events: ``ready``, then each new alert that passes ``chosen``, as HTML."""
    consumer = await run_in_threadpool(open_at_end, settings)
    try:
        yield event("{}", "ready")
        quiet_since = time.monotonic()
        while not await request.is_disconnected():
            batches = await run_in_threadpool(consumer.poll, timeout_ms=POLL_MS)
            for records in batches.values():
                for record in records:
                    try:
                        alert = json.loads(record.value)
                    except ValueError as exc:
                        alert, found = None, [f"not JSON: {exc}"]
                    else:
                        found = problems("alert", alert)
                    if found:
                        log.warning("%s %d=%d is not an alert (%s); not shown", record.topic,
                                    record.partition, record.offset, "; ".join(found[:3]))
                        continue
                    if chosen.accepts(alert):
                        yield event(render(alert))
                        quiet_since = time.monotonic()
            if time.monotonic() - quiet_since > KEEPALIVE_SECONDS:
                yield ": still here\n\n"
                quiet_since = time.monotonic()
    finally:
        await run_in_threadpool(consumer.close)
