"""Alerts in Elasticsearch ``news-alerts``: raised once per watch entry and story, updated by
the story's later articles, and which revision Kafka has acknowledged.

Every write is conditional, so several workers can write the same alert at once: the first
article *creates* the document under its deterministic id; a later one reads it, folds
itself in (``newsmon.analysis.alert_updates``) and writes it back only if nobody changed it
since (``if_seq_no``/``if_primary_term``), reading again on a conflict. Painless scripts
would do the same in one request, but the Elasticsearch newsmon runs locally has no
lang-painless module.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from elasticsearch import ConflictError, Elasticsearch

from newsmon.analysis.alert_updates import acknowledged, fold, message_of, revision
from newsmon.errors import NewsmonError

log = logging.getLogger(__name__)
CONFLICT_RETRIES = 100  # each conflict is another writer's progress; this many in a row is a fault


class AlertConflictError(NewsmonError):
    """Alert ``alert_id`` kept changing under every write (a fault: retried with its bundle)."""

    def __init__(self, alias: str, alert_id: str) -> None:
        self.alias = alias
        self.alert_id = alert_id
        super().__init__(f"alert {alert_id} in {alias} changed under each of {CONFLICT_RETRIES} writes")

    def __reduce__(self):
        return AlertConflictError, (self.alias, self.alert_id)


class AlertStore:
    """The alerts of alias ``alias``; ``realert_on`` is the re-alert rule (``Settings.realert_on``).
    Elasticsearch errors other than conflicts are raised (callers wait them out).
    """

    def __init__(self, client: Elasticsearch, alias: str, *, realert_on: str) -> None:
        if not isinstance(alias, str) or not alias:
            msg = f"alias must be an index alias name, got {alias!r}"
            raise ValueError(msg)
        self._client = client
        self._alias = alias
        self._realert_on = realert_on

    def write(self, alert: Mapping[str, Any]) -> dict[str, Any] | None:
        """Raise ``alert`` (a message of ``schemas/alert.schema.json``, as one article raised
        it) or fold it into the alert its story raised before. Returns the message to send on
        ``news.alerts``: the new alert, its new revision, or the current revision when Kafka
        has not acknowledged it yet (a worker died before); None when there is nothing to send.
        """
        alert_id = alert["alert_id"]
        for _ in range(CONFLICT_RETRIES):
            try:
                self._client.create(index=self._alias, id=alert_id,
                                    document=dict(alert) | {"kafka_delivered": False, "kafka_revision": 0,
                                                            "deliveries": []})
                return dict(alert)
            except ConflictError:
                pass
            found = self._client.get(index=self._alias, id=alert_id)
            stored = found["_source"]
            update = fold(stored, alert, realert_on=self._realert_on)
            document = stored if update.document is None else update.document
            if update.document is not None:
                try:
                    self._client.index(index=self._alias, id=alert_id, document=document,
                                       if_seq_no=found["_seq_no"], if_primary_term=found["_primary_term"])
                except ConflictError:
                    continue  # changed since we read it: fold into the newer version
                if update.revised:
                    log.info("alert %s: revision %d for topic(s) %s", alert_id, revision(document),
                             ", ".join(document["gained_topics"]))
            if acknowledged(document) < revision(document):
                return message_of(document)
            return None
        raise AlertConflictError(self._alias, alert_id)

    def sent(self, alert_id: str, sent_revision: int) -> None:
        """Record that Kafka acknowledged revision ``sent_revision`` of ``alert_id``."""
        for _ in range(CONFLICT_RETRIES):
            found = self._client.get(index=self._alias, id=alert_id, source_includes=[
                "revision", "kafka_revision", "kafka_delivered"])
            stored = found["_source"]
            done = max(acknowledged(stored), sent_revision)
            try:
                self._client.update(index=self._alias, id=alert_id,
                                    doc={"kafka_revision": done, "kafka_delivered": done >= revision(stored)},
                                    if_seq_no=found["_seq_no"], if_primary_term=found["_primary_term"])
                return
            except ConflictError:
                continue  # delivery recorded an outcome, or a later article came: read again
        raise AlertConflictError(self._alias, alert_id)
