"""``newsmon deadletters list`` and ``replay``, run for real in subprocesses against the real
Kafka: letters written with ``DeadLetter(...).to_message()`` to a throw-away dead-letter
topic are listed (control characters in their reasons made harmless), filtered, and
replayed to a throw-away source topic byte for byte; a letter whose original was cut is
reported and skipped; nothing is ever committed into a consumer group.
"""

from __future__ import annotations

import dataclasses
import json
import re
import subprocess
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from kafka import TopicPartition

from newsmon.analysis.messages import MAX_KEPT_BYTES, DeadLetter, KafkaRecord
from newsmon.connectors.dead_letter_store import REPLAY_HEADER, STAGES
from newsmon.connectors.kafka import ensure_topics, make_admin, make_consumer, make_producer
from newsmon.deadletter_commands import harmless
from newsmon.schemas import load_schema, validate
from tests.support.commands import command_env, run_newsmon

EVIL_REASON = "SchemaViolationError: \x1b[31mred\x1b[0m title\nsecond line \u202eevil\u202c \x9b2J end"
NOW = datetime.now(UTC).replace(microsecond=0)


def newsmon(settings, *args: str) -> subprocess.CompletedProcess:
    return run_newsmon("deadletters", *args, env=command_env(settings))


@pytest.fixture
def topics(kafka, tmp_path):
    """Settings with a throw-away articles (source) topic and dead-letter topic."""
    suffix = uuid.uuid4().hex[:10]
    settings = dataclasses.replace(kafka, home=tmp_path, topic_articles=f"test.articles.{suffix}",
                                   topic_deadletter=f"test.deadletter.{suffix}",
                                   topic_alerts=f"test.alerts.{suffix}")
    names = [settings.topic_articles, settings.topic_deadletter]
    ensure_topics(settings, names, partitions=1)
    yield settings
    admin = make_admin(settings)
    admin.delete_topics(names)
    admin.close()


@pytest.fixture
def letters(topics) -> list[DeadLetter]:
    """Three letters and a record that is no letter, at offsets 0 to 3 of the dead-letter topic."""
    source = topics.topic_articles
    article = json.dumps({"article_id": "a1", "title": "Belarus frees 52 prisoners"}).encode()
    written = [
        DeadLetter(KafkaRecord(source, 0, 7, b"a1", article, 0), stage="parse", reason=EVIL_REASON,
                   article_id="a1", failed_at=NOW - timedelta(hours=2)),
        DeadLetter(KafkaRecord(source, 0, 9, None, b"\xff\x00 not UTF-8, not JSON", 0), stage="index",
                   reason="BadRequestError: 400 mapper_parsing_exception", failed_at=NOW - timedelta(days=3)),
        DeadLetter(KafkaRecord(source, 0, 11, b"a3", b"x" * (MAX_KEPT_BYTES + 10), 0), stage="entities",
                   reason="MemoryError: the text is too long", article_id="a3",
                   failed_at=NOW - timedelta(hours=1)),
    ]
    producer = make_producer(topics)
    for letter in written:
        message = letter.to_message()
        validate("deadletter", message)
        producer.send(topics.topic_deadletter, key=letter.record.key, value=json.dumps(message).encode(),
                      timestamp_ms=int(letter.failed_at.timestamp() * 1000)).get(30)
    producer.send(topics.topic_deadletter, value=b"\x1b]0;pwned\x07 not a letter").get(30)
    producer.close()
    return written


def records_of(settings, topic: str) -> list:
    """Every record of ``topic`` (partition 0), read to its end without a consumer group."""
    consumer = make_consumer(settings, group_id=None)
    tp = TopicPartition(topic, 0)
    try:
        consumer.assign([tp])
        consumer.seek_to_beginning(tp)
        end = consumer.end_offsets([tp])[tp]
        found, deadline = [], time.monotonic() + 30
        while consumer.position(tp) < end and time.monotonic() < deadline:
            found += consumer.poll(timeout_ms=500).get(tp, [])
        return found
    finally:
        consumer.close()


def test_harmless_shows_control_characters_instead_of_acting_on_them():
    assert harmless(EVIL_REASON) == ("SchemaViolationError: \\x1b[31mred\\x1b[0m title\\nsecond line "
                                     "\\u202eevil\\u202c \\x9b2J end")
    assert harmless("Łukašenka — 52\t\x00\x7f\ud800") == "Łukašenka — 52\\t\\x00\\x7f\\ud800"


def test_the_stages_offered_are_the_schemas():
    assert STAGES == tuple(load_schema("deadletter")["properties"]["stage"]["enum"])


