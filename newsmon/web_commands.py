"""``newsmon web``: the analysts' browser view."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from newsmon.arguments import argument_type
from newsmon.console import progress
from newsmon.settings import Settings, bounded

ABOUT = """\
a browser view for analysts: search with facets, highlights and topic evidence; stories
and their articles; alerts, live as they are raised; the watch list (add, with the
stories that already name the person, and remove); health of feeds, pipeline and dead
letters. It binds 127.0.0.1 by default. On any other address it refuses to start unless
NEWSMON_WEB_TOKEN is set, and then every request must carry that token (as
`Authorization: Bearer TOKEN`, or as the basic-auth password the browser asks for, any
user name); when the token is set it is required on 127.0.0.1 too. Forms that change the
watch list are CSRF-protected.
"""


def add_web_command(commands, leaf: Callable[..., argparse.ArgumentParser]) -> None:
    web = leaf(commands, "web", web_serve, ABOUT.splitlines()[0].rstrip(";") + " (see --help)")
    web.description = ABOUT
    web.formatter_class = argparse.RawDescriptionHelpFormatter
    web.add_argument("--host", default="127.0.0.1",
                     help="address to listen on (default 127.0.0.1; any other needs NEWSMON_WEB_TOKEN)")
    web.add_argument("--port", type=argument_type(bounded(int, 0, 65535)), default=8088,
                     help="port to listen on (default 8088; 0: any free port)")


def web_serve(args: argparse.Namespace, settings: Settings) -> int:
    from newsmon.web.app import create_app
    from newsmon.web.server import bind, check_exposure, serve_forever, url_of

    check_exposure(args.host, settings)
    sock = bind(args.host, args.port)
    app = create_app(settings, token=settings.web_token)
    auth = " (token required: NEWSMON_WEB_TOKEN)" if settings.web_token else ""
    progress(f"newsmon web at {url_of(sock)}{auth}; Ctrl-C stops")
    print(url_of(sock), flush=True)
    serve_forever(app, sock)
    return 0
