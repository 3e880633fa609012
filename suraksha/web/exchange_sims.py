"""The HTTP side of the StopNCII, Tech Against Terrorism and ThreatExchange stand-ins
(``suraksha.exchanges.stopncii_sim``, ``tat_sim``, ``threatexchange_sim``): only HTTP here, the
protocol is there."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs

from fastapi import FastAPI, Request, Response

from suraksha.errors import InvalidInput
from suraksha.exchanges.stopncii_sim import StopNCIISimulator
from suraksha.exchanges.tat_sim import TATSimulator
from suraksha.exchanges.threatexchange_sim import ThreatExchangeSimulator
from suraksha.web.ncmec_sim import _bounded_body

JSON = "application/json"
MAX_BODY_BYTES = 1024 * 1024


def _json(value: Any, status: int = 200) -> Response:
    return Response(json.dumps(value), status_code=status, media_type=JSON)


def create_stopncii_app(simulator: StopNCIISimulator) -> FastAPI:
    app = FastAPI(title="StopNCII stand-in", docs_url=None, redoc_url=None, openapi_url=None)

    def refused(request: Request, endpoint: str) -> Response | None:
        headers = request.headers
        if simulator.authorised(
            endpoint, headers.get("ocp-apim-subscription-key"), headers.get("x-functions-key")
        ):
            return None
        return _json({"error": "unauthorised"}, 401)

    @app.get("/v1/FetchHashes")
    async def fetch_hashes(request: Request) -> Response:
        denied = refused(request, "FetchHashes")
        if denied is not None:
            return denied
        try:
            return _json(simulator.fetch(dict(request.query_params)))
        except InvalidInput as exc:
            return _json({"error": str(exc)}, 400)

    @app.post("/v1/SubmitFeedback")
    async def submit_feedback(request: Request) -> Response:
        denied = refused(request, "SubmitFeedback")
        if denied is not None:
            return denied
        raw = await _bounded_body(request, MAX_BODY_BYTES)
        if raw is None:
            return _json({"error": "too large"}, 413)
        try:
            return _json(simulator.submit_feedback(json.loads(raw)))
        except (ValueError, InvalidInput) as exc:
            return _json({"error": str(exc)}, 400)

    return app


def create_tat_app(simulator: TATSimulator) -> FastAPI:
    app = FastAPI(title="Tech Against Terrorism stand-in", docs_url=None, redoc_url=None, openapi_url=None)

    @app.post("/token-auth/tcap/")
    async def sign_in(request: Request) -> Response:
        raw = await _bounded_body(request, MAX_BODY_BYTES)
        form = parse_qs((raw or b"").decode("utf-8", errors="replace"))
        token = simulator.sign_in(form.get("username", [""])[0], form.get("password", [""])[0])
        if token is None:
            return _json({"error": "Unable to log in with provided credentials."}, 400)
        return _json({"user": {"username": simulator.username}, "token": token})

    @app.get("/api/hash-list/v2/all")
    async def hash_list(request: Request) -> Response:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme != "Bearer" or token not in simulator.tokens:
            return _json({"error": "unauthorised"}, 401)
        try:
            return _json(simulator.page(dict(request.query_params), str(request.base_url)))
        except InvalidInput as exc:
            return _json({"error": str(exc)}, 400)

    return app


def create_threatexchange_app(simulator: ThreatExchangeSimulator) -> FastAPI:
    app = FastAPI(title="ThreatExchange stand-in", docs_url=None, redoc_url=None, openapi_url=None)

    def refused(params: dict[str, str]) -> Response | None:
        if simulator.authorised(params.get("access_token")):
            return None
        error = {"message": "Invalid OAuth access token.", "type": "OAuthException", "code": 190}
        return _json({"error": error}, 400)

    @app.get("/v26.0/{group}/threat_updates/")
    async def threat_updates(request: Request, group: int) -> Response:
        params = dict(request.query_params)
        if (refusal := refused(params)) is not None:
            return refusal
        url = str(request.url.replace(query=""))
        try:
            return _json(simulator.page(group, params, url))
        except LookupError:
            return _json({"error": {"message": "Unsupported get request.", "code": 100}}, 400)
        except InvalidInput as exc:
            return _json({"error": {"message": str(exc), "code": 100}}, 400)

    @app.post("/v26.0/{descriptor}/")
    async def react(request: Request, descriptor: int) -> Response:
        params = dict(request.query_params)
        if (refusal := refused(params)) is not None:
            return refusal
        try:
            if not simulator.react(descriptor, params.get("reactions", "")):
                return _json({"error": {"message": "Unsupported post request.", "code": 100}}, 400)
        except InvalidInput as exc:
            return _json({"error": {"message": str(exc), "code": 100}}, 400)
        return _json({"success": True})

    return app
