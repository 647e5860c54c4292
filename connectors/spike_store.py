"""Spikes over Elasticsearch: the article counts that :mod:`newsmon.analysis.spikes` compares,
read with ``terms`` aggregations on ``news-articles``, and the spikes found, recorded in
``news-spikes`` (``_id`` = spike_id) and sent to Kafka ``news.spikes`` once each.

Two searches per window: the current window's counts per topic (``topics.name``), person
(``persons``) and story (``story_id``), keeping only keys with at least ``min_count``
articles (none below can spike); then the baseline period's counts of exactly those keys
(``include``), so the baseline is exact whatever the number of keys.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from elasticsearch import Elasticsearch
from kafka import KafkaProducer

from newsmon.analysis.spikes import KINDS, Spike, SpikeConfig, Window, find_spikes
from newsmon.connectors.elasticsearch import patiently, setup_index, write_documents
from newsmon.errors import NewsmonError
from newsmon.schemas import validate
from newsmon.settings import Settings

TEMPLATE = "news-spikes"
FIELDS = {"topic": "topics.name", "person": "persons", "story": "story_id"}
MAX_KEYS = 1000  # keys per kind and window; beyond, the most frequent (a window rarely has 100)


def _published(start: datetime, end: datetime) -> dict[str, Any]:
    return {"range": {"published_at": {"gte": start.isoformat(), "lt": end.isoformat()}}}


def build_counts(start: datetime, end: datetime, *, min_count: int = 1,
                 keys: Mapping[str, Sequence[str]] | None = None) -> dict[str, Any]:
    """The body of a ``_search`` counting articles published in ``[start, end)`` per topic,
    person and story: those with at least ``min_count``, or (``keys``) exactly the keys given.
    """
    aggs = {}
    for kind, field in FIELDS.items():
        terms: dict[str, Any] = {"field": field, "size": MAX_KEYS, "min_doc_count": min_count}
        if keys is not None:
            if not keys.get(kind):
                continue
            terms |= {"include": list(keys[kind]), "size": len(keys[kind]), "min_doc_count": 1}
        aggs[kind] = {"terms": terms}
    return {"size": 0, "query": {"bool": {"filter": [_published(start, end)]}}, "aggs": aggs,
            "track_total_hits": False}


def count_articles(client: Elasticsearch, alias: str, start: datetime, end: datetime, *, min_count: int = 1,
                   keys: Mapping[str, Sequence[str]] | None = None) -> dict[str, dict[str, int]]:
    """Kind → key → articles, as :func:`build_counts` asks."""
    body = build_counts(start, end, min_count=min_count, keys=keys)
    if not body["aggs"]:
        return {kind: {} for kind in KINDS}
    aggregations = client.search(index=alias, **body)["aggregations"]
    return {kind: {bucket["key"]: bucket["doc_count"] for bucket in aggregations[kind]["buckets"]}
            if kind in aggregations else {} for kind in KINDS}


def detect_spikes(client: Elasticsearch, settings: Settings, window: Window, config: SpikeConfig
                  ) -> list[Spike]:
    """The spikes of ``window`` in the indexed articles, highest ratio first; a story's
    spike carries its headline as label. Nothing is written.
    """
    if not client.indices.exists_alias(name=settings.es_index_articles):
        return []
    alias = settings.es_index_articles
    current = count_articles(client, alias, window.start, window.end, min_count=config.min_count)
    before = count_articles(client, alias, window.baseline_start, window.start,
                            keys={kind: sorted(counts) for kind, counts in current.items()})
    spikes = [spike for kind in KINDS
              for spike in find_spikes(kind, current[kind], before[kind], window, config)]
    headlines = _headlines(client, settings.es_index_stories, [s.key for s in spikes if s.kind == "story"])
    spikes = [dataclasses.replace(s, label=headlines.get(s.key)) if s.kind == "story" else s for s in spikes]
    return sorted(spikes, key=lambda spike: (-spike.ratio, -spike.count, spike.kind, spike.key))


def _headlines(client: Elasticsearch, alias: str, story_ids: list[str]) -> dict[str, str]:
    if not story_ids or not client.indices.exists_alias(name=alias):
        return {}
    hits = client.search(index=alias, query={"ids": {"values": story_ids}}, size=len(story_ids),
                         source=["headline"])["hits"]["hits"]
    return {hit["_id"]: hit["_source"]["headline"] for hit in hits}


def recorded_ids(client: Elasticsearch, alias: str, spike_ids: Sequence[str]) -> set[str]:
    """Which of ``spike_ids`` are in the spikes index already."""
    if not spike_ids or not client.indices.exists_alias(name=alias):
        return set()
    hits = client.search(index=alias, query={"ids": {"values": list(spike_ids)}}, size=len(spike_ids),
                         source=False)["hits"]["hits"]
    return {hit["_id"] for hit in hits}


def record_spikes(client: Elasticsearch, producer: KafkaProducer, settings: Settings,
                  spikes: Sequence[Spike]) -> list[Spike]:
    """Send the spikes not recorded before to Kafka (key = spike_id), then index them all
    (a re-run's newer counts overwrite); returns those sent.

    Kafka first: a crash between the two sends them again on the next run (at least once,
    never lost; consumers can de-duplicate on the key). Blocks while Elasticsearch is down.
    """
    messages = {spike.spike_id: spike.to_message() for spike in spikes}
    for message in messages.values():
        validate("spike", message)  # raises SchemaViolationError, naming the field
    alias = settings.es_index_spikes
    patiently(lambda: setup_index(client, TEMPLATE, alias), what="installing the spikes index")
    known = patiently(lambda: recorded_ids(client, alias, list(messages)), what="reading the spikes index")
    new = [spike for spike in spikes if spike.spike_id not in known]
    futures = [producer.send(settings.topic_spikes, key=spike.spike_id.encode(),
                             value=json.dumps(messages[spike.spike_id], ensure_ascii=False).encode())
               for spike in new]
    for future in futures:
        future.get(timeout=settings.kafka_delivery_timeout + 5)
    refused = write_documents(client, alias, list(messages.items()))
    if refused:
        msg = f"Elasticsearch refused spike {refused[0].doc_id} in {alias}: {refused[0].reason}"
        raise NewsmonError(msg)
    patiently(lambda: client.indices.refresh(index=alias), what="refreshing the spikes index")
    return new
