"""Errors under ``/console`` become pages (or, for htmx, a fragment htmx swaps in); elsewhere the API's
JSON problem documents stay as they are (``suraksha.web.problems``)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import RedirectResponse, Response

from suraksha.errors import SurakshaError
from suraksha.media.errors import MediaError
from suraksha.web import problems
from suraksha.web.console.pages import is_htmx, render
from suraksha.web.console.security import CONSOLE_PREFIX, clear_cookie
from suraksha.web.console.viewer import CsrfRefused, SignInRequired, cookie_names
from suraksha.web.switches import ReadOnly

log = logging.getLogger(__name__)

Handler = Callable[[Request, Exception], Awaitable[Response]]


def _sign_in_required(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, SignInRequired)
    response: Response
    if is_htmx(request):  # htmx would swap the sign-in page into a fragment: send the whole page there
        response = Response(status_code=200, headers={"HX-Redirect": exc.location})
    else:
        response = RedirectResponse(exc.location, status_code=303)
    if exc.clear_cookie:
        clear_cookie(
            response,
            cookie_names(request.app.state.suraksha),
            cookie_names(request.app.state.suraksha).session,
        )
    return response


def _page(request: Request, status: int, title: str, detail: str) -> Response:
    viewer = getattr(request.state, "console_viewer", None)
    template = "console/fragments/error.html" if is_htmx(request) else "console/error.html"
    headers = {"HX-Retarget": "#flash", "HX-Reswap": "innerHTML"} if is_htmx(request) else None
    context = {"status": status, "title": title, "detail": detail}
    return render(request, template, viewer, context, status_code=status, headers=headers)


def _console_error(request: Request, exc: Exception) -> Response:
    if isinstance(exc, SignInRequired):
        return _sign_in_required(request, exc)
    if isinstance(exc, CsrfRefused):
        return _page(
            request,
            403,
            "Refused: the request did not come from this console",
            "The form was missing its security token, or it came from another site. Nothing was "
            "changed. Reload the page and try again.",
        )
    if isinstance(exc, RequestValidationError):
        wrong = "; ".join(
            f"{'.'.join(str(p) for p in e.get('loc', ())[1:])}: {e.get('msg', '')}" for e in exc.errors()
        )
        return _page(request, 422, "The form was not filled in as expected", wrong or "invalid request")
    if isinstance(exc, StarletteHTTPException):
        detail = exc.detail if isinstance(exc.detail, str) else "error"
        return _page(request, exc.status_code, "Error", detail)
    if isinstance(exc, ReadOnly):
        return _page(request, 503, "The service is read-only", str(exc))
    status = problems.status_of(exc)
    if status == 500:
        log.error("event=console.unhandled kind=%s", type(exc).__name__, exc_info=exc)
        return _page(request, 500, "Something went wrong", "The service logged the cause.")
    detail = exc.message if isinstance(exc, MediaError) else str(exc)
    titles = {401: "Sign in", 403: "Not allowed", 404: "Not found", 409: "Conflict", 503: "Not ready"}
    return _page(request, status, titles.get(status, "Could not do that"), detail)


def _for_console(fallback: Handler | None) -> Handler:
    async def handle(request: Request, exc: Exception) -> Response:
        if request.url.path.startswith(CONSOLE_PREFIX) or fallback is None:
            return _console_error(request, exc)
        return await fallback(request, exc)

    return handle


def install(app: FastAPI) -> None:
    """Route errors under ``/console`` to pages; keep the API's handlers for everything else."""
    handlers: dict[Any, Any] = app.exception_handlers
    for kind in (SurakshaError, MediaError, RequestValidationError, StarletteHTTPException, Exception):
        app.add_exception_handler(kind, _for_console(handlers.get(kind)))
    app.add_exception_handler(SignInRequired, _for_console(None))
    app.add_exception_handler(CsrfRefused, _for_console(None))
