"""The pipeline's steps one by one: TestPipeline on small inputs, against the real
Kafka and Elasticsearch where a step writes to them.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import uuid
from datetime import UTC, datetime

import apache_beam as beam
import pytest
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from newsmon.analysis.entities import Entity, Mention
from newsmon.analysis.messages import AnalysedArticle, Article, DeadLetter
from newsmon.analysis.topics import TopicTag
from newsmon.connectors.elasticsearch import setup_index
from newsmon.connectors.kafka import make_consumer
from newsmon.pipelines.commit_offsets import advance
from newsmon.pipelines.dead_letters import WriteDeadLetters
from newsmon.pipelines.index_articles import IndexArticles, article_document
from newsmon.pipelines.parse_articles import ParseArticles, parse_record
from newsmon.schemas import problems
from tests.support.pipeline import parsed, record

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def article(n: int = 1) -> dict:
    return Article(
        article_id=f"{n:032x}", url=f"https://news.example.com/{n}", guid=None, title=f"Story {n}",
        summary="Prisoners were freed.", content=None, source_name="Example", feed_url="https://news.example.com/rss",
        published_at=NOW, published_at_estimated=False, fetched_at=NOW).to_message()


def test_parse_record_sorts_good_from_bad():
    good = parse_record(record(json.dumps(article()).encode()))
    assert isinstance(good, AnalysedArticle) and good.article_id == article()["article_id"]

    not_utf8 = parse_record(record(b"\xff\xfe{", offset=1)).to_message()
    assert not_utf8["reason"].startswith("not UTF-8") and not_utf8["original_text"] is None
    assert base64.b64decode(not_utf8["original_value"]) == b"\xff\xfe{"

    not_json = parse_record(record(b"<rss>", offset=2)).to_message()
    assert not_json["reason"].startswith("not JSON") and not_json["original_text"] == "<rss>"

    broken = article() | {"published_at": "yesterday"}
    del broken["title"]
    invalid = parse_record(record(json.dumps(broken).encode(), offset=3)).to_message()
    assert "title" in invalid["reason"] and "published_at" in invalid["reason"]
    assert invalid["article_id"] == broken["article_id"] and invalid["source_offset"] == 3
    for letter in (not_utf8, not_json, invalid):
        assert problems("deadletter", letter) == []
    assert good.article == Article.from_message(article())


def test_parse_articles_splits_outputs():
    records = [record(json.dumps(article(n)).encode(), offset=n) for n in range(3)] + [record(b"{", offset=9)]
    with TestPipeline() as pipeline:
        parsed = pipeline | beam.Create(records) | ParseArticles()
        assert_that(parsed.articles | "Ids" >> beam.Map(lambda a: a.article_id),
                    equal_to([f"{n:032x}" for n in range(3)]), label="articles")
        assert_that(parsed.deadletter | "Offsets" >> beam.Map(lambda d: d.record.offset),
                    equal_to([9]), label="deadletter")


@pytest.mark.parametrize(("next_offset", "finished", "expected"), [
    (5, {5, 6, 7}, (8, set())),
    (5, {6, 7}, (5, {6, 7})),  # 5 still in flight: nothing past it may be committed
    (5, {5, 7, 8}, (6, {7, 8})),
])
def test_commits_only_an_unbroken_run(next_offset, finished, expected):
    assert advance(next_offset, set(finished)) == expected


def analysed(n: int, **fields) -> AnalysedArticle:
    return dataclasses.replace(parsed(article(n), offset=n), **fields)


def test_article_document_lists_entities_by_type():
    item = analysed(1, entities=(
        Entity("Ihar Losik", "PERSON", (Mention("Losik", 10, 15), Mention("Ihar Losik", 40, 50))),
        Entity("Belavia", "ORG", ()), Entity("Minsk", "GPE", ()), Entity("Baltic Sea", "LOC", ())),
        topics=(TopicTag("prisoner_release", 0.9, ("Prisoners were freed.",)),),
        provenance={"model": "en_core_web_sm-3.8.0", "topic_rules": "1"})
    document = article_document(item)
    assert document["persons"] == ["Ihar Losik"] and document["organisations"] == ["Belavia"]
    assert document["places"] == ["Minsk", "Baltic Sea"]
    assert document["entities"][0] == {"name": "Ihar Losik", "type": "PERSON", "count": 2, "mentions": [
        {"text": "Losik", "start": 10, "end": 15}, {"text": "Ihar Losik", "start": 40, "end": 50}]}
    assert document["story_id"] == document["article_id"] and "schema_version" not in document
    assert document["source"] == {"topic": "news.articles", "partition": 0, "offset": 1}
    assert document["topics"] == [
        {"name": "prisoner_release", "score": 0.9, "evidence": ["Prisoners were freed."]}]
    assert article_document(item) == document  # deterministic: a replay writes the same document


def test_index_articles_writes_and_dead_letters_refusals(es, settings, index_name):
    settings = dataclasses.replace(settings, es_index_articles=index_name)
    bad = analysed(3, provenance={"unexpected_field": "x"})  # the mapping is strict
    items = [analysed(1), analysed(2), analysed(1), bad]
    with TestPipeline() as pipeline:
        indexed = pipeline | beam.Create(items) | IndexArticles(settings)
        assert_that(indexed.indexed | "Ids" >> beam.Map(lambda a: a.article_id),
                    equal_to([f"{1:032x}", f"{2:032x}", f"{1:032x}"]), label="indexed")
        assert_that(indexed.deadletter | "Why" >> beam.Map(lambda d: (d.stage, d.record.offset,
                                                                    "strict_dynamic_mapping" in d.reason)),
                    equal_to([("index", 3, True)]), label="deadletter")
    es.indices.refresh(index=index_name)
    assert es.count(index=index_name)["count"] == 2
    assert next(iter(es.indices.get_alias(name=index_name))) == f"{index_name}-v1"
    assert setup_index(es, "news-articles", index_name) == f"{index_name}-v1"  # installs twice
    es.indices.delete(index=f"{index_name}-v1")
    es.indices.delete_index_template(name=index_name)


def test_dead_letters_reach_kafka_with_their_reason(kafka, topic):
    settings = dataclasses.replace(kafka, topic_deadletter=topic)
    letters = [DeadLetter(record(b"not json", offset=n, key=f"key{n}".encode()), stage="parse",
                          reason=f"not JSON #{n}") for n in range(3)]
    with TestPipeline() as pipeline:
        positions = pipeline | beam.Create(letters) | WriteDeadLetters(settings)
        assert_that(positions, equal_to([("news.articles", 0, n) for n in range(3)]))
    consumer = make_consumer(settings, topic, consumer_timeout_ms=3000, group_id=f"t-{uuid.uuid4().hex}")
    received = list(consumer)
    consumer.close()
    assert sorted(r.key for r in received) == [b"key0", b"key1", b"key2"]
    values = [json.loads(r.value) for r in received]
    assert sorted(v["reason"] for v in values) == ["not JSON #0", "not JSON #1", "not JSON #2"]
    assert all(base64.b64decode(v["original_value"]) == b"not json" for v in values)


def test_a_dead_letter_always_fits_in_a_kafka_message(kafka, topic):
    """The original travels in the letter as base64 and as text: beyond 384 KiB it is cut,
    with its size and hash, so that even a 1 MB message's letter is accepted by a broker
    with the default 1 MiB limit (before, it was refused on every retry and blocked its
    partition).
    """
    settings = dataclasses.replace(kafka, topic_deadletter=topic)
    huge = json.dumps(article(1) | {"content": "Лукашэнка вызваліў палітвязняў. " * 20_000},
                      ensure_ascii=False).encode()  # 1.1 MB of Cyrillic
    middling = b"x" * 300_000
    letters = [DeadLetter(record(value, offset=n), stage="index", reason="refused")
               for n, value in enumerate((huge, middling))]
    with TestPipeline() as pipeline:
        _ = pipeline | beam.Create(letters) | WriteDeadLetters(settings)
    consumer = make_consumer(settings, topic, consumer_timeout_ms=3000, group_id=None)
    received = {r.offset: json.loads(r.value) for r in consumer}
    consumer.close()
    assert len(received) == 2
    cut, whole = sorted(received.values(), key=lambda letter: letter["source_offset"])
    assert len(huge) > 1_048_576 and cut["original_truncated"] and cut["original_text"] is None
    assert cut["original_size"] == len(huge) and cut["original_sha256"] == hashlib.sha256(huge).hexdigest()
    assert huge.startswith(base64.b64decode(cut["original_value"]))
    assert not whole["original_truncated"] and base64.b64decode(whole["original_value"]) == middling
    assert whole["original_text"] == middling.decode()
    assert all(problems("deadletter", letter) == [] for letter in received.values())
