"""Feed lists from OPML and YAML: nesting, duplicates, bad values named."""

from datetime import timedelta

import pytest

from newsmon.connectors.feed_list import FeedSpec, parse_duration, read_opml, read_yaml, write_opml
from newsmon.errors import ConfigError

OPML = """<?xml version="1.0" encoding="UTF-8"?>
<opml version="2.0">
  <head><title>Analyst feeds</title></head>
  <body>
    <outline text="Europe">
      <outline type="rss" text="Wire — Europe" xmlUrl="https://wire.example.com/europe.rss" language="en"/>
      <outline text="A folder within a folder">
        <outline type="rss" title="Minsk Daily" text="ignored" xmlUrl="https://minsk.example.by/feed/"/>
      </outline>
    </outline>
    <outline type="link" text="A web page, not a feed" url="https://example.com/"/>
    <outline type="rss" text="Wire again" xmlUrl="HTTPS://WIRE.example.com/europe.rss#dup"/>
  </body>
</opml>"""


def test_opml_outlines_at_any_depth_become_feeds_once_each():
    feeds = read_opml(OPML.encode())
    assert [(f.name, f.url, f.language) for f in feeds] == [
        ("Wire — Europe", "https://wire.example.com/europe.rss", "en"),
        ("Minsk Daily", "https://minsk.example.by/feed/", None),
    ]


def test_opml_round_trips_through_write_opml():
    feeds = read_opml(OPML)
    assert read_opml(write_opml(feeds)) == feeds


@pytest.mark.parametrize(("document", "message"), [
    ("<opml><body><outline", "not a readable OPML"),
    ("<rss version='2.0'/>", "root element is <rss>"),
    ("<opml><body><outline xmlUrl='ftp://x.example/feed'/></body></opml>", r"an http\(s\) URL"),
])
def test_bad_opml_is_refused_clearly(document, message):
    with pytest.raises(ConfigError, match=message):
        read_opml(document)


def test_yaml_feed_list():
    feeds = read_yaml("""
feeds:
  - url: https://wire.example.com/europe.rss
    name: Wire Europe
    poll_interval: 2m
    language: en-GB
    full_text: true
  - url: https://minsk.example.by/feed/
    enabled: false
""")
    assert feeds[0] == FeedSpec(url="https://wire.example.com/europe.rss", name="Wire Europe",
                                poll_interval=timedelta(minutes=2), language="en-GB", full_text=True)
    assert feeds[1].name == "https://minsk.example.by/feed/"
    assert not feeds[1].enabled


@pytest.mark.parametrize(("document", "message"), [
    ("feeds: {url: x}", "mapping with a `feeds:` list"),
    ("feeds: [https://a.example/feed]", "feed #1 must be a mapping"),
    ("feeds: [{url: 'https://a.example/f', poll: 5}]", "unknown keys poll"),
    ("feeds: [{url: 'https://a.example/f', poll_interval: 5s}]", "shorter than 30s"),
    ("feeds: [{url: 'https://a.example/f', poll_interval: soon}]", "duration looks like"),
    ("feeds: [{url: 'https://a.example/f', language: 'English'}]", "BCP 47"),
])
def test_bad_yaml_names_the_feed_and_the_value(document, message):
    with pytest.raises(ConfigError, match=message):
        read_yaml(document)


@pytest.mark.parametrize("key", ["enabled", "full_text"])
@pytest.mark.parametrize("value", ['"false"', '"true"', "'no'", "0", "1", "[]"])
def test_yes_or_no_keys_take_real_booleans_only(key, value):
    with pytest.raises(ConfigError, match=rf"feed #1 \(https://a.example/f\): {key} must be true or false"):
        read_yaml(f"feeds: [{{url: 'https://a.example/f', {key}: {value}}}]")


@pytest.mark.parametrize(("value", "seconds"),
                         [(90, 90), ("90s", 90), ("5m", 300), ("1.5h", 5400), ("1d", 86400)])
def test_durations(value, seconds):
    assert parse_duration(value) == timedelta(seconds=seconds)


@pytest.mark.parametrize("value", [float("inf"), float("nan"), 1e300, "1e400", "9" * 30 + "d", ".inf"])
def test_durations_that_cannot_be_poll_intervals_are_refused(value):
    with pytest.raises(ConfigError, match="duration"):
        parse_duration(value)


@pytest.mark.parametrize("value", [".inf", ".nan", "1e400", "-5m", "99999999999999999999d", "[5m]", "true"])
def test_a_poll_interval_that_is_not_a_duration_is_named(value):
    with pytest.raises(ConfigError, match=r"feed #1 \(https://a.example/f\): poll_interval"):
        read_yaml(f"feeds: [{{url: 'https://a.example/f', poll_interval: {value}}}]")


@pytest.mark.parametrize(("value", "message"), [("8d", "longer than 7 days"), (-60, "shorter than 30s")])
def test_poll_intervals_stay_within_limits(value, message):
    with pytest.raises(ConfigError, match=rf"feed https://a.example/f: poll interval .* is {message}"):
        read_yaml(f"feeds: [{{url: 'https://a.example/f', poll_interval: {value}}}]")


def test_the_example_feed_list_in_seeds_imports():
    from importlib import resources

    feeds = read_opml((resources.files("newsmon.seeds") / "feeds.example.opml").read_bytes())
    assert len(feeds) == 8
    assert all(feed.url.startswith("https://") and feed.language for feed in feeds)
