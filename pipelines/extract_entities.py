"""ExtractEntities: spaCy over each article, once, in batches; entities with canonical names.

The texts of a batch (formed by ``BatchElements``) go through ``nlp.pipe`` with the model
loaded once per process, and the analysis (entities, sentences, lemmas, dependencies)
travels on as plain data for the steps after this one.

spaCy holds one core while the rest of the pipeline waits for it: with ``processes`` > 1
each worker runs it in that many child processes (:mod:`~newsmon.pipelines.analysis_processes`).
"""

from __future__ import annotations

from operator import attrgetter
from pathlib import Path

import apache_beam as beam
from apache_beam.metrics import Metrics
from apache_beam.utils.shared import Shared

from newsmon.analysis.analyse import Analyser, text_of, with_reading
from newsmon.analysis.messages import AnalysedArticle
from newsmon.pipelines.analysis_processes import AnalysisProcesses, checked_processes
from newsmon.pipelines.dead_letters import DEAD_LETTER, dead_letter

STAGE = "entities"


class _Extract(beam.DoFn):
    def __init__(self, shared: Shared, processes: int, gazetteer: Path | None) -> None:
        self._gazetteer = gazetteer
        self._shared = shared
        self._processes = processes
        self._articles = Metrics.counter("ExtractEntities", "articles")
        self._entities = Metrics.counter("ExtractEntities", "entities")

    def setup(self) -> None:
        self._analyser = self._shared.acquire(
            lambda: AnalysisProcesses(self._processes, Analyser, self._gazetteer))
        self._provenance = self._analyser.call(attrgetter("provenance"))

    def process(self, batch: list[AnalysedArticle]):
        texts = [text_of(item) for item in batch]
        readings = self._analyser.each(Analyser.read, texts)
        for item, text, reading in zip(batch, texts, readings, strict=True):
            if isinstance(reading, Exception):
                yield dead_letter(item, STAGE, reading)
                continue
            self._articles.inc()
            self._entities.inc(len(reading[0]))
            yield with_reading(item, text, reading, self._provenance)


class ExtractEntities(beam.PTransform):
    """Entities and the sentence analysis of each article; ``processes`` spaCy processes per worker.

    Returns outputs ``articles`` (AnalysedArticle) and ``deadletter`` (DeadLetter).
    """

    def __init__(self, *, processes: int = 1, gazetteer: Path | None = None,
                 max_batch_size: int = 32) -> None:
        super().__init__()
        self._processes = checked_processes(processes)
        self._gazetteer = gazetteer
        self._max_batch_size = max_batch_size

    def expand(self, articles):
        return (articles
                | "Batch" >> beam.BatchElements(min_batch_size=1, max_batch_size=self._max_batch_size)
                | "Analyse" >> beam.ParDo(_Extract(Shared(), self._processes, self._gazetteer)).with_outputs(
                    DEAD_LETTER, main="articles"))
