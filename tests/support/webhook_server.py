"""A real webhook receiver on 127.0.0.1 for notifier tests: records every request, checks
its signature with the shared secret, and answers as scripted (503, 429 + Retry-After, 400...).
"""

from __future__ import annotations

import collections
import json
import ssl
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from newsmon.connectors.webhook_signing import verify_signature


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]  # names in lower case
    body: bytes
    signature_ok: bool | None  # None when the receiver has no secret
    status: int  # what the receiver answered
    at: float = field(default_factory=time.monotonic)  # when it arrived

    def json(self):
        return json.loads(self.body)


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError | ssl.SSLError):
            super().handle_error(request, client_address)


class WebhookServer:
    def __init__(self, *, secret: str | None = None, tls: ssl.SSLContext | None = None,
                 port: int = 0) -> None:
        """``port`` 0 takes any free port; a given one brings an endpoint "back up" where it was down."""
        self.secret = secret
        self.received: list[Received] = []
        self._script: collections.deque[tuple[int, dict[str, str]]] = collections.deque()
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802 - the name http.server dispatches to
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                headers = {name.lower(): value for name, value in self.headers.items()}
                signature_ok = None
                if receiver.secret is not None:
                    signature_ok = verify_signature(receiver.secret, headers.get("x-newsmon-timestamp"), body,
                                                    headers.get("x-newsmon-signature"))
                status, extra = receiver._next_answer()
                if status == 200 and signature_ok is False:
                    status, extra = 401, {}
                payload = b'{"ok":true}' if status == 200 else f"refused with {status}".encode()
                # Recorded before answering: once the client has its answer, the test sees it.
                with receiver._arrived:
                    receiver.received.append(Received(self.command, self.path, headers, body, signature_ok,
                                                      status))
                    receiver._arrived.notify_all()
                self.send_response(status)
                for name, value in extra.items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json" if status == 200 else "text/plain")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def do_GET(self) -> None:  # noqa: N802
                self.send_error(405)

            def log_message(self, format, *args) -> None:  # noqa: A002 - http.server's signature
                pass

        self._server = _QuietServer(("127.0.0.1", port), Handler)
        if tls is not None:
            self._server.socket = tls.wrap_socket(self._server.socket, server_side=True)
        self.scheme = "https" if tls is not None else "http"
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()

    def url(self, path: str = "/hook") -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}{path}"

    def answer(self, *answers: int | tuple[int, dict[str, str]]) -> None:
        """Answer the next requests with these statuses (optionally with headers), then 200."""
        with self._lock:
            for answer in answers:
                self._script.append(answer if isinstance(answer, tuple) else (answer, {}))

    def _next_answer(self) -> tuple[int, dict[str, str]]:
        with self._lock:
            return self._script.popleft() if self._script else (200, {})

    def wait_for(self, count: int, timeout: float = 30.0) -> list[Received]:
        """Wait until ``count`` requests arrived with a 200 answer; returns those."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while True:
                accepted = [r for r in self.received if r.status == 200]
                if len(accepted) >= count or time.monotonic() > deadline:
                    return accepted
                self._arrived.wait(min(0.2, max(0.0, deadline - time.monotonic())))

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)
