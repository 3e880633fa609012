"""The console's browser-facing protections: cookies, CSRF tokens, and the response headers.

Cookies. ``session``: the session token (``suraksha.access.sessions``), HttpOnly, SameSite=Lax, Secure
and ``__Host-`` prefixed unless ``console_secure_cookies`` is off (plain HTTP on loopback only).
``pre``: a random value given to a browser that is not signed in, so the sign-in form can carry a CSRF
token too (login CSRF: an attacker signing a victim into the attacker's account).

CSRF (OWASP CSRF Prevention Cheat Sheet): every state-changing request must carry a token in the
``X-CSRF-Token`` header (htmx sends it from the ``hx-headers`` on ``<body>``) or the ``csrf_token``
form field. The token is the HMAC-SHA256 of a fixed label keyed with the cookie's secret value: only a
page of ours, which was given the token, can send it, since another site can neither read the HttpOnly
cookie nor our pages. Being keyed by the session token, it changes at every sign-in and needs no
storage. Besides the token, a request whose ``Origin`` is another site, or that the browser marks
``Sec-Fetch-Site: cross-site``, is refused outright.

Headers: a Content-Security-Policy that allows scripts and styles from our own origin only (no inline
script, no eval: htmx is configured not to need them), no framing, no referrer, no sniffing, no
caching, and the browser's powerful features off.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from suraksha.settings import Settings

log = logging.getLogger(__name__)

CONSOLE_PREFIX = "/console"
INTERNAL_ERROR_PAGE = (
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Error · Suraksha console</title>'
    '<link rel="icon" href="/console/static/favicon.svg" type="image/svg+xml">'
    '<link rel="stylesheet" href="/console/static/console.css"></head><body><main><h1>Something went '
    'wrong</h1><p class="error">The service logged the cause; nothing more is shown here. '
    '<a href="/console/">Back to the dashboard</a></p></main></body></html>'
)
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
_CSRF_LABEL = b"suraksha-console-csrf-v1"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "media-src 'self' blob:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'"
)
CONSOLE_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-content-type-options", b"nosniff"),
    (b"cache-control", b"no-store"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), payment=(), usb=()"),
)


class CookieNames:
    def __init__(self, secure: bool) -> None:
        self.secure = secure
        prefix = "__Host-" if secure else ""
        self.session = f"{prefix}suraksha_session"
        self.pre = f"{prefix}suraksha_pre"

    @classmethod
    def from_settings(cls, settings: Settings) -> CookieNames:
        return cls(bool(settings.console_secure_cookies))


def csrf_token_for(seed: str) -> str:
    return hmac.new(seed.encode("utf-8"), _CSRF_LABEL, hashlib.sha256).hexdigest()


def csrf_seeds(request: Request, names: CookieNames) -> list[str]:
    """The cookie values a token may be derived from (the session's, else the pre-sign-in one)."""
    return [v for v in (request.cookies.get(names.session), request.cookies.get(names.pre)) if v]


def csrf_valid(request: Request, names: CookieNames, presented: str | None) -> bool:
    if not presented or len(presented) > 128:
        return False
    return any(hmac.compare_digest(csrf_token_for(seed), presented) for seed in csrf_seeds(request, names))


def cross_site(request: Request) -> bool:
    """True when the browser says the request comes from another site or a sibling subdomain
    (``Sec-Fetch-Site``), or its ``Origin`` names another host than the one asked. An ``Origin`` of
    ``null`` is what browsers send for our own forms under ``Referrer-Policy: no-referrer``: it proves
    nothing either way, and the CSRF token decides."""
    fetch_site = request.headers.get("sec-fetch-site", "").lower()
    if fetch_site in {"cross-site", "same-site"}:
        return True
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return False
    host = request.headers.get("host", "")
    return urlsplit(origin).netloc.lower() != host.lower()


def new_pre_value() -> str:
    return secrets.token_urlsafe(32)


def set_cookie(response: Response, names: CookieNames, name: str, value: str, max_age: int | None) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/",
        secure=names.secure,
        httponly=True,
        samesite="strict" if name == names.pre else "lax",
    )


def clear_cookie(response: Response, names: CookieNames, name: str) -> None:
    response.delete_cookie(name, path="/", secure=names.secure, httponly=True, samesite="lax")


class ConsoleHeaders:
    """The console's headers on every answer under ``/console`` (pages, fragments, errors, static
    files); set before ``SecurityHeaders`` adds the API's defaults, which then leave them alone."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not str(scope.get("path", "")).startswith(CONSOLE_PREFIX):
            await self.app(scope, receive, send)
            return

        started = False

        async def with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                present = {bytes(k).lower() for k, _ in message.get("headers", ())}
                headers = list(message.get("headers", ()))
                headers.extend((k, v) for k, v in CONSOLE_HEADERS if k not in present)
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, with_headers)
        except Exception as exc:  # a page, not the API's JSON problem, for a person at the console
            if started:
                raise
            log.error("event=console.unhandled kind=%s", type(exc).__name__, exc_info=exc)
            await HTMLResponse(INTERNAL_ERROR_PAGE, status_code=500)(scope, receive, with_headers)
