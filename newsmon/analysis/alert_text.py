"""What an alert message says: subject, plain text, HTML and Slack blocks, and its delivery id.

Pure functions over alerts as in ``schemas/alert.schema.json`` (one alert, or a digest of
several); the notifiers in ``newsmon.connectors`` send what these return. A digest shows one
entry per story (:func:`stories`), with the watched people named in it; an alert's later
revision says which topics the story gained.
"""

from __future__ import annotations

import hashlib
import html
from collections.abc import Mapping, Sequence
from typing import Any

SLACK_MAX_BLOCKS = 50
SLACK_TEXT_MAX = 2900  # Slack's limit for a section's text is 3000 characters
SHOWN_SOURCES = 5


def _key(alert: Mapping[str, Any]) -> str:
    revision = alert.get("revision", 1)
    return alert["alert_id"] if revision == 1 else f"{alert['alert_id']}-r{revision}"


def delivery_id(alerts: Sequence[Mapping[str, Any]]) -> str:
    """The alert id of a single alert (``<alert_id>-r<n>`` for its revision n > 1); for a
    digest, a hash of those, sorted.
    """
    ids = sorted(_key(alert) for alert in alerts)
    if len(ids) == 1:
        return ids[0]
    return "digest-" + hashlib.sha256("\n".join(ids).encode()).hexdigest()[:32]


