"""A real HTTP proxy in front of the real Elasticsearch node that misbehaves on purpose:
it refuses the first requests with 401 (an expired key, fixed by an operator) or a body
over a size with 413 (``http.max_content_length``), and forwards everything else as is.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import urllib3

HOP_HEADERS = frozenset({"connection", "keep-alive", "transfer-encoding", "content-length", "host"})


class ElasticsearchProxy:
    def __init__(self, upstream: str, *, refuse_first: int = 0, max_body: int | None = None) -> None:
        self.upstream = upstream.rstrip("/")
        self.refuse_first = refuse_first
        self.max_body = max_body
        self.answers: list[int] = []
        self._lock = threading.Lock()
        self._http = urllib3.PoolManager()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def _handle(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with proxy._lock:
                    refuse = proxy.refuse_first > 0
                    proxy.refuse_first -= refuse
                if refuse:
                    self._answer(401, b'{"error":{"type":"security_exception"},"status":401}')
                elif proxy.max_body is not None and len(body) > proxy.max_body:
                    self._answer(413, b"")
                else:
                    upstream = proxy._http.request(
                        self.command, proxy.upstream + self.path, body=body or None, retries=False,
                        headers={k: v for k, v in self.headers.items() if k.lower() not in HOP_HEADERS})
                    self._answer(upstream.status, upstream.data, upstream.headers)

            def _answer(self, status: int, data: bytes, headers=None) -> None:
                proxy.answers.append(status)
                self.send_response(status)
                for key, value in (headers or {"Content-Type": "application/json",
                                               "X-Elastic-Product": "Elasticsearch"}).items():
                    if key.lower() not in HOP_HEADERS:
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_HEAD = do_DELETE = _handle  # noqa: N815

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
