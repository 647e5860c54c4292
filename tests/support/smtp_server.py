"""A tiny real SMTP server on 127.0.0.1 for notifier tests, written with ``socketserver``.

It speaks enough of RFC 5321 for smtplib: EHLO/HELO, STARTTLS (when given a TLS
context; AUTH is only offered after it, as real servers do), implicit TLS, AUTH PLAIN and
AUTH LOGIN, MAIL FROM, RCPT TO, DATA (with dot-unstuffing), RSET, NOOP, QUIT. Replies can
be scripted per stage (a 451 on MAIL, a 554 after DATA, a 450 for one recipient) and
every accepted message is recorded with its envelope, the user who logged in and whether
the session was encrypted.
"""

from __future__ import annotations

import base64
import email
import email.policy
import socketserver
import ssl
import threading
import time
from dataclasses import dataclass, field
from email.message import EmailMessage


@dataclass
class Mail:
    mail_from: str
    rcpt_to: list[str]
    data: bytes
    user: str | None
    mechanism: str | None
    tls: bool

    @property
    def message(self) -> EmailMessage:
        return email.message_from_bytes(self.data, policy=email.policy.default)


@dataclass
class _Session:
    tls: bool = False
    user: str | None = None
    mechanism: str | None = None
    mail_from: str | None = None
    rcpt_to: list[str] = field(default_factory=list)


def _address(argument: str) -> str:
    _, _, rest = argument.partition(":")
    return rest.strip().split(" ")[0].strip("<>")


