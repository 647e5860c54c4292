"""The poller under failure: backoff, oversized articles, sends that fail, validators that
must not move on while articles are unacknowledged. Real Kafka, real HTTP.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from newsmon.connectors.feed_list import FeedSpec
from newsmon.connectors.feed_poller import PollOutcome, next_poll_at
from newsmon.connectors.feed_store import FeedStatus

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def status(interval: timedelta, errors: int = 0) -> FeedStatus:
    spec = FeedSpec(url="https://feed.example.org/rss", name="F", poll_interval=interval)
    return FeedStatus(spec=spec, etag=None, last_modified=None, next_poll_at=None, last_polled_at=None,
                      last_success_at=None, last_error=None, last_error_at=None, last_warning=None,
                      consecutive_errors=errors, items_in_feed=0, items_sent=0, items_rejected=0)


def test_backoff_doubles_to_six_hours_and_never_undercuts_retry_after():
    waits = [(next_poll_at(PollOutcome(status(timedelta(minutes=5), errors), NOW), failed=True) - NOW)
             for errors in range(12)]
    for wait, doubled in zip(waits, (1, 2, 4, 8, 16), strict=False):
        assert 0.9 <= wait / (doubled * timedelta(minutes=5)) <= 1.1
    assert all(timedelta(hours=5.4) <= w <= timedelta(hours=6.6) for w in waits[8:])
    # Jitter spreads the feeds out, but a server's Retry-After is a floor, not a suggestion.
    outcome = PollOutcome(status(timedelta(minutes=1)), NOW, retry_after=600)
    assert min(next_poll_at(outcome, failed=True) - NOW for _ in range(200)) >= timedelta(seconds=600)
    assert next_poll_at(PollOutcome(status(timedelta(minutes=1)), NOW, retry_after=10**9),
                        failed=True) - NOW <= timedelta(hours=24)
