"""What every locally started service shares: tools it needs, its pid file, port checks.

A service is installed once into the cache (jars resolved from Maven Central), keeps its
data and logs under ``NEWSMON_HOME``, and is started detached so that it outlives the
command that started it.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from newsmon.errors import NewsmonError
from newsmon.settings import Settings

Progress = Callable[[str], None]


class ServiceError(NewsmonError):
    """A local service could not be installed, started or stopped."""


@dataclass(frozen=True)
class ServiceStatus:
    name: str
    running: bool
    healthy: bool
    detail: str
    pid: int | None = None
    rss_mib: float | None = None


def find_java(minimum: int = 17) -> Path:
    """The ``java`` binary to run Kafka and Elasticsearch with (JAVA_HOME first, then PATH)."""
    candidates = []
    if os.environ.get("JAVA_HOME"):
        candidates.append(Path(os.environ["JAVA_HOME"]) / "bin" / "java")
    on_path = shutil.which("java")
    if on_path:
        candidates.append(Path(on_path))
    for java in candidates:
        if java.is_file() and os.access(java, os.X_OK):
            version = java_version(java)
            if version >= minimum:
                return java.resolve()
            msg = f"{java} is Java {version}; Kafka and Elasticsearch need Java {minimum} or newer"
            raise ServiceError(msg)
    msg = (f"Java {minimum}+ was not found (looked at $JAVA_HOME and PATH). Kafka and "
           "Elasticsearch run on the JVM: install a JDK (e.g. `apt-get install openjdk-17-jdk`) "
           "or set JAVA_HOME.")
    raise ServiceError(msg)


def java_version(java: Path) -> int:
    out = subprocess.run([str(java), "-version"], capture_output=True, text=True, check=False)
    match = re.search(r'version "(\d+)(?:\.(\d+))?', out.stderr + out.stdout)
    if not match:
        msg = f"could not tell the version of {java}: {out.stderr.strip()[:200]}"
        raise ServiceError(msg)
    major = int(match.group(1))
    return int(match.group(2) or 0) if major == 1 else major


def require_tool(name: str, purpose: str, install_hint: str) -> str:
    path = shutil.which(name)
    if not path:
        msg = f"`{name}` was not found on PATH; it is needed to {purpose}. {install_hint}"
        raise ServiceError(msg)
    return path


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def pid_alive(pid: int) -> bool:
    """True while the process runs; a zombie (exited, not yet reaped) counts as gone."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state != "Z"


