"""The DSA Transparency Database stand-in over HTTP (``suraksha dsa-sim``): the statement API's path
``POST /api/v1/statement`` with its bearer token and JSON answers, plus control routes under ``/_sim``
(same token) that tests and demos use to make calls fail or see what was stored.

All the protocol logic is in ``suraksha.transparency.sor_api``; this module only speaks HTTP.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse

from suraksha.transparency.sor_api import TransparencyDatabase

MAX_BODY_BYTES = 256 * 1024


def create_dsa_sim_app(database: TransparencyDatabase) -> FastAPI:
    app = FastAPI(title="DSA Transparency Database stand-in", docs_url=None, redoc_url=None, openapi_url=None)

    @app.middleware("http")
    async def authenticate(request: Request, call_next: Any) -> Response:
        if not database.check_token(request.headers.get("authorization", "")):
            return JSONResponse({"message": "Unauthenticated."}, status_code=401)
        response: Response = await call_next(request)
        return response

    @app.post("/api/v1/statement")
    async def create(request: Request) -> Response:
        body = await request.body()
        if len(body) > MAX_BODY_BYTES:
            return JSONResponse({"message": "The statement is too large."}, status_code=413)
        try:
            statement: object = json.loads(body)
        except ValueError:
            return JSONResponse(
                {"message": "The given data was invalid.", "errors": {"body": ["The body must be JSON."]}},
                status_code=422,
            )
        status, answer = database.create(request.headers.get("authorization", ""), statement)
        return JSONResponse(answer, status_code=status)

    @app.get("/_sim/state")
    async def state() -> dict[str, object]:
        return {"statements": database.statements()}

    @app.post("/_sim/fail")
    async def fail(request: Request) -> Response:
        try:
            rule = await request.json()
            status, times = int(rule.get("status", 500)), int(rule.get("times", 1))
            lose = bool(rule.get("lose", False))
        except (ValueError, TypeError, AttributeError) as exc:
            return Response(f"bad failure rule: {exc}", status_code=400, media_type="text/plain")
        if lose:
            database.lose_next += times
        else:
            database.fail_next.extend([status] * times)
        return Response(status_code=204)

    return app
