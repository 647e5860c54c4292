"""Feed text that attacks a terminal, and a check for what a terminal would obey."""

from __future__ import annotations

import unicodedata

HOSTILE = "Minsk\x1b[2J\x1b]8;;https://evil.example\x07news\x1b]8;;\x07\rFAKE\x9b31m\u202egnp.exe\x7f"


def raw_controls(text: str) -> list[str]:
    """Characters a terminal would act on (every line break but \\n too)."""
    return [c for c in text if c != "\n" and (unicodedata.category(c) in ("Cc", "Zl", "Zp")
                                              or 0x202A <= ord(c) <= 0x202E or 0x2066 <= ord(c) <= 0x2069)]
