"""The README's main job through its CLI entry point, against the real services: what it
prints, what it leaves in Elasticsearch and on the alerts topic, and that a second run
adds nothing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from newsmon.connectors.kafka import make_consumer

WATCHED_IN_SEED = ["Ales Bialiatski", "Alexander Lukashenko", "Ihar Losik", "Maria Kalesnikava",
                   "Mikola Statkevich", "Sviatlana Tsikhanouskaya"]
SEED_TITLE = "Belarus frees 52 prisoners after Trump appeal; US eases sanctions on Belavia"


def run_demo(settings, port: int) -> subprocess.CompletedProcess:
    env = os.environ | {
        "NEWSMON_TOPIC_ARTICLES": settings.topic_articles, "NEWSMON_TOPIC_ALERTS": settings.topic_alerts,
        "NEWSMON_TOPIC_DEADLETTER": settings.topic_deadletter,
        "NEWSMON_ES_INDEX_ARTICLES": settings.es_index_articles,
        "NEWSMON_ES_INDEX_ALERTS": settings.es_index_alerts,
        "NEWSMON_ES_INDEX_WATCHLIST": settings.es_index_watchlist,
        "NEWSMON_ES_INDEX_STORIES": settings.es_index_stories}
    done = subprocess.run([sys.executable, "-m", "newsmon", "demo", "--feeds-port", str(port)], env=env,
                          capture_output=True, text=True, timeout=900, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return done


def test_the_demo_monitors_the_seed_feeds_end_to_end(isolated, es, closed_port):  # noqa: F811
    settings = isolated
    first = run_demo(settings, closed_port)
    assert "feeds polled: 2 polls (0 not modified, 0 failed), 5 articles sent" in first.stderr
    assert "Alerts fired (8):" in first.stdout
    for person in WATCHED_IN_SEED:
        assert f"  {person} (" in first.stdout
    assert "Stories per topic (of 5 demo stories):" in first.stdout
    assert f"  2025-09-11  {SEED_TITLE}" in first.stdout  # the search result
    assert "newsmon services down" in first.stdout
    assert first.stdout.rstrip().endswith("newsmon web, then open http://127.0.0.1:8088/")

    es.indices.refresh(index=settings.es_index_articles)
    query = {"match_phrase": {"title": SEED_TITLE}}
    [seed] = es.search(index=settings.es_index_articles, query=query)["hits"]["hits"]
    story = seed["_source"]
    assert {t["name"] for t in story["topics"]} == {"prisoner_release", "sanctions_relief", "diplomatic_move"}
    assert set(story["persons"]) >= set(WATCHED_IN_SEED)
    seed_alerts = es.search(index=settings.es_index_alerts, query={"term": {"article_id": seed["_id"]}},
                            size=100)["hits"]["hits"]
    assert sorted(hit["_source"]["person"] for hit in seed_alerts) == WATCHED_IN_SEED

    second = run_demo(settings, closed_port)
    assert "5 articles sent" not in second.stderr and "0 articles sent" in second.stderr
    assert "Alerts fired (8):" in second.stdout
    es.indices.refresh(index=settings.es_index_alerts)
    assert es.count(index=settings.es_index_alerts)["count"] == 8
    assert es.count(index=settings.es_index_articles)["count"] == 5
    consumer = make_consumer(settings, settings.topic_alerts, consumer_timeout_ms=3000, group_id=None)
    alerts = [json.loads(record.value) for record in consumer]
    consumer.close()
    assert len(alerts) == 8 and len({a["alert_id"] for a in alerts}) == 8