def command_line(pid: int) -> str:
    """The process's command line, its arguments joined by spaces ("" when unreadable)."""
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def rss_mib(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def wait_until(check: Callable[[], bool], timeout: float, what: str,
               still_alive: Callable[[], bool] = lambda: True) -> None:
    """Poll ``check`` until it returns true; fail early if the process died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        if not still_alive():
            msg = f"{what}: the process exited while starting"
            raise ServiceError(msg)
        time.sleep(0.5)
    msg = f"{what}: not ready after {timeout:.0f}s"
    raise ServiceError(msg)


class LocalService:
    """Base of the local Kafka and Elasticsearch services; subclasses fill in the hooks."""

    name = "service"
    start_timeout = 120.0

    def __init__(self, settings: Settings, progress: Progress = lambda _msg: None) -> None:
        self.settings = settings
        self.progress = progress

    # -- hooks -------------------------------------------------------------------
    @property
    def port(self) -> int:
        raise NotImplementedError

    @property
    def is_local(self) -> bool:
        raise NotImplementedError

    def install(self) -> None:
        """Fetch what the service runs from (once; cached outside the repository)."""
        raise NotImplementedError

    def launch(self) -> None:
        """Start the process detached and write :attr:`pid_file`."""
        raise NotImplementedError

    def healthy(self) -> bool:
        raise NotImplementedError

    def health_detail(self) -> str:
        return "healthy"

    @property
    def command_marker(self) -> str:
        """A word of the service process's command line that no unrelated process has."""
        raise NotImplementedError

    # -- shared behaviour -------------------------------------------------------
    @property
    def data_dir(self) -> Path:
        return self.settings.home / self.name

    @property
    def log_dir(self) -> Path:
        return self.data_dir / "logs"

    @property
    def pid_file(self) -> Path:
        return self.data_dir / f"{self.name}.pid"

    def pid(self) -> int | None:
        """The service's process, if it runs. A pid file left by a process that died may name
        another process by now: only a process whose command line is the service's counts.
        """
        try:
            pid = int(self.pid_file.read_text().strip())
        except (OSError, ValueError):
            return None
        if not pid_alive(pid):
            return None
        return pid if self.command_marker in command_line(pid) else None

    def up(self) -> str:
        """Start the service unless it already runs; wait until it answers."""
        if not self.is_local:
            return f"{self.name}: configured for a remote server, not started locally"
        if self.pid() is not None:
            if self.healthy():
                return f"{self.name}: already running (pid {self.pid()})"
            self.progress(f"{self.name}: running (pid {self.pid()}) but not answering yet; waiting")
            started = time.monotonic()
        else:
            if port_in_use(self.port):
                msg = (f"{self.name}: port {self.port} on 127.0.0.1 is already in use by another "
                       f"process; stop it or point newsmon at another port")
                raise ServiceError(msg)
            find_java()
            self.install()
            self.log_dir.mkdir(parents=True, exist_ok=True)
            self.progress(f"{self.name}: starting (logs in {self.log_dir})")
            started = time.monotonic()
            self.launch()
        wait_until(self.healthy, self.start_timeout, f"{self.name} on port {self.port}",
                   still_alive=lambda: self.pid() is not None)
        self.progress(f"{self.name}: ready in {time.monotonic() - started:.1f}s")
        return f"{self.name}: running (pid {self.pid()}), data in {self.data_dir}"

    def down(self, timeout: float = 60.0) -> str:
        pid = self.pid()
        if pid is None:
            self.pid_file.unlink(missing_ok=True)
            return f"{self.name}: not running"
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while pid_alive(pid) and time.monotonic() < deadline:
            _reap(pid)
            time.sleep(0.2)
        if pid_alive(pid):
            os.kill(pid, signal.SIGKILL)
            _reap(pid)
            result = f"{self.name}: killed after {timeout:.0f}s (pid {pid})"
        else:
            result = f"{self.name}: stopped (pid {pid})"
        self.pid_file.unlink(missing_ok=True)
        return result

    def status(self) -> ServiceStatus:
        pid = self.pid()
        if not self.is_local:
            healthy = self.healthy()
            detail = self.health_detail() if healthy else "not answering"
            return ServiceStatus(self.name, healthy, healthy, f"remote; {detail}")
        if pid is None:
            return ServiceStatus(self.name, False, False, f"not running (data in {self.data_dir})")
        healthy = self.healthy()
        detail = self.health_detail() if healthy else "running but not answering"
        return ServiceStatus(self.name, True, healthy, f"{detail}; data in {self.data_dir}, "
                             f"logs in {self.log_dir}", pid, rss_mib(pid))


def _reap(pid: int) -> None:
    """Collect a child that exited so it does not linger as a zombie (looks alive)."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


def run_maven(args: list[str], what: str, progress: Progress) -> None:
    """Run Maven in batch mode; on failure show the resolution errors it printed."""
    mvn = require_tool("mvn", f"resolve {what} from Maven Central",
                       "Install Maven (e.g. `apt-get install maven`).")
    progress(f"resolving {what} from Maven Central (first run only)")
    done = subprocess.run([mvn, "-B", "-q", *args], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        errors = [line for line in (done.stdout + done.stderr).splitlines() if "ERROR" in line]
        msg = f"Maven could not resolve {what}:\n" + "\n".join(errors[:15])
        raise ServiceError(msg)
