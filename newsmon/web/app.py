"""The Starlette app of ``newsmon web``: its routes, templates and error pages.

Pages are plain server-rendered HTML (Jinja2, autoescaping on: feed text is hostile);
the only script is the alerts page's few lines that add rows from server-sent events.
Reads use the same Elasticsearch indices and query code as the CLI; the watch-list forms
are the only writes, and they are CSRF-protected (:mod:`newsmon.web.guard`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from importlib import resources
from typing import Any

import jinja2
from elasticsearch import ApiError, Elasticsearch
from elasticsearch import ConnectionError as EsConnectionError
from markupsafe import Markup, escape
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from newsmon.analysis.watch_entries import DEFAULT_LIST, WatchEntry
from newsmon.connectors.elasticsearch import make_client
from newsmon.connectors.watchlist_store import WatchlistStore, stories_naming
from newsmon.errors import ConfigError, NewsmonError, ServiceUnavailableError
from newsmon.settings import Secret, Settings, masked_url
from newsmon.web import other_pages
from newsmon.web.guard import CSRF_FIELD, Guard, check_csrf
from newsmon.web.live_alerts import alert_events
from newsmon.web.search_page import MARK_CLOSE, MARK_OPEN, SearchForm, search

log = logging.getLogger(__name__)
PACKAGE = resources.files("newsmon.web")


def marked(text: str) -> Markup:
    """``text`` escaped, with the search's highlight markers as ``<mark>``."""
    escaped = str(escape(text))
    return Markup(escaped.replace(MARK_OPEN, "<mark>").replace(MARK_CLOSE, "</mark>"))


def templates() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.PackageLoader("newsmon.web", "templates"), autoescape=True,
                             undefined=jinja2.StrictUndefined)
    env.filters["marked"] = marked
    env.filters["when"] = lambda text: (text or "")[:16].replace("T", " ")
    return env


class Timing:
    """ASGI middleware: a ``Server-Timing: app;dur=MS`` header on every response (the
    benchmark reads it), measured from the request to the response's start.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()

        async def timed(message: Message) -> None:
            if message["type"] == "http.response.start":
                took = (time.perf_counter() - started) * 1000
                timing = (b"server-timing", f"app;dur={took:.1f}".encode())
                message["headers"] = [*message.get("headers", []), timing]
            await send(message)

        await self.app(scope, receive, timed)


def create_app(settings: Settings, *, token: Secret | None = None, client: Elasticsearch | None = None
               ) -> ASGIApp:
    """The app; ``token`` (or none) is what every request must carry (see :mod:`newsmon.web.guard`)."""
    es = client or make_client(settings)
    env = templates()

    def page(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
        html = env.get_template(name).render(request=request, csrf=request.state.csrf,
                                             csrf_field=CSRF_FIELD, **context)
        return HTMLResponse(html, status_code=status)

    def search_view(request: Request) -> Response:
        try:
            form = SearchForm.from_params(request.query_params)
        except ConfigError as exc:
            return page(request, "search.html", 400, form=SearchForm(), result=None, error=str(exc))
        return page(request, "search.html", form=form, result=search(es, settings, form), error=None)

    def story_view(request: Request) -> Response:
        found = other_pages.story(es, settings, request.path_params["story_id"])
        if found is None:
            raise HTTPException(404, f"no story {request.path_params['story_id']!r} is indexed")
        return page(request, "story.html", story=found)

    def alerts_view(request: Request) -> Response:
        chosen = other_pages.AlertFilter.from_params(request.query_params)
        return page(request, "alerts.html", chosen=chosen, result=other_pages.alerts(es, settings, chosen))

    def render_alert(alert: dict[str, Any]) -> str:
        return env.get_template("alert_row.html").render(alert=alert, fresh=True)

    async def alerts_live(request: Request) -> Response:
        chosen = other_pages.AlertFilter.from_params(request.query_params)
        return StreamingResponse(alert_events(request, settings, chosen, render_alert),
                                 media_type="text/event-stream",
                                 headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})

    store = WatchlistStore(es, settings.es_index_watchlist)

    def watch_view(request: Request) -> Response:
        return page(request, "watch.html", entries=store.entries(), added=None, error=None,
                    default_list=DEFAULT_LIST)

    async def watch_add(request: Request) -> Response:
        form = await request.form()
        check_csrf(request, form.get(CSRF_FIELD))
        fields = {name: str(form.get(name) or "").strip() for name in ("name", "list", "aliases", "topics")}
        return await _run(lambda: _add(request, fields))

    def _add(request: Request, fields: dict[str, str]) -> Response:
        try:
            entry = WatchEntry.create(fields["name"], aliases=_split(fields["aliases"]),
                                      list_name=fields["list"] or DEFAULT_LIST,
                                      topics=_split(fields["topics"]))
        except ConfigError as exc:
            return page(request, "watch.html", 400, entries=store.entries(), added=None, error=str(exc),
                        default_list=DEFAULT_LIST)
        new, _ = store.put([entry])
        past = stories_naming(es, settings.es_index_articles, entry)
        return page(request, "watch.html", entries=store.entries(), error=None, default_list=DEFAULT_LIST,
                    added={"entry": entry, "new": bool(new), "stories": past})

    async def watch_remove(request: Request) -> Response:
        form = await request.form()
        check_csrf(request, form.get(CSRF_FIELD))
        entry_id = str(form.get("entry_id") or "")
        list_name = str(form.get("list") or DEFAULT_LIST)
        await _run(lambda: store.remove(entry_id, list_name))
        return RedirectResponse("/watch", status_code=303)

    def health_view(request: Request) -> Response:
        return page(request, "health.html", health=other_pages.health(settings), settings=settings)

    async def problem(request: Request, exc: Exception) -> Response:
        status, message = 500, "an unexpected error; the server's log has the details"
        if isinstance(exc, HTTPException):
            status, message = exc.status_code, exc.detail
        elif isinstance(exc, ConfigError):
            status, message = 400, str(exc)
        elif isinstance(exc, NewsmonError) and not isinstance(exc, ServiceUnavailableError):
            status, message = 502, str(exc)
        elif isinstance(exc, ServiceUnavailableError | EsConnectionError):
            status, message = 503, (f"Elasticsearch is not reachable at {masked_url(settings.es_url)}: "
                                    "start it with `newsmon services up` or check NEWSMON_ES_URL")
        elif isinstance(exc, ApiError):
            status, message = 502, f"Elasticsearch refused the request: {exc.message}"
        else:
            log.error("%s %s failed", request.method, request.url.path, exc_info=exc)
        html = env.get_template("problem.html").render(request=request, status=status, message=message)
        return HTMLResponse(html, status_code=status)

    routes = [
        Route("/", lambda request: RedirectResponse("/search", status_code=307)),
        Route("/search", search_view),
        Route("/story/{story_id}", story_view),
        Route("/alerts", alerts_view),
        Route("/alerts/live", alerts_live),
        Route("/watch", watch_view),
        Route("/watch/add", watch_add, methods=["POST"]),
        Route("/watch/remove", watch_remove, methods=["POST"]),
        Route("/health", health_view),
        Mount("/static", StaticFiles(directory=str(PACKAGE / "static")), name="static"),
    ]
    handled = (HTTPException, NewsmonError, EsConnectionError, ApiError, Exception)
    app = Starlette(routes=routes, exception_handlers=dict.fromkeys(handled, problem))
    app.state.es = es
    return Timing(Guard(app, token=token))


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.replace(";", ",").split(",") if part.strip()]


async def _run(call: Callable[[], Any]) -> Any:
    from starlette.concurrency import run_in_threadpool

    return await run_in_threadpool(call)
