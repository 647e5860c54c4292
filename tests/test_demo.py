"""The README's main job through its CLI entry point, against the real services: what it
prints, what it leaves in Elasticsearch and on the alerts topic, and that a second run
adds nothing.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

from newsmon.connectors.kafka import make_consumer
from tests.support.commands import command_env, run_newsmon

WATCHED_IN_SEED = ["Ales Bialiatski", "Alexander Lukashenko", "Ihar Losik", "Maria Kalesnikava",
                   "Mikola Statkevich", "Sviatlana Tsikhanouskaya"]
SEED_TITLE = "Belarus frees 52 prisoners after Trump appeal; US eases sanctions on Belavia"
VILNIUS_TITLE = "Envoys meet in Vilnius as talk of reopening the US embassy in Minsk grows"
EU_TITLE = "EU extends sanctions on Belarus for another year"
COPY_TITLE = "Belarus releases 52 political prisoners as US lifts sanctions on Belavia"
RELEASE_REPORTS = {"Freed prisoners arrive in Vilnius by bus after their release from Belarusian jails",
                   "Lithuania says its citizens are among the prisoners Belarus freed",
                   "Poland welcomes release of its nationals from Belarusian prisons"}
ARTICLES = 9


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
    assert f"feeds polled: 2 polls (0 not modified, 0 failed), {ARTICLES} articles sent" in first.stderr
    for person in WATCHED_IN_SEED:
        assert f"  {person} (" in first.stdout
    assert f"Articles per topic (of {ARTICLES} demo articles):" in first.stdout
    # The five reports of the release within the hour: a spike of the topic (no article before).
    assert "newsmon stories --trending --at 2025-09-11T15:20:00Z" in first.stdout
    spike = re.compile(r"^  topic +5 +1\.00 +5\.0  prisoner_release$", re.MULTILINE)
    assert spike.search(first.stdout), first.stdout
    trending = run_newsmon("stories", "--trending", "--at", "2025-09-11T15:20:00Z", env=command_env(settings))
    assert trending.returncode == 0 and spike.search(trending.stdout), trending.stdout + trending.stderr
    assert f"  2025-09-11  {SEED_TITLE}" in first.stdout  # the search result
    assert "newsmon services down" in first.stdout
    assert first.stdout.rstrip().endswith("newsmon web, then open http://127.0.0.1:8088/")

    es.indices.refresh(index=settings.es_index_articles)
    query = {"match_phrase": {"title": SEED_TITLE}}
    [seed] = es.search(index=settings.es_index_articles, query=query)["hits"]["hits"]
    story = seed["_source"]
    assert {t["name"] for t in story["topics"]} == {"prisoner_release", "sanctions_relief", "diplomatic_move"}
    assert set(story["persons"]) >= set(WATCHED_IN_SEED)
    # Stories: the other outlet's copy of the seed's wire report is always the seed's story.
    # The reports of the release that hour, the Vilnius talks and the EU's decision follow the
    # seed's events and may join it (which of them do depends on the order the pipeline reads
    # the two feeds' articles in: grouping is online); the sentence review and the hockey
    # result never do.
    articles = es.search(index=settings.es_index_articles, size=20)["hits"]["hits"]
    story_of = {hit["_source"]["title"]: hit["_source"]["story_id"] for hit in articles}
    seed_story = story_of[SEED_TITLE]
    joined = {title for title, story_id in story_of.items() if story_id == seed_story} - {SEED_TITLE}
    assert COPY_TITLE in joined, story_of
    assert joined <= {COPY_TITLE, VILNIUS_TITLE, EU_TITLE, *RELEASE_REPORTS}, story_of
    stories = len(set(story_of.values()))
    assert f"Stories ({stories} from {ARTICLES} articles):" in first.stdout
    # One alert per watched person and story: Tsikhanouskaya, named in the seed and in the
    # Vilnius report, alerts once if they are one story; Kolesnikova in the review alerts too.
    # (the alerts whose story counts the seed, whichever article of the story came first)
    seed_alerts = es.search(index=settings.es_index_alerts, query={"term": {"article_ids": seed["_id"]}},
                            size=100)["hits"]["hits"]
    assert sorted(hit["_source"]["person"] for hit in seed_alerts) == WATCHED_IN_SEED
    expected_alerts = len(WATCHED_IN_SEED) + 1 + (VILNIUS_TITLE not in joined)
    assert f"Alerts fired ({expected_alerts}):" in first.stdout

    second = run_demo(settings, closed_port)
    assert f"{ARTICLES} articles sent" not in second.stderr and "0 articles sent" in second.stderr
    assert f"Alerts fired ({expected_alerts}):" in second.stdout
    es.indices.refresh(index=settings.es_index_alerts)
    stored = [hit["_source"] for hit in es.search(index=settings.es_index_alerts, size=100)["hits"]["hits"]]
    assert len(stored) == expected_alerts
    assert es.count(index=settings.es_index_articles)["count"] == ARTICLES
    consumer = make_consumer(settings, settings.topic_alerts, consumer_timeout_ms=3000, group_id=None)
    alerts = [json.loads(record.value) for record in consumer]
    consumer.close()
    # Each alert once per revision (a later article with a topic the alert lacked sends the
    # next one), the second run nothing.
    assert len({a["alert_id"] for a in alerts}) == expected_alerts
    assert sorted((a["alert_id"], a["revision"]) for a in alerts) == sorted(
        (a["alert_id"], number) for a in stored for number in range(1, a["revision"] + 1))
