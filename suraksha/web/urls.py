"""Absolute URLs the service hands out (``Location``, ``status_url``), built from the configured public
address, never from the request: the ``Host`` header is whatever the client chose to send, and an
answer that echoes it sends the next request to the sender's choice of host (cache poisoning, links in
logs and tickets that point elsewhere). Unset ``public_base_url``: relative URLs, which every HTTP
client resolves against the address it used."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from starlette.requests import Request

from suraksha.errors import ConfigError


def parse_public_base_url(value: str | None) -> str:
    """The setting ``public_base_url`` checked and without its trailing slash; "" when unset."""
    text = (value or "").strip()
    if not text:
        return ""
    parts = urlsplit(text)
    if parts.scheme not in {"http", "https"} or not parts.hostname or parts.query or parts.fragment:
        raise ConfigError(
            f"public_base_url {text[:200]!r} must be an http(s) URL with a host and no query or fragment, "
            "e.g. https://suraksha.example.org (with a path prefix if the service is served under one)"
        )
    if parts.username or parts.password:
        raise ConfigError("public_base_url must not carry credentials")
    return text.rstrip("/")


def public_url(request: Request, base: str, route_name: str, **params: Any) -> str:
    """The URL of route ``route_name`` for clients: under ``base`` (``parse_public_base_url``) when
    one is configured, else a path relative to the host the client reached (with the ASGI root path
    the server was given, if any)."""
    path = str(request.app.url_path_for(route_name, **params))
    if base:
        return base + path
    return str(request.scope.get("root_path", "")).rstrip("/") + path
