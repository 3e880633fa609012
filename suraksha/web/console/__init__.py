"""The review console: server-rendered pages (Jinja2 templates, htmx for small interactions, no
front-end build) on the same app as the API, under ``/console``.

``install(app)`` adds the routes, the static files (``/console/static``), the console's security
headers and its HTML error pages. Sessions, CSRF and permission checks: ``viewer`` and ``security``.
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route
from starlette.staticfiles import StaticFiles
from starlette.types import Receive, Scope, Send

from suraksha.web.console import (
    activity,
    answers,
    appeals,
    banks,
    errors,
    exchanges,
    flagger_notices,
    flaggers,
    legal,
    legal_desk,
    network,
    operations,
    reports,
    review,
    signin,
    stats,
)
from suraksha.web.console.pages import STATIC_DIR
from suraksha.web.console.security import ConsoleHeaders

STATIC_PREFIX = "/console/static"
ROUTERS = (
    signin.router,
    operations.router,
    activity.router,
    banks.router,
    exchanges.router,
    review.router,
    appeals.router,
    reports.router,
    legal_desk.router,  # before legal's: /console/legal/new is not a request id
    legal.router,
    stats.router,
    answers.router,
    flaggers.router,
    flagger_notices.router,
    network.router,
)


def _to_console() -> Response:
    return RedirectResponse("/console/", status_code=307)


def _favicon() -> Response:
    return RedirectResponse(f"{STATIC_PREFIX}/favicon.svg", status_code=308)


class StaticFilesRoute(StaticFiles):
    """The console's static files, counted in the request metrics under one route template
    (``/console/static/{path}``) like every page, rather than as ``<unmatched>``."""

    route = Route(f"{STATIC_PREFIX}/{{path}}", endpoint=_favicon, include_in_schema=False)
    """What the metrics read (``scope["route"].path``); never matched against a request."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope["route"] = self.route
        await super().__call__(scope, receive, send)


def install(app: FastAPI) -> None:
    """Add the console to ``app``. Call before the app's own middleware is added, so the console's
    headers are set first (the API's defaults then leave them alone)."""
    for router in ROUTERS:
        app.include_router(router)
    app.add_api_route("/console", _to_console, include_in_schema=False)
    app.add_api_route("/favicon.ico", _favicon, include_in_schema=False)  # browsers ask without a <link>
    app.mount(STATIC_PREFIX, StaticFilesRoute(directory=STATIC_DIR), name="console-static")
    errors.install(app)
    app.add_middleware(ConsoleHeaders)
