"""Beam's portable path as Flink or Dataflow run it, on one machine: Prism started as a
job server, and Beam's SDK worker pool (``apache_beam.runners.worker.worker_pool_main``)
for ``--environment_type EXTERNAL``, each in a process of its own.

The pool runs in the mode of Beam's SDK container (``--container_executable``): for each
``StartWorker`` request it starts the executable, here :func:`worker_main`, which does
what the container's boot does: ask the runner's provision service for the job's options
and endpoints, then run ``sdk_worker_main``. Prism sends one ``StartWorker`` per
environment of the job (``RunPipeline`` makes one worker per environment id), however
many bundles it runs, so a pipeline with one environment gets one worker process.
:func:`second_environment` puts chosen steps in an environment of their own (the default
one plus a resource hint, which Prism does not otherwise act on): Prism cannot fuse them
with the rest, asks the pool for a second worker, and their elements cross between the
two worker processes over the runner, as between the SDK workers of a Flink task manager.

Two workers meet a Prism 2.75 bug that :func:`worker_main` works around: Prism keeps one
table of metric short ids per job (``metricsStore.shortIDsToKeys``), but each SDK worker
process numbers its metrics from 1, so the second worker's metrics are read as the
first's: counters go to the wrong metric, or Prism panics decoding one ("error decoding
metrics") and fails the job. Each worker here numbers its metrics from its own offset.

:class:`RecordWorker` is a pass-through step that counts elements under the pid and
parent pid of the process running it, so a test can tell which processes did the work.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import apache_beam as beam
import grpc
from apache_beam.metrics import Metrics
from apache_beam.portability.api import beam_provision_api_pb2, beam_provision_api_pb2_grpc, endpoints_pb2
from apache_beam.runners.portability.prism_runner import PrismJobServer
from apache_beam.runners.worker import sdk_worker, sdk_worker_main
from apache_beam.transforms.resources import merge_resource_hints, parse_resource_hints
from apache_beam.utils.subprocess_server import pick_port
from google.protobuf import json_format, text_format

from newsmon.deploy.local_service import pid_alive, port_in_use
from newsmon.deploy.prism import ensure_prism
from newsmon.settings import Settings

ROOT = Path(__file__).resolve().parents[2]  # the worktree: workers import ``tests.support`` from it
WORKERS = "PortableWorkers"  # the counter namespace of RecordWorker
# What sets the second environment apart; Prism ignores resource hints when it runs a stage.
SECOND_ENVIRONMENT = {"min_ram": "1GiB"}
START_TIMEOUT = 60.0
STOP_TIMEOUT = 20.0


@dataclass
class PortableCluster:
    """A Prism job server and an SDK worker pool, both started (and stopped) by this process."""

    job_endpoint: str
    pool_endpoint: str
    prism: subprocess.Popen
    pool: subprocess.Popen
    log_dir: Path
    stopped: set[int] = field(default_factory=set)  # every pid that was stopped, workers included

    def beam_args(self) -> list[str]:
        """The flags that send a pipeline to this job server, its SDK workers to this pool."""
        return ["--runner", "PortableRunner", "--job_endpoint", self.job_endpoint,
                "--environment_type", "EXTERNAL", "--environment_config", self.pool_endpoint]

    def workers(self) -> set[int]:
        """The pool's worker processes running now."""
        return descendants(self.pool.pid)

    def logs(self) -> str:
        """What Prism (with the workers' logs, sent to it) and the pool logged so far."""
        return "\n".join(f"--- {path.name}\n{path.read_text(errors='replace')[-8_000:]}"
                         for path in sorted(self.log_dir.glob("*.log")))


