"""``newsmon stories`` against the real Elasticsearch (and Kafka for spikes), on documents
written by newsmon's own code: stories assigned by the clustering core and saved by the
Elasticsearch story store, articles as IndexArticles makes them. Listing and filtering,
one story's timeline, what is breaking (``--trending``), and spikes recorded once in
``news-spikes`` and ``news.spikes`` however often the command runs.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta

import pytest

from newsmon.analysis.entities import Entity, Mention
from newsmon.analysis.spikes import SpikeConfig, Window
from newsmon.analysis.stories import StoryConfig, assign, profile_of_text, story_id_for
from newsmon.analysis.topics import TopicTag
from newsmon.connectors.elasticsearch import setup_index, write_documents
from newsmon.connectors.kafka import make_consumer
from newsmon.connectors.story_store import ElasticsearchStoryStore
from newsmon.pipelines.index_articles import article_document
from newsmon.story_commands import SETTLE
from tests.support.commands import Command, command_env, run_newsmon
from tests.support.pipeline import message, parsed
from tests.test_stories import BELARUS, UNRELATED, WIRE, WIRE_COPY, idf

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
WIRE_MESSAGE = message("https://wire.example.com/belarus-frees-52-prisoners",
                       "Belarus frees 52 prisoners after Trump appeal", WIRE)
COPY_MESSAGE = message("https://courier.example.org/world/lukashenko-releases-detainees",
                       "Lukashenko releases 52 detainees after US request", WIRE_COPY) | {
    "source_name": "Daily Courier", "feed_url": "https://courier.example.org/rss"}
FLOOD_MESSAGE = message("https://wire.example.com/lisbon-floods",
                        "Heavy rain floods Lisbon streets as storm hits Portugal", UNRELATED)
WIRE_STORY = story_id_for(WIRE_MESSAGE["article_id"])
FLOOD_STORY = story_id_for(FLOOD_MESSAGE["article_id"])


def item(msg: dict, *, at: datetime, topics=(), persons=(), story_id: str | None = None, article_id=None):
    """The article as the pipeline leaves it for IndexArticles (topics and people as given)."""
    base = parsed(msg)
    article = dataclasses.replace(base.article, published_at=at, article_id=article_id or base.article_id)
    return dataclasses.replace(
        base, article=article, story_id=story_id,
        topics=tuple(TopicTag(name, 0.9, ("evidence",)) for name in topics),
        entities=tuple(Entity(name, "PERSON", (Mention(name, 0, len(name)),)) for name in persons))


def index_articles(es, alias: str, items) -> None:
    setup_index(es, "news-articles", alias)
    assert write_documents(es, alias, [(it.article_id, article_document(it)) for it in items]) == []
    es.indices.refresh(index=alias)


@pytest.fixture
def stories(es, settings, aliases):
    """Two stories clustered and saved by the project's code, and their three articles indexed."""
    settings = dataclasses.replace(settings, es_index_stories=aliases["stories"],
                                   es_index_articles=aliases["articles"], es_index_spikes=aliases["spikes"])
    store = ElasticsearchStoryStore(es, settings.es_index_stories, StoryConfig())
    store.setup()
    arrivals = [(WIRE_MESSAGE, T0, ("prisoner_release",)),
                (FLOOD_MESSAGE, T0 + timedelta(hours=1), ()),
                (COPY_MESSAGE, T0 + timedelta(hours=3), ("prisoner_release", "sanctions_relief"))]
    assigned = []
    for msg, at, topics in arrivals:
        entities = BELARUS if msg is not FLOOD_MESSAGE else ("place:Lisbon", "place:Portugal")
        profile = profile_of_text(msg["article_id"], msg["title"], msg["content"], source=msg["source_name"],
                                  published_at=at, idf=idf, entities=entities, topics=topics)
        story = assign(profile, store).story
        persons = [e.partition(":")[2] for e in entities if e.startswith("person:")]
        assigned.append(item(msg, at=at, topics=topics, persons=persons, story_id=story.story_id))
    assert [it.story_id for it in assigned] == [WIRE_STORY, FLOOD_STORY, WIRE_STORY]
    es.indices.refresh(index=settings.es_index_stories)
    index_articles(es, settings.es_index_articles, assigned)
    return settings


def newsmon(settings, *args: str, code: int = 0):
    done = run_newsmon("stories", *args, env=command_env(settings), timeout=90)
    assert done.returncode == code, done.stderr
    return done