class SMTPServer:
    def __init__(self, *, users: dict[str, str] | None = None,
                 mechanisms: tuple[str, ...] = ("PLAIN", "LOGIN"), starttls: ssl.SSLContext | None = None,
                 implicit_tls: ssl.SSLContext | None = None) -> None:
        self.users = users or {}
        self.mechanisms = mechanisms
        self.mails: list[Mail] = []
        self.sessions = 0
        self.auth_failures = 0
        self._starttls = starttls
        self._script: dict[str, list[tuple[int, str]]] = {}
        self._rcpt_script: dict[str, list[tuple[int, str]]] = {}
        self._lock = threading.Lock()
        server = self

        class Handler(socketserver.StreamRequestHandler):
            def setup(self) -> None:
                self.tls = False
                if implicit_tls is not None:
                    self.request = implicit_tls.wrap_socket(self.request, server_side=True)
                    self.tls = True
                super().setup()

            def reply(self, code: int, text: str = "OK") -> None:
                lines = text.split("\n")
                out = [f"{code}-{line}" for line in lines[:-1]] + [f"{code} {lines[-1]}"]
                self.wfile.write(("\r\n".join(out) + "\r\n").encode())
                self.wfile.flush()

            def readline(self) -> str | None:
                line = self.rfile.readline(65536)
                return line.decode("utf-8", "replace").rstrip("\r\n") if line else None

            def handle(self) -> None:
                with server._lock:
                    server.sessions += 1
                session = _Session(tls=self.tls)
                self.reply(220, "localhost newsmon test SMTP")
                while (line := self.readline()) is not None:
                    verb, _, argument = line.partition(" ")
                    verb = verb.upper()
                    scripted = server._scripted(verb)
                    if scripted is not None:
                        if scripted[0] == 0:
                            return  # hang up without a word
                        self.reply(*scripted)
                        continue
                    handler = getattr(self, f"smtp_{verb}", None)
                    if handler is None:
                        self.reply(502, "5.5.2 command not recognised")
                    elif handler(argument, session) is False:
                        return

            def smtp_EHLO(self, argument: str, session: _Session) -> None:  # noqa: N802
                session.mail_from, session.rcpt_to = None, []
                features = ["localhost greets you", "8BITMIME", "SIZE 10485760"]
                if server._starttls is not None and not session.tls:
                    features.append("STARTTLS")
                elif server.users:
                    features.append("AUTH " + " ".join(server.mechanisms))
                self.reply(250, "\n".join(features))

            def smtp_HELO(self, argument: str, session: _Session) -> None:  # noqa: N802
                self.reply(250, "localhost")

            def smtp_STARTTLS(self, argument: str, session: _Session) -> None:  # noqa: N802
                if server._starttls is None or session.tls:
                    self.reply(454, "4.7.0 TLS not available")
                    return
                self.reply(220, "2.0.0 ready to start TLS")
                self.connection = server._starttls.wrap_socket(self.connection, server_side=True)
                self.request = self.connection
                self.rfile = self.connection.makefile("rb")
                self.wfile = self.connection.makefile("wb")
                session.tls = True
                session.user = None

            def smtp_AUTH(self, argument: str, session: _Session) -> None:  # noqa: N802
                mechanism, _, initial = argument.partition(" ")
                mechanism = mechanism.upper()
                if mechanism not in server.mechanisms or not server.users:
                    self.reply(504, "5.5.4 mechanism not supported")
                    return
                if mechanism == "PLAIN":
                    if not initial:
                        self.reply(334, "")
                        initial = self.readline() or ""
                    _, user, password = base64.b64decode(initial).decode().split("\0")
                else:
                    if not initial:
                        self.reply(334, base64.b64encode(b"Username:").decode())
                        initial = self.readline() or ""
                    user = base64.b64decode(initial).decode()
                    self.reply(334, base64.b64encode(b"Password:").decode())
                    password = base64.b64decode(self.readline() or "").decode()
                if server.users.get(user) == password:
                    session.user, session.mechanism = user, mechanism
                    self.reply(235, "2.7.0 authentication successful")
                else:
                    with server._lock:
                        server.auth_failures += 1
                    self.reply(535, "5.7.8 authentication credentials invalid")

            def smtp_MAIL(self, argument: str, session: _Session) -> None:  # noqa: N802
                if server.users and session.user is None:
                    self.reply(530, "5.7.0 authentication required")
                    return
                session.mail_from, session.rcpt_to = _address(argument), []
                self.reply(250, "2.1.0 sender OK")

            def smtp_RCPT(self, argument: str, session: _Session) -> None:  # noqa: N802
                if session.mail_from is None:
                    self.reply(503, "5.5.1 MAIL first")
                    return
                address = _address(argument)
                refusal = server._refusal(address)
                if refusal is not None:
                    self.reply(*refusal)
                    return
                session.rcpt_to.append(address)
                self.reply(250, "2.1.5 recipient OK")

            def smtp_DATA(self, argument: str, session: _Session) -> None:  # noqa: N802
                if not session.rcpt_to:
                    self.reply(503, "5.5.1 RCPT first")
                    return
                self.reply(354, "end data with <CR><LF>.<CR><LF>")
                lines = []
                while (raw := self.rfile.readline(1 << 20)) not in (b".\r\n", b""):
                    lines.append(raw[1:] if raw.startswith(b".") else raw)
                scripted = server._scripted("DATA-END")
                if scripted is not None:
                    self.reply(*scripted)
                else:
                    with server._lock:
                        server.mails.append(Mail(session.mail_from, list(session.rcpt_to), b"".join(lines),
                                                 session.user, session.mechanism, session.tls))
                    self.reply(250, "2.0.0 queued")
                session.mail_from, session.rcpt_to = None, []

            def smtp_RSET(self, argument: str, session: _Session) -> None:  # noqa: N802
                session.mail_from, session.rcpt_to = None, []
                self.reply(250, "2.0.0 reset")

            def smtp_NOOP(self, argument: str, session: _Session) -> None:  # noqa: N802
                self.reply(250, "2.0.0 OK")

            def smtp_QUIT(self, argument: str, session: _Session) -> bool:  # noqa: N802
                self.reply(221, "2.0.0 bye")
                return False

        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True

            def handle_error(self, request, client_address) -> None:
                pass  # clients hanging up mid-session, TLS handshakes refused on purpose

        self._server = Server(("127.0.0.1", 0), Handler)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()

    def fail(self, stage: str, code: int, text: str = "scripted failure", times: int = 1) -> None:
        """Answer the next ``times`` commands ``stage`` (EHLO, MAIL, RCPT, DATA-END for the
        reply after the message) with ``code``; code 0 hangs up instead.
        """
        with self._lock:
            self._script.setdefault(stage.upper(), []).extend([(code, text)] * times)

    def refuse(self, address: str, code: int, text: str = "recipient refused", times: int = 1) -> None:
        with self._lock:
            self._rcpt_script.setdefault(address, []).extend([(code, text)] * times)

    def _scripted(self, verb: str) -> tuple[int, str] | None:
        with self._lock:
            queue = self._script.get(verb)
            return queue.pop(0) if queue else None

    def _refusal(self, address: str) -> tuple[int, str] | None:
        with self._lock:
            queue = self._rcpt_script.get(address)
            return queue.pop(0) if queue else None

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Mail]:
        deadline = time.monotonic() + timeout
        while len(self.mails) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return list(self.mails)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)
