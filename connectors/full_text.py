"""The main text of an article's web page, for feeds that carry only a teaser.

Off by default (it costs one page download per new article); on per feed or for all.
The page is fetched with a guarded :class:`~newsmon.connectors.http_fetch.Fetcher`,
because the link comes from an untrusted feed, and trafilatura keeps the article body
without navigation, comments and boilerplate.

Extraction is costly on a large page (a 10 MiB page took 113 s of CPU and 1 GiB of
memory), so the poller runs :func:`main_text_within` in a worker process capped in
address space, with a time budget: over either, the article is sent without full text
and the reason is logged.
"""

from __future__ import annotations

import logging
import signal
from collections.abc import Callable

import trafilatura

from newsmon.connectors.http_fetch import PAGE_ACCEPT, Fetcher, FetchError

log = logging.getLogger(__name__)
MIN_CHARACTERS = 200  # shorter than this, an extraction is a cookie banner or a paywall notice


class NoFullText(Exception):  # noqa: N818 - an outcome, not a failure of newsmon's
    """The page was fetched, but gives no full text; the message says why."""


class _OverBudget(BaseException):
    """Raised by the timer in the extracting process: a BaseException, so that none of
    trafilatura's own ``except Exception`` blocks can swallow it.
    """


def main_text(html: bytes, url: str) -> str | None:
    """The article body of a page; None when there is none worth having."""
    text = trafilatura.extract(html, url=url, include_comments=False, include_tables=False,
                               favor_precision=True, deduplicate=True)
    return text if text and len(text) >= MIN_CHARACTERS else None


def main_text_within(html: bytes, url: str, seconds: float) -> str | None:
    """:func:`main_text`, stopped after ``seconds`` (NoFullText). Uses SIGALRM, so it runs
    in the main thread of a worker process.
    """

    def expire(_signum, _frame) -> None:
        raise _OverBudget

    previous = signal.signal(signal.SIGALRM, expire)
    try:
        signal.setitimer(signal.ITIMER_REAL, seconds)
        try:
            return main_text(html, url)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
    except _OverBudget:
        msg = f"extraction took longer than {seconds:g}s"
        raise NoFullText(msg) from None
    except MemoryError:
        msg = "extraction needed more memory than its process may use"
        raise NoFullText(msg) from None


def page_text(fetcher: Fetcher, url: str, *,
              extract: Callable[[bytes, str], str | None] = main_text) -> str | None:
    """The extracted text of the page at ``url``; None (with the reason logged) when there is none."""
    try:
        page = fetcher.get(url, accept=PAGE_ACCEPT)
    except FetchError as exc:
        log.warning("full text of %s not fetched: %s", url, exc)
        return None
    try:
        text = extract(page.body, page.url)
    except NoFullText as exc:
        log.warning("full text of %s not used: %s", url, exc)
        return None
    if text is None:
        log.info("full text of %s: no article body found", url)
    return text
