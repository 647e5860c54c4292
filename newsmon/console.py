"""Progress lines for long work, on stderr so that stdout stays the command's result."""

from __future__ import annotations

import sys
import time


def progress(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)
