"""The CyberTipline simulator over HTTP (``suraksha ncmec-sim``): NCMEC's Reporting API paths under
``/ispws``, Basic auth, XML answers, plus a few control routes under ``/_sim`` (same credentials) that
tests and demos use to make a step fail, advance the clock, or see what was received.

All the protocol logic is in ``suraksha.reporting.simulator``; this module only speaks HTTP.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from fastapi import FastAPI, Request, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from suraksha.errors import InvalidInput
from suraksha.reporting.ports import AUTHENTICATION_REQUIRED, VALIDATION_FAILED
from suraksha.reporting.simulator import MAX_FILE_BYTES, NcmecSimulator, SimClock
from suraksha.reporting.xml import answer_xml

XML = "application/xml"
MAX_XML_BYTES = 10 * 1024 * 1024


def _credentials(request: Request) -> tuple[str, str] | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic" or not value:
        return None
    try:
        user, sep, password = base64.b64decode(value, validate=True).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return (user, password) if sep else None


def _xml(reply: tuple[int, bytes]) -> Response:
    return Response(reply[1], status_code=reply[0], media_type=XML)


def _refuse(code: int, description: str, status: int = 200) -> Response:
    return Response(answer_xml(code, description), status_code=status, media_type=XML)


async def _bounded_body(request: Request, limit: int) -> bytes | None:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        return None
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            return None
    return bytes(body)


def create_simulator_app(simulator: NcmecSimulator, *, clock: SimClock | None = None) -> FastAPI:
    """The HTTP app over ``simulator``. With ``clock`` (the simulator's ``SimClock``), ``POST
    /_sim/clock`` can advance it."""
    app = FastAPI(
        title="CyberTipline Reporting API simulator", docs_url=None, redoc_url=None, openapi_url=None
    )

    @app.middleware("http")
    async def authenticate(request: Request, call_next: Any) -> Response:
        given = _credentials(request)
        if given is None or not simulator.check_credentials(*given):
            return Response(
                answer_xml(AUTHENTICATION_REQUIRED, "authentication required"),
                status_code=401,
                media_type=XML,
                headers={"WWW-Authenticate": 'Basic realm="ispws"'},
            )
        response: Response = await call_next(request)
        return response

    @app.get("/ispws/status")
    async def status() -> Response:
        return _xml(await run_in_threadpool(simulator.status))

    @app.get("/ispws/xsd")
    async def xsd() -> Response:
        return Response(simulator.xsd_bytes, media_type=XML)

    async def xml_call(request: Request, call: Any) -> Response:
        body = await _bounded_body(request, MAX_XML_BYTES)
        if body is None:
            return _refuse(VALIDATION_FAILED, f"document over {MAX_XML_BYTES} bytes", status=413)
        return _xml(await run_in_threadpool(call, body))

    @app.post("/ispws/submit")
    async def submit(request: Request) -> Response:
        return await xml_call(request, simulator.submit)

    @app.post("/ispws/fileinfo")
    async def fileinfo(request: Request) -> Response:
        return await xml_call(request, simulator.file_info)

    @app.post("/ispws/upload")
    async def upload(request: Request) -> Response:
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > MAX_FILE_BYTES + 65536:
            return _refuse(VALIDATION_FAILED, f"upload over {MAX_FILE_BYTES} bytes", status=413)
        async with request.form(max_files=1, max_fields=2, max_part_size=64 * 1024) as form:
            report_id, file = form.get("id"), form.get("file")
            if not isinstance(report_id, str) or not isinstance(file, UploadFile):
                return _refuse(VALIDATION_FAILED, "upload needs the multipart fields 'id' and 'file'")
            data = await file.read(MAX_FILE_BYTES + 1)
            name = file.filename or "file"
        return _xml(await run_in_threadpool(simulator.upload, report_id, name, data))

    async def id_call(request: Request, call: Any) -> Response:
        async with request.form(max_files=0, max_fields=2, max_part_size=1024) as form:
            report_id = form.get("id")
        if not isinstance(report_id, str):
            return _refuse(VALIDATION_FAILED, "the form field 'id' (the report id) is missing")
        return _xml(await run_in_threadpool(call, report_id))

    @app.post("/ispws/finish")
    async def finish(request: Request) -> Response:
        return await id_call(request, simulator.finish)

    @app.post("/ispws/retract")
    async def retract(request: Request) -> Response:
        return await id_call(request, simulator.retract)

    @app.get("/_sim/state")
    async def state() -> dict[str, object]:
        return simulator.snapshot()

    @app.post("/_sim/fail")
    async def fail(request: Request) -> Response:
        rule = await request.json()
        try:
            simulator.fail(
                str(rule["step"]),
                int(rule.get("code", 1000)),
                int(rule.get("times", 1)),
                lost=bool(rule.get("lost", False)),
            )
        except (KeyError, TypeError, ValueError, InvalidInput) as exc:
            return Response(f"bad failure rule: {exc}", status_code=400, media_type="text/plain")
        return Response(status_code=204)

    @app.delete("/_sim/fail")
    async def clear() -> Response:
        simulator.clear_failures()
        return Response(status_code=204)

    @app.post("/_sim/clock")
    async def advance(request: Request) -> Response:
        if clock is None:
            return Response("this simulator's clock is fixed", status_code=409, media_type="text/plain")
        try:
            clock.advance(float((await request.json())["advance_s"]))
        except (KeyError, TypeError, ValueError, InvalidInput) as exc:
            return Response(f"bad clock change: {exc}", status_code=400, media_type="text/plain")
        return Response(status_code=204)

    return app
