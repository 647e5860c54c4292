"""Worker processes that end with the process that started them.

A process pool's workers wait on a queue the parent feeds; when the parent is killed
(SIGKILL, the out-of-memory killer) nothing tells them, and they stay behind holding
their memory. :func:`exit_with_parent`, called in a worker as it starts (a pool's
``initializer``), ends it within a second of its parent's death.
"""

from __future__ import annotations

import os
import threading
import time


def exit_with_parent(poll_seconds: float = 1.0) -> None:
    """End this process as soon as its parent is gone (it is then re-parented)."""
    parent = os.getppid()
    threading.Thread(target=_watch, args=(parent, poll_seconds), name="newsmon-exit-with-parent",
                     daemon=True).start()


def _watch(parent: int, poll_seconds: float) -> None:
    while os.getppid() == parent:
        time.sleep(poll_seconds)
    os._exit(0)
