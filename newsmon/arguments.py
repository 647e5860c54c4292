"""How newsmon's commands take their arguments.

Each command's help starts with a short usage line and its own options; the flags of
every setting follow in one group at the end, because they are the same for every
command and most people set them once, in ``NEWSMON_*`` variables. A bad value is a
usage error (``newsmon: error: ...``, exit code 2), never a traceback.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections.abc import Callable
from typing import Any, NoReturn

from newsmon.errors import ConfigError
from newsmon.settings import MAX_SECONDS, Settings, bounded, env_name

SETTINGS_GROUP = "settings (each also from its NEWSMON_* environment variable)"
SETTINGS_ABOUT = "flags win over environment variables; `newsmon settings` prints the values in effect"


class CommandParser(argparse.ArgumentParser):
    """An argument parser whose errors read ``newsmon: error: ...`` after the usage line."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(2, f"newsmon: error: {message} (see `{self.prog} --help`)\n")


def argument_type(parse: Callable[[str], Any]) -> Callable[[str], Any]:
    """``parse`` as an argparse ``type``: its :class:`ConfigError` becomes a usage error."""

    def convert(text: str) -> Any:
        try:
            return parse(text)
        except ConfigError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from exc

    convert.__name__ = getattr(parse, "__name__", "value")  # argparse names the type in some errors
    return convert


SECONDS = argument_type(bounded(float, 0.1, MAX_SECONDS))  # an interval in seconds, for flags
TIMEOUT = argument_type(bounded(float, 1, MAX_SECONDS))


def finish_command(parser: argparse.ArgumentParser, *, trailing: str = "") -> None:
    """Add the settings flags after the command's own options and set its short usage line,
    ``newsmon COMMAND [options] --REQUIRED VALUE POSITIONAL...`` (then ``trailing``); call it
    once the command's own arguments are in place.
    """
    formatter = parser._get_formatter()  # to write the arguments as argparse does
    required = [f"{action.option_strings[-1]} {formatter._format_args(action, action.dest.upper())}"
                for action in parser._actions if action.option_strings and action.required]
    positionals = [formatter._format_args(action, formatter._get_default_metavar_for_positional(action))
                   for action in parser._actions if not action.option_strings]
    parser.usage = " ".join(["%(prog)s [options]", *required, *positionals, trailing]).strip()
    add_settings_flags(parser)


def add_settings_flags(parser: argparse.ArgumentParser) -> None:
    """One ``--flag`` per setting, in one group, each naming its environment variable."""
    group = parser.add_argument_group(SETTINGS_GROUP, SETTINGS_ABOUT)
    for spec in dataclasses.fields(Settings):
        group.add_argument(
            "--" + spec.name.replace("_", "-"),
            dest=spec.name,
            type=argument_type(spec.metadata["parse"]),
            default=None,  # "not given": the environment variable or the default applies
            metavar=spec.name.split("_")[-1].upper(),
            help=f"{spec.metadata['help']} (env {env_name(spec.name)})",
        )
