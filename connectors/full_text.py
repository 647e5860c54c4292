"""The main text of an article's web page, for feeds that carry only a teaser.

Off by default (it costs one page download per new article); on per feed or for all.
The page is fetched with a guarded :class:`~newsmon.connectors.http_fetch.Fetcher`,
because the link comes from an untrusted feed, and trafilatura keeps the article body
without navigation, comments and boilerplate.
"""

from __future__ import annotations

import logging

import trafilatura

from newsmon.connectors.http_fetch import PAGE_ACCEPT, Fetcher, FetchError

log = logging.getLogger(__name__)
MIN_CHARACTERS = 200  # shorter than this, an extraction is a cookie banner or a paywall notice


def page_text(fetcher: Fetcher, url: str) -> str | None:
    """The extracted text of the page at ``url``; None (with the reason logged) when there is none."""
    try:
        page = fetcher.get(url, accept=PAGE_ACCEPT)
    except FetchError as exc:
        log.warning("full text of %s not fetched: %s", url, exc)
        return None
    text = trafilatura.extract(page.body, url=page.url, include_comments=False, include_tables=False,
                               favor_precision=True, deduplicate=True)
    if not text or len(text) < MIN_CHARACTERS:
        log.info("full text of %s: no article body found", url)
        return None
    return text
