"""Delivery records: which notifier has delivered which alert, kept beside the alert in
Elasticsearch (``news-alerts``, field ``deliveries``), so that a restarted delivery (or
another process of its consumer group) that reads an alert again does not send it twice.

An alert is delivered once per *revision* (``newsmon.analysis.alert_updates``): records are
kept per alert id and revision, and a notifier that has delivered a revision counts as having
the earlier ones too (sending an older revision after a newer one would be stale news).

``deliveries`` holds one entry per notifier and revision, its latest outcome: ``{"notifier":
<its name in logs>, "revision": <n>, "ok": true|false, "error": <why not, or null>, "at":
<when>}`` (an entry without ``revision`` is of revision 1). The notifier's
name is ``<list>#<n> <kind and host>`` or ``<list>#<n> <label> (<kind and host>)``
(``notifier_config``), so renumbering or renaming a list's notifiers makes them new
notifiers for the alerts not yet committed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

from elasticsearch import ApiError, ConflictError, Elasticsearch, NotFoundError, TransportError

from newsmon.analysis.messages import rfc3339
from newsmon.connectors.elasticsearch import make_client
from newsmon.errors import NewsmonError
from newsmon.settings import Settings

log = logging.getLogger(__name__)
CONFLICT_RETRIES = 5  # another writer updated the alert between our read and our write
MAX_ERROR_CHARS = 1000
Revision = tuple[str, int]  # an alert id and one of its revisions


def revision_of(alert: Mapping[str, Any]) -> Revision:
    """The alert id and revision of an alert message (absent revision: 1)."""
    return alert["alert_id"], alert.get("revision", 1)


class RecordsUnavailableError(NewsmonError):
    """The delivery records of ``alert_ids`` could not be read (or ``written``) in ``alias``:
    Elasticsearch down, overloaded or refusing; waiting may fix it. Survives pickling.
    """

    def __init__(self, alias: str, alert_ids: Sequence[str], cause: str, *, written: bool = False) -> None:
        self.alias = alias
        self.alert_ids = list(alert_ids)
        self.cause = cause
        self.written = written
        more = len(self.alert_ids) - 3
        shown = ", ".join(self.alert_ids[:3]) + (f" and {more} more" if more > 0 else "")
        super().__init__(f"{'writing' if written else 'reading'} the delivery records of alert(s) {shown} "
                         f"in {alias} failed: {cause}")

    def __reduce__(self):
        return _rebuild, (self.alias, self.alert_ids, self.cause, self.written)


def _rebuild(alias: str, alert_ids: list[str], cause: str, written: bool) -> RecordsUnavailableError:
    return RecordsUnavailableError(alias, alert_ids, cause, written=written)


class DeliveryRecords(Protocol):
    def delivered(self, revisions: Sequence[Revision], notifier: str) -> set[Revision]:
        """Those of ``revisions`` that ``notifier`` has delivered already (or a later revision of)."""
        ...

    def record(self, revisions: Sequence[Revision], notifier: str, ok: bool, error: str | None) -> None:
        """Remember ``notifier``'s outcome for each of ``revisions``."""
        ...


