"""The shape of every command's help: a short usage line, the command's own options
first, the settings flags in one group at the end; and bad values as usage errors.
"""

from __future__ import annotations

import argparse
import dataclasses

import pytest

from newsmon.arguments import SETTINGS_GROUP
from newsmon.cli import build_parser, main
from newsmon.settings import Settings

SETTINGS_FLAGS = ["--" + spec.name.replace("_", "-") for spec in dataclasses.fields(Settings)]


def commands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    """Every command that runs something (``feeds add``, ``search``, ...) by its words."""
    found = {}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                inner = commands(sub)
                found |= {f"{name} {words}": leaf for words, leaf in inner.items()} or {name: sub}
    return found


COMMANDS = commands(build_parser())


def test_every_command_is_found():
    assert {"search", "settings", "feeds add", "watch list", "alerts tail", "pipeline"} <= set(COMMANDS)


@pytest.mark.parametrize("words", sorted(COMMANDS))
def test_help_is_usage_then_own_options_then_settings(words):
    text = COMMANDS[words].format_help()
    usage, rest = text.split("\n", 1)
    assert usage.startswith(f"usage: newsmon {words} [options]")
    required = [action for action in COMMANDS[words]._actions if action.option_strings and action.required]
    assert usage.count("--") == len(required) and not rest.startswith(" "), "one line, no optional flags"
    own = [action for action in COMMANDS[words]._actions
           if action.option_strings and action.option_strings[-1] not in SETTINGS_FLAGS + ["--help"]]
    settings_at = text.index(f"\n{SETTINGS_GROUP}:\n")
    for action in own:
        assert text.index(action.option_strings[-1]) < settings_at, action.option_strings
    tail = text[settings_at:]
    assert [flag for flag in SETTINGS_FLAGS if f"\n  {flag} " in tail] == SETTINGS_FLAGS
    assert "NEWSMON_ES_URL" in tail and "flags win over environment variables" in tail


@pytest.mark.parametrize(("words", "usage"), [
    ("search", "usage: newsmon search [options] [QUERY ...]"),
    ("feeds add", "usage: newsmon feeds add [options] URL"),
    ("watch import", "usage: newsmon watch import [options] FILE"),
    ("services", "usage: newsmon services [options] {up,down,status}"),
    ("alerts deliver", "usage: newsmon alerts deliver [options] --config CONFIG"),
    ("pipeline", "usage: newsmon pipeline [options] {run} [BEAM_OPTION ...]"),
])
def test_short_usage_lines(words, usage):
    assert COMMANDS[words].format_usage().strip() == usage


def test_settings_flags_keep_working_after_the_command_options():
    args = build_parser().parse_args(["search", "Belavia", "sanctions", "--es-url", "http://127.0.0.1:9201",
                                      "--topic", "sanctions_relief", "--kafka-partitions", "6"])
    assert args.text == ["Belavia", "sanctions"] and args.topic == ["sanctions_relief"]
    assert args.es_url == "http://127.0.0.1:9201" and args.kafka_partitions == 6


def test_beam_options_still_pass_through_pipeline_run():
    args, extra = build_parser().parse_known_args(
        ["pipeline", "run", "--runner", "PortableRunner", "--es-url", "http://127.0.0.1:9201",
         "--start", "earliest", "--progress-every", "5"])
    assert extra == ["--runner", "PortableRunner", "--start", "earliest"]
    assert args.es_url == "http://127.0.0.1:9201" and args.progress_every == 5.0


@pytest.mark.parametrize(("argv", "message"), [
    (["pipeline", "run", "--progress-every", "inf"], "argument --progress-every: expected a number from"),
    (["smoke", "--timeout", "nan"], "argument --timeout: expected a number from 1 to 86400, got 'nan'"),
    (["search", "--limit", "-3"], "argument --limit: expected a whole number from 1 to 10000"),
    (["settings", "--fetch-timeout", "1e999"], "argument --fetch-timeout: expected a number from"),
    (["settings", "--feed-concurrency", "many"], "argument --feed-concurrency: expected a whole number"),
    (["feeds", "add", "https://a.example/f", "--interval", ".inf"], "argument --interval: a duration"),
    (["feeds", "add", "https://a.example/f", "--interval", "9" * 20 + "d"], "argument --interval: a dur"),
])
def test_bad_values_are_usage_errors(argv, message, capsys):
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith(f"usage: newsmon {' '.join(argv[:2]) if argv[0] == 'feeds' else argv[0]} [options]")
    assert f"newsmon: error: {message}" in err


@pytest.mark.parametrize(("argv", "message"), [
    (["search", "--explain", "--since", "99999999999d"], "--since takes 30m, 12h, 1d, 2w or an ISO date"),
    (["search", "--explain", "--until", "9999999999w"], "--until takes 30m, 12h, 1d, 2w or an ISO date"),
])
def test_moments_out_of_range_are_clear_errors(argv, message, capsys):
    assert main(argv) == 2
    assert f"newsmon: error: {message}" in capsys.readouterr().err
