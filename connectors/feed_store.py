"""The poller's local state in SQLite under ``NEWSMON_HOME``: the feed list, each feed's
status and conditional-GET validators, and the ids of articles Kafka has acknowledged.

An article id enters ``seen`` only after Kafka acknowledged the message, in the same
transaction that stores the feed's new ETag: if the process dies in between, the next
poll fetches the feed in full again and re-sends what was not recorded, so nothing is
lost (and the idempotent id makes a re-sent message harmless downstream).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from newsmon.analysis.messages import rfc3339
from newsmon.connectors.article import canonical_url
from newsmon.connectors.feed_list import FeedSpec
from newsmon.errors import ConfigError

SCHEMA = """
CREATE TABLE IF NOT EXISTS feeds (
    url TEXT PRIMARY KEY,            -- canonical URL
    name TEXT NOT NULL,
    poll_interval_s REAL NOT NULL,
    language TEXT,
    enabled INTEGER NOT NULL,
    full_text INTEGER NOT NULL,
    added_at TEXT NOT NULL,
    etag TEXT,
    last_modified TEXT,
    next_poll_at TEXT,
    last_polled_at TEXT,
    last_success_at TEXT,
    last_error TEXT,
    last_error_at TEXT,
    last_warning TEXT,
    consecutive_errors INTEGER NOT NULL DEFAULT 0,
    items_in_feed INTEGER NOT NULL DEFAULT 0,
    items_sent INTEGER NOT NULL DEFAULT 0,
    items_rejected INTEGER NOT NULL DEFAULT 0  -- in the last poll
);
CREATE TABLE IF NOT EXISTS seen (
    article_id TEXT PRIMARY KEY,
    feed_url TEXT NOT NULL,
    sent_at TEXT NOT NULL
);
"""


@dataclass(frozen=True)
class FeedStatus:
    spec: FeedSpec
    etag: str | None
    last_modified: str | None
    next_poll_at: datetime | None
    last_polled_at: datetime | None
    last_success_at: datetime | None
    last_error: str | None
    last_error_at: datetime | None
    last_warning: str | None
    consecutive_errors: int
    items_in_feed: int
    items_sent: int
    items_rejected: int


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


def _text(value: datetime | None) -> str | None:
    return rfc3339(value) if value else None


class FeedStore:
    """Thread-safe: workers check ``seen`` while the main thread records results."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA busy_timeout=10000")
        self._db.executescript(SCHEMA)

    @classmethod
    def at_home(cls, home: Path) -> FeedStore:
        return cls(home / "feeds.sqlite3")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # -- the feed list --------------------------------------------------------------

    def add(self, feeds: Iterable[FeedSpec]) -> tuple[int, int]:
        """Add feeds or update their settings (status is kept); returns (added, updated)."""
        added = updated = 0
        now = rfc3339(datetime.now(UTC))
        with self._lock:
            self._db.execute("BEGIN")
            for feed in feeds:
                url = canonical_url(feed.url)
                values = (feed.name, feed.poll_interval.total_seconds(), feed.language,
                          int(feed.enabled), int(feed.full_text))
                cursor = self._db.execute(
                    "UPDATE feeds SET name=?, poll_interval_s=?, language=?, enabled=?, full_text=? "
                    "WHERE url=?", (*values, url))
                if cursor.rowcount:
                    updated += 1
                else:
                    self._db.execute(
                        "INSERT INTO feeds (name, poll_interval_s, language, enabled, full_text, url, "
                        "added_at) VALUES (?, ?, ?, ?, ?, ?, ?)", (*values, url, now))
                    added += 1
            self._db.execute("COMMIT")
        return added, updated

    def remove(self, url: str) -> None:
        with self._lock:
            cursor = self._db.execute("DELETE FROM feeds WHERE url=?", (canonical_url(url) or url,))
        if not cursor.rowcount:
            msg = f"no feed {url} in the list (see `newsmon feeds list`)"
            raise ConfigError(msg)

    def statuses(self) -> list[FeedStatus]:
        with self._lock:
            cursor = self._db.execute("SELECT * FROM feeds ORDER BY name, url")
            columns = [c[0] for c in cursor.description]
            rows = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
        return [self._status(row) for row in rows]

    @staticmethod
    def _status(row: dict) -> FeedStatus:
        spec = FeedSpec(url=row["url"], name=row["name"],
                        poll_interval=timedelta(seconds=row["poll_interval_s"]),
                        language=row["language"], enabled=bool(row["enabled"]),
                        full_text=bool(row["full_text"]))
        return FeedStatus(
            spec=spec, etag=row["etag"], last_modified=row["last_modified"],
            next_poll_at=_time(row["next_poll_at"]), last_polled_at=_time(row["last_polled_at"]),
            last_success_at=_time(row["last_success_at"]), last_error=row["last_error"],
            last_error_at=_time(row["last_error_at"]), last_warning=row["last_warning"],
            consecutive_errors=row["consecutive_errors"], items_in_feed=row["items_in_feed"],
            items_sent=row["items_sent"], items_rejected=row["items_rejected"])

    # -- results of polls ---------------------------------------------------------------

    def unseen(self, article_ids: Iterable[str]) -> set[str]:
        ids = list(dict.fromkeys(article_ids))
        found: set[str] = set()
        with self._lock:
            for start in range(0, len(ids), 500):
                batch = ids[start:start + 500]
                marks = ",".join("?" * len(batch))
                found.update(row[0] for row in self._db.execute(
                    f"SELECT article_id FROM seen WHERE article_id IN ({marks})", batch))
        return set(ids) - found

    def _mark_seen(self, url: str, article_ids: Iterable[str]) -> None:
        now = rfc3339(datetime.now(UTC))
        self._db.executemany("INSERT OR IGNORE INTO seen (article_id, feed_url, sent_at) VALUES (?, ?, ?)",
                             [(article_id, url, now) for article_id in article_ids])

    def record_success(self, url: str, *, polled_at: datetime, next_poll_at: datetime,
                       etag: str | None, last_modified: str | None, items_in_feed: int | None,
                       sent: Iterable[str], rejected: int, warning: str | None) -> None:
        """One transaction: the acknowledged ids become seen and the validators move on."""
        sent = list(sent)
        with self._lock:
            self._db.execute("BEGIN")
            self._mark_seen(url, sent)
            self._db.execute(
                "UPDATE feeds SET etag=?, last_modified=?, last_polled_at=?, last_success_at=?, "
                "next_poll_at=?, consecutive_errors=0, last_warning=?, "
                "items_in_feed=COALESCE(?, items_in_feed), items_sent=items_sent+?, "
                "items_rejected=? WHERE url=?",
                (etag, last_modified, _text(polled_at), _text(polled_at), _text(next_poll_at), warning,
                 items_in_feed, len(sent), rejected, url))
            self._db.execute("COMMIT")

    def record_failure(self, url: str, *, polled_at: datetime, next_poll_at: datetime, error: str,
                       sent: Iterable[str] = ()) -> None:
        """Validators stay as they were, so the next poll reads the feed in full; ``sent``
        are the ids Kafka acknowledged all the same.
        """
        with self._lock:
            self._db.execute("BEGIN")
            self._mark_seen(url, sent)
            self._db.execute(
                "UPDATE feeds SET last_polled_at=?, last_error=?, last_error_at=?, next_poll_at=?, "
                "consecutive_errors=consecutive_errors+1 WHERE url=?",
                (_text(polled_at), error[:1000], _text(polled_at), _text(next_poll_at), url))
            self._db.execute("COMMIT")
