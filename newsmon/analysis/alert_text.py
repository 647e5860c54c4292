"""What an alert message says: subject, plain text, HTML and Slack blocks, and its delivery id.

Pure functions over alerts as in ``schemas/alert.schema.json`` (one alert, or a digest of
several); the notifiers in ``newsmon.connectors`` send what these return.
"""

from __future__ import annotations

import hashlib
import html
from collections.abc import Mapping, Sequence
from typing import Any

SLACK_MAX_BLOCKS = 50
SLACK_TEXT_MAX = 2900  # Slack's limit for a section's text is 3000 characters


def delivery_id(alerts: Sequence[Mapping[str, Any]]) -> str:
    """The alert id of a single alert; for a digest, a hash of its sorted alert ids."""
    ids = sorted(alert["alert_id"] for alert in alerts)
    if len(ids) == 1:
        return ids[0]
    return "digest-" + hashlib.sha256("\n".join(ids).encode()).hexdigest()[:32]


def one_line(text: str) -> str:
    return " ".join(str(text).split())


def shorten(text: str, limit: int) -> str:
    """``text`` on one line, cut to ``limit`` characters with an ellipsis."""
    text = one_line(text)
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"


def lists_of(alerts: Sequence[Mapping[str, Any]]) -> str:
    """The watch lists of ``alerts``, in order of first appearance."""
    return ", ".join(dict.fromkeys(alert["list"] for alert in alerts))


def subject(alerts: Sequence[Mapping[str, Any]]) -> str:
    """``newsmon: <person> named in '<title>'``, or ``newsmon digest: N alerts for <list>``."""
    if len(alerts) == 1:
        alert = alerts[0]
        return f"newsmon: {shorten(alert['person'], 80)} named in '{shorten(alert['title'], 80)}'"
    return f"newsmon digest: {len(alerts)} alerts for {shorten(lists_of(alerts), 120)}"


def plain_text(alerts: Sequence[Mapping[str, Any]]) -> str:
    """The e-mail body: every alert with person, matched forms, story, link, topics, evidence."""
    parts = []
    if len(alerts) > 1:
        parts.append(f"{len(alerts)} alerts for {lists_of(alerts)}.\n")
    for number, alert in enumerate(alerts, 1):
        heading = f"{number}. " if len(alerts) > 1 else ""
        lines = [
            f"{heading}{alert['person']} named in: {one_line(alert['title'])}",
            f"  Source:     {alert['source_name']}, published {alert['published_at']}",
            f"  Link:       {alert['url'] or '(no link)'}",
            f"  Matched as: {', '.join(alert['matched_forms'])}",
            f"  Topics:     {', '.join(alert['topics']) or '(none)'}",
            f"  Watch list: {alert['list']}  (confidence {alert['confidence']:.2f})",
            "  Evidence:",
            *(f"    > {one_line(sentence)}" for sentence in alert["evidence"]),
            f"  Alert {alert['alert_id']}, raised {alert['alert_time']}",
            "",
        ]
        parts.append("\n".join(lines))
    parts.append("-- \nSent by newsmon. Alerts are configured per watch list in the notifier file.\n")
    return "\n".join(parts)


def html_text(alerts: Sequence[Mapping[str, Any]]) -> str:
    """The HTML alternative of :func:`plain_text`."""
    esc = html.escape
    items = []
    for alert in alerts:
        title = esc(one_line(alert["title"]))
        link = f'<a href="{esc(_link(alert))}">{title}</a>' if _link(alert) else title
        evidence = "".join(f"<blockquote>{esc(one_line(s))}</blockquote>" for s in alert["evidence"])
        items.append(
            f"<h3>{esc(alert['person'])} named in {link}</h3>"
            f"<p>{esc(alert['source_name'])}, published {esc(alert['published_at'])}<br>"
            f"Matched as: {esc(', '.join(alert['matched_forms']))}<br>"
            f"Topics: {esc(', '.join(alert['topics']) or '(none)')}<br>"
            f"Watch list: {esc(alert['list'])} (confidence {alert['confidence']:.2f})</p>"
            f"{evidence}<p><small>Alert {esc(alert['alert_id'])}, "
            f"raised {esc(alert['alert_time'])}</small></p>"
        )
    heading = f"<p>{len(alerts)} alerts for {esc(lists_of(alerts))}.</p>" if len(alerts) > 1 else ""
    return f"<html><body>{heading}{'<hr>'.join(items)}</body></html>"


