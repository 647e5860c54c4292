"""ExtractEntities: spaCy over each article, once, in batches; entities with canonical names.

The texts of a batch (formed by ``BatchElements``) go through ``nlp.pipe`` with the model
loaded once per process, and the analysis (entities, sentences, lemmas, dependencies)
travels on as plain data for the steps after this one.

spaCy holds one core while the rest of the pipeline waits for it. With ``processes`` > 1
each worker runs spaCy in that many child processes (spawned once per worker, each
loading the model once) and splits each batch between them, so a DirectRunner on one
machine uses all its cores; runners that already start one SDK process per core (Flink,
Dataflow) are best left at 1, which runs spaCy in the worker itself.
"""

from __future__ import annotations

import dataclasses
import multiprocessing
import os
import signal
import threading
import time
import weakref
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

import apache_beam as beam
from apache_beam.metrics import Metrics
from apache_beam.utils.shared import Shared

from newsmon import __version__
from newsmon.analysis.entities import Entity, extract_entities
from newsmon.analysis.gazetteer import Gazetteer
from newsmon.analysis.messages import AnalysedArticle
from newsmon.analysis.nlp import load_model, model_id
from newsmon.analysis.text import Sentence, article_text, sentences_of

MAX_CHARACTERS = 100_000  # beyond this an "article" is a dump; its start is what matters
UNUSED_COMPONENTS: tuple[str, ...] = ()  # every component of en_core_web_sm is used (senter is off)

Analysis = tuple[tuple[Entity, ...], tuple[Sentence, ...]]


class Analyser:
    """spaCy and the gazetteer, in this process: texts in, entities and sentences out."""

    def __init__(self) -> None:
        self.nlp = load_model(disable=UNUSED_COMPONENTS)
        self.gazetteer = Gazetteer.load()
        self.provenance = {"model": model_id(self.nlp), "gazetteer": str(self.gazetteer.version),
                           "newsmon": __version__}

    def analyse(self, texts: list[str]) -> list[Analysis]:
        return [(tuple(extract_entities(doc, self.gazetteer)), sentences_of(doc))
                for doc in self.nlp.pipe(texts, batch_size=max(1, len(texts)))]


_CHILD: dict[str, Analyser] = {}  # the analyser of a pool's child process (set by its initializer)


def _start_child() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the worker, which shuts the pool down
    threading.Thread(target=_exit_with_parent, args=(os.getppid(),), daemon=True).start()
    _CHILD["analyser"] = Analyser()


def _exit_with_parent(parent: int) -> None:
    """End this child when the worker that spawned it is gone (killed, say, with no clean-up)."""
    while os.getppid() == parent:
        time.sleep(1)
    os._exit(0)


def _child_analyse(texts: list[str]) -> list[Analysis]:
    return _CHILD["analyser"].analyse(texts)


def _child_provenance() -> dict[str, str]:
    return _CHILD["analyser"].provenance


class AnalyserPool:
    """``processes`` child processes running :class:`Analyser`; a batch is split between them.

    Children are spawned (not forked: the worker has gRPC threads). A child that dies (out of
    memory, say) breaks the pool: it is replaced and the batch tried once more.
    """

    def __init__(self, processes: int) -> None:
        self._processes = processes
        self._lock = threading.Lock()
        self._pools = [self._start()]  # the current one, in a list the finalizer can see
        self.provenance = self._pools[0].submit(_child_provenance).result()
        weakref.finalize(self, _shut_down, self._pools)  # the children go when the last user does

    def _start(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(self._processes, mp_context=multiprocessing.get_context("spawn"),
                                   initializer=_start_child)

    def analyse(self, texts: list[str]) -> list[Analysis]:
        try:
            return self._analyse(texts)
        except BrokenProcessPool:
            with self._lock:
                self._pools[0].shutdown(wait=False, cancel_futures=True)
                self._pools[0] = self._start()
            return self._analyse(texts)

    def _analyse(self, texts: list[str]) -> list[Analysis]:
        if not texts:
            return []
        size = -(-len(texts) // min(self._processes, len(texts)))  # even shares: latency is the slowest
        pool = self._pools[0]
        futures = [pool.submit(_child_analyse, texts[i:i + size]) for i in range(0, len(texts), size)]
        return [analysis for future in futures for analysis in future.result()]


def _shut_down(pools: list[ProcessPoolExecutor]) -> None:
    pools[0].shutdown(wait=False, cancel_futures=True)


class _Extract(beam.DoFn):
    def __init__(self, shared: Shared, processes: int) -> None:
        self._shared = shared
        self._processes = processes
        self._articles = Metrics.counter("ExtractEntities", "articles")
        self._entities = Metrics.counter("ExtractEntities", "entities")

    def setup(self) -> None:
        if self._processes > 1:
            self._analyser = self._shared.acquire(lambda: AnalyserPool(self._processes))
        else:
            self._analyser = self._shared.acquire(Analyser)

    def process(self, batch: list[AnalysedArticle]):
        texts = [article_text(item.article)[:MAX_CHARACTERS] for item in batch]
        analyses = self._analyser.analyse(texts)
        for item, text, (entities, sentences) in zip(batch, texts, analyses, strict=True):
            self._articles.inc()
            self._entities.inc(len(entities))
            yield dataclasses.replace(item, text=text, sentences=sentences, entities=entities,
                                      provenance=item.provenance | self._analyser.provenance)


class ExtractEntities(beam.PTransform):
    """Entities and the sentence analysis of each article; ``processes`` spaCy processes per worker."""

    def __init__(self, *, processes: int = 1, max_batch_size: int = 32) -> None:
        super().__init__()
        if processes < 1:
            msg = f"processes must be at least 1, got {processes}"
            raise ValueError(msg)
        self._processes = processes
        self._max_batch_size = max_batch_size

    def expand(self, articles):
        return (articles
                | "Batch" >> beam.BatchElements(min_batch_size=1, max_batch_size=self._max_batch_size)
                | "Analyse" >> beam.ParDo(_Extract(Shared(), self._processes)))
