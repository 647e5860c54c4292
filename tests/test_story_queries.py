"""The queries ``newsmon stories`` sends, as pure functions (their results against the real
Elasticsearch are in test_story_commands.py).
"""

from __future__ import annotations

from datetime import UTC, datetime

from newsmon.connectors.spike_store import MAX_KEYS, build_counts
from newsmon.connectors.story_search import StoryListRequest, build_story_list, build_timeline

SINCE = datetime(2026, 11, 1, tzinfo=UTC)


def test_the_story_list_filters_any_topic_every_person_and_last_seen_newest_first():
    body = build_story_list(StoryListRequest(topics=("a", "b"), persons=("P", "Q"), since=SINCE, size=5))
    assert body["query"]["bool"]["filter"] == [
        {"terms": {"topics": ["a", "b"]}}, {"term": {"persons": "P"}}, {"term": {"persons": "Q"}},
        {"range": {"last_seen": {"gte": "2026-11-01T00:00:00+00:00"}}}]
    assert body["sort"] == [{"last_seen": "desc"}, {"story_id": "asc"}] and body["size"] == 5
    assert "profile" not in body["_source"] and "topics" in body["_source"]
    assert build_story_list(StoryListRequest())["query"] == {"bool": {"filter": []}}


def test_the_timeline_is_a_storys_articles_oldest_first():
    body = build_timeline("ab" * 16)
    assert body["query"]["bool"]["filter"] == [{"term": {"story_id": "ab" * 16}}]
    assert body["sort"][0] == {"published_at": "asc"}


def test_counts_keep_frequent_keys_then_count_exactly_those_in_the_baseline():
    end = datetime(2026, 11, 25, 12, tzinfo=UTC)
    current = build_counts(SINCE, end, min_count=5)
    assert current["query"]["bool"]["filter"] == [{"range": {"published_at": {
        "gte": SINCE.isoformat(), "lt": end.isoformat()}}}]  # the end is outside the window
    assert current["aggs"] == {kind: {"terms": {"field": field, "size": MAX_KEYS, "min_doc_count": 5}}
                               for kind, field in (("topic", "topics.name"), ("person", "persons"),
                                                   ("story", "story_id"))}
    baseline = build_counts(SINCE, end, keys={"topic": ["a", "b"], "person": [], "story": []})
    assert baseline["aggs"] == {"topic": {"terms": {"field": "topics.name", "include": ["a", "b"], "size": 2,
                                                    "min_doc_count": 1}}}