def _mrkdwn(text: str) -> str:
    """Text safe inside Slack mrkdwn: &, < and > are control characters there."""
    return one_line(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _link(alert: Mapping[str, Any]) -> str | None:
    """The alert's URL when it is an http(s) one (the schema says so; a caller may not have checked)."""
    url = alert.get("url")
    return url if isinstance(url, str) and url.lower().startswith(("http://", "https://")) else None


def _slack_link(alert: Mapping[str, Any]) -> str:
    title = _mrkdwn(shorten(alert["title"], 300)).replace("|", "¦")
    url = _link(alert)
    if url is None:
        return title
    url = url.replace("|", "%7C").replace("<", "%3C").replace(">", "%3E").replace(" ", "%20")
    return f"<{url}|{title}>"


def slack_body(alerts: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """A Slack-compatible message: ``text`` (the notification) and ``blocks`` with person,
    matched forms, evidence, topics and link per alert (a digest shows as many alerts as
    Slack's 50 blocks allow and counts the rest).
    """
    if len(alerts) == 1:
        return {"text": subject(alerts), "blocks": _slack_alert_blocks(alerts[0])}
    blocks = [{"type": "header", "text": {"type": "plain_text", "text": shorten(subject(alerts), 150)}}]
    room = SLACK_MAX_BLOCKS - 2  # the header, and a context block counting what did not fit
    shown = alerts[: room // 2]
    for alert in shown:
        evidence = _mrkdwn(shorten(alert["evidence"][0], 500))
        topics = _mrkdwn(", ".join(alert["topics"])) or "none"
        text = (f"*{_mrkdwn(alert['person'])}* (as {_mrkdwn(', '.join(alert['matched_forms']))}) in "
                f"{_slack_link(alert)}\n{_mrkdwn(alert['source_name'])} · topics: {topics}\n> {evidence}")
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": shorten(text, SLACK_TEXT_MAX)}})
        blocks.append({"type": "divider"})
    if len(alerts) > len(shown):
        blocks.append({"type": "context", "elements": [
            {"type": "mrkdwn", "text": f"…and {len(alerts) - len(shown)} more alerts"}]})
    return {"text": subject(alerts), "blocks": blocks}


def _slack_alert_blocks(alert: Mapping[str, Any]) -> list[dict[str, Any]]:
    evidence = "\n".join(f"> {_mrkdwn(s)}" for s in alert["evidence"])
    matched = _mrkdwn(", ".join(alert["matched_forms"]))[:1900]
    topics = (_mrkdwn(", ".join(alert["topics"])) or "none")[:1900]
    return [
        {"type": "header", "text": {"type": "plain_text",
                                    "text": shorten(f"{alert['person']} named in the news", 150)}},
        {"type": "section", "text": {"type": "mrkdwn", "text": (
            f"*{_slack_link(alert)}*\n{_mrkdwn(alert['source_name'])} · {alert['published_at']}")}},
        {"type": "section", "fields": [
            {"type": "mrkdwn", "text": f"*Person*\n{_mrkdwn(alert['person'])}"},
            {"type": "mrkdwn", "text": f"*Matched as*\n{matched}"},
            {"type": "mrkdwn", "text": f"*Topics*\n{topics}"},
            {"type": "mrkdwn", "text": f"*Watch list*\n{_mrkdwn(alert['list'])}"},
        ]},
        {"type": "section", "text": {"type": "mrkdwn", "text": shorten(evidence, SLACK_TEXT_MAX)}},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": (
            f"alert {alert['alert_id']} · confidence {alert['confidence']:.2f}")}]},
    ]