@contextlib.contextmanager
def portable_cluster(settings: Settings, log_dir: Path) -> Iterator[PortableCluster]:
    """Start Prism as a job server and the SDK worker pool on free local ports; stop both,
    and any worker the pool left running, on the way out (also when the test fails).
    """
    log_dir.mkdir(parents=True, exist_ok=True)
    prism_binary = PrismJobServer.local_bin(str(ensure_prism(settings)), PrismJobServer.BIN_CACHE)
    job_port, pool_port = pick_port(None, None)
    started: list[subprocess.Popen] = []
    stopped: set[int] = set()
    try:
        # The flags PrismJobServer passes, plus an idle shutdown in case this process dies
        # without stopping it (the pool dies with its parent, see _die_with_parent).
        prism = _start([prism_binary, "--job_port", str(job_port), "--serve_http=false",
                        "--log_level", "info", "--log_kind", "text", "--idle_shutdown_timeout", "10m"],
                       log_dir / "prism.log", started)
        # Workers run this venv's python, seeing newsmon and this worktree's tests package.
        worker = log_dir / "sdk-worker"
        worker.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m tests.support.portable "$@"\n')
        worker.chmod(0o755)
        pool = _start([sys.executable, "-m", "apache_beam.runners.worker.worker_pool_main",
                       "--service_port", str(pool_port), "--container_executable", str(worker)],
                      log_dir / "worker-pool.log", started, env=os.environ | {"PYTHONPATH": str(ROOT)})
        cluster = PortableCluster(f"localhost:{job_port}", f"localhost:{pool_port}", prism, pool, log_dir,
                                  stopped)
        _wait_for_port(job_port, prism, "Prism job server")
        _wait_for_port(pool_port, pool, "SDK worker pool")
        with grpc.insecure_channel(cluster.job_endpoint) as channel:
            grpc.channel_ready_future(channel).result(timeout=START_TIMEOUT)
        yield cluster
    finally:
        stopped |= _stop_all(started)


def _start(command: list[str], log: Path, started: list[subprocess.Popen], *,
           env: dict[str, str] | None = None) -> subprocess.Popen:
    with log.open("ab") as out:
        process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                   env=env, cwd=ROOT, preexec_fn=_die_with_parent(signal.SIGINT))
    started.append(process)
    return process


def _die_with_parent(sig: int):
    """A preexec_fn asking Linux to send ``sig`` to the child when this process dies: the
    pool stops on SIGINT as on Ctrl-C, stopping its workers; Prism exits on it too. The
    child gets the signal's default action back: a shell without job control starts
    background commands with SIGINT ignored, and they would pass that on.
    """
    if not sys.platform.startswith("linux"):
        return None
    prctl = ctypes.CDLL(None, use_errno=True).prctl  # looked up before fork, only called after
    pr_set_pdeathsig = 1

    def preexec() -> None:
        signal.signal(sig, signal.SIG_DFL)
        prctl(pr_set_pdeathsig, sig)

    return preexec


