"""Who may use ``newsmon web``, and which form posts are the app's own.

- **Access.** With a token (``NEWSMON_WEB_TOKEN``), every request must carry it, as
  ``Authorization: Bearer TOKEN`` or as the password of basic auth (any user name; the
  browser asks for it). Without one, the server only binds loopback, and then only
  requests addressed to a loopback host name are answered: a web page cannot reach the app
  by rebinding its own domain name to 127.0.0.1 (DNS rebinding).
- **CSRF.** Each browser gets a random token in a ``SameSite=Strict``, ``HttpOnly`` cookie;
  every form that changes state sends it back in a hidden field, and a POST whose field
  does not match the cookie, or whose ``Origin`` is another site, is refused (403).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import secrets
from http.cookies import SimpleCookie
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from newsmon.settings import LOOPBACK_HOSTS, Secret

CSRF_COOKIE = "newsmon_csrf"
CSRF_FIELD = "csrf"


def is_loopback(host: str) -> bool:
    return host.strip("[]") in LOOPBACK_HOSTS


def token_matches(authorization: str, token: Secret) -> bool:
    """``Bearer TOKEN`` or ``Basic base64(USER:TOKEN)`` carrying ``token``."""
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() == "bearer":
        given = value.strip()
    elif scheme.lower() == "basic":
        try:
            given = base64.b64decode(value.strip(), validate=True).decode("utf-8").partition(":")[2]
        except (binascii.Error, UnicodeDecodeError):
            return False
    else:
        return False
    return hmac.compare_digest(given.encode(), token.reveal().encode())


class Guard:
    """ASGI middleware: access by token or loopback host name, and the CSRF cookie."""

    def __init__(self, app: ASGIApp, *, token: Secret | None) -> None:
        self.app = app
        self.token = token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        refusal = self._refusal(headers)
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        cookie = SimpleCookie(headers.get("cookie", ""))
        known = cookie[CSRF_COOKIE].value if CSRF_COOKIE in cookie else ""
        csrf = known if len(known) >= 32 else secrets.token_urlsafe(32)
        scope.setdefault("state", {})["csrf"] = csrf

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start" and csrf != known:
                value = f"{CSRF_COOKIE}={csrf}; Path=/; HttpOnly; SameSite=Strict"
                message["headers"] = [*message.get("headers", []), (b"set-cookie", value.encode())]
            await send(message)

        await self.app(scope, receive, send_with_cookie)

    def _refusal(self, headers: Headers) -> PlainTextResponse | None:
        if self.token is not None:
            if token_matches(headers.get("authorization", ""), self.token):
                return None
            return PlainTextResponse("newsmon web: this server needs its token (NEWSMON_WEB_TOKEN) as a "
                                     "bearer token or as the basic-auth password\n", status_code=401,
                                     headers={"WWW-Authenticate": 'Basic realm="newsmon", charset="UTF-8"'})
        host = urlsplit("//" + headers.get("host", "")).hostname or ""
        if not is_loopback(host):
            message = (f"newsmon web answers only requests to 127.0.0.1 or localhost, not {host!r}, "
                       "unless it has a token (NEWSMON_WEB_TOKEN)\n")
            return PlainTextResponse(message, status_code=421)
        return None


def check_csrf(request: Request, form_token: str | None) -> None:
    """Refuse (403) a state-changing request that is not from one of the app's own forms."""
    origin = request.headers.get("origin")
    if origin and urlsplit(origin).netloc != request.headers.get("host"):
        raise HTTPException(403, f"refused: a form from another site ({origin})")
    cookie = request.cookies.get(CSRF_COOKIE, "")
    if not cookie or not form_token or not hmac.compare_digest(cookie.encode(), form_token.encode()):
        raise HTTPException(403, "refused: the form's CSRF token is missing or stale; reload the page "
                                 "and send it again")
