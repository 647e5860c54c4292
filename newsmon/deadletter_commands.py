"""``newsmon deadletters …``: what the pipeline gave up on (Kafka ``news.deadletter``), and
its replay once the pipeline is fixed.
"""

from __future__ import annotations

import argparse
import json
import sys
import unicodedata
from collections import Counter
from collections.abc import Callable
from typing import Any

from newsmon.analysis.messages import MAX_KEPT_BYTES
from newsmon.connectors.dead_letter_store import (
    STAGES,
    Letter,
    UnreadableLetter,
    existing_topics,
    read_letters,
    replay,
)
from newsmon.moments import parse_moment
from newsmon.settings import Settings

REASON_SHOWN = 300  # characters of a reason in the listing (--json has all of it)
_UNSAFE = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs"})  # control, format (bidi), separators, surrogates
_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}

LIST_HELP = "list the dead letters: messages a pipeline step gave up on, with the step and the reason"
REPLAY_HELP = (
    "send the originals of dead letters again to the topic they came from (their source_topic, "
    "normally the articles topic), key and value bytes unchanged, so that a fixed pipeline "
    "processes them again. Safe to repeat: article ids derive from the articles themselves, so "
    "what the pipeline makes of a replayed message (the indexed article, its story, its alerts) "
    "overwrites what it made before instead of doubling it, and an alert already sent is not sent "
    f"again. A letter whose original was cut (larger than {MAX_KEPT_BYTES // 1024} KiB) is reported "
    "and skipped. Exit status 1 when a letter selected was skipped")


def add_deadletter_commands(commands: Any, leaf: Callable[..., argparse.ArgumentParser]) -> None:
    about = "messages the pipeline gave up on (Kafka news.deadletter): list them, replay them"
    letters = commands.add_parser("deadletters", help=about, description=about)
    actions = letters.add_subparsers(dest="action", required=True, metavar="ACTION")

    listed = leaf(actions, "list", deadletters_list, LIST_HELP)
    listed.add_argument("--since", help="only letters written since: 30m, 12h, 1d, 2w or an ISO date/time "
                        "(default: all the topic holds)")
    listed.add_argument("--stage", action="append", choices=STAGES,
                        help="only letters of this step (repeatable)")
    listed.add_argument("--json", action="store_true", help="one JSON object per letter, in a list")

    replayed = leaf(actions, "replay", deadletters_replay, REPLAY_HELP)
    replayed.add_argument("--stage", action="append", choices=STAGES,
                          help="only letters of this step (repeatable)")
    replayed.add_argument("--offset", action="extend", nargs="+", type=_position, default=None,
                          metavar="P=O", help="only the letter at this PARTITION=OFFSET of the dead-letter "
                          "topic, as `deadletters list` shows it (repeatable; several per flag)")
    replayed.add_argument("--since", help="only letters written since: 30m, 12h, 1d, 2w or an ISO date/time")
    replayed.add_argument("--dry-run", action="store_true", help="say what would be replayed; send nothing")


def _position(text: str) -> tuple[int, int]:
    partition, equals, offset = text.strip().partition("=")
    if not (equals and partition.strip().isdigit() and offset.strip().isdigit()):
        msg = f"expected PARTITION=OFFSET such as 0=12, got {text!r}"
        raise argparse.ArgumentTypeError(msg)
    return int(partition), int(offset)


def harmless(text: str) -> str:
    """``text`` safe to print on a terminal: control and format characters (escape sequences,
    bidi overrides, line breaks) are shown as escapes instead of acting.
    """
    return "".join(_ESCAPES.get(ch) or (f"\\x{ord(ch):02x}" if ord(ch) < 0x100 else f"\\u{ord(ch):04x}")
                   if unicodedata.category(ch) in _UNSAFE else ch for ch in text)


def _selected(args: argparse.Namespace, settings: Settings) -> tuple[list[Letter], list[UnreadableLetter]]:
    """The letters the options select, and the unreadable records among them."""
    since = parse_moment(args.since) if args.since else None
    positions: dict[int, list[int]] | None = None
    if getattr(args, "offset", None):
        positions = {}
        for partition, offset in args.offset:
            positions.setdefault(partition, []).append(offset)
    letters, unreadable = [], []
    for item in read_letters(settings, since=since, positions=positions):
        if isinstance(item, UnreadableLetter):
            if not args.stage or positions is not None:  # its stage is unknown
                unreadable.append(item)
            continue
        if args.stage and item.stage not in args.stage:
            continue
        if since is not None and item.failed_at < since:
            continue
        letters.append(item)
    return letters, unreadable


