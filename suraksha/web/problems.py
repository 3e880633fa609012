"""Errors become HTTP answers here, and only here.

Domain code raises ``suraksha.errors`` (and media code ``MediaError``); this module maps each to a
status and a JSON problem document (RFC 9457: ``type``, ``title``, ``status``, ``detail``). The same
text is repeated as ``message``, the field HMA's error responses use, so HMA clients read our errors
unchanged. Nothing here echoes a request's credentials, and a 500 never shows the exception.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from starlette.exceptions import HTTPException as StarletteHTTPException

from suraksha.errors import (
    Conflict,
    ExternalServiceError,
    Forbidden,
    InvalidInput,
    NotFound,
    NotReady,
    SurakshaError,
    TooLarge,
    Unauthenticated,
    Unprocessable,
)
from suraksha.media.errors import MediaError

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
RETRY_AFTER_S = "5"

# First match wins: subclasses before their bases. IndexNotReady is a NotReady.
STATUS_OF: Sequence[tuple[type[Exception], int]] = (
    (Unauthenticated, 401),
    (Forbidden, 403),
    (NotFound, 404),
    (Conflict, 409),
    (Unprocessable, 422),
    (TooLarge, 413),
    (InvalidInput, 400),
    (NotReady, 503),
    (MediaError, 422),
    (ExternalServiceError, 502),
)


class Problem(BaseModel):
    """An error answer (RFC 9457). ``message`` repeats ``detail`` for HMA clients."""

    model_config = ConfigDict(extra="allow")

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    message: str


PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": Problem, "description": description}
    for status, description in (
        (400, "Bad request: the message says what was wrong."),
        (401, "No API key, or a key that is not valid."),
        (403, "The API key lacks the role this needs."),
        (413, "The request body is over the limit (setting web_max_body_bytes)."),
        (422, "The request or its media could not be processed."),
        (503, "Not ready (the match index is loading or stale): never to be read as no match."),
    )
}


def status_of(exc: Exception) -> int:
    for kind, status in STATUS_OF:
        if isinstance(exc, kind):
            return status
    return 500


def problem(
    status: int,
    detail: str,
    *,
    headers: Mapping[str, str] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "message": detail,
        **(extra or {}),
    }
    all_headers = dict(headers or {})
    if status == 401:
        all_headers.setdefault("WWW-Authenticate", 'Bearer realm="suraksha"')
    if status == 503:
        all_headers.setdefault("Retry-After", RETRY_AFTER_S)
    return JSONResponse(body, status_code=status, headers=all_headers, media_type=PROBLEM_JSON)


async def _domain_error(_request: Request, exc: Exception) -> JSONResponse:
    status = status_of(exc)
    if status == 500:
        return internal_error(exc)
    detail = exc.message if isinstance(exc, MediaError) else str(exc)
    extra = {"state": exc.kind.value} if isinstance(exc, MediaError) else None
    return problem(status, detail, extra=extra)


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"where": ".".join(str(p) for p in e.get("loc", ())), "problem": str(e.get("msg", ""))}
        for e in exc.errors()
    ]
    detail = "; ".join(f"{e['where']}: {e['problem']}" for e in errors) or "invalid request"
    return problem(422, detail, extra={"errors": errors})


async def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
    return problem(exc.status_code, detail, headers=exc.headers)


def internal_error(exc: BaseException) -> JSONResponse:
    """An exception nobody expected: logged with its traceback, answered without it."""
    log.error("event=http.unhandled kind=%s", type(exc).__name__, exc_info=exc)
    return problem(500, "internal error: the service logged the cause")


async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
    return internal_error(exc)


def install(app: FastAPI) -> None:
    """Register every mapping on the app."""
    app.add_exception_handler(SurakshaError, _domain_error)
    app.add_exception_handler(MediaError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