def _wait_for_port(port: int, process: subprocess.Popen, what: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            msg = f"{what} exited with code {process.returncode} before listening on port {port}"
            raise RuntimeError(msg)
        if port_in_use(port):
            return
        time.sleep(0.2)
    msg = f"{what} did not listen on port {port} within {START_TIMEOUT:.0f}s"
    raise RuntimeError(msg)


def _stop_all(started: list[subprocess.Popen]) -> set[int]:
    """Stop the pool first (SIGINT: it stops its workers), then Prism; then kill, by pid, any
    descendant still running. Returns every pid stopped.
    """
    pids: set[int] = set()
    for process in reversed(started):
        family = descendants(process.pid)
        pids |= family | {process.pid}
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for pid in family:
            if pid_alive(pid):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + STOP_TIMEOUT
    while any(pid_alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    return pids


def descendants(pid: int) -> set[int]:
    """Every process below ``pid`` (children, their children...), read from /proc."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # gone meanwhile
        parents[int(stat.parent.name)] = int(fields[1])
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


# -- the pipeline side ---------------------------------------------------------------

def applied(pipeline: beam.Pipeline, label: str):
    """The applied transform with full label ``label`` (``IndexArticles/Bulk``...)."""
    pending = [pipeline.transforms_stack[0]]
    while pending:
        node = pending.pop()
        if node.full_label == label:
            return node
        pending.extend(node.parts)
    msg = f"no step labelled {label!r} in the pipeline"
    raise KeyError(msg)


def output(pipeline: beam.Pipeline, label: str) -> beam.PCollection:
    """The main output of the step labelled ``label``."""
    return applied(pipeline, label).outputs[None]


def second_environment(pipeline: beam.Pipeline, *labels: str) -> None:
    """Run the steps ``labels`` (with everything inside them) in the second environment.

    Hints are merged into each part when it is applied; these steps are built already, so
    every node below them gets the hint.
    """
    hints = parse_resource_hints(SECOND_ENVIRONMENT)
    for label in labels:
        pending = [applied(pipeline, label)]
        while pending:
            node = pending.pop()
            node.resource_hints = merge_resource_hints(outer_hints=hints, inner_hints=node.resource_hints)
            pending.extend(node.parts)


class RecordWorker(beam.DoFn):
    """Passes elements through, counting them as ``<step> pid=<pid> ppid=<parent pid>``."""

    def __init__(self, step: str) -> None:
        self._step = step

    def setup(self) -> None:
        self._seen = Metrics.counter(WORKERS, f"{self._step} pid={os.getpid()} ppid={os.getppid()}")

    def process(self, element):
        self._seen.inc()
        yield element


def workers_seen(counters: dict[str, int]) -> dict[str, dict[tuple[int, int], int]]:
    """From a job's counters (``RunningPipeline.counters``): per recorded step, how many
    elements each (pid, parent pid) saw.
    """
    seen: dict[str, dict[tuple[int, int], int]] = {}
    for name, count in counters.items():
        namespace, _, rest = name.partition(".")
        if namespace == WORKERS:
            step, pid, ppid = rest.split(" ")
            seen.setdefault(step, {})[int(pid.removeprefix("pid=")), int(ppid.removeprefix("ppid="))] = count
    return seen


# -- the SDK worker the pool starts ----------------------------------------------------

def worker_main(argv: list[str] | None = None) -> None:
    """One SDK worker, started by the pool with the flags of Beam's container contract.

    As the container's boot does, it asks the provision service for the job's options,
    then runs the harness with them in its environment, in this process (``exec``: Beam
    reads ``WORKER_ID`` when it is imported, so the harness starts on a fresh interpreter).
    """
    parser = argparse.ArgumentParser(description=worker_main.__doc__)
    parser.add_argument("--id")
    parser.add_argument("--provision_endpoint")
    parser.add_argument("--control_endpoint")
    parser.add_argument("--logging_endpoint")
    parser.add_argument("--artifact_endpoint")  # newsmon is installed: nothing to stage
    parser.add_argument("--harness", action="store_true", help="run the harness (after the exec)")
    args = parser.parse_args(argv)
    if args.harness:
        # Metric short ids of their own (see the module docstring): far apart for any two pids.
        if not hasattr(sdk_worker.SHORT_ID_CACHE, "_last_short_id"):
            msg = "Beam's ShortIdCache changed: the metric short ids of two workers would collide in Prism"
            raise RuntimeError(msg)
        sdk_worker.SHORT_ID_CACHE._last_short_id = os.getpid() << 32
        sdk_worker_main.main([])
        return
    with grpc.insecure_channel(args.provision_endpoint) as channel:
        info = beam_provision_api_pb2_grpc.ProvisionServiceStub(channel).GetProvisionInfo(
            beam_provision_api_pb2.GetProvisionInfoRequest(), metadata=[("worker_id", args.id)],
            timeout=START_TIMEOUT).info

    def descriptor(url: str) -> str:
        return text_format.MessageToString(endpoints_pb2.ApiServiceDescriptor(url=url))

    env = os.environ | {
        "WORKER_ID": args.id,
        "PIPELINE_OPTIONS": json_format.MessageToJson(info.pipeline_options),
        # As boot: the provision info's endpoints where it gives them, else the flags.
        "CONTROL_API_SERVICE_DESCRIPTOR": descriptor(info.control_endpoint.url or args.control_endpoint),
        "LOGGING_API_SERVICE_DESCRIPTOR": descriptor(info.logging_endpoint.url or args.logging_endpoint),
        "RUNNER_CAPABILITIES": " ".join(info.runner_capabilities),
        "SEMI_PERSISTENT_DIRECTORY": tempfile.gettempdir(),  # boot's default, /tmp
    }
    if info.status_endpoint.url:
        env["STATUS_API_SERVICE_DESCRIPTOR"] = descriptor(info.status_endpoint.url)
    os.execve(sys.executable, [sys.executable, "-m", __spec__.name, "--harness"], env)


if __name__ == "__main__":
    worker_main()
