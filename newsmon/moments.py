"""Points in time as users type them: ``30m``, ``12h``, ``1d``, ``2w`` ago, or an ISO date/time;
and lengths of time in the same units.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from newsmon.errors import ConfigError

_AGO = re.compile(r"^(\d+)([mhdw])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_moment(text: str, option: str = "--since", now: datetime | None = None) -> datetime:
    """``30m``, ``12h``, ``1d``, ``2w`` before now, or an ISO date/time (UTC when no zone)."""
    now = now or datetime.now(UTC)
    match = _AGO.match(text.strip())
    try:
        if match:
            return now - timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
        moment = datetime.fromisoformat(text.strip())
    except (ValueError, OverflowError) as exc:  # not a date, or further back than year 1
        msg = f"{option} takes 30m, 12h, 1d, 2w or an ISO date such as 2026-11-01, got {text!r}"
        raise ConfigError(msg) from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def parse_duration(text: str, option: str) -> timedelta:
    """``10m``, ``1h``, ``1d``, ``2w``: a length of time above zero."""
    match = _AGO.match(text.strip())
    if not match or int(match.group(1)) == 0:
        msg = f"{option} takes a length of time such as 10m, 1h, 1d or 2w, got {text!r}"
        raise ConfigError(msg)
    try:
        return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
    except OverflowError as exc:
        msg = f"{option}: {text!r} is too long"
        raise ConfigError(msg) from exc
