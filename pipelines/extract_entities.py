"""ExtractEntities: spaCy over each article, once, in batches; entities with canonical names.

The model is loaded once per worker process (``Shared``) and texts go through
``nlp.pipe`` in the batches ``BatchElements`` forms. The analysis (sentences, lemmas,
dependencies) travels on as plain data for the steps after this one.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import apache_beam as beam
from apache_beam.metrics import Metrics
from apache_beam.utils.shared import Shared

from newsmon import __version__
from newsmon.pipelines.analysis import article_text, sentences_of
from newsmon.pipelines.entities import Gazetteer, extract_entities
from newsmon.pipelines.messages import AnalysedArticle
from newsmon.pipelines.nlp import load_model, model_id

MAX_CHARACTERS = 100_000  # beyond this an "article" is a dump; its start is what matters
UNUSED_COMPONENTS: tuple[str, ...] = ()  # every component of en_core_web_sm is used (senter is off)


class _Model:
    """Holder for the shared model (``Shared`` needs a weak-referenceable object)."""

    def __init__(self) -> None:
        self.nlp = load_model(disable=UNUSED_COMPONENTS)
        self.id = model_id(self.nlp)


class _Extract(beam.DoFn):
    def __init__(self, shared: Shared) -> None:
        self._shared = shared
        self._articles = Metrics.counter("ExtractEntities", "articles")
        self._entities = Metrics.counter("ExtractEntities", "entities")

    def setup(self) -> None:
        self._model = self._shared.acquire(_Model)
        self._gazetteer = Gazetteer.load()

    def process(self, batch: list[AnalysedArticle]):
        texts = [article_text(item.article)[:MAX_CHARACTERS] for item in batch]
        docs = self._model.nlp.pipe(texts, batch_size=len(texts))
        for item, text, doc in zip(batch, texts, docs, strict=True):
            entities = tuple(extract_entities(doc, self._gazetteer))
            self._articles.inc()
            self._entities.inc(len(entities))
            yield dataclasses.replace(
                item, text=text, sentences=sentences_of(doc), entities=entities,
                provenance=item.provenance | self.provenance())

    def provenance(self) -> dict[str, Any]:
        return {"model": self._model.id, "gazetteer": str(self._gazetteer.version), "newsmon": __version__}


class ExtractEntities(beam.PTransform):
    def __init__(self, *, max_batch_size: int = 32) -> None:
        super().__init__()
        self._max_batch_size = max_batch_size

    def expand(self, articles):
        return (articles
                | "Batch" >> beam.BatchElements(min_batch_size=1, max_batch_size=self._max_batch_size)
                | "Analyse" >> beam.ParDo(_Extract(Shared())))
