"""Every fixture feed in tests/feeds/, served over real HTTP and read by the poller.

Each fixture starts with a comment saying what real-world quirk it shows and what is
expected (YAML under ``expect:``); this test holds the poller to it.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from newsmon.connectors.article import article_id
from newsmon.connectors.feed_list import FeedSpec
from newsmon.connectors.feed_poller import FeedPoller
from newsmon.connectors.feed_store import FeedStore
from newsmon.schemas import problems

FIXTURES = sorted((Path(__file__).parent / "feeds").iterdir())


def header(path: Path) -> dict:
    """The fixture's leading comment: a ``shows:`` line, then YAML (``serve:``, ``expect:``)."""
    data = path.read_bytes()
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        text = data.decode("utf-16")
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = data.decode("cp1252")  # the fixtures that are not UTF-8 on purpose
    first, _, rest = re.search(r"<!--(.*?)-->", text, re.S).group(1).strip().partition("\n")
    return {"shows": first.removeprefix("shows:").strip()} | yaml.safe_load(rest)


def test_there_are_at_least_30_distinct_quirks():
    quirks = {header(path)["shows"] for path in FIXTURES}
    assert len(quirks) == len(FIXTURES) >= 30


@pytest.mark.parametrize("path", FIXTURES, ids=[p.stem for p in FIXTURES])
def test_fixture_feed(path: Path, feed_server, feed_settings):
    spec = header(path)
    expect = spec["expect"]
    content_type = (spec.get("serve") or {}).get("content_type", "application/rss+xml")
    url = feed_server.serve(f"/feeds/{path.name}", path.read_bytes(), headers={"Content-Type": content_type})
    store = FeedStore.at_home(feed_settings.home)
    store.add([FeedSpec(url=url, name=path.stem)])
    outcome = FeedPoller(feed_settings, store).poll(store.statuses()[0])

    if "error" in expect:
        assert outcome.error and expect["error"] in outcome.error
        assert outcome.messages == []
        return
    assert outcome.error is None
    for message in outcome.messages:
        assert problems("article", message) == []
    if "warning" in expect:
        assert bool(outcome.warning) == expect["warning"], outcome.warning
    assert outcome.rejected == expect.get("rejected", 0)
    for text in expect.get("absent", []):
        assert all(text not in json.dumps(m, ensure_ascii=False) for m in outcome.messages)
    if "max_message_bytes" in expect:
        assert all(len(json.dumps(m)) <= expect["max_message_bytes"] for m in outcome.messages)
    if "articles" not in expect:
        return
    assert len(outcome.messages) == len(expect["articles"]), [m["title"] for m in outcome.messages]
    for message, wanted in zip(outcome.messages, expect["articles"], strict=True):
        for key, value in wanted.items():
            if key == "id_from":
                basis = message["guid"] if value == "guid" else message["title"]
                assert message["article_id"] == article_id(None, feed_url=url, guid=basis)
            elif isinstance(value, str):
                assert message[key] == value.replace("{server}", feed_server.url("")), key
            else:
                assert message[key] == value, key
