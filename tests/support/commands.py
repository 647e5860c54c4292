"""Running the real ``newsmon`` command in a subprocess: its settings through ``NEWSMON_*``
variables, its output collected line by line while it runs, and Ctrl-C to stop it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

from newsmon.settings import env_name

SETTINGS_PASSED = ("home", "kafka_bootstrap_servers", "es_url", "topic_articles", "topic_deadletter",
                   "topic_alerts", "es_index_articles", "es_index_alerts", "es_index_watchlist",
                   "es_index_stories", "topic_spikes", "es_index_spikes")


def command_env(settings, **extra: str) -> dict[str, str]:
    """The environment of a subprocess that uses ``settings`` (and nothing from the caller's NEWSMON_*)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSMON_")}
    for name in SETTINGS_PASSED:
        value = getattr(settings, name)
        env[env_name(name)] = ",".join(value) if isinstance(value, tuple) else str(value)
    return env | extra


def run_newsmon(*args: str, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess:
    """``newsmon *args`` to its end, its output captured."""
    return subprocess.run([sys.executable, "-m", "newsmon", *args], env=env, capture_output=True, text=True,
                          timeout=timeout, check=False)


class Lines:
    """Collects a stream's lines as they are written."""

    def __init__(self, stream) -> None:
        self.lines: list[str] = []
        self._thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self._thread.start()

    def _read(self, stream) -> None:
        for line in stream:
            self.lines.append(line.rstrip("\n"))

    def text(self) -> str:
        return "\n".join(self.lines)

    def join(self) -> str:
        self._thread.join(30)
        return self.text()


class Command:
    """``newsmon *args`` running in the background; :meth:`stop` is Ctrl-C."""

    def __init__(self, *args: str, env: dict[str, str]) -> None:
        self.process = subprocess.Popen([sys.executable, "-m", "newsmon", *args], env=env, text=True,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.out, self.err = Lines(self.process.stdout), Lines(self.process.stderr)

    def running(self) -> bool:
        return self.process.poll() is None

    def wait_for_line(self, check, what: str, timeout: float = 60.0) -> str:
        """The first stderr line for which ``check(line)`` holds; fails when the command
        exits or ``timeout`` passes first.
        """
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in list(self.err.lines):
                if check(line):
                    return line
            if not self.running():
                break
            time.sleep(0.2)
        msg = f"no line {what} (exit {self.process.poll()}):\n{self.err.text()}"
        raise AssertionError(msg)

    def stop(self, timeout: float = 60.0) -> int:
        """Ctrl-C, then the exit status (killed, and the test failed, when it does not stop)."""
        if self.running():
            self.process.send_signal(signal.SIGINT)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)
            msg = f"the command did not stop within {timeout:.0f}s:\n{self.err.text()}"
            raise AssertionError(msg) from None
        finally:
            self.out.join()
            self.err.join()
