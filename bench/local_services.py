"""Kafka and Elasticsearch of a benchmark's own, and the newsmon processes it runs against them.

The benchmarks that kill things (``bench.faults``) or run for long (``bench.soak``) must
never touch the shared services other people's tests use. :class:`LocalStack` starts a
broker and a node with ``newsmon services up`` under a ``NEWSMON_HOME`` of its own, on free
ports, with small heaps; every newsmon command it starts (:meth:`LocalStack.start`) gets
the same environment, and the benchmark's own clients the same :class:`Settings`
(``make_client`` then reads the node's generated password from that home).
:meth:`LocalStack.close` stops what it started (also on failure) and the services.

Processes are inspected from ``/proc``: resident memory, descendants (a pipeline's spaCy
processes and Prism), and which of a killed process's descendants outlived it.
"""

from __future__ import annotations

import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from newsmon.connectors.kafka import consumer_lag  # noqa: F401 - the benchmarks import it from here
from newsmon.deploy.local_service import command_line, pid_alive
from newsmon.deploy.services import local_services
from newsmon.settings import Settings

SERVICES = ("kafka", "elasticsearch")
ERROR_LINE = re.compile(r"^Traceback \(most recent call last\)|\bERROR\b|\bCRITICAL\b")


def _free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port(also: int, rng: random.Random) -> int:
    """A port that is free, with ``port + also`` free as well (Kafka's controller, ES's transport)."""
    for _ in range(200):
        port = rng.randrange(20_000, 40_000)
        if _free(port) and _free(port + also):
            return port
    msg = "no free pair of ports found between 20000 and 40000"
    raise RuntimeError(msg)


# -- processes, from /proc ---------------------------------------------------------------------

