"""Processes that end with the process that started them.

A killed process (SIGKILL, the out-of-memory killer) runs no clean-up, and what it
started stays behind holding memory and ports:

- a process pool's workers wait on a queue the parent feeds; :func:`exit_with_parent`,
  called in a worker as it starts (a pool's ``initializer``), ends it within a second of
  its parent's death;
- programs started by libraries we do not control (Beam starts Prism, its local
  streaming runner, and stops it only in an exit handler) cannot be changed;
  :func:`reap_descendants_on_exit` starts a small guard process that ends them when the
  process that called it is gone, however it went. A descendant that started a session of
  its own is left alone: that is how a service meant to outlive its starter detaches
  (``newsmon demo`` starts Kafka and Elasticsearch that way when they are not running).
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

import psutil

# The guard looks often while descendants come and go (a pipeline starts Prism and its
# workers in its first minute) and seldom once they have settled: a look costs ~2 ms.
GUARD_POLL_BUSY, GUARD_POLL_SETTLED, GUARD_SETTLED_AFTER = 0.1, 1.0, 30.0
GUARD_TERM_SECONDS = 3.0


def exit_with_parent(poll_seconds: float = 1.0) -> None:
    """End this process as soon as its parent is gone (it is then re-parented)."""
    parent = os.getppid()
    threading.Thread(target=_watch, args=(parent, poll_seconds), name="newsmon-exit-with-parent",
                     daemon=True).start()


def _watch(parent: int, poll_seconds: float) -> None:
    while os.getppid() == parent:
        time.sleep(poll_seconds)
    os._exit(0)


_guards: dict[int, subprocess.Popen] = {}


def reap_descendants_on_exit() -> subprocess.Popen:
    """Start a guard (one per process) that ends this process's descendants once it has ended.

    The guard runs in a session of its own, so a Ctrl-C in the terminal reaches only the
    guarded process; it sends SIGTERM, then SIGKILL after a few seconds, to every
    descendant it saw in the guarded process's session that is still running, and exits.
    """
    running = _guards.get(os.getpid())
    if running is None or running.poll() is not None:
        running = _guards[os.getpid()] = subprocess.Popen(
            [sys.executable, "-m", "newsmon.lifeline", str(os.getpid())],
            stdin=subprocess.DEVNULL, start_new_session=True)
    return running


def guard(pid: int) -> None:
    """Follow ``pid``'s descendants while it lives; end the ones left when it is gone."""
    try:
        guarded = psutil.Process(pid)
    except psutil.NoSuchProcess:
        return
    session = os.getsid(pid)
    seen: dict[int, psutil.Process] = {}
    changed = time.monotonic()
    while _alive(guarded):
        try:
            for child in guarded.children(recursive=True):
                if child.pid != os.getpid() and child.pid not in seen and _in_session(child, session):
                    seen[child.pid], changed = child, time.monotonic()
        except psutil.NoSuchProcess:
            break
        settled = time.monotonic() - changed > GUARD_SETTLED_AFTER
        time.sleep(GUARD_POLL_SETTLED if settled else GUARD_POLL_BUSY)
    left = [process for process in seen.values() if process.is_running()]  # is_running spots reused pids
    for process in left:
        _signal(process, psutil.Process.terminate)
    _, still = psutil.wait_procs(left, timeout=GUARD_TERM_SECONDS)
    for process in still:
        _signal(process, psutil.Process.kill)


def _in_session(process: psutil.Process, session: int) -> bool:
    try:
        return os.getsid(process.pid) == session
    except ProcessLookupError:
        return False


def _alive(process: psutil.Process) -> bool:
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _signal(process: psutil.Process, send) -> None:
    try:
        send(process)
    except psutil.NoSuchProcess:
        pass


if __name__ == "__main__":
    guard(int(sys.argv[1]))
