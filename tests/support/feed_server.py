"""A real HTTP server on 127.0.0.1 for feed tests: each path answers as configured
(body, status, headers, validators, gzip, a slow trickle of the body or of the status line
and headers), and every request is recorded.
"""

from __future__ import annotations

import gzip
import sys
import threading
import time
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Route:
    body: bytes = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    etag: str | None = None  # answer If-None-Match with 304
    last_modified: float | None = None  # epoch seconds; answer If-Modified-Since with 304
    gzip: bool = False
    delay: float = 0.0  # before answering
    trickle: float | None = None  # seconds between single bytes of the body
    trickle_headers: float | None = None  # seconds between single bytes of the status line and headers
    declare_length: bool = True


@dataclass
class Request:
    path: str
    headers: dict[str, str]
    status: int
    answered_at: float


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request, client_address) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):  # clients hanging up on purpose
            super().handle_error(request, client_address)


class FeedServer:
    def __init__(self, host: str = "127.0.0.1") -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802 - the name http.server dispatches to
                route = server.routes.get(self.path)
                if route:
                    self._answer(route)
                else:
                    self._send(404, b"not found", {})

            def _answer(self, route: Route) -> int:
                time.sleep(route.delay)
                headers = dict(route.headers)
                if route.etag:
                    headers["ETag"] = route.etag
                    if self.headers.get("If-None-Match") == route.etag:
                        return self._send(304, b"", headers)
                if route.last_modified is not None:
                    headers["Last-Modified"] = formatdate(route.last_modified, usegmt=True)
                    if self.headers.get("If-Modified-Since") == headers["Last-Modified"]:
                        return self._send(304, b"", headers)
                body = route.body
                if route.gzip:
                    body = gzip.compress(body)
                    headers["Content-Encoding"] = "gzip"
                return self._send(route.status, body, headers, route.trickle, route.declare_length,
                                  route.trickle_headers)

            def _send(self, status: int, body: bytes, headers: dict[str, str],
                      trickle: float | None = None, declare_length: bool = True,
                      trickle_headers: float | None = None) -> int:
                # noted before the client can read the answer, so a test that has it sees the request
                with server._lock:
                    server.requests.append(Request(self.path, dict(self.headers), status, time.monotonic()))
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                if declare_length:
                    self.send_header("Content-Length", str(len(body)))
                else:
                    self.send_header("Connection", "close")
                    self.close_connection = True
                try:
                    if trickle_headers is None:
                        self.end_headers()
                    else:
                        head = b"".join(self._headers_buffer) + b"\r\n"
                        self._headers_buffer = []
                        for index in range(len(head)):
                            self.wfile.write(head[index:index + 1])
                            self.wfile.flush()
                            time.sleep(trickle_headers)
                    if trickle is None:
                        self.wfile.write(body)
                    else:
                        for index in range(len(body)):
                            self.wfile.write(body[index:index + 1])
                            self.wfile.flush()
                            time.sleep(trickle)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up, as it should on a trickle
                return status

            def log_message(self, *args) -> None:
                pass

        self._server = _QuietServer((host, 0), Handler)
        self._server.daemon_threads = True
        self.host, self.port = self._server.server_address[:2]
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()

    def url(self, path: str) -> str:
        return f"http://{self.host}:{self.port}{path}"

    def serve(self, path: str, body: bytes | str = b"", **options) -> str:
        """Answer GET ``path`` as configured; returns its URL."""
        data = body.encode("utf-8") if isinstance(body, str) else body
        self.routes[path] = Route(body=data, **options)
        return self.url(path)

    def requests_for(self, path: str) -> list[Request]:
        with self._lock:
            return [request for request in self.requests if request.path == path]

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
