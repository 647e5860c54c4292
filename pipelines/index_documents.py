"""Write plain dictionaries to an Elasticsearch index in bulk, ``_id`` from a field
(idempotent); used by the smoke round trip. Articles go through ``IndexArticles``.
"""

from __future__ import annotations

from typing import Any

import apache_beam as beam
from apache_beam.metrics import Metrics

from newsmon.connectors.elasticsearch import bulk_index, make_client
from newsmon.settings import Settings


class IndexDocumentsError(Exception):
    """Elasticsearch rejected documents; the bundle fails and the runner retries it."""


class _IndexBatches(beam.DoFn):
    def __init__(self, settings: Settings, index: str, id_field: str, batch_size: int) -> None:
        self._settings = settings
        self._index = index
        self._id_field = id_field
        self._batch_size = batch_size
        self._indexed = Metrics.counter("IndexDocuments", "indexed")

    def setup(self) -> None:
        self._client = make_client(self._settings)

    def teardown(self) -> None:
        self._client.close()

    def start_bundle(self) -> None:
        self._batch: list[dict[str, Any]] = []

    def process(self, document: dict[str, Any]):
        self._batch.append(document)
        if len(self._batch) >= self._batch_size:
            self._flush()
        return []

    def finish_bundle(self) -> None:
        self._flush()

    def _flush(self) -> None:
        if not self._batch:
            return
        refused = bulk_index(self._client, self._index, [(doc[self._id_field], doc) for doc in self._batch])
        if refused:
            msg = f"Elasticsearch index {self._index!r} refused {len(refused)} document(s): {refused[:3]}"
            raise IndexDocumentsError(msg)
        self._indexed.inc(len(self._batch))
        self._batch = []


class IndexDocuments(beam.PTransform):
    def __init__(self, settings: Settings, index: str, *, id_field: str = "id",
                 batch_size: int = 500) -> None:
        super().__init__()
        self._settings = settings
        self._index = index
        self._id_field = id_field
        self._batch_size = batch_size

    def expand(self, documents):
        return documents | "Bulk" >> beam.ParDo(
            _IndexBatches(self._settings, self._index, self._id_field, self._batch_size))