def _summary(letters: list[Letter]) -> str:
    counts = Counter(letter.stage for letter in letters)
    return ", ".join(f"{stage} {counts[stage]}" for stage in STAGES if counts[stage])


def _line(letter: Letter) -> str:
    reason = harmless(letter.reason)
    if len(reason) > REASON_SHOWN:
        reason = reason[:REASON_SHOWN - 1] + "…"
    cut = (f"  [original cut: {len(letter.value):,} of {letter.size:,} bytes kept; cannot be replayed]"
           if letter.truncated else "")
    return (f"{letter.position:<10} {letter.failed_at:%Y-%m-%dT%H:%M:%SZ}  {letter.stage:<9} "
            f"{harmless(letter.source_topic)} {letter.source_partition}={letter.source_offset}  "
            f"article {harmless(letter.article_id or '-')}\n    {reason}{cut}")


def deadletters_list(args: argparse.Namespace, settings: Settings) -> int:
    letters, unreadable = _selected(args, settings)
    if args.json:
        print(json.dumps([_as_json(letter) for letter in letters], indent=2, ensure_ascii=True))
    else:
        for letter in letters:
            print(_line(letter))
        since = f" since {parse_moment(args.since):%Y-%m-%d %H:%M} UTC" if args.since else ""
        counted = f" ({_summary(letters)})" if letters else ""
        noun = "dead letter" if len(letters) == 1 else "dead letters"
        print(f"{len(letters)} {noun} in {harmless(settings.topic_deadletter)}{since}{counted}")
    for item in unreadable:
        print(f"newsmon: warning: {harmless(str(item))}", file=sys.stderr)
    return 0


def _as_json(letter: Letter) -> dict[str, Any]:
    return {"topic": letter.topic, "partition": letter.partition, "offset": letter.offset,
            "stage": letter.stage, "reason": letter.reason, "article_id": letter.article_id,
            "failed_at": f"{letter.failed_at:%Y-%m-%dT%H:%M:%SZ}", "source_topic": letter.source_topic,
            "source_partition": letter.source_partition, "source_offset": letter.source_offset,
            "original_size": letter.size, "original_truncated": letter.truncated,
            "replayable": not letter.truncated}


def deadletters_replay(args: argparse.Namespace, settings: Settings) -> int:
    letters, unreadable = _selected(args, settings)
    skipped = 0
    for item in unreadable:
        print(f"skipped {item.position}: {harmless(item.reason)}", file=sys.stderr)
        skipped += 1
    sources = existing_topics(settings, {letter.source_topic for letter in letters})
    replayable = []
    for letter in letters:
        if letter.truncated:
            print(f"skipped {letter.position} (article {harmless(letter.article_id or '-')}): its original "
                  f"was cut to {len(letter.value):,} of {letter.size:,} bytes when it was dead-lettered, so "
                  "it cannot be replayed", file=sys.stderr)
            skipped += 1
        elif letter.source_topic not in sources:
            print(f"skipped {letter.position}: its source topic {harmless(letter.source_topic)} does not "
                  "exist", file=sys.stderr)
            skipped += 1
        else:
            replayable.append(letter)
    for letter in replayable:
        if letter.source_topic != settings.topic_articles:
            print(f"note: {letter.position} came from {harmless(letter.source_topic)}, not from the "
                  f"articles topic {harmless(settings.topic_articles)}; it goes back where it came from",
                  file=sys.stderr)
    done = replay(settings, replayable, dry_run=args.dry_run)
    verb = "would replay" if args.dry_run else "replayed"
    for item in done:
        letter = item.letter
        where = "" if item.offset is None else f" → {item.partition}={item.offset}"
        print(f"{verb} {letter.position} ({letter.stage}, article {harmless(letter.article_id or '-')}) "
              f"to {harmless(letter.source_topic)}{where}")
    print(f"{len(done)} {verb}, {skipped} skipped")
    return 1 if skipped else 0
