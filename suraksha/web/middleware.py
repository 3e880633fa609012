"""ASGI middleware: the request-body bound, security headers, and the access log with metrics.

Pure ASGI (no ``BaseHTTPMiddleware``): bodies stream through untouched, and a too-large body is cut
off while it arrives instead of being read whole first.
"""

from __future__ import annotations

import logging
import re
import time
from typing import Any

from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from suraksha.web.metrics import WebMetrics
from suraksha.web.problems import internal_error, problem

log = logging.getLogger("suraksha.web.access")

SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'"),
    (b"cross-origin-resource-policy", b"same-origin"),
    (b"cache-control", b"no-store"),
)
HSTS = (b"strict-transport-security", b"max-age=31536000")

UNMATCHED_ROUTE = "<unmatched>"


class BodyTooLarge(StarletteHTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(
            413, f"the request body is over the limit of {limit:,} bytes (setting web_max_body_bytes)"
        )


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return bytes(value).decode("latin-1")
    return None


class BodySizeLimit:
    """Refuse a declared Content-Length over the limit before reading anything; cut off a body that
    turns out longer (chunked, or lying) as soon as it crosses the limit. Either way: 413, and the
    route never sees a byte past the limit."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _header(scope, b"content-length")
        if declared is not None:
            if not declared.strip().isdigit():
                await problem(400, "Content-Length must be a whole number of bytes")(scope, receive, send)
                return
            if int(declared) > self.max_bytes:
                exc = BodyTooLarge(self.max_bytes)
                await problem(413, str(exc.detail))(scope, receive, send)
                return
        received = 0
        started = False

        async def bounded_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge(self.max_bytes)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, bounded_receive, tracking_send)
        except BodyTooLarge as exc:  # raised outside a route's error handling
            if started:
                raise
            await problem(413, str(exc.detail))(scope, receive, send)


MAX_JSON_DEPTH = 64
"""Deepest nesting of arrays and objects a JSON body may have. Our bodies nest a few levels; a parser
recursing through thousands of levels runs out of stack (a 500), so deeper bodies are refused first."""

_OUTSIDE_STRINGS = re.compile(rb'[\[\]{}"]')
"""What matters outside strings: brackets, and the quote that opens a string."""


class TooDeep(StarletteHTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(
            400, f"the JSON body nests arrays and objects more than {limit} deep: send a flatter document"
        )


class JsonNesting:
    """How deep a JSON text nests, fed in chunks as they arrive: brackets outside strings are counted;
    strings (and the escapes in them) are skipped. Inside a string only its closing quote and its
    backslashes matter, found with ``bytes.find`` (memchr): a body of base64 media is a few long
    strings, and a regular-expression scan of them for structural bytes held the event loop ~0.9 ms
    per 64 KB upload. Each byte is looked at a bounded number of times, whatever the body holds."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.depth = 0
        self.in_string = False
        self.escaped = False
        """The previous chunk ended on a backslash inside a string: this chunk's first byte is escaped."""

    def feed(self, chunk: bytes) -> None:
        """Raise ``TooDeep`` as soon as the text nests deeper than the limit."""
        at, end = 0, len(chunk)
        if self.escaped and chunk:
            self.escaped, at = False, 1
        quote = -1  # the next quote at or after ``at`` while in a string (found once, not per escape)
        while at < end:
            if self.in_string:
                if quote < at:
                    quote = chunk.find(b'"', at)
                    if quote < 0:
                        quote = end
                backslash = chunk.find(b"\\", at, quote)
                if backslash >= 0:  # the byte after it is escaped, whatever it is
                    at = backslash + 2
                    self.escaped = at > end
                    continue
                if quote == end:
                    return
                self.in_string, at = False, quote + 1
                continue
            found = _OUTSIDE_STRINGS.search(chunk, at)
            if found is None:
                return
            at = found.end()
            byte = chunk[at - 1]
            if byte == 0x22:
                self.in_string = True
            elif byte in b"[{":
                self.depth += 1
                if self.depth > self.limit:
                    raise TooDeep(self.limit)
            else:
                self.depth = max(0, self.depth - 1)


def _may_be_json(scope: Scope) -> bool:
    """Bodies a route may read as JSON: declared JSON, or no type at all (FastAPI reads those as JSON)."""
    declared = _header(scope, b"content-type")
    if declared is None:
        return True
    kind = declared.split(";", 1)[0].strip().lower()
    return kind == "application/json" or (kind.startswith("application/") and kind.endswith("+json"))


class JsonDepthLimit:
    """Refuse a JSON request body that nests deeper than ``MAX_JSON_DEPTH`` (400), on every route,
    while it arrives and before any parser sees it."""

    def __init__(self, app: ASGIApp, max_depth: int = MAX_JSON_DEPTH) -> None:
        self.app = app
        self.max_depth = max_depth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _may_be_json(scope):
            await self.app(scope, receive, send)
            return
        nesting = JsonNesting(self.max_depth)
        started = False

        async def checked_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                nesting.feed(message.get("body", b""))
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, checked_receive, tracking_send)
        except TooDeep as exc:  # raised outside a route's error handling
            if started:
                raise
            await problem(400, str(exc.detail))(scope, receive, send)


class CatchAll:
    """The last word on an unexpected exception: a 500 problem (the traceback is logged, never sent),
    answered inside the other middleware so it still carries the security headers and is counted."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            if started:
                raise
            await internal_error(exc)(scope, receive, send)


class SecurityHeaders:
    """Headers every answer carries: no sniffing, no framing, no referrer, nothing to load, no caching
    (answers hold hashes and match results). HSTS when the request came over HTTPS."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = SECURITY_HEADERS + ((HSTS,) if scope.get("scheme") == "https" else ())

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {bytes(k).lower() for k, _ in message.get("headers", ())}
                headers = list(message.get("headers", ()))
                headers.extend((k, v) for k, v in extra if k not in present)
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)


class RequestObserver:
    """One structured access-log line and the request metrics per request.

    Logged: method, route template (not the path: paths hold bank names), status, time, the API key's
    name (never the key) and the client address. Never the query string (it can hold media URLs with
    their own credentials), headers, or bodies.
    """

    def __init__(self, app: ASGIApp, metrics: WebMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def observing_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, observing_send)
        finally:
            elapsed = time.perf_counter() - started
            route = _route_template(scope)
            method = str(scope.get("method", "-"))
            self.metrics.observe(method, route, status, elapsed)
            state: dict[str, Any] = scope.get("state") or {}
            client = scope.get("client")
            log.info(
                "event=http.request method=%s route=%s status=%d ms=%.1f key=%s client=%s",
                method,
                route,
                status,
                elapsed * 1000,
                state.get("api_key_name", "-"),
                client[0] if client else "-",
            )


def _route_template(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else UNMATCHED_ROUTE
