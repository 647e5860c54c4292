"""The one backoff policy: waits that double per failed attempt up to a cap, on tenacity.

:func:`delay` says how long to wait after a failure, for code that schedules the next try
itself (the feed poller, the notifiers); :func:`patiently` retries a call in place for as
long as its failures are worth retrying (the Elasticsearch writers).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

import tenacity

T = TypeVar("T")


def delay(attempt: int, *, base: float, cap: float, retry_after: float | None = None) -> float:
    """Seconds to wait after failed attempt number ``attempt`` (1-based): ``base`` doubled per
    attempt up to ``cap``, and never less than a server's ``Retry-After``.
    """
    state = tenacity.RetryCallState(None, None, (), {})
    state.attempt_number = max(1, attempt)
    wait = tenacity.wait_exponential(multiplier=base, max=cap)(state)
    return max(wait, retry_after) if retry_after is not None else wait


def patiently(call: Callable[[], T], *, what: str, retry_if: Callable[[BaseException], bool],
              base: float = 1.0, cap: float = 30.0, log: logging.Logger | None = None,
              sleep: Callable[[float], None] | None = None) -> T:
    """``call()``, retried with :func:`delay` between attempts for as long as its exception
    satisfies ``retry_if`` (it blocks: an outage delays work, it loses none); any other
    exception is raised at once.
    """
    logger = log or logging.getLogger(__name__)

    def report(state: tenacity.RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        logger.warning("%s failed (%s: %s); retrying in %.1fs (attempt %d)", what, type(error).__name__,
                       error, state.upcoming_sleep, state.attempt_number)

    retrying = tenacity.Retrying(
        retry=tenacity.retry_if_exception(retry_if),
        wait=lambda state: delay(state.attempt_number, base=base, cap=cap),
        before_sleep=report, reraise=True, **({"sleep": sleep} if sleep else {}))
    return retrying(call)