def parents() -> dict[int, int]:
    """The parent of every process: {pid: parent pid}."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        found[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    return found


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (children, their children...)."""
    by_parent: dict[int, list[int]] = {}
    for child, parent in parents().items():
        by_parent.setdefault(parent, []).append(child)
    found, todo = [], [pid]
    while todo:
        for child in by_parent.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def rss_mib(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def tree_rss_mib(pid: int) -> float:
    """Resident memory of ``pid`` and all its descendants (shared pages counted in each)."""
    return rss_mib(pid) + sum(rss_mib(child) for child in descendants(pid))


def short_command(pid: int, width: int = 110) -> str:
    text = command_line(pid).strip()
    return text if len(text) <= width else text[:width - 1] + "…"


def survivors(pids: list[int], wait: float) -> list[int]:
    """Which of ``pids`` still run after ``wait`` seconds (a zombie counts as gone)."""
    deadline = time.monotonic() + wait
    alive = [pid for pid in pids if pid_alive(pid)]
    while alive and time.monotonic() < deadline:
        time.sleep(0.25)
        alive = [pid for pid in alive if pid_alive(pid)]
    return alive


@dataclass
class Proc:
    """One newsmon command started by the stack, in its own process group, logs in files."""

    name: str
    popen: subprocess.Popen
    stdout: Path
    stderr: Path
    started: float = field(default_factory=time.monotonic)

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def kill(self) -> None:
        """SIGKILL the process itself (not its group): a crash, with no clean-up of its own."""
        if self.alive():
            os.kill(self.pid, signal.SIGKILL)
        self.popen.wait()

    def stop(self, timeout: float = 60.0) -> int | None:
        """SIGTERM (newsmon stops cleanly on it), then SIGKILL the group after ``timeout``."""
        if self.alive():
            os.kill(self.pid, signal.SIGTERM)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                pass
        self.kill_group()
        return self.popen.returncode

    def kill_group(self) -> None:
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.popen.wait()

    def tail(self, lines: int = 15) -> str:
        try:
            text = self.stderr.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def error_lines(self) -> list[str]:
        """Tracebacks and ERROR lines this process wrote to its stderr."""
        try:
            text = self.stderr.read_text(errors="replace")
        except OSError:
            return []
        return [line for line in text.splitlines() if ERROR_LINE.search(line)]


class LocalStack:
    """A broker and a node of the benchmark's own, and the newsmon commands run against them."""

    def __init__(self, *, seed: int = 0, keep: bool = False,
                 progress: Callable[[str], None] = print) -> None:
        rng = random.Random(f"ports-{seed}-{os.getpid()}")
        # Elasticsearch runs as an unprivileged user when newsmon runs as root: it must be
        # able to enter the home directory.
        self.home = Path(tempfile.mkdtemp(prefix="newsmon-bench-"))
        self.home.chmod(0o755)
        self.keep = keep
        self.progress = progress
        kafka_port = free_port(1, rng)
        es_port = free_port(100, rng)
        # Settings of the shared services must not leak in; downloads (NEWSMON_CACHE) are shared.
        inherited = {name: value for name, value in os.environ.items()
                     if not name.startswith("NEWSMON_") or name == "NEWSMON_CACHE"}
        self.env = inherited | {
            "NEWSMON_HOME": str(self.home),
            "NEWSMON_KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{kafka_port}",
            "NEWSMON_ES_URL": f"http://127.0.0.1:{es_port}",
            "NEWSMON_KAFKA_HEAP": os.environ.get("NEWSMON_BENCH_KAFKA_HEAP", "384m"),
            "NEWSMON_ES_HEAP": os.environ.get("NEWSMON_BENCH_ES_HEAP", "512m"),
            "NEWSMON_FETCH_ALLOWED_NETWORKS": "127.0.0.1/32",  # the benchmark's feeds are served on loopback
            "PYTHONUNBUFFERED": "1",
        }
        self.settings = Settings.load(self.env)
        self.logs = self.home / "bench-logs"
        self.logs.mkdir()
        self.procs: list[Proc] = []
        self._runs: dict[str, int] = {}

    # -- the services ------------------------------------------------------------------------

    def newsmon(self, *argv: str, timeout: float = 600) -> str:
        """Run a newsmon command to its end; its output, or an error with its stderr."""
        done = subprocess.run([sys.executable, "-m", "newsmon", *argv], env=self.env, capture_output=True,
                              text=True, timeout=timeout, check=False)
        if done.returncode != 0:
            msg = f"newsmon {' '.join(argv)} exited with {done.returncode}:\n{done.stderr[-3000:]}"
            raise RuntimeError(msg)
        return done.stdout

    def up(self, *only: str) -> float:
        """``newsmon services up`` (``--only`` each of ``only``); returns the seconds it took."""
        started = time.monotonic()
        self.newsmon("services", "up", *(arg for name in only for arg in ("--only", name)))
        return time.monotonic() - started

    def service_pid(self, name: str) -> int | None:
        [service] = local_services(self.settings, only=(name,))
        return service.pid()

    def down(self) -> None:
        try:
            self.newsmon("services", "down", timeout=180)
        except (RuntimeError, subprocess.TimeoutExpired) as exc:
            self.progress(f"services down failed ({exc}); killing them")
            for name in SERVICES:
                pid = self.service_pid(name)
                if pid is not None:
                    os.kill(pid, signal.SIGKILL)

    # -- newsmon commands that keep running -------------------------------------------------

    def start(self, name: str, *argv: str) -> Proc:
        """Start ``newsmon ARGV`` in a process group of its own; output in ``bench-logs/NAME-N.*``."""
        run = self._runs[name] = self._runs.get(name, 0) + 1
        out, err = self.logs / f"{name}-{run}.out", self.logs / f"{name}-{run}.err"
        with open(out, "wb") as stdout, open(err, "wb") as stderr:
            popen = subprocess.Popen([sys.executable, "-m", "newsmon", *argv], env=self.env,
                                     stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr,
                                     start_new_session=True)
        proc = Proc(name, popen, out, err)
        self.procs.append(proc)
        return proc

    def strays(self) -> list[int]:
        """Processes other than this one that run with this stack's NEWSMON_HOME."""
        marker = f"NEWSMON_HOME={self.home}".encode()
        found = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit() and int(entry.name) != os.getpid():
                try:
                    if marker in (entry / "environ").read_bytes().split(b"\0"):
                        found.append(int(entry.name))
                except OSError:
                    continue
        return found

    def close(self) -> None:
        """Stop every command started (SIGTERM, then the group), the services, and the home;
        then kill (and report) any process still running with this stack's home.
        """
        for proc in self.procs:
            try:
                proc.stop(timeout=30)
            except Exception as exc:  # noqa: BLE001 - carry on stopping the rest
                self.progress(f"stopping {proc.name} (pid {proc.pid}): {exc}")
        self.down()
        for pid in survivors(self.strays(), 5):
            self.progress(f"left behind at the end, killing it: pid {pid} {short_command(pid)}")
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if self.keep:
            self.progress(f"kept {self.home} (logs in {self.logs})")
        else:
            shutil.rmtree(self.home, ignore_errors=True)

    def __enter__(self) -> LocalStack:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def lag_line(lag: dict[int, tuple[int | None, int]]) -> str:
    return ", ".join(f"p{p} {end - (done or 0)} ({done}/{end})" for p, (done, end) in sorted(lag.items()))
