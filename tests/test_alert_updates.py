"""Later articles of a story folded into its alert (``newsmon.analysis.alert_updates``): what
they add, that a replay changes nothing, and the re-alert rule.
"""

from __future__ import annotations

import hashlib

import pytest

from newsmon.analysis.alert_updates import MAX_ARTICLES, acknowledged, fold, message_of, revision, watched
from newsmon.schemas import problems
from tests.support.notifiers import make_alert


def _id(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def later(alert: dict, name: str, *, topics=("prisoner_release",), source="Daily Courier",
          published_at="2025-09-11T12:00:00Z", watch_topics=()) -> dict:
    """The alert as a later article of the same story raises it."""
    return alert | {"article_id": _id(name), "title": f"Follow-up {name}", "source_name": source,
                    "url": f"https://courier.example.org/{name}", "topics": list(topics),
                    "published_at": published_at, "alert_time": "2025-09-11T12:01:00Z",
                    "evidence": [f"Losik, in {name}."], "watch_topics": list(watch_topics)}


def test_a_later_article_adds_its_id_source_and_topics_and_keeps_the_first_as_raised():
    first = make_alert(1)  # raised before revisions existed: no story fields at all
    update = fold(first, later(first, "a", topics=["prisoner_release"]), realert_on="new-topic")
    document = update.document
    assert not update.revised and revision(document) == 1
    assert document["article_ids"] == [first["article_id"], _id("a")] and document["article_count"] == 2
    assert document["sources"] == ["Daily Courier", "Example News"]
    assert document["topics"] == first["topics"]
    for key in ("title", "url", "evidence", "article_id", "alert_time", "published_at"):
        assert document[key] == first[key]
    assert document["latest"]["article_id"] == _id("a") and document["last_seen"] == "2025-09-11T12:00:00Z"
    assert problems("alert", message_of(document)) == []
    # The same article again (a replay), in any order: nothing changes.
    assert fold(document, later(first, "a"), realert_on="new-topic").document is None


def test_latest_is_the_last_published_whatever_the_order():
    first = make_alert(2)
    early, late = (later(first, "early", published_at="2025-09-11T11:00:00Z"),
                   later(first, "late", published_at="2025-09-12T09:00:00Z"))
    one = fold(fold(first, early, realert_on="never").document, late, realert_on="never").document
    other = fold(fold(first, late, realert_on="never").document, early, realert_on="never").document
    assert one["latest"] == other["latest"] and one["latest"]["article_id"] == _id("late")
    assert one["last_seen"] == "2025-09-12T09:00:00Z"
    assert sorted(one["article_ids"]) == sorted(other["article_ids"]) and one["article_count"] == 3
    # An article published before the first leaves the first as the latest.
    older = fold(first, later(first, "older", published_at="2025-09-10T00:00:00Z"), realert_on="never")
    assert older.document["latest"]["article_id"] == first["article_id"]


def test_a_new_watched_topic_raises_the_next_revision_once():
    first = make_alert(3) | {"kafka_delivered": True, "deliveries": []}
    update = fold(first, later(first, "b", topics=["diplomatic_move"]), realert_on="new-topic")
    assert update.revised
    document = update.document
    assert revision(document) == 2 and document["gained_topics"] == ["diplomatic_move"]
    assert document["topics"] == ["prisoner_release", "sanctions_relief", "diplomatic_move"]
    assert document["revised_at"] == "2025-09-11T12:01:00Z"
    assert acknowledged(document) == 1 and not document["kafka_delivered"]  # revision 2 is to be sent
    assert problems("alert", message_of(document)) == []
    # Another article with the same topic: counted, not revised again.
    again = fold(document, later(first, "c", topics=["diplomatic_move"]), realert_on="new-topic")
    assert not again.revised and revision(again.document) == 2 and again.document["article_count"] == 3


def test_only_topics_the_entry_watches_re_alert():
    first = make_alert(4)
    filtered = later(first, "d", topics=["diplomatic_move"],
                     watch_topics=["Sanctions_Relief", "prisoner_release"])
    update = fold(first, filtered, realert_on="new-topic")
    assert not update.revised and "diplomatic_move" in update.document["topics"]
    assert watched(["a", "b"], []) == ["a", "b"] and watched(["A", "b"], ["a"]) == ["A"]
    narrow = make_alert(5) | {"topics": ["prisoner_release"]}
    assert fold(narrow, later(narrow, "e", topics=["sanctions_relief"], watch_topics=["sanctions_relief"]),
                realert_on="new-topic").revised


def test_the_rule_never_updates_without_re_alerting():
    first = make_alert(6)
    update = fold(first, later(first, "f", topics=["diplomatic_move"]), realert_on="never")
    assert not update.revised and revision(update.document) == 1
    assert "diplomatic_move" in update.document["topics"]


def test_bad_calls_are_refused_and_big_stories_stop_growing():
    first = make_alert(7)
    with pytest.raises(ValueError, match="cannot update alert"):
        fold(first, make_alert(8), realert_on="never")
    with pytest.raises(ValueError, match="realert_on must be one of new-topic, never"):
        fold(first, later(first, "g"), realert_on="always")
    full = first | {"article_ids": [_id(str(n)) for n in range(MAX_ARTICLES)]}
    assert fold(full, later(first, "h"), realert_on="new-topic").document is None