def stories(alerts: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The stories of ``alerts`` in order of first appearance, each ``{"story_id", "title",
    "url", "article_count", "sources", "topics", "latest", "alerts"}``: the first alert's
    title and link, the most articles and every source and topic its alerts counted, and its
    alerts, one per alert id (the latest revision of one sent twice).
    """
    grouped: dict[str, dict[str, Mapping[str, Any]]] = {}
    for alert in alerts:
        story = grouped.setdefault(alert["story_id"], {})
        held = story.get(alert["alert_id"])
        if held is None or alert.get("revision", 1) >= held.get("revision", 1):
            story[alert["alert_id"]] = alert
    result = []
    for story_id, by_id in grouped.items():
        members = list(by_id.values())
        first = members[0]
        richest = max(members, key=article_count)
        result.append({
            "story_id": story_id, "title": first["title"], "url": first["url"],
            "article_count": article_count(richest),
            "sources": sorted({source for alert in members for source in sources(alert)}),
            "topics": list(dict.fromkeys(topic for alert in members for topic in alert["topics"])),
            "latest": richest.get("latest"), "alerts": members,
        })
    return result


def article_count(alert: Mapping[str, Any]) -> int:
    return alert.get("article_count", 1)


def sources(alert: Mapping[str, Any]) -> list[str]:
    return list(alert.get("sources") or [alert["source_name"]])


def _story_line(story: Mapping[str, Any]) -> str:
    """``3 articles from 2 sources: A, B``."""
    count, names = story["article_count"], story["sources"]
    shown = ", ".join(names[:SHOWN_SOURCES]) + (f" and {len(names) - SHOWN_SOURCES} more"
                                                if len(names) > SHOWN_SOURCES else "")
    articles = "1 article" if count == 1 else f"{count} articles"
    return f"{articles} from {len(names)} source{'s' if len(names) != 1 else ''}: {shown}"


def _update_line(alert: Mapping[str, Any]) -> str | None:
    """What a later revision is about; None for the first."""
    revision = alert.get("revision", 1)
    if revision == 1:
        return None
    gained = ", ".join(alert.get("gained_topics") or ()) or "(none)"
    return f"Update (revision {revision}): the story now also concerns {gained}"


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
    """``newsmon: <person> named in '<title>'`` (``newsmon update: ...`` for a later revision),
    or ``newsmon digest: N alerts [in K stories] for <list>``.
    """
    if len(alerts) == 1:
        alert = alerts[0]
        if alert.get("revision", 1) > 1:
            gained = ", ".join(alert.get("gained_topics") or ())
            return (f"newsmon update: {shorten(alert['person'], 80)} story now also {shorten(gained, 60)}: "
                    f"'{shorten(alert['title'], 80)}'")
        return f"newsmon: {shorten(alert['person'], 80)} named in '{shorten(alert['title'], 80)}'"
    count = len(stories(alerts))
    grouped = f" in {count} stories" if count < len(alerts) else ""
    return f"newsmon digest: {len(alerts)} alerts{grouped} for {shorten(lists_of(alerts), 120)}"


def plain_text(alerts: Sequence[Mapping[str, Any]]) -> str:
    """The e-mail body: every alert with person, matched forms, story, link, topics, evidence;
    a digest story by story.
    """
    footer = "-- \nSent by newsmon. Alerts are configured per watch list in the notifier file.\n"
    if len(alerts) == 1:
        return "\n".join([_plain_alert(alerts[0]), footer])
    grouped = stories(alerts)
    parts = [f"{len(alerts)} alerts in {len(grouped)} stor{'y' if len(grouped) == 1 else 'ies'} "
             f"for {lists_of(alerts)}.\n"]
    for number, story in enumerate(grouped, 1):
        lines = [f"{number}. {one_line(story['title'])}",
                 f"  Story:      {_story_line(story)}",
                 f"  Link:       {story['url'] or '(no link)'}"]
        if story["latest"]:
            lines.append(f"  Latest:     {one_line(story['latest']['title'])} "
                         f"({story['latest']['source_name']}, {story['latest']['published_at']}) "
                         f"{story['latest']['url'] or ''}".rstrip())
        lines.append(f"  Topics:     {', '.join(story['topics']) or '(none)'}")
        for alert in story["alerts"]:
            lines += [f"  - {alert['person']} (list {alert['list']}), matched as "
                      f"{', '.join(alert['matched_forms'])}, confidence {alert['confidence']:.2f}"]
            update = _update_line(alert)
            if update:
                lines.append(f"    {update}")
            lines += [*(f"    > {one_line(sentence)}" for sentence in alert["evidence"]),
                      f"    Alert {alert['alert_id']}, raised {alert['alert_time']}"]
        parts.append("\n".join([*lines, ""]))
    parts.append(footer)
    return "\n".join(parts)


def _plain_alert(alert: Mapping[str, Any]) -> str:
    update = _update_line(alert)
    latest = alert.get("latest")
    lines = [
        *([update] if update else []),
        f"{alert['person']} named in: {one_line(alert['title'])}",
        f"  Source:     {alert['source_name']}, published {alert['published_at']}",
        f"  Link:       {alert['url'] or '(no link)'}",
        f"  Story:      {_story_line({'article_count': article_count(alert), 'sources': sources(alert)})}",
        *([f"  Latest:     {one_line(latest['title'])} ({latest['source_name']}, {latest['published_at']}) "
           f"{latest['url'] or ''}".rstrip()] if latest else []),
        f"  Matched as: {', '.join(alert['matched_forms'])}",
        f"  Topics:     {', '.join(alert['topics']) or '(none)'}",
        f"  Watch list: {alert['list']}  (confidence {alert['confidence']:.2f})",
        "  Evidence:",
        *(f"    > {one_line(sentence)}" for sentence in alert["evidence"]),
        f"  Alert {alert['alert_id']}, raised {alert['alert_time']}",
        "",
    ]
    return "\n".join(lines)


def html_text(alerts: Sequence[Mapping[str, Any]]) -> str:
    """The HTML alternative of :func:`plain_text`."""
    esc = html.escape
    if len(alerts) == 1:
        return f"<html><body>{_html_alert(alerts[0], heading=True)}</body></html>"
    grouped = stories(alerts)
    items = []
    for story in grouped:
        title = esc(one_line(story["title"]))
        link = f'<a href="{esc(_link(story))}">{title}</a>' if _link(story) else title
        latest = story["latest"]
        latest_html = ""
        if latest:
            latest_title = esc(one_line(latest["title"]))
            latest_link = (f'<a href="{esc(_link(latest))}">{latest_title}</a>' if _link(latest)
                           else latest_title)
            latest_html = (f"<br>Latest: {latest_link} ({esc(latest['source_name'])}, "
                           f"{esc(latest['published_at'])})")
        people = "".join(_html_alert(alert, heading=False) for alert in story["alerts"])
        items.append(f"<h3>{link}</h3><p>{esc(_story_line(story))}{latest_html}<br>"
                     f"Topics: {esc(', '.join(story['topics']) or '(none)')}</p>{people}")
    heading = (f"<p>{len(alerts)} alerts in {len(grouped)} stor{'y' if len(grouped) == 1 else 'ies'} "
               f"for {esc(lists_of(alerts))}.</p>")
    return f"<html><body>{heading}{'<hr>'.join(items)}</body></html>"


def _html_alert(alert: Mapping[str, Any], *, heading: bool) -> str:
    """One alert: with ``heading`` as a message of its own, otherwise as a person in a digest's story."""
    esc = html.escape
    update = _update_line(alert)
    update_html = f"<p><strong>{esc(update)}</strong></p>" if update else ""
    evidence = "".join(f"<blockquote>{esc(one_line(s))}</blockquote>" for s in alert["evidence"])
    footer = f"<p><small>Alert {esc(alert['alert_id'])}, raised {esc(alert['alert_time'])}</small></p>"
    if not heading:
        return (f"<h4>{esc(alert['person'])} (list {esc(alert['list'])})</h4>{update_html}"
                f"<p>Matched as: {esc(', '.join(alert['matched_forms']))} "
                f"(confidence {alert['confidence']:.2f})</p>{evidence}{footer}")
    title = esc(one_line(alert["title"]))
    link = f'<a href="{esc(_link(alert))}">{title}</a>' if _link(alert) else title
    story = {"article_count": article_count(alert), "sources": sources(alert)}
    return (f"{update_html}<h3>{esc(alert['person'])} named in {link}</h3>"
            f"<p>{esc(alert['source_name'])}, published {esc(alert['published_at'])}<br>"
            f"Story: {esc(_story_line(story))}<br>"
            f"Matched as: {esc(', '.join(alert['matched_forms']))}<br>"
            f"Topics: {esc(', '.join(alert['topics']) or '(none)')}<br>"
            f"Watch list: {esc(alert['list'])} (confidence {alert['confidence']:.2f})</p>"
            f"{evidence}{footer}")


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
    matched forms, evidence, topics and link per alert; a digest shows one section per story
    (with its people) as far as Slack's 50 blocks allow and counts the rest.
    """
    if len(alerts) == 1:
        return {"text": subject(alerts), "blocks": _slack_alert_blocks(alerts[0])}
    blocks = [{"type": "header", "text": {"type": "plain_text", "text": shorten(subject(alerts), 150)}}]
    room = SLACK_MAX_BLOCKS - 2  # the header, and a context block counting what did not fit
    grouped = stories(alerts)
    shown = grouped[: room // 2]
    for story in shown:
        topics = _mrkdwn(", ".join(story["topics"])) or "none"
        people = "\n".join(
            f"• *{_mrkdwn(alert['person'])}* (as {_mrkdwn(', '.join(alert['matched_forms']))})"
            + (f" _{_mrkdwn(_update_line(alert) or '')}_" if alert.get("revision", 1) > 1 else "")
            + f"\n> {_mrkdwn(shorten(alert['evidence'][0], 300))}"
            for alert in story["alerts"])
        heading = f"{_slack_link(story)}\n{_mrkdwn(_story_line(story))} · topics: {topics}"
        text = shorten_lines(f"{heading}\n{people}", SLACK_TEXT_MAX)
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": text}})
        blocks.append({"type": "divider"})
    if len(grouped) > len(shown):
        hidden = sum(len(story["alerts"]) for story in grouped[len(shown):])
        blocks.append({"type": "context", "elements": [
            {"type": "mrkdwn", "text": f"…and {len(grouped) - len(shown)} more stories ({hidden} alerts)"}]})
    return {"text": subject(alerts), "blocks": blocks}


def shorten_lines(text: str, limit: int) -> str:
    """``text`` (several lines kept) cut to ``limit`` characters with an ellipsis."""
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"


def _slack_alert_blocks(alert: Mapping[str, Any]) -> list[dict[str, Any]]:
    evidence = "\n".join(f"> {_mrkdwn(s)}" for s in alert["evidence"])
    matched = _mrkdwn(", ".join(alert["matched_forms"]))[:1900]
    topics = (_mrkdwn(", ".join(alert["topics"])) or "none")[:1900]
    update = _update_line(alert)
    story = {"article_count": article_count(alert), "sources": sources(alert)}
    return [
        {"type": "header", "text": {"type": "plain_text",
                                    "text": shorten(f"{alert['person']} named in the news", 150)}},
        *([{"type": "section", "text": {"type": "mrkdwn", "text": f"*{_mrkdwn(update)}*"}}]
          if update else []),
        {"type": "section", "text": {"type": "mrkdwn", "text": shorten_lines(
            f"*{_slack_link(alert)}*\n{_mrkdwn(alert['source_name'])} · {alert['published_at']}\n"
            f"{_mrkdwn(_story_line(story))}", SLACK_TEXT_MAX)}},
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
