"""What an alert message says (``newsmon.analysis.alert_text``): subjects, the plain-text and
HTML bodies and Slack blocks, with untrusted titles, evidence and links made harmless.
"""

from __future__ import annotations

import json

from newsmon.analysis.alert_text import delivery_id, html_text, plain_text, slack_body, stories, subject
from tests.support.notifiers import make_alert

HOSTILE = {"title": "Minsk <script>alert(1)</script> & | talks", "person": "Ihar <b>Losik</b>",
           "evidence": ["He said <img src=x onerror=alert(1)> and left."]}


def test_subject_names_the_person_and_story_or_counts_a_digest():
    alert = make_alert(title="Belarus frees 52 prisoners\n  as the US eases sanctions")
    assert subject([alert]) == ("newsmon: Ihar Losik named in "
                                "'Belarus frees 52 prisoners as the US eases sanctions'")
    digest = [alert, make_alert(2, list_name="heads-of-state"), make_alert(3)]
    assert subject(digest) == "newsmon digest: 3 alerts for belarus-watch, heads-of-state"


def test_delivery_id_is_the_alert_id_or_a_hash_of_the_digest():
    alerts = [make_alert(n) for n in range(3)]
    assert delivery_id(alerts[:1]) == alerts[0]["alert_id"]
    assert delivery_id(alerts).startswith("digest-") and delivery_id(alerts) == delivery_id(alerts[::-1])
    assert delivery_id(alerts) != delivery_id(alerts[:2])


def test_plain_text_lists_every_alert():
    alerts = [make_alert(1), make_alert(2) | {"url": None, "topics": []}]
    text = plain_text(alerts)
    assert text.startswith("2 alerts in 2 stories for belarus-watch.\n")
    assert f"1. {alerts[0]['title']}" in text and f"2. {alerts[1]['title']}" in text
    assert text.count("  - Ihar Losik (list belarus-watch), matched as Igor Losik") == 2
    assert alerts[0]["url"] in text and "Link:       (no link)" in text and "Topics:     (none)" in text
    assert "> Blogger Igor Losik was among those released (2), his wife said." in text
    assert "Story:      1 article from 1 source: Example News" in text


def _story_of(alert: dict, *, revision: int, gained, count: int, sources) -> dict:
    """``alert`` as later articles of its story left it."""
    return alert | {"revision": revision, "gained_topics": list(gained), "article_count": count,
                    "sources": list(sources)}


def test_a_digest_has_one_entry_per_story_with_its_articles_and_sources():
    losik = make_alert(1)
    statkevich = make_alert(1, person="Mikola Statkevich") | {"matched_forms": ["Statkevich"]}
    assert statkevich["story_id"] == losik["story_id"] != make_alert(2)["story_id"]
    revised = _story_of(losik, revision=2, gained=["diplomatic_move"], count=3,
                        sources=("Daily Courier", "Example News"))
    alerts = [losik, statkevich, make_alert(2), revised]  # losik twice: revisions 1 and 2
    assert [len(story["alerts"]) for story in stories(alerts)] == [2, 1]
    story = stories(alerts)[0]
    assert story["article_count"] == 3 and story["sources"] == ["Daily Courier", "Example News"]
    assert [a.get("revision", 1) for a in story["alerts"]] == [2, 1]  # the latest revision shown
    assert subject(alerts) == "newsmon digest: 4 alerts in 2 stories for belarus-watch"
    text = plain_text(alerts)
    assert text.startswith("4 alerts in 2 stories for belarus-watch.\n")
    assert text.count(losik["title"]) == 2  # one heading per story
    assert "Story:      3 articles from 2 sources: Daily Courier, Example News" in text
    assert "Update (revision 2): the story now also concerns diplomatic_move" in text
    assert "- Mikola Statkevich (list belarus-watch), matched as Statkevich" in text
    page = html_text(alerts)
    assert page.count("<h3>") == 2 and "3 articles from 2 sources" in page
    slack = slack_body(alerts)
    assert len(slack["blocks"]) == 1 + 2 * 2 and "Mikola Statkevich" in slack["blocks"][1]["text"]["text"]


def test_a_later_revision_says_what_the_story_gained_and_is_delivered_under_its_own_id():
    first = make_alert(5)
    update = _story_of(first, revision=2, gained=["diplomatic_move", "sanctions_relief"], count=2,
                       sources=("Daily Courier", "Example News"))
    assert subject([update]) == (f"newsmon update: Ihar Losik story now also diplomatic_move, "
                                 f"sanctions_relief: '{first['title']}'")
    assert delivery_id([update]) == f"{first['alert_id']}-r2" != delivery_id([first])
    assert delivery_id([first, update]) != delivery_id([first, first])
    text = plain_text([update])
    assert text.startswith(
        "Update (revision 2): the story now also concerns diplomatic_move, sanctions_relief\n")
    assert "Story:      2 articles from 2 sources: Daily Courier, Example News" in text
    assert "Update (revision 2)" in html_text([update])
    assert "Update (revision 2)" in json.dumps(slack_body([update]))
    assert "Update" not in plain_text([first]) and "Update" not in json.dumps(slack_body([first]))


def test_html_escapes_what_the_feeds_wrote_and_links_only_http():
    page = html_text([make_alert() | HOSTILE])
    assert "<script>" not in page and "<img" not in page and "<b>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp;" in page
    assert f'<a href="{make_alert()["url"]}">' in page
    assert "<a " not in html_text([make_alert() | {"url": "javascript:alert(1)"}])


def test_slack_text_is_escaped_and_links_only_http():
    blocks = json.dumps(slack_body([make_alert() | HOSTILE])["blocks"], ensure_ascii=False)
    assert "<script>" not in blocks and "&lt;script&gt;alert(1)&lt;/script&gt; &amp; ¦ talks" in blocks
    unlinked = json.dumps(slack_body([make_alert() | {"url": "javascript:alert(1)"}])["blocks"])
    assert "javascript:" not in unlinked


def test_a_slack_digest_stays_within_50_blocks_and_counts_the_rest():
    digest = slack_body([make_alert(n) for n in range(40)])
    assert digest["text"] == "newsmon digest: 40 alerts for belarus-watch"
    assert len(digest["blocks"]) == 50
    assert digest["blocks"][-1]["elements"][0]["text"] == "…and 16 more stories (16 alerts)"
    small = slack_body([make_alert(n) for n in range(3)])
    assert len(small["blocks"]) == 1 + 2 * 3 and "more alerts" not in json.dumps(small)
