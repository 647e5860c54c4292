"""A started pipeline, waited on by one thread for its whole life.

Beam's portable result (DirectRunner hands streaming jobs to Prism through it) must be
waited on once only: each ``wait_until_finish`` call starts its own readers of the job's
message and state streams, and a second pair on the same gRPC streams fails the job
("Internal gRPC call error 8", then "SDK worker disconnected"). So one thread waits,
and everyone else asks :class:`RunningPipeline` whether it finished, for its counters, or
to cancel it.
"""

from __future__ import annotations

import contextlib
import io
import logging
import threading
import time
from collections.abc import Callable

from apache_beam.runners.runner import PipelineResult, PipelineState


class RunningPipeline:
    def __init__(self, result: PipelineResult, *, runner: str = "DirectRunner",
                 on_end: Callable[[], None] = lambda: None) -> None:
        self.result = result
        self._runner = runner
        self._on_end = on_end
        self._finished = threading.Event()
        self._state: str | None = None
        self._error: BaseException | None = None
        self._waiter = threading.Thread(target=self._wait, name="newsmon-pipeline-wait", daemon=True)
        self._waiter.start()

    def _wait(self) -> None:
        try:
            self._state = self.result.wait_until_finish()
        except BaseException as exc:  # noqa: BLE001 - handed to whoever asks for the state
            self._error = exc
            self._state = PipelineState.FAILED
        finally:
            self._on_end()
            self._finished.set()

    @property
    def runner(self) -> str:
        """The runner the options named; for DirectRunner, also that it handed the job to Prism."""
        if self._runner == "DirectRunner" and type(self.result).__module__.endswith("portable_runner"):
            return "DirectRunner on Prism"
        return self._runner

    def wait(self, seconds: float | None = None) -> bool:
        """Wait up to ``seconds`` (None: until it ends); True once the pipeline has ended."""
        return self._finished.wait(seconds)

    @property
    def finished(self) -> bool:
        return self._finished.is_set()

    @property
    def state(self) -> str:
        """The final state once finished, else RUNNING."""
        return self._state if self.finished else PipelineState.RUNNING

    @property
    def error(self) -> BaseException | None:
        """Why the pipeline failed, when it did."""
        return self._error

    def counters(self) -> dict[str, int]:
        """The steps' counters (articles parsed, indexed, dead-lettered...), where the runner reports them."""
        if hasattr(self.result, "_metrics"):
            self.result._metrics = None  # the portable result keeps its first answer forever
        try:
            found = self.result.metrics().query()["counters"]
        except Exception:  # noqa: BLE001 - a runner that keeps no metrics, or the job is gone
            return {}
        totals: dict[str, int] = {}
        for counter in found:
            if counter.key.metric.namespace.startswith("beam"):
                continue  # the runner's own bookkeeping
            name = f"{counter.key.metric.namespace}.{counter.key.metric.name}"
            totals[name] = totals.get(name, 0) + (counter.committed or counter.attempted or 0)
        return dict(sorted(totals.items()))

    def cancel(self, wait_seconds: float = 10.0, settle_seconds: float = 2.0) -> None:
        """Cancel a streaming job without its shutdown noise.

        Its workers and Prism report the interrupted bundles as errors, in Beam's logs and
        as tracebacks printed straight to stderr by the in-process SDK worker threads; that
        is expected here, so both are muted until the job has ended and its threads settled.
        """
        if self.finished:
            return
        beam_logs = [logging.getLogger(name) for name in {"apache_beam", *logging.root.manager.loggerDict}
                     if name.split(".")[0] == "apache_beam" or name.endswith("JobServer")]
        levels = [log.level for log in beam_logs]
        for log in beam_logs:
            log.setLevel(logging.CRITICAL)
        try:
            with contextlib.redirect_stderr(io.StringIO()):
                with contextlib.suppress(Exception):  # the job service may already be gone
                    self.result.cancel()
                self.wait(wait_seconds)
                time.sleep(settle_seconds)  # let worker threads finish reporting the interrupted bundles
        finally:
            for log, level in zip(beam_logs, levels, strict=True):
                log.setLevel(level)