def listed(settings, *args: str) -> list[str]:
    return [story["story_id"] for story in json.loads(newsmon(settings, "--json", *args).stdout)["stories"]]


def test_stories_are_listed_newest_first_with_their_topics_and_filtered(stories):
    found = json.loads(newsmon(stories, "--json").stdout)
    assert found["total"] == 2
    wire, flood = found["stories"]
    assert (wire["story_id"], flood["story_id"]) == (WIRE_STORY, FLOOD_STORY)  # last seen T0+3h, then T0+1h
    assert wire["topics"] == ["prisoner_release", "sanctions_relief"] and flood["topics"] == []
    assert wire["article_count"] == 2 and wire["sources"] == ["Daily Courier", "Example Wire"]
    assert "Mikola Statkevich" in wire["persons"]

    assert listed(stories, "--topic", "sanctions_relief") == [WIRE_STORY]
    assert listed(stories, "--topic", "diplomatic_move") == []
    assert listed(stories, "--person", "Mikola Statkevich", "--person", "Donald Trump") == [WIRE_STORY]
    assert listed(stories, "--person", "Ihar Losik") == []
    assert listed(stories, "--since", (T0 + timedelta(hours=2)).isoformat()) == [WIRE_STORY]
    assert listed(stories, "--size", "1") == [WIRE_STORY]

    text = newsmon(stories).stdout
    assert text.index("Belarus frees 52 prisoners after Trump") < text.index("Heavy rain floods Lisbon")
    assert f"story {WIRE_STORY}  first seen 2026-03-02 09:00, 2 articles from 2 sources" in text
    assert "[prisoner_release, sanctions_relief]" in text
    assert text.rstrip().endswith("2 stories match, 2 shown")


def test_show_gives_the_story_timeline_sources_topics_and_people(stories):
    text = newsmon(stories, "show", WIRE_STORY).stdout
    assert text.startswith(f"story {WIRE_STORY}: Belarus frees 52 prisoners after Trump appeal\n")
    assert "first seen 2026-03-02 09:00, last seen 2026-03-02 12:00; 2 articles from 2 sources" in text
    assert "  sources: Daily Courier, Example Wire" in text
    assert "  topics: prisoner_release, sanctions_relief" in text
    timeline = text.split("timeline (2 articles indexed):\n")[1]
    assert timeline.index("09:00  Example Wire: Belarus") < timeline.index("12:00  Daily Courier: Lukashenko")
    assert COPY_MESSAGE["url"] in timeline

    shown = json.loads(newsmon(stories, "show", WIRE_STORY, "--json").stdout)
    assert shown["story"]["story_id"] == WIRE_STORY
    assert [a["article_id"] for a in shown["articles"]] == [
        WIRE_MESSAGE["article_id"], COPY_MESSAGE["article_id"]]


def test_a_bad_or_unknown_story_id_and_misplaced_options_are_clear_errors(stories):
    assert "no story " + "0" * 32 in newsmon(stories, "show", "0" * 32, code=2).stderr
    assert "32 hex digits" in newsmon(stories, "show", "not-an-id", code=2).stderr
    assert "needs a STORY_ID" in newsmon(stories, "show", code=2).stderr
    assert "--topic does not apply to `stories show`" in newsmon(
        stories, "show", WIRE_STORY, "--topic", "x", code=2).stderr
    assert "--factor needs --trending" in newsmon(stories, "--factor", "2", code=2).stderr
    assert "--topic does not apply to `stories --trending`" in newsmon(
        stories, "--trending", "--topic", "x", code=2).stderr
    assert "--follow is for `stories spikes`" in newsmon(stories, "--trending", "--follow", code=2).stderr
    assert "--window takes a length" in newsmon(stories, "--trending", "--window", "0h", code=2).stderr
    assert "invalid choice" in newsmon(stories, WIRE_STORY, code=2).stderr


# What is breaking: one window, its baseline the day before.
END = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)  # a 10-minute boundary
BURST_STORY = story_id_for("burst")


