"""The e-mail notifier against a real SMTP server on 127.0.0.1 (``tests/support/smtp_server.py``):
STARTTLS and implicit TLS with a certificate made for the test run, login, digests, and
which SMTP replies are retried.
"""

from __future__ import annotations

import pytest

from newsmon.analysis.alert_text import delivery_id
from newsmon.connectors.email_notifier import EmailNotifier
from newsmon.connectors.notifiers import DeliveryError
from newsmon.settings import Secret
from tests.support.notifiers import PASSWORD, Sleeps, email, make_alert
from tests.support.smtp_server import SMTPServer


def test_email_over_starttls_with_login(smtp_starttls, tls_files):
    title = "Belarus frees 52 prisoners after talks with US envoy on sanctions and the embassy"
    alert = make_alert(title=title)
    notifier = email(smtp_starttls, security="starttls", ca_file=tls_files[0], username="newsmon",
                     password=Secret(PASSWORD))
    notifier.deliver([alert])

    [mail] = smtp_starttls.wait_for(1)
    assert mail.tls and mail.user == "newsmon" and mail.mechanism == "PLAIN"
    assert mail.mail_from == "alerts@example.org"
    assert mail.rcpt_to == ["desk@example.org", "analyst@example.org"]
    message = mail.message
    assert message["Subject"] == f"newsmon: Ihar Losik named in '{title[:79]}…'"  # titles end at 80
    assert message["From"] == "newsmon <alerts@example.org>"
    assert message["To"] == "desk@example.org, analyst@example.org"
    assert message["Message-ID"] == f"<newsmon.{alert['alert_id']}@example.org>"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message.is_multipart()
    text = message.get_body(("plain",)).get_content()
    for expected in ("Ihar Losik named in", "Matched as: Igor Losik", alert["url"], "prisoner_release",
                     "> Blogger Igor Losik was among those released", "Example News", alert["alert_id"]):
        assert expected in text
    html = message.get_body(("html",)).get_content()
    assert f'<a href="{alert["url"]}">' in html


def test_email_digest_over_implicit_tls_with_auth_login(server_tls, tls_files):
    server = SMTPServer(users={"newsmon": PASSWORD}, mechanisms=("LOGIN",), implicit_tls=server_tls)
    try:
        alerts = [make_alert(n) for n in range(5)]
        notifier = email(server, security="ssl", ca_file=tls_files[0], username="newsmon",
                         password=Secret(PASSWORD), recipients=["desk@example.org"])
        notifier.deliver(alerts)
        [mail] = server.wait_for(1)
        assert mail.tls and mail.mechanism == "LOGIN" and mail.rcpt_to == ["desk@example.org"]
        assert mail.message["Subject"] == "newsmon digest: 5 alerts for belarus-watch"
        assert mail.message["Message-ID"] == f"<newsmon.{delivery_id(alerts)}@example.org>"
        text = mail.message.get_body(("plain",)).get_content()
        assert all(alert["url"] in text for alert in alerts)
        # The same alerts give the same Message-ID whatever their order: a resend is recognisable.
        assert delivery_id(alerts[::-1]) == delivery_id(alerts)
    finally:
        server.close()


def test_email_4xx_is_retried_5xx_is_permanent():
    server = SMTPServer()
    try:
        server.fail("MAIL", 451, "4.3.0 try again later")
        sleeps = Sleeps()
        email(server, sleep=sleeps).deliver([make_alert(1)])
        assert len(server.wait_for(1)) == 1 and sleeps == [1.0]

        server.fail("DATA-END", 554, "5.7.1 message rejected as spam")
        with pytest.raises(DeliveryError, match="554 5.7.1 message rejected") as caught:
            email(server).deliver([make_alert(2)])
        assert caught.value.permanent and caught.value.attempts == 1

        server.fail("EHLO", 0)  # the server hangs up: transient
        email(server).deliver([make_alert(3)])
        assert len(server.wait_for(2)) == 2
    finally:
        server.close()


def test_email_retries_only_the_recipients_refused_for_now():
    server = SMTPServer()
    try:
        server.refuse("analyst@example.org", 450, "4.2.1 mailbox busy")
        email(server).deliver([make_alert()])
        mails = server.wait_for(2)
        assert [mail.rcpt_to for mail in mails] == [["desk@example.org"], ["analyst@example.org"]]

        server.refuse("analyst@example.org", 550, "5.1.1 no such user")
        with pytest.raises(DeliveryError, match="analyst@example.org: 550") as caught:
            email(server).deliver([make_alert(2)])
        assert caught.value.permanent
        assert server.wait_for(3)[-1].rcpt_to == ["desk@example.org"]
    finally:
        server.close()


def test_email_tried_again_later_goes_only_to_the_recipients_still_owed_it():
    server = SMTPServer()
    try:
        server.refuse("analyst@example.org", 450, "4.2.1 mailbox busy", times=2)
        notifier = email(server, attempts=2)
        with pytest.raises(DeliveryError, match="refused for now") as caught:
            notifier.deliver([make_alert()])
        assert not caught.value.permanent
        assert [mail.rcpt_to for mail in server.wait_for(1)] == [["desk@example.org"]]
        # The delivery loop tries the message again once the server takes it: the desk has it.
        notifier.deliver([make_alert()], attempts=1)
        mails = server.wait_for(2)
        assert [mail.rcpt_to for mail in mails] == [["desk@example.org"], ["analyst@example.org"]]
        notifier.deliver([make_alert()])  # delivered in full: the next time is a new message for everyone
        assert server.wait_for(3)[-1].rcpt_to == ["desk@example.org", "analyst@example.org"]
    finally:
        server.close()


def test_email_failures_that_retrying_cannot_fix(smtp_starttls, tls_files):
    with pytest.raises(DeliveryError, match="535") as caught:
        email(smtp_starttls, security="starttls", ca_file=tls_files[0], username="newsmon",
              password=Secret("wrong")).deliver([make_alert()])
    assert caught.value.permanent and smtp_starttls.auth_failures == 2  # smtplib tries PLAIN, then LOGIN

    with pytest.raises(DeliveryError, match="does not verify") as caught:
        email(smtp_starttls, security="starttls").deliver([make_alert()])  # no ca_file
    assert caught.value.permanent

    plain = SMTPServer()  # no STARTTLS on offer: never fall back to clear text
    try:
        with pytest.raises(DeliveryError, match="STARTTLS extension not supported") as caught:
            email(plain, security="starttls").deliver([make_alert()])
        assert caught.value.permanent and plain.mails == []
    finally:
        plain.close()


def test_a_later_revision_is_a_new_message_threaded_under_the_first():
    alert = make_alert(3)
    update = alert | {"revision": 2, "gained_topics": ["diplomatic_move"], "article_count": 4,
                      "sources": ["Daily Courier", "Example News"]}
    notifier = EmailNotifier(host="127.0.0.1", port=25, security="none",
                             sender="newsmon <alerts@example.org>", recipients=["desk@example.org"])
    first, later = notifier.message([alert]), notifier.message([update])
    assert later["Message-ID"] == f"<newsmon.{alert['alert_id']}-r2@example.org>" != first["Message-ID"]
    assert later["In-Reply-To"] == later["References"] == first["Message-ID"]
    assert first["In-Reply-To"] is None
    assert later["Subject"].startswith("newsmon update: Ihar Losik story now also diplomatic_move: ")
    text = later.get_body(("plain",)).get_content()
    assert "Story:      4 articles from 2 sources: Daily Courier, Example News" in text

