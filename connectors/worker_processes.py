"""Processes beside the poller for CPU-heavy work on untrusted input: parsing feeds and
extracting article text.

Each process is capped in address space (a hostile document that makes a parser grow
gets a MemoryError there instead of exhausting the machine). A call may be given a time
budget: a call over it has its process stopped, and the pool starts afresh on the next
call, as it does when a process dies. A call runs as soon as it is made (one call per
process at a time; more callers wait their turn in their own threads), so its budget is
its own running time, never time spent in a queue.
"""

from __future__ import annotations

import logging
import multiprocessing
import resource
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

from newsmon.lifeline import exit_with_parent

log = logging.getLogger(__name__)
T = TypeVar("T")
MEMORY = 2 * 1024**3  # bytes of address space each process may use


def _start_worker(limit: int) -> None:
    """In each process as it starts: it ends with the poller (which may be killed with no
    chance to stop it), and a hostile input that makes it grow gets a MemoryError there
    instead of exhausting the machine.
    """
    exit_with_parent()
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


class WorkerProcesses:
    """A pool of ``processes`` spawned processes, started on first use; thread-safe."""

    def __init__(self, processes: int, *, name: str, memory: int = MEMORY) -> None:
        if processes < 1:
            msg = f"{name}: processes must be at least 1, got {processes}"
            raise ValueError(msg)
        self.name = name
        self._processes = processes
        self._memory = memory
        self._turns = threading.BoundedSemaphore(processes)
        self._lock = threading.Lock()
        self._pool: ProcessPoolExecutor | None = None

    def call(self, function: Callable[..., T], /, *args: Any, timeout: float | None = None,
             **kwargs: Any) -> T:
        """``function(*args, **kwargs)`` in one of the processes (blocks until it returns).

        BrokenProcessPool when the process died (out of memory, killed); TimeoutError when
        it did not return within ``timeout`` seconds, after which its process is stopped.
        """
        with self._turns:
            pool = self._started()
            future = pool.submit(function, *args, **kwargs)
            try:
                return future.result(timeout=timeout)
            except BrokenProcessPool:
                self._discard(pool)
                raise
            except FutureTimeout:
                self._discard(pool, stop=True)
                msg = f"{self.name}: no result within {timeout:g}s; the process was stopped"
                raise TimeoutError(msg) from None

    def close(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(cancel_futures=True)

    def _started(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ProcessPoolExecutor(self._processes, initializer=_start_worker,
                                                 initargs=(self._memory,),
                                                 mp_context=multiprocessing.get_context("spawn"))
            return self._pool

    def _discard(self, pool: ProcessPoolExecutor, *, stop: bool = False) -> None:
        with self._lock:
            if self._pool is pool:
                self._pool = None
        if stop:
            # concurrent.futures has no way to stop one busy process before Python 3.14's
            # kill_workers(); the others' calls fail with BrokenProcessPool, as on a crash.
            for process in list(getattr(pool, "_processes", {}).values()):
                process.kill()
            log.warning("%s: stopped a process that overran its time budget", self.name)
        pool.shutdown(wait=False, cancel_futures=True)