def breaking_news():
    """In the hour to END: 6 articles on prisoner_release (one story, naming Ihar Losik in 5) and 6
    on sanctions_relief; in the 24 h before: 24 on prisoner_release (1 an hour), 96 on
    sanctions_relief (4 an hour). Only prisoner_release, its story and Ihar Losik spike.
    """
    made, n = [], 0

    def add(count, start, span, topics, persons=(), story_id=None):
        nonlocal n
        for i in range(count):
            n += 1
            made.append(item(WIRE_MESSAGE, at=start + span * i / count, topics=topics, persons=persons,
                             story_id=story_id, article_id=f"{n:032x}"))

    hour, day = timedelta(hours=1), timedelta(hours=24)
    add(5, END - hour, hour, ("prisoner_release",), ("Ihar Losik",), BURST_STORY)
    add(1, END - timedelta(minutes=1), timedelta(minutes=1), ("prisoner_release",), (), BURST_STORY)
    add(6, END - hour, hour, ("sanctions_relief",))
    add(24, END - hour - day, day, ("prisoner_release",))
    add(96, END - hour - day, day, ("sanctions_relief",))
    add(3, END, hour, ("prisoner_release",))  # after the window: not counted
    return made


def test_trending_shows_the_spikes_and_spikes_are_recorded_once(isolated, es):
    settings = isolated
    index_articles(es, settings.es_index_articles, breaking_news())
    at = ["--at", (END + timedelta(minutes=7)).isoformat()]  # the window that ended at END

    trending = json.loads(newsmon(settings, "--trending", "--json", *at).stdout)
    assert trending["window_end"] == END.isoformat()
    assert [(s["kind"], s["key"], s["count"], s["baseline_count"], s["expected"], s["ratio"])
            for s in trending["spikes"]] == [
        ("story", BURST_STORY, 6, 0, 1.0, 6.0), ("topic", "prisoner_release", 6, 24, 1.0, 6.0),
        ("person", "Ihar Losik", 5, 0, 1.0, 5.0)]
    text = newsmon(settings, "--trending", *at).stdout
    assert "window 2026-11-25 11:00 to 2026-11-25 12:00 UTC against the 24 h before it" in text
    assert "  topic       6     1.00    6.0  prisoner_release" in text
    assert not es.indices.exists_alias(name=settings.es_index_spikes)  # --trending writes nothing
    # with a lower factor sanctions_relief (6 against 4 an hour) spikes too
    lower = json.loads(newsmon(settings, "--trending", "--json", "--factor", "1.5", *at).stdout)
    assert ("topic", "sanctions_relief") in {(s["kind"], s["key"]) for s in lower["spikes"]}

    first = newsmon(settings, "spikes", *at)
    assert "3 new sent to" in first.stderr
    again = newsmon(settings, "spikes", *at)  # a re-run: the same ids, nothing sent twice
    assert "3 spikes, 0 new sent to" in again.stderr
    hits = es.search(index=settings.es_index_spikes, size=10)["hits"]["hits"]
    assert sorted(hit["_id"] for hit in hits) == sorted(s["spike_id"] for s in trending["spikes"])
    consumer = make_consumer(settings, settings.topic_spikes, consumer_timeout_ms=3000, group_id=None)
    try:
        sent = [(record.key.decode(), json.loads(record.value)) for record in consumer]
    finally:
        consumer.close()
    assert sorted(key for key, _ in sent) == sorted(s["spike_id"] for s in trending["spikes"])
    assert all(value == next(s for s in trending["spikes"] if s["spike_id"] == key) for key, value in sent)


def test_spikes_follow_judges_the_window_just_ended_and_stops_on_ctrl_c(isolated, es):
    settings = isolated
    now = datetime.now(UTC)
    window = Window.ending(now - SETTLE, SpikeConfig())
    # Half an hour before the window's end: inside it even if a step boundary passes meanwhile.
    at = window.end - timedelta(minutes=30)
    index_articles(es, settings.es_index_articles, [
        item(FLOOD_MESSAGE, at=at + timedelta(seconds=n), topics=("floods",), article_id=f"{n:032x}")
        for n in range(7)])
    follow = Command("stories", "spikes", "--follow", "--json", env=command_env(settings))
    try:
        follow.wait_for_line(lambda line: "judged, 1 spikes, 1 new sent" in line, "with the floods spike")
        assert follow.running()  # waits for the next window
    finally:
        assert follow.stop() == 0
    assert "spikes: stopped" in follow.err.text()
    first = json.JSONDecoder().raw_decode(follow.out.text())[0]  # a boundary may have passed: a second
    [spike] = first["spikes"]
    assert (spike["kind"], spike["key"], spike["count"]) == ("topic", "floods", 7)
    es.indices.refresh(index=settings.es_index_spikes)
    assert es.get(index=settings.es_index_spikes, id=spike["spike_id"])["_source"] == spike
