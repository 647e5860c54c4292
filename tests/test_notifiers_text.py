"""What an alert message says (``newsmon.analysis.alert_text``): subjects, the plain-text and
HTML bodies and Slack blocks, with untrusted titles, evidence and links made harmless.
"""

from __future__ import annotations

import json

from newsmon.analysis.alert_text import delivery_id, html_text, plain_text, slack_body, subject
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
    assert text.startswith("2 alerts for belarus-watch.\n")
    assert "1. Ihar Losik named in:" in text and "2. Ihar Losik named in:" in text
    assert alerts[0]["url"] in text and "Link:       (no link)" in text and "Topics:     (none)" in text
    assert "> Blogger Igor Losik was among those released (2), his wife said." in text


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
    assert digest["blocks"][-1]["elements"][0]["text"] == "…and 16 more alerts"
    small = slack_body([make_alert(n) for n in range(3)])
    assert len(small["blocks"]) == 1 + 2 * 3 and "more alerts" not in json.dumps(small)
