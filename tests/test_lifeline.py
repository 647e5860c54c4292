"""Worker processes end with their parent, even when it is killed with no clean-up."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from newsmon.deploy.local_service import pid_alive

KILLED_PARENT = """
import os, signal
from newsmon.connectors.worker_processes import WorkerProcesses

if __name__ == "__main__":
    pool = WorkerProcesses(1, name="feed parser")
    print(pool.call(os.getpid), flush=True)
    os.kill(os.getpid(), signal.SIGKILL)
"""


def test_feed_parser_processes_end_with_a_killed_poller():
    parent = subprocess.Popen([sys.executable, "-c", KILLED_PARENT], stdout=subprocess.PIPE, text=True)
    worker = int(parent.stdout.readline())
    parent.wait(30)
    parent.stdout.close()
    deadline = time.monotonic() + 10
    while pid_alive(worker) and time.monotonic() < deadline:
        time.sleep(0.2)
    try:
        assert not pid_alive(worker), f"parser process {worker} outlived its killed poller"
    finally:
        if pid_alive(worker):
            os.kill(worker, signal.SIGKILL)


GUARDED_PARENT = """
import os, signal, subprocess, sys, time
from newsmon.lifeline import reap_descendants_on_exit

reap_descendants_on_exit()
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
print(child.pid, flush=True)
time.sleep(1)  # the guard looks for new descendants ten times a second
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_programs_a_killed_process_started_end_with_it():
    """Beam starts Prism with no way to tie it to its parent: the guard ends it."""
    parent = subprocess.Popen([sys.executable, "-c", GUARDED_PARENT], stdout=subprocess.PIPE, text=True)
    child = int(parent.stdout.readline())
    parent.wait(30)
    parent.stdout.close()
    deadline = time.monotonic() + 10
    while pid_alive(child) and time.monotonic() < deadline:
        time.sleep(0.2)
    try:
        assert not pid_alive(child), f"process {child} outlived its killed parent"
    finally:
        if pid_alive(child):
            os.kill(child, signal.SIGKILL)
