"""Grouping articles into stories: hand-written reports, near-duplicates, follow-ups, the
quiet period, replays (no model: profiles from plain words, entities given)."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta

import pytest

from newsmon.analysis import story_text
from newsmon.analysis.entities import Entity, Mention
from newsmon.analysis.messages import AnalysedArticle, Article, KafkaRecord
from newsmon.analysis.stories import (
    InMemoryStoryStore,
    Story,
    StoryConfig,
    assign,
    profile_of,
    profile_of_text,
    story_id_for,
)
from newsmon.analysis.text import Sentence, Token
from newsmon.analysis.topics import TopicTag

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
CONFIG = StoryConfig()

WIRE = (
    "MINSK (Reuters) - Belarus freed 52 prisoners on Wednesday, including opposition figure Mikola "
    "Statkevich, after an appeal by U.S. President Donald Trump, the Belarusian presidential press service "
    "said. Alexander Lukashenko pardoned the group, which included several foreign citizens, and the "
    "United States lifted sanctions on the national airline Belavia in return, a U.S. envoy told "
    "reporters in Vilnius."
)
WIRE_COPY = (
    WIRE.replace("MINSK (Reuters) - ", "") + "\nRead more: our coverage of Belarus\nAdvertisement\n"
    "Copyright 2026 The Daily Courier. All rights reserved."
)
FOLLOW_UP = (
    "Freed Belarus prisoners arrive in Vilnius as Lukashenko signals more pardons. Opposition figure Mikola "
    "Statkevich refused to leave Belarus, his supporters said on Thursday, a day after Lukashenko pardoned "
    "52 prisoners following an appeal by Donald Trump. The released prisoners crossed into Lithuania."
)
UNRELATED = (
    "Heavy rain floods Lisbon streets as storm hits Portugal. Firefighters in Lisbon rescued residents from "
    "flooded homes overnight as a storm brought record rainfall to central Portugal, the civil protection "
    "agency said, and schools closed in several districts."
)
BELARUS = ("person:Alexander Lukashenko", "person:Mikola Statkevich", "person:Donald Trump",
           "place:Belarus", "place:Vilnius")


def idf(term: str) -> float:
    return 1.0


def profile(article_id: str, title: str, body: str, *, at: datetime = T0, source: str = "Reuters",
            entities: tuple[str, ...] = (), topics: tuple[str, ...] = ()):
    return profile_of_text(article_id, title, body, source=source, published_at=at, idf=idf,
                           entities=entities, topics=topics)


def belarus_wire(article_id: str = "wire-1", at: datetime = T0):
    return profile(article_id, "Belarus frees 52 prisoners after Trump appeal", WIRE, at=at, entities=BELARUS)


def test_signatures_are_plain_ints_that_survive_json():
    sig = story_text.signature("Belarus frees 52 prisoners", WIRE)
    assert len(sig) == story_text.NUM_PERM and all(type(value) is int for value in sig)
    assert tuple(json.loads(json.dumps(sig))) == sig
    assert story_text.signature("Belarus frees 52 prisoners", WIRE) == sig  # same seed, same signature


def test_normalised_words_drop_datelines_boilerplate_and_punctuation():
    assert story_text.words("MINSK (Reuters) - Belarus freed 52 prisoners.\nRead more: elsewhere") == [
        "belarus", "freed", "52", "prisoners"]


def test_wire_copy_with_a_reworded_headline_joins_the_story_as_a_duplicate():
    store = InMemoryStoryStore()
    first = assign(belarus_wire(), store)
    copy = profile("courier-7", "Lukashenko releases 52 detainees after US request", WIRE_COPY,
                   at=T0 + timedelta(hours=3), source="Daily Courier", entities=BELARUS)
    assert story_text.estimated_jaccard(copy.signature, first.story.signatures[0]) >= CONFIG.duplicate_jaccard
    second = assign(copy, store)
    assert second.reason == "duplicate"
    assert second.story.story_id == first.story.story_id == story_id_for("wire-1")
    assert second.story.sources == ("Daily Courier", "Reuters")
    assert second.story.headline == "Belarus frees 52 prisoners after Trump appeal"  # the earliest article's


def test_follow_up_a_day_later_sharing_names_and_words_joins_the_story():
    store = InMemoryStoryStore()
    first = assign(belarus_wire(), store)
    later = profile("bbc-2", "Freed Belarus prisoners arrive in Vilnius", FOLLOW_UP,
                    at=T0 + timedelta(days=1), source="BBC", entities=BELARUS[:4] + ("place:Lithuania",))
    result = assign(later, store)
    assert result.reason == "follow-up"
    assert result.story.story_id == first.story.story_id
    assert result.story.article_ids == ("wire-1", "bbc-2")
    assert result.story.last_seen == T0 + timedelta(days=1)


def test_an_unrelated_report_opens_a_new_story():
    store = InMemoryStoryStore()
    first = assign(belarus_wire(), store)
    storm = assign(profile("lusa-1", "Heavy rain floods Lisbon", UNRELATED, at=T0 + timedelta(hours=1),
                           entities=("place:Lisbon", "place:Portugal")), store)
    assert storm.reason == "new"
    assert storm.story.story_id == story_id_for("lusa-1") != first.story.story_id


def test_a_story_quiet_for_longer_than_the_period_is_closed():
    store = InMemoryStoryStore()
    first = assign(belarus_wire(), store)
    same_words_later = belarus_wire("wire-9", at=T0 + CONFIG.quiet_period + timedelta(hours=1))
    result = assign(same_words_later, store)
    assert result.reason == "new" and result.story.story_id != first.story.story_id
    # with a longer quiet period the same article would have joined
    longer = StoryConfig(quiet_period=timedelta(days=30))
    store = InMemoryStoryStore(longer)
    assign(belarus_wire(), store, longer)
    assert assign(same_words_later, store, longer).story.story_id == first.story.story_id


def stream():
    return [
        belarus_wire(),
        profile("lusa-1", "Heavy rain floods Lisbon", UNRELATED, at=T0 + timedelta(hours=1),
                entities=("place:Lisbon", "place:Portugal")),
        profile("courier-7", "Lukashenko releases 52 detainees", WIRE_COPY, at=T0 + timedelta(hours=3),
                source="Daily Courier", entities=BELARUS),
        profile("bbc-2", "Freed Belarus prisoners arrive in Vilnius", FOLLOW_UP, at=T0 + timedelta(days=1),
                source="BBC", entities=BELARUS[:4]),
    ]


def test_replaying_in_the_same_order_gives_the_same_ids():
    runs = []
    for _ in range(2):
        store = InMemoryStoryStore()
        runs.append([assign(item, store).story.story_id for item in stream()])
    assert runs[0] == runs[1]
    assert runs[0] == [story_id_for("wire-1"), story_id_for("lusa-1"), story_id_for("wire-1"),
                       story_id_for("wire-1")]


def test_an_article_already_assigned_keeps_its_story():
    store = InMemoryStoryStore()
    for item in stream():
        assign(item, store)
    before = dict(store.stories)
    again = assign(stream()[2], store)
    assert again.reason == "known" and again.story.story_id == story_id_for("wire-1")
    assert store.stories == before  # nothing counted twice
    assert again.story.article_ids.count("courier-7") == 1


def test_a_story_carries_the_union_of_its_articles_topics():
    store = InMemoryStoryStore()
    first = assign(profile("wire-1", "Belarus frees 52 prisoners after Trump appeal", WIRE, entities=BELARUS,
                           topics=("prisoner_release",)), store)
    assert first.story.topics == ("prisoner_release",)
    copy = profile("courier-7", "Lukashenko releases 52 detainees after US request", WIRE_COPY,
                   at=T0 + timedelta(hours=3), source="Daily Courier", entities=BELARUS,
                   topics=("sanctions_relief", "prisoner_release"))
    joined = assign(copy, store)
    assert joined.story.story_id == first.story.story_id
    assert joined.story.topics == ("prisoner_release", "sanctions_relief")
    storm = assign(profile("lusa-1", "Heavy rain floods Lisbon", UNRELATED, at=T0 + timedelta(hours=1),
                           entities=("place:Lisbon",)), store)
    assert storm.story.topics == ()


def test_a_story_saved_before_stories_had_topics_reads_back_without_any():
    data = assign(belarus_wire(), InMemoryStoryStore()).story.to_dict()
    del data["topics"]
    assert Story.from_dict(data).topics == ()


def test_stories_round_trip_through_json():
    store = InMemoryStoryStore()
    for item in stream():
        story = assign(item, store).story
    assert Story.from_dict(json.loads(json.dumps(story.to_dict()))) == story
    assert list(story.to_dict()) == [field.name for field in dataclasses.fields(Story)]  # none left out


def test_profile_of_an_analysed_article_uses_lemmas_and_entities():
    title = "Belarus frees prisoners"
    text = f"{title}\n\nLukashenko pardoned them."
    words = [("Belarus", "belarus", "PROPN", "GPE", 0), ("frees", "free", "VERB", "", 8),
             ("prisoners", "prisoner", "NOUN", "", 14), ("Lukashenko", "lukashenko", "PROPN", "PERSON", 25),
             ("pardoned", "pardon", "VERB", "", 36), ("them", "they", "PRON", "", 45),
             (".", ".", "PUNCT", "", 49)]
    tokens = tuple(Token(text=w, lemma=lemma, pos=pos, dep="", head=0, ent_type=ent, start=start)
                   for w, lemma, pos, ent, start in words)
    article = Article(article_id="a1", url=None, guid=None, title=title, summary=None,
                      content="Lukashenko pardoned them.", source_name="BBC",
                      feed_url="https://example.org/rss",
                      published_at=T0, published_at_estimated=False, fetched_at=T0)
    entities = (Entity("Alexander Lukashenko", "PERSON", (Mention("Lukashenko", 25, 35),)),
                Entity("Belarus", "GPE", (Mention("Belarus", 0, 7),)))
    item = AnalysedArticle(record=KafkaRecord("news.articles", 0, 0, None, b"{}", 0), article=article,
                           text=text, sentences=(Sentence(text=text, start=0, tokens=tokens),),
                           entities=entities)
    item = dataclasses.replace(item, topics=(TopicTag("prisoner_release", 0.9, (text,)),))
    result = profile_of(item, idf)
    assert result.topics == {"prisoner_release"}
    terms = dict(result.terms)
    assert set(terms) == {"belarus", "free", "prisoner", "lukashenko", "pardon"}
    assert terms["belarus"] > terms["lukashenko"]  # title words count double
    assert result.entities == {"person:Alexander Lukashenko", "place:Belarus"}


@pytest.mark.parametrize(("sig_a", "sig_b", "expected"), [
    ((1, 2, 3, 4), (1, 2, 3, 4), 1.0), ((1, 2, 3, 4), (1, 0, 3, 0), 0.5), ((), (), 0.0)])
def test_estimated_jaccard(sig_a, sig_b, expected):
    assert story_text.estimated_jaccard(sig_a, sig_b) == expected


def test_the_packaged_idf_weighs_common_words_below_rare_ones_and_unknown_ones_highest():
    from newsmon.analysis.story_idf import FixedIdf, packaged_idf

    table = packaged_idf()
    assert table is packaged_idf()  # loaded once
    assert table.documents > 10_000 and all(df >= 2 for df in table.frequencies.values())
    assert table("government") < table("sanction") < table("belavia") == table.maximum
    assert table("Government") == table("government")  # lemmas are lower-cased; the lookup too
    small = FixedIdf(9, {"common": 9, "rare": 2})
    assert small("common") == pytest.approx(1.0)
    assert small("rare") < small("unseen") == pytest.approx(small.maximum)
