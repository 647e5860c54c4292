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


def survivor_of_killed_parent(script: str) -> int | None:
    """Runs ``script``, which prints the pid of a process it started and SIGKILLs itself;
    the pid if that process is still alive 10 s later (it is then killed), else None.
    """
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    child = int(parent.stdout.readline())
    parent.wait(30)
    parent.stdout.close()
    deadline = time.monotonic() + 10
    while pid_alive(child) and time.monotonic() < deadline:
        time.sleep(0.2)
    if not pid_alive(child):
        return None
    os.kill(child, signal.SIGKILL)
    return child


def test_feed_parser_processes_end_with_a_killed_poller():
    assert survivor_of_killed_parent(KILLED_PARENT) is None, "a parser process outlived its killed poller"


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
    assert survivor_of_killed_parent(GUARDED_PARENT) is None, "a program outlived its killed parent"


GUARDED_PARENT_OF_A_SERVICE = """
import os, signal, subprocess, sys, time
from newsmon.lifeline import reap_descendants_on_exit

reap_descendants_on_exit()
service = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"], start_new_session=True)
print(service.pid, flush=True)
time.sleep(1)
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_a_service_started_in_a_session_of_its_own_outlives_the_guarded_process():
    """Kafka and Elasticsearch, started by ``newsmon demo`` when they are down, keep running."""
    survivor = survivor_of_killed_parent(GUARDED_PARENT_OF_A_SERVICE)
    assert survivor is not None, "the guard ended a process that had detached into its own session"
