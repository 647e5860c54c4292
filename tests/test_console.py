"""Feed text on the terminal: control characters are shown, never obeyed."""

import json

import pytest

from newsmon.console import printable, printable_json
from newsmon.watch_commands import _print_alert
from tests.support.hostile import HOSTILE, raw_controls
from tests.support.pipeline import analysed


def test_control_characters_are_made_visible():
    shown = printable(HOSTILE)
    assert raw_controls(shown) == []
    assert shown == ("Minsk\\x1b[2J\\x1b]8;;https://evil.example\\x07news\\x1b]8;;\\x07 FAKE\\x9b31m"
                     "\\u202egnp.exe\\x7f")


@pytest.mark.parametrize("text", ["Лукашэнка вызваліў 52 палітвязняў", "“hostages” — Trump’s envoy 🇧🇾",
                                  "Ales\u00a0Bialiatski", "صحفي", "a\u200db"])
def test_ordinary_text_is_left_alone(text):
    assert printable(text) == text


def test_line_breaks_and_tabs_become_spaces():
    assert printable("one\ttwo\nthree\r\nfour\u2028five") == "one two three  four five"


def test_json_escapes_what_json_dumps_leaves_raw():
    value = {"title": HOSTILE, "person": "Łukaszenka"}
    text = printable_json(value)
    assert raw_controls(text) == []
    assert json.loads(text) == value and "Łukaszenka" in text


def test_an_alert_prints_without_raw_control_characters(capsys):
    alert = analysed().alerts[0].to_message() | {
        "title": HOSTILE, "source_name": "Wire\x1b[31m", "person": "A\rB",
        "evidence": ["said \x1b[8mhidden\x1b[0m"], "matched_forms": ["\x07Lukashenko"]}
    _print_alert(alert)
    out = capsys.readouterr().out
    assert raw_controls(out) == []
    assert "Minsk\\x1b[2J" in out and "Wire\\x1b[31m" in out and "said \\x1b[8mhidden" in out


def test_feed_names_from_a_list_print_safely(tmp_path):
    import os
    import subprocess
    import sys

    listed = tmp_path / "feeds.yaml"
    listed.write_text('feeds:\n  - url: https://a.example/feed\n    name: "Wire\\e[2J\\rFAKE\\u202e"\n')
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSMON_")} | {
        "NEWSMON_HOME": str(tmp_path / "home")}
    outputs = []
    for command in (["feeds", "import-opml", str(listed)], ["feeds", "list"], ["feeds", "status"]):
        done = subprocess.run([sys.executable, "-m", "newsmon", *command], capture_output=True, text=True,
                              env=env, timeout=60, check=False)
        assert done.returncode == 0, done.stderr
        outputs.append(done.stdout)
    for out in outputs[1:]:
        assert raw_controls(out) == [] and "Wire\\x1b[2J FAKE\\u202e" in out
