r"""What newsmon prints: progress lines on stderr (stdout stays the command's result), and
text from feeds made safe for a terminal.

A feed controls its titles, summaries and source names. Printed raw, an escape sequence in
them could clear the screen, hide or recolour text, plant a link (OSC 8) or, with ``\r``
or a bidi override, make a line read differently; so every command that prints stored text
passes it through :func:`printable` (or :func:`printable_json`).
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

_C0_C1 = [*range(0x20), 0x7F, *range(0x80, 0xA0)]
_BIDI_CONTROLS = [*range(0x202A, 0x202F), *range(0x2066, 0x206A)]  # embeddings, overrides, isolates
_LINE_BREAKS = "\t\n\v\f\r\x85\u2028\u2029"

_PRINTABLE = ({code: f"\\x{code:02x}" for code in _C0_C1}
              | {code: f"\\u{code:04x}" for code in _BIDI_CONTROLS}
              | {ord(char): " " for char in _LINE_BREAKS})  # one line per field, as the output is laid out
# json.dumps(ensure_ascii=False) escapes C0 only; these are escaped the JSON way, inside strings.
_JSON_ESCAPES = {code: f"\\u{code:04x}"
                 for code in [0x7F, *range(0x80, 0xA0), *_BIDI_CONTROLS, 0x2028, 0x2029]}


def progress(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def printable(text: object) -> str:
    r"""``text`` on one line with its control characters shown as escapes (``\x1b``) and
    its line breaks and tabs as spaces; everything else, any script or emoji, unchanged.
    """
    return str(text).translate(_PRINTABLE)


def printable_json(value: Any) -> str:
    """``value`` as indented JSON, non-ASCII text kept readable, every control escaped."""
    return json.dumps(value, indent=2, ensure_ascii=False).translate(_JSON_ESCAPES)


def interrupt(*_: object) -> None:
    """A signal handler that stops a long-running command like Ctrl-C (SIGTERM from a service manager)."""
    raise KeyboardInterrupt