def test_list_shows_every_letter_harmlessly_and_filters(topics, letters):
    done = newsmon(topics, "list")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    for position, stage in (("0=0", "parse"), ("0=1", "index"), ("0=2", "entities")):
        assert any(line.startswith(position) and stage in line for line in out.splitlines()), out
    assert f"{topics.topic_articles} 0=7" in out and "article a1" in out
    assert "\\x1b[31mred\\x1b[0m title\\nsecond line \\u202eevil\\u202c \\x9b2J end" in out
    assert not set(out) & {"\x1b", "\u202e", "\x9b", "\x07"}
    assert "original cut: 393,216 of 393,226 bytes kept; cannot be replayed" in out
    assert "3 dead letters in" in out and "(parse 1, entities 1, index 1)" in out
    assert "0=3" in done.stderr and "not JSON" in done.stderr and "\x1b" not in done.stderr

    parse_only = newsmon(topics, "list", "--stage", "parse")
    listed = [line.split()[0] for line in parse_only.stdout.splitlines() if re.match(r"\d+=\d+ ", line)]
    assert listed == ["0=0"]
    assert "1 dead letter in" in parse_only.stdout and parse_only.stderr == ""

    recent = newsmon(topics, "list", "--since", "1d", "--json")
    assert recent.returncode == 0, recent.stderr
    assert not set(recent.stdout) & {"\x1b", "\u202e", "\x9b"}
    shown = json.loads(recent.stdout)
    assert [(item["partition"], item["offset"], item["stage"]) for item in shown] == [(0, 0, "parse"),
                                                                                   (0, 2, "entities")]
    first = shown[0]
    assert first["reason"] == EVIL_REASON and first["article_id"] == "a1"
    assert (first["source_topic"], first["source_partition"], first["source_offset"]) == (
        topics.topic_articles, 0, 7)
    assert first["failed_at"] == f"{NOW - timedelta(hours=2):%Y-%m-%dT%H:%M:%SZ}"
    assert (first["replayable"], shown[1]["replayable"]) == (True, False)
    assert shown[1]["original_truncated"]


def test_replay_sends_the_originals_back_byte_for_byte_and_skips_a_cut_one(topics, letters):
    dry = newsmon(topics, "replay", "--dry-run")
    assert dry.returncode == 1  # some were skipped
    assert "would replay 0=0" in dry.stdout and "would replay 0=1" in dry.stdout
    assert "skipped 0=2" in dry.stderr and "cut to 393,216 of 393,226 bytes" in dry.stderr
    assert "skipped 0=3" in dry.stderr and "2 would replay, 2 skipped" in dry.stdout
    assert records_of(topics, topics.topic_articles) == []

    done = newsmon(topics, "replay", "--stage", "parse", "--stage", "index")
    assert done.returncode == 0, done.stderr
    assert "2 replayed, 0 skipped" in done.stdout
    replayed = records_of(topics, topics.topic_articles)
    assert [(r.key, r.value) for r in replayed] == [(letter.record.key, letter.record.value)
                                                    for letter in letters[:2]]
    assert [dict(r.headers)[REPLAY_HEADER] for r in replayed] == [
        f"{topics.topic_deadletter}/0=0".encode(), f"{topics.topic_deadletter}/0=1".encode()]

    cut = newsmon(topics, "replay", "--offset", "0=2")
    assert cut.returncode == 1 and "skipped 0=2 (article a3)" in cut.stderr
    assert "0 replayed, 1 skipped" in cut.stdout

    again = newsmon(topics, "replay", "--offset", "0=0")  # replaying twice is allowed: ids are stable
    assert again.returncode == 0 and "replayed 0=0 (parse, article a1)" in again.stdout
    assert len(records_of(topics, topics.topic_articles)) == 3

    missing = newsmon(topics, "replay", "--offset", "0=99")
    assert missing.returncode == 2 and "holds no record at 0=99" in missing.stderr
    assert len(records_of(topics, topics.topic_articles)) == 3

    # Nothing was committed into any consumer group: reading used explicit offsets only.
    admin = make_admin(topics)
    try:
        groups = [group["group_id"] for group in admin.list_groups()]
        for group, offsets in (admin.list_group_offsets(groups) if groups else {}).items():
            assert not {tp.topic for tp in offsets} & {topics.topic_deadletter, topics.topic_articles}, group
    finally:
        admin.close()


def test_a_dead_letter_topic_that_does_not_exist_is_reported(kafka, tmp_path):
    settings = dataclasses.replace(kafka, home=tmp_path, topic_deadletter=f"test.missing.{uuid.uuid4().hex}")
    done = newsmon(settings, "list")
    assert done.returncode == 2 and "does not exist" in done.stderr
