"""AnalysisProcesses: the object that does a step's heavy work (spaCy's analyser, the topic
tagger), held in this process or, one each, in child processes.

Such work holds a core while the rest of the worker waits for it. With ``processes`` > 1
a worker runs it in that many child processes (spawned once per worker, each building its
object once) and splits each batch evenly between them, so a DirectRunner on one machine
uses all its cores; runners that already start one SDK process per core (Flink, Dataflow)
are best left at 1, which holds the object in the worker itself.
"""

from __future__ import annotations

import multiprocessing
import signal
import threading
import weakref
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

from newsmon.lifeline import exit_with_parent

T = TypeVar("T")
R = TypeVar("R")

_HELD: list[Any] = []  # in a child process: its object (set by the pool's initializer)


def _start_child(make: Callable[..., Any], args: tuple) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the worker, which shuts the pool down
    exit_with_parent()
    _HELD.append(make(*args))


def _in_child(function: Callable[..., Any], *args: Any) -> Any:
    return function(_HELD[0], *args)


def checked_processes(processes: int) -> int:
    """``processes``, or ValueError when it is below 1 (a step checks it when the pipeline is
    built, not on every worker).
    """
    if processes < 1:
        msg = f"processes must be at least 1, got {processes}"
        raise ValueError(msg)
    return processes


class AnalysisProcesses:
    """``make(*args)`` held here (``processes`` 1) or in each of ``processes`` child processes.

    Children are spawned (not forked: the worker has gRPC threads); ``make``, ``args`` and
    the functions given to :meth:`map` and :meth:`call` must pickle (module-level
    functions, methods named on their class). A child that dies (out of memory, say)
    breaks the pool: it is replaced and the call tried once more.
    """

    def __init__(self, processes: int, make: Callable[..., Any], *args: Any) -> None:
        self._processes = checked_processes(processes)
        self._make = make, args
        self._held = make(*args) if processes == 1 else None
        self._lock = threading.Lock()
        self._pools = [] if processes == 1 else [self._start()]  # in a list the finalizer can see
        weakref.finalize(self, _shut_down, self._pools)  # the children go when the last user does

    def _start(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(self._processes, mp_context=multiprocessing.get_context("spawn"),
                                   initializer=_start_child, initargs=self._make)

    def map(self, function: Callable[[Any, Sequence[T]], list[R]], items: Sequence[T]) -> list[R]:
        """``function(held, share)`` on even shares of ``items`` (latency is the slowest
        share's), its results in the order of ``items``.
        """
        if not items:
            return []
        if self._held is not None:
            return function(self._held, items)
        return self._retried(lambda pool: self._map(pool, function, items))

    def each(self, function: Callable[[Any, Sequence[T]], list[R]],
             items: Sequence[T]) -> list[R | Exception]:
        """As :meth:`map`, but where the batch fails each item is tried alone: its result,
        or the exception it raised (one bad article must not fail the others).
        """
        try:
            return self.map(function, items)
        except Exception:  # noqa: BLE001 - found below, item by item
            found: list[R | Exception] = []
            for item in items:
                try:
                    found.append(self.map(function, [item])[0])
                except Exception as exc:  # noqa: BLE001 - the caller dead-letters it
                    found.append(exc)
            return found

    def call(self, function: Callable[[Any], R]) -> R:
        """``function(held)``, in one of the children when there are any."""
        if self._held is not None:
            return function(self._held)
        return self._retried(lambda pool: pool.submit(_in_child, function).result())

    def _map(self, pool: ProcessPoolExecutor, function: Callable, items: Sequence) -> list:
        size = -(-len(items) // min(self._processes, len(items)))
        futures = [pool.submit(_in_child, function, items[i:i + size]) for i in range(0, len(items), size)]
        return [result for future in futures for result in future.result()]

    def _retried(self, run: Callable[[ProcessPoolExecutor], R]) -> R:
        try:
            return run(self._pools[0])
        except BrokenProcessPool:
            with self._lock:
                self._pools[0].shutdown(wait=False, cancel_futures=True)
                self._pools[0] = self._start()
            return run(self._pools[0])


def _shut_down(pools: list[ProcessPoolExecutor]) -> None:
    if pools:
        pools[0].shutdown(wait=False, cancel_futures=True)
