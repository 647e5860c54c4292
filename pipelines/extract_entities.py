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

import multiprocessing
import signal
import threading
import weakref
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import apache_beam as beam
from apache_beam.metrics import Metrics
from apache_beam.utils.shared import Shared

from newsmon.analysis.analyse import Analyser, Reading, text_of, with_reading
from newsmon.analysis.messages import AnalysedArticle
from newsmon.lifeline import exit_with_parent
from newsmon.pipelines.dead_letters import DEAD_LETTER, dead_letter

STAGE = "entities"


_CHILD: dict[str, Analyser] = {}  # the analyser of a pool's child process (set by its initializer)


def _start_child(gazetteer: Path | None) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the worker, which shuts the pool down
    exit_with_parent()
    _CHILD["analyser"] = Analyser(gazetteer)


def _child_read(texts: list[str]) -> list[Reading]:
    return _CHILD["analyser"].read(texts)


def _child_provenance() -> dict[str, str]:
    return _CHILD["analyser"].provenance


class AnalyserPool:
    """``processes`` child processes running :class:`Analyser`; a batch is split between them.

    Children are spawned (not forked: the worker has gRPC threads). A child that dies (out of
    memory, say) breaks the pool: it is replaced and the batch tried once more.
    """

    def __init__(self, processes: int, gazetteer: Path | None = None) -> None:
        self._gazetteer = gazetteer
        self._processes = processes
        self._lock = threading.Lock()
        self._pools = [self._start()]  # the current one, in a list the finalizer can see
        self.provenance = self._pools[0].submit(_child_provenance).result()
        weakref.finalize(self, _shut_down, self._pools)  # the children go when the last user does

    def _start(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(self._processes, mp_context=multiprocessing.get_context("spawn"),
                                   initializer=_start_child, initargs=(self._gazetteer,))

    def read(self, texts: list[str]) -> list[Reading]:
        try:
            return self._read(texts)
        except BrokenProcessPool:
            with self._lock:
                self._pools[0].shutdown(wait=False, cancel_futures=True)
                self._pools[0] = self._start()
            return self._read(texts)

    def _read(self, texts: list[str]) -> list[Reading]:
        if not texts:
            return []
        size = -(-len(texts) // min(self._processes, len(texts)))  # even shares: latency is the slowest
        pool = self._pools[0]
        futures = [pool.submit(_child_read, texts[i:i + size]) for i in range(0, len(texts), size)]
        return [analysis for future in futures for analysis in future.result()]


def _shut_down(pools: list[ProcessPoolExecutor]) -> None:
    pools[0].shutdown(wait=False, cancel_futures=True)


class _Extract(beam.DoFn):
    def __init__(self, shared: Shared, processes: int, gazetteer: Path | None) -> None:
        self._gazetteer = gazetteer
        self._shared = shared
        self._processes = processes
        self._articles = Metrics.counter("ExtractEntities", "articles")
        self._entities = Metrics.counter("ExtractEntities", "entities")

    def setup(self) -> None:
        if self._processes > 1:
            self._analyser = self._shared.acquire(lambda: AnalyserPool(self._processes, self._gazetteer))
        else:
            self._analyser = self._shared.acquire(lambda: Analyser(self._gazetteer))

    def process(self, batch: list[AnalysedArticle]):
        texts = [text_of(item) for item in batch]
        try:
            readings = self._analyser.read(texts)
        except Exception:  # noqa: BLE001 - one bad article: find it, and let the others through
            readings = None
        for n, (item, text) in enumerate(zip(batch, texts, strict=True)):
            try:
                reading = readings[n] if readings is not None else self._analyser.read([text])[0]
            except Exception as exc:  # noqa: BLE001 - dead-lettered with its reason
                yield dead_letter(item, STAGE, exc)
                continue
            self._articles.inc()
            self._entities.inc(len(reading[0]))
            yield with_reading(item, text, reading, self._analyser.provenance)


class ExtractEntities(beam.PTransform):
    """Entities and the sentence analysis of each article; ``processes`` spaCy processes per worker.

    Returns outputs ``articles`` (AnalysedArticle) and ``deadletter`` (DeadLetter).
    """

    def __init__(self, *, processes: int = 1, gazetteer: Path | None = None,
                 max_batch_size: int = 32) -> None:
        super().__init__()
        if processes < 1:
            msg = f"processes must be at least 1, got {processes}"
            raise ValueError(msg)
        self._processes = processes
        self._gazetteer = gazetteer
        self._max_batch_size = max_batch_size

    def expand(self, articles):
        return (articles
                | "Batch" >> beam.BatchElements(min_batch_size=1, max_batch_size=self._max_batch_size)
                | "Analyse" >> beam.ParDo(_Extract(Shared(), self._processes, self._gazetteer)).with_outputs(
                    DEAD_LETTER, main="articles"))
