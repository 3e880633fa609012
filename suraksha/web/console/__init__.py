"""The review console: server-rendered pages (Jinja2 templates, htmx for small interactions, no
front-end build) on the same app as the API, under ``/console``.

``install(app)`` adds the routes, the static files (``/console/static``), the console's security
headers and its HTML error pages. Sessions, CSRF and permission checks: ``viewer`` and ``security``.
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.responses import RedirectResponse, Response
from starlette.staticfiles import StaticFiles

from suraksha.web.console import banks, errors, operations, reports, review, signin
from suraksha.web.console.pages import STATIC_DIR
from suraksha.web.console.security import ConsoleHeaders

ROUTERS = (signin.router, operations.router, banks.router, review.router, reports.router)


def _to_console() -> Response:
    return RedirectResponse("/console/", status_code=307)


def install(app: FastAPI) -> None:
    """Add the console to ``app``. Call before the app's own middleware is added, so the console's
    headers are set first (the API's defaults then leave them alone)."""
    for router in ROUTERS:
        app.include_router(router)
    app.add_api_route("/console", _to_console, include_in_schema=False)
    app.mount("/console/static", StaticFiles(directory=STATIC_DIR), name="console-static")
    errors.install(app)
    app.add_middleware(ConsoleHeaders)
