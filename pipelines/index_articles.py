"""IndexArticles: enriched articles into Elasticsearch, ``_id`` = article_id.

Replays overwrite instead of duplicating. The index template and the index behind the
alias are installed when the writer starts. An outage, an overload or refused credentials
block the writer (:func:`~newsmon.connectors.elasticsearch.write_documents`), so nothing
is lost; a document Elasticsearch refuses for good (a mapping error, too large on its
own) leaves on the ``deadletter`` output.
"""

from __future__ import annotations

import logging
from typing import Any

import apache_beam as beam
from apache_beam.metrics import Metrics

from newsmon.analysis.entities import index_fields
from newsmon.analysis.messages import AnalysedArticle, DeadLetter
from newsmon.analysis.search_terms import search_fields
from newsmon.connectors.elasticsearch import make_client, patiently, setup_index, write_documents
from newsmon.pipelines.dead_letters import DEAD_LETTER
from newsmon.settings import Settings

log = logging.getLogger(__name__)
TEMPLATE = "news-articles"
STAGE = "index"


def article_document(item: AnalysedArticle) -> dict[str, Any]:
    """The Elasticsearch document of an enriched article (deterministic: a replay
    produces the same document).
    """
    document = {key: value for key, value in item.article.to_message().items() if key != "schema_version"}
    document["story_id"] = item.story_id or item.article_id  # unclustered: the article is its own story
    document |= index_fields(item.entities)
    document["entities"] = [entity.to_dict() for entity in item.entities]
    document["topics"] = [topic.to_message() for topic in item.topics]
    document |= search_fields(item)  # lemmas, folded letters, spellings of names: what search matches
    document["provenance"] = dict(item.provenance)
    document["source"] = {"topic": item.record.topic, "partition": item.record.partition,
                          "offset": item.record.offset}
    return document


class _IndexBatch(beam.DoFn):
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._indexed = Metrics.counter("IndexArticles", "indexed")
        self._refused = Metrics.counter("IndexArticles", "dead_lettered")

    def setup(self) -> None:
        self._client = make_client(self._settings)
        self._index_ready = False

    def teardown(self) -> None:
        self._client.close()

    def process(self, batch: list[AnalysedArticle]):
        if not self._index_ready:  # waits for Elasticsearch if it is not up yet
            patiently(lambda: setup_index(self._client, TEMPLATE, self._settings.es_index_articles),
                      what="installing the articles index")
            self._index_ready = True
        by_id = {item.article_id: item for item in batch}
        refused = {refusal.doc_id: refusal for refusal in write_documents(
            self._client, self._settings.es_index_articles,
            ((item.article_id, article_document(item)) for item in by_id.values()))}
        for item in batch:  # each record, also a duplicate within the batch, is done
            refusal = refused.get(item.article_id)
            if refusal is None:
                self._indexed.inc()
                yield item
            else:
                self._refused.inc()
                yield beam.pvalue.TaggedOutput(DEAD_LETTER, DeadLetter(
                    item.record, stage=STAGE, article_id=item.article_id,
                    reason=f"Elasticsearch refused the document (HTTP {refusal.status}): {refusal.reason}"))


class IndexArticles(beam.PTransform):
    """Returns outputs ``indexed`` (AnalysedArticle) and ``deadletter`` (DeadLetter)."""

    def __init__(self, settings: Settings, *, max_batch_size: int = 200) -> None:
        super().__init__()
        self._settings = settings
        self._max_batch_size = max_batch_size

    def expand(self, articles):
        return (articles
                | "Batch" >> beam.BatchElements(min_batch_size=1, max_batch_size=self._max_batch_size)
                | "Bulk" >> beam.ParDo(_IndexBatch(self._settings)).with_outputs(DEAD_LETTER, main="indexed"))
