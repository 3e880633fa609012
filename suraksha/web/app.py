"""``create_app(platform)``: the ASGI application.

Layers, outside in: the access log and metrics (``RequestObserver``), security headers, the catch-all
for unexpected errors, the request-body bound, the JSON nesting bound, then FastAPI's routing with
domain errors mapped to problem documents (``problems``). Each router declares the role its routes
need (``auth.require``).

The match index is loaded in the background when the app starts (``/readyz`` and every lookup answer
503 until it is loaded, and again whenever it goes stale) and follows the bank change feed from then on.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI
from starlette.concurrency import run_in_threadpool

from suraksha import __version__
from suraksha.app import Platform
from suraksha.outbound.fetch import MediaFetcher
from suraksha.web import console, problems
from suraksha.web.hma import curation, exchanges, hashing, matching, system
from suraksha.web.middleware import (
    BodySizeLimit,
    CatchAll,
    JsonDepthLimit,
    RequestObserver,
    SecurityHeaders,
)
from suraksha.web.routes import appeals, items, legal, notices, ops, stats
from suraksha.web.state import WebState

ROUTERS: Sequence[APIRouter] = (
    ops.router,
    items.router,
    legal.router,
    stats.router,
    notices.router,
    appeals.router,
    hashing.router,
    matching.router,
    curation.router,
    exchanges.router,
    system.router,
)
"""Every router the app serves, besides ``/metrics``. A new area adds its router here (see
``suraksha/web/routes/__init__.py``)."""

DESCRIPTION = """\
Suraksha's HTTP API. Every route except `/healthz`, `/readyz` and this document needs an API key
(`suraksha apikey create`), sent as `Authorization: Bearer <key>` or `X-Api-Key: <key>`. Roles:
`ingest` (submit and check), `read` (lookups, banks), `legal` (forward requests from authorities to the
legal desk, read their clocks), `flagger` (a trusted flagger's own key: send notices and read its own),
`admin` (everything but a flagger's notices). Errors are JSON problem
documents (RFC 9457) whose `detail` (repeated as `message`) says what was wrong. A lookup that cannot
be answered yet is 503, never an empty result. The `/h`, `/m` and `/c` routes follow
Hasher-Matcher-Actioner's API (see docs/api.md for the few differences).
"""


def create_app(
    platform: Platform, *, fetcher: MediaFetcher | None = None, start_index: bool = True
) -> FastAPI:
    """The app over ``platform`` (which the caller keeps and closes). ``fetcher``: the media fetcher
    for ``url=`` parameters (default: from settings). ``start_index=False`` leaves loading the match
    index to the caller (``app.state.suraksha.load_index()``), for tests of the not-ready state."""
    state = WebState(platform, fetcher=fetcher)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if start_index:
            state.start_index()
        try:
            yield
        finally:
            await run_in_threadpool(state.close)

    app = FastAPI(
        title="Suraksha",
        version=__version__,
        description=DESCRIPTION,
        openapi_url="/openapi.json",
        docs_url=None,  # the interactive pages load scripts from a CDN; the JSON is enough
        redoc_url=None,
        lifespan=lifespan,
        # Starlette's slash redirect writes an absolute Location from the request's Host header (see
        # suraksha.web.urls): a path with a stray trailing slash is a 404 instead.
        redirect_slashes=False,
    )
    app.state.suraksha = state
    problems.install(app)
    for router in ROUTERS:
        app.include_router(router)
    app.include_router(ops.metrics_router(public=bool(platform.settings.metrics_public)))
    console.install(app)  # the review console under /console (its own pages, headers and errors)
    # add_middleware wraps what is there: the last added is the outermost.
    app.add_middleware(JsonDepthLimit)
    app.add_middleware(BodySizeLimit, max_bytes=int(platform.settings.web_max_body_bytes))
    app.add_middleware(CatchAll)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(RequestObserver, metrics=state.metrics)
    return app
