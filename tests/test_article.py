"""Normalising feed items into article messages: URLs, ids, text, dates, the schema."""

from datetime import UTC, datetime

import feedparser
import pytest

from newsmon.connectors.article import (
    article_id,
    canonical_url,
    fit_message,
    message_bytes,
    normalize_entry,
    plain_text,
    publication_time,
)
from newsmon.schemas import SchemaViolationError, problems, validate

FETCHED = datetime(2025, 9, 12, 8, 30, tzinfo=UTC)
FEED = "https://news.example.org/world/rss.xml"


@pytest.mark.parametrize(("raw", "expected"), [
    ("HTTPS://News.Example.ORG/a/b?id=7#comments", "https://news.example.org/a/b?id=7"),
    ("https://news.example.org:443/a", "https://news.example.org/a"),
    ("http://news.example.org:8080/a", "http://news.example.org:8080/a"),
    ("https://news.example.org/a?utm_source=rss&utm_medium=feed&id=3&fbclid=x", "https://news.example.org/a?id=3"),
    ("https://news.example.org/a?b=2&a=1", "https://news.example.org/a?a=1&b=2"),
    ("https://news.example.org", "https://news.example.org/"),
    ("/world/2025/09/belarus-prisoners", "https://news.example.org/world/2025/09/belarus-prisoners"),
    ("mailto:desk@example.org", None),
    ("javascript:alert(1)", None),
    ("https://news.example.org:99999/a", None),
])
def test_canonical_url(raw, expected):
    assert canonical_url(raw, base=FEED) == expected


def test_the_same_story_from_two_feeds_gets_one_id():
    a = canonical_url("https://News.example.org/story?utm_campaign=x", base=FEED)
    b = canonical_url("https://news.example.org/story#top", base="https://other.example.net/feed")
    assert article_id(a, feed_url=FEED, guid="1") == article_id(b, feed_url="https://x.test/f", guid="2")


def test_items_without_link_are_identified_by_feed_and_guid():
    first = article_id(None, feed_url=FEED, guid="urn:uuid:1")
    assert first == article_id(None, feed_url=FEED, guid="urn:uuid:1")
    assert first != article_id(None, feed_url="https://other.example.net/feed", guid="urn:uuid:1")
    with pytest.raises(ValueError, match="neither a link nor a GUID"):
        article_id(None, feed_url=FEED, guid=None)


@pytest.mark.parametrize(("markup", "expected"), [
    ("<b>Belarus</b> frees 52&nbsp;prisoners", "Belarus frees 52 prisoners"),
    ("AT&amp;amp;T &lt;b&gt;", "AT&T <b>"),
    ("<p>One.</p><script>track()</script><p>Two.</p>", "One. Two."),
    ("   ", None),
    (None, None),
])
def test_plain_text(markup, expected):
    assert plain_text(markup) == expected


def test_paragraphs_survive_in_full_text():
    assert plain_text("<p>First  line.</p><p>Second</p>", keep_paragraphs=True) == "First line.\nSecond"


def test_missing_or_future_dates_fall_back_to_fetch_time_flagged():
    assert publication_time([None], FETCHED) == (FETCHED, True)
    future = datetime(2030, 1, 1, tzinfo=UTC)
    assert publication_time([future], FETCHED) == (FETCHED, True)
    earlier = datetime(2025, 9, 11, 15, 0, tzinfo=UTC)
    assert publication_time([None, earlier], FETCHED) == (earlier, False)


RSS = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"
     xmlns:content="http://purl.org/rss/1.0/modules/content/">
<channel><title>Example World</title><link>https://news.example.org/</link><language>en-GB</language>
<item>
  <title><![CDATA[Belarus frees <em>52</em> prisoners]]></title>
  <link>/world/belarus-frees-52?utm_source=rss</link>
  <guid isPermaLink="false">ex-1001</guid>
  <description>&lt;p&gt;Ihar Losik among those released.&lt;/p&gt;</description>
  <content:encoded><![CDATA[<p>VILNIUS: Belarus freed 52 prisoners.</p>
    <p>Ihar Losik was among them.</p>]]></content:encoded>
  <dc:creator>Desk Reporter</dc:creator>
  <category>Europe</category><category>europe</category>
  <pubDate>Thu, 11 Sep 2025 14:05:00 +0300</pubDate>
</item>
<item><title>No date, no link</title><guid isPermaLink="false">ex-1002</guid></item>
</channel></rss>"""


def test_rss_items_become_schema_valid_articles():
    parsed = feedparser.parse(RSS)
    first, second = (normalize_entry(entry, feed_url=FEED, source_name="Example World", fetched_at=FETCHED,
                                     feed_language=parsed.feed.get("language"))
                     for entry in parsed.entries)

    assert first.url == "https://news.example.org/world/belarus-frees-52"
    assert first.title == "Belarus frees 52 prisoners"
    assert first.summary == "Ihar Losik among those released."
    assert first.content == "VILNIUS: Belarus freed 52 prisoners.\nIhar Losik was among them."
    assert first.published_at == datetime(2025, 9, 11, 11, 5, tzinfo=UTC)
    assert not first.published_at_estimated
    assert first.authors == ("Desk Reporter",)
    assert first.categories == ("Europe",)
    assert first.language == "en-gb"

    assert second.url is None
    assert second.published_at_estimated
    assert second.article_id == article_id(None, feed_url=FEED, guid="ex-1002")

    for article in (first, second):
        validate("article", article.to_message())


def test_schema_violations_name_the_field():
    message = normalize_entry(feedparser.parse(RSS).entries[0], feed_url=FEED, source_name="Example World",
                              fetched_at=FETCHED).to_message()
    message["article_id"] = "not-a-hash"
    del message["title"]
    found = problems("article", message)
    assert any(line.startswith("article_id:") for line in found)
    assert any("'title' is a required property" in line for line in found)
    with pytest.raises(SchemaViolationError, match="schemas/article.schema.json"):
        validate("article", message)


@pytest.mark.parametrize("word", ["Беларусь", 'quote"d', "tab\tline\nbreak", "emoji😀"])
def test_content_is_cut_at_a_word_to_fit_a_byte_budget(word):
    message = normalize_entry(feedparser.parse(RSS).entries[0], feed_url=FEED, source_name="Example World",
                              fetched_at=FETCHED).to_message()
    message["content"] = " ".join([word] * 60_000)
    budget = 100_000
    fitted, value = fit_message(message, budget)
    assert len(value) <= budget and value == message_bytes(fitted)
    assert budget - len(value) < 200 + 4 * len(word)  # as much as fits, up to a word
    assert fitted["content_truncated"] is True and problems("article", fitted) == []
    assert message["content"].startswith(fitted["content"]) and fitted["content"].endswith(word)
    assert "content_truncated" not in message  # the caller's message is left alone
    assert fitted | {"content": None} == message | {"content": None, "content_truncated": True}


def test_a_message_that_fits_is_sent_as_it_is():
    message = normalize_entry(feedparser.parse(RSS).entries[0], feed_url=FEED, source_name="Example World",
                              fetched_at=FETCHED).to_message()
    assert "content_truncated" not in message
    fitted, value = fit_message(message, 1_000_000)
    assert fitted is message and value == message_bytes(message)
    with pytest.raises(ValueError, match="without its content"):
        fit_message(message, 200)
