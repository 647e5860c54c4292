"""Serving the app with uvicorn: in the foreground (``newsmon web``) or in a thread (the
demo with ``--follow``, the browser tests, the benchmark).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import threading
import time

import uvicorn

from newsmon.errors import ConfigError, NewsmonError
from newsmon.settings import Settings
from newsmon.web.guard import is_loopback

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8088


def check_exposure(host: str, settings: Settings) -> None:
    """Refuse to serve on an address other than loopback without a token."""
    if settings.web_token is None and not is_loopback(host):
        msg = (f"newsmon web on {host} would let anyone who reaches it read the indices and change the "
               "watch list: set NEWSMON_WEB_TOKEN (a long random string) or bind 127.0.0.1")
        raise ConfigError(msg)


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        family = socket.AF_INET  # a host name such as localhost
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host.strip("[]"), port))
    except OSError as exc:
        sock.close()
        msg = f"cannot listen on {host}:{port} ({exc.strerror}); choose another --port or --host"
        raise NewsmonError(msg) from exc
    sock.listen(128)
    return sock


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://{f'[{host}]' if ':' in host else host}:{port}/"


class WebServer:
    """The app on a bound socket, served by uvicorn in a daemon thread until :meth:`stop`."""

    def __init__(self, app, sock: socket.socket) -> None:
        self.url = url_of(sock)
        self._sock = sock
        config = uvicorn.Config(app, log_level="warning", lifespan="off", timeout_graceful_shutdown=2)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._serve, name="newsmon-web", daemon=True)

    def _serve(self) -> None:
        asyncio.run(self._server.serve(sockets=[self._sock]))

    def start(self, timeout: float = 30.0) -> WebServer:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                msg = f"newsmon web did not start at {self.url}"
                raise NewsmonError(msg)
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(10)
        self._sock.close()


def serve_forever(app, sock: socket.socket) -> None:
    """Serve in the foreground until Ctrl-C or SIGTERM (uvicorn handles both)."""
    config = uvicorn.Config(app, log_level="warning", lifespan="off", timeout_graceful_shutdown=5)
    uvicorn.Server(config).run(sockets=[sock])
