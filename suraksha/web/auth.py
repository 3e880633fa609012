"""API-key authentication and per-route scopes.

A key comes as ``Authorization: Bearer <key>`` or as ``X-Api-Key: <key>``. No key or a bad one: 401.
A good key without the route's scope: 403. ``admin`` implies every scope. A route declares what it
needs with ``dependencies=[require(ApiScope.READ)]``, or takes the caller as a parameter:
``caller: ApiCaller = require(ApiScope.INGEST)``.
"""

from __future__ import annotations

from typing import Any

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from suraksha.access.models import ApiScope
from suraksha.access.services import ApiCaller, needs_touch, touch_api_key, verify_api_key
from suraksha.errors import Forbidden, Unauthenticated
from suraksha.web.state import WebState, get_state

__all__ = ["ApiCaller", "ApiScope", "authenticated", "require"]

bearer_scheme = HTTPBearer(
    auto_error=False,
    scheme_name="BearerKey",
    description="An API key from `suraksha apikey create`, as `Authorization: Bearer sk_...`.",
)
header_scheme = APIKeyHeader(
    name="X-Api-Key",
    auto_error=False,
    scheme_name="ApiKeyHeader",
    description="The same API key in an `X-Api-Key` header, for clients that cannot set Authorization.",
)


def authenticated(
    request: Request,
    state: WebState = Depends(get_state),
    bearer: HTTPAuthorizationCredentials | None = Security(bearer_scheme),
    header_key: str | None = Security(header_scheme),
) -> ApiCaller:
    """The caller behind the request's API key, or ``Unauthenticated`` (401)."""
    presented = bearer.credentials if bearer is not None else header_key
    if not presented:
        raise Unauthenticated(
            "an API key is needed: send `Authorization: Bearer <key>` or `X-Api-Key: <key>` "
            "(`suraksha apikey create` makes one)"
        )
    db = state.platform.db
    with db.reading() as session:  # no write lock per request: the use is recorded once a minute
        key = verify_api_key(session, presented.strip(), touch=False)
        caller, stale, key_id = ApiCaller.of(key), needs_touch(key), key.id
    if stale:
        with db.session() as session:
            touch_api_key(session, key_id)
    request.state.api_key_name = caller.name
    return caller


def require(scope: ApiScope) -> Any:
    """A dependency that lets the request through only with a key holding ``scope`` (or admin)."""

    async def check(caller: ApiCaller = Depends(authenticated)) -> ApiCaller:  # no I/O: no thread hop
        if not caller.allows(scope):
            raise Forbidden(
                f"the API key {caller.name!r} has the role(s) {', '.join(sorted(caller.scopes))}; "
                f"this needs {scope.value} (or admin)"
            )
        return caller

    check.__name__ = f"require_{scope.value}"
    return Depends(check)
