"""NCMEC's hash sharing stand-in over HTTP (``suraksha hashsharing-sim``): ``/v2/status`` and
``/v2/entries`` as python-threatexchange's client calls them, Basic auth, XML; plus control routes
under ``/_sim`` (same credentials) that tests and demos use to add, change or remove entries.

All the protocol logic is in ``suraksha.exchanges.hashsharing_sim``; this module only speaks HTTP.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from fastapi import FastAPI, Request, Response
from starlette.concurrency import run_in_threadpool

from suraksha.errors import InvalidInput
from suraksha.exchanges.hashsharing_sim import HashSharingSimulator
from suraksha.web.ncmec_sim import _bounded_body, _credentials

XML = "application/xml"
MAX_CONTROL_BYTES = 32 * 1024 * 1024
MAX_FEEDBACK_BYTES = 64 * 1024


def create_hashsharing_app(simulator: HashSharingSimulator) -> FastAPI:
    app = FastAPI(title="NCMEC hash sharing stand-in", docs_url=None, redoc_url=None, openapi_url=None)

    def refused(request: Request) -> Response | None:
        if simulator.authorised(_credentials(request)):
            return None
        return Response(
            "unauthorised", status_code=401, headers={"WWW-Authenticate": 'Basic realm="hashsharing"'}
        )

    @app.get("/v2/status")
    async def status(request: Request) -> Response:
        return refused(request) or Response(simulator.status_xml(), media_type=XML)

    @app.get("/v2/entries")
    async def entries(request: Request) -> Response:
        denied = refused(request)
        if denied is not None:
            return denied
        try:
            body = await run_in_threadpool(simulator.entries_xml, dict(request.query_params))
        except InvalidInput as exc:
            return Response(str(exc), status_code=400)
        return Response(body, media_type=XML)

    @app.get("/v2/feedback/{fingerprint}/reasons")
    async def feedback_reasons(request: Request, fingerprint: str) -> Response:
        denied = refused(request)
        if denied is not None:
            return denied
        try:
            return Response(simulator.feedback_reasons_xml(fingerprint), media_type=XML)
        except InvalidInput as exc:
            return Response(str(exc), status_code=400)

    @app.put("/v2/entries/{member}/{entry_id}/{fingerprint}/feedback")
    async def feedback(request: Request, member: int, entry_id: str, fingerprint: str) -> Response:
        denied = refused(request)
        if denied is not None:
            return denied
        raw = await _bounded_body(request, MAX_FEEDBACK_BYTES)
        if raw is None:
            return Response("too large", status_code=413)
        try:
            found = simulator.submit_feedback(member, entry_id, fingerprint, raw)
        except InvalidInput as exc:
            return Response(str(exc), status_code=400)
        return Response(status_code=200) if found else Response("no such entry", status_code=404)

    @app.post("/_sim/entries")
    async def upsert(request: Request) -> Response:
        denied = refused(request)
        if denied is not None:
            return denied
        raw = await _bounded_body(request, MAX_CONTROL_BYTES)
        if raw is None:
            return Response("too large", status_code=413)
        try:
            rows: Any = json.loads(raw)
            if not isinstance(rows, list):
                raise InvalidInput("send a JSON list of entries")
            count = simulator.upsert(rows)
        except (ValueError, KeyError, InvalidInput) as exc:
            return Response(f"bad entries: {exc}", status_code=400)
        return Response(json.dumps({"upserted": count}), media_type="application/json")

    @app.get("/_sim/state")
    async def state(request: Request) -> Response:
        denied = refused(request)
        if denied is not None:
            return denied
        answer = {
            "entries": len(simulator.entries),
            "requests": simulator.requests,
            "feedback": [asdict(f) for f in simulator.feedback],
            "serve_s": round(simulator.serve_s, 3),
        }
        return Response(json.dumps(answer), media_type="application/json")

    return app