class AlertIndexRecords:
    """:class:`DeliveryRecords` in the ``deliveries`` field of the alerts' own documents.

    An alert without a document (its alias or its document missing: an alert not written by
    the pipeline) has no record and gets none. Raises :class:`RecordsUnavailableError` when
    Elasticsearch cannot answer.
    """

    def __init__(self, client: Elasticsearch, alias: str, *,
                 now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        if not isinstance(alias, str) or not alias:
            msg = f"alias must be an index alias name, got {alias!r}"
            raise ValueError(msg)
        self._client = client
        self._alias = alias
        self._now = now

    @classmethod
    def from_settings(cls, settings: Settings) -> AlertIndexRecords:
        # Short timeouts, few retries: the delivery loop waits and tries again itself.
        return cls(make_client(settings, request_timeout=10, max_retries=1), settings.es_index_alerts)

    def close(self) -> None:
        self._client.close()

    def delivered(self, revisions: Sequence[Revision], notifier: str) -> set[Revision]:
        wanted = list(dict.fromkeys(revisions))
        ids = list(dict.fromkeys(alert_id for alert_id, _ in wanted))
        if not ids:
            return set()
        try:
            docs = self._client.mget(index=self._alias, ids=ids, source_includes=["deliveries"])["docs"]
        except (ApiError, TransportError) as exc:
            raise RecordsUnavailableError(self._alias, ids, _describe(exc)) from None
        newest: dict[str, int] = {}  # per alert, the latest revision the notifier delivered
        for doc in docs:
            error = doc.get("error")
            if error is not None:
                if _error_type(error) == "index_not_found_exception":
                    continue  # no alerts index: no records
                raise RecordsUnavailableError(self._alias, ids, _describe(error))
            if doc.get("found"):
                done = _delivered_by(doc["_source"].get("deliveries"), notifier)
                if done:
                    newest[doc["_id"]] = done
        return {(alert_id, number) for alert_id, number in wanted if number <= newest.get(alert_id, 0)}

    def record(self, revisions: Sequence[Revision], notifier: str, ok: bool, error: str | None) -> None:
        entry = {"notifier": notifier, "ok": ok, "error": None if error is None else error[:MAX_ERROR_CHARS],
                 "at": rfc3339(self._now())}
        for alert_id, number in dict.fromkeys(revisions):
            self._record_one(alert_id, entry | {"revision": number})

    def _record_one(self, alert_id: str, entry: dict[str, Any]) -> None:
        for _ in range(CONFLICT_RETRIES):
            try:
                found = self._client.get(index=self._alias, id=alert_id, source_includes=["deliveries"])
            except NotFoundError:
                log.debug("alert %s has no document in %s: its delivery is not recorded",
                          alert_id, self._alias)
                return
            except (ApiError, TransportError) as exc:
                raise RecordsUnavailableError(self._alias, [alert_id], _describe(exc)) from None
            # The notifier's entry for this revision is replaced where it stands.
            entries = list(_entries(found["_source"].get("deliveries")))
            key = (entry["notifier"], entry["revision"])
            at = next((i for i, item in enumerate(entries) if (item.get("notifier"), _revision(item)) == key),
                      None)
            if at is None:
                entries.append(entry)
            else:
                entries[at] = entry
            try:
                self._client.update(index=self._alias, id=alert_id, doc={"deliveries": entries},
                                    if_seq_no=found["_seq_no"], if_primary_term=found["_primary_term"])
                return
            except ConflictError:
                continue
            except (ApiError, TransportError) as exc:
                raise RecordsUnavailableError(self._alias, [alert_id], _describe(exc), written=True) from None
        cause = f"{CONFLICT_RETRIES} version conflicts in a row (another writer)"
        raise RecordsUnavailableError(self._alias, [alert_id], cause, written=True)


def _entries(value: Any) -> Iterable[dict[str, Any]]:
    if isinstance(value, dict):  # a single object where a list was meant
        return [value]
    return [item for item in value or () if isinstance(item, dict)]


def _revision(entry: Mapping[str, Any]) -> int:
    number = entry.get("revision")
    return number if isinstance(number, int) else 1


def _delivered_by(value: Any, notifier: str) -> int:
    """The latest revision ``notifier`` delivered (0: none)."""
    return max((_revision(item) for item in _entries(value)
                if item.get("notifier") == notifier and item.get("ok") is True), default=0)


def _error_type(error: Any) -> str | None:
    return error.get("type") if isinstance(error, dict) else None


def _describe(cause: object) -> str:
    if isinstance(cause, ApiError):
        return f"{cause.meta.status} {cause.message}"
    if isinstance(cause, dict):
        return f"{cause.get('type')}: {cause.get('reason')}"
    if isinstance(cause, Exception):
        return f"{type(cause).__name__}: {cause}"
    return str(cause)
