"""HMA's service routes: ``/status``, ``/status/live``, ``/site-map``, ``/openapi/openapi.json``, and
the configuration reads ``/c/signal_type``, ``/c/signal_type/index`` and ``/c/content_type``.

Shapes follow HMA's ``OpenMediaMatch/app.py`` and ``blueprints/curation.py``: the status routes answer
plain text (``I-AM-ALIVE``). Every route needs the read role (HMA has no authentication); changing a
signal type's ratio needs admin. Here every signal type and content type is always on, so a ratio other
than 1 is refused (400) rather than stored and ignored.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from pydantic import BaseModel, ConfigDict
from sqlalchemy import func, select

from suraksha.access.models import ApiScope
from suraksha.banks.models import Bank, BankEntry
from suraksha.errors import InvalidInput
from suraksha.signals.types import SignalKind
from suraksha.web.auth import require
from suraksha.web.hma.media import ContentType, parse_signal_type
from suraksha.web.problems import PROBLEM_RESPONSES
from suraksha.web.state import WebState, get_state
from suraksha.web.switches import WRITABLE

router = APIRouter(tags=["HMA: service"], responses=PROBLEM_RESPONSES)

ALIVE = "I-AM-ALIVE"


@router.get(
    "/status",
    dependencies=[require(ApiScope.READ)],
    summary="HMA status: alive and the match index current",
    response_class=PlainTextResponse,
)
def status(state: WebState = Depends(get_state)) -> PlainTextResponse:
    """``I-AM-ALIVE`` (200) when lookups can be answered; 503 with the reason while the match index is
    loading or stale (we answer 503 rather than an empty lookup)."""
    if state.index.ready:
        return PlainTextResponse(ALIVE)
    reason = "INDEX-NOT-LOADED" if not state.index.loaded else "INDEX-STALE"
    return PlainTextResponse(reason, status_code=503, headers={"Retry-After": "5"})


@router.get(
    "/status/live",
    dependencies=[require(ApiScope.READ)],
    summary="HMA liveness: the process answers",
    response_class=PlainTextResponse,
)
def status_live() -> PlainTextResponse:
    return PlainTextResponse(ALIVE)


@router.get("/site-map", dependencies=[require(ApiScope.READ)], summary="Every API route served")
def site_map(request: Request) -> list[str]:
    """The API's route paths (those its OpenAPI document lists), sorted."""
    paths: dict[str, Any] = request.app.openapi()["paths"]
    return sorted(paths)


@router.get(
    "/openapi/openapi.json",
    dependencies=[require(ApiScope.READ)],
    summary="This API's OpenAPI document (HMA's path)",
    include_in_schema=False,
)
def openapi_document(request: Request) -> JSONResponse:
    spec: dict[str, Any] = request.app.openapi()
    return JSONResponse(spec)


class SignalTypeConfig(BaseModel):
    name: str
    enabled_ratio: float


class SignalTypeUpdate(BaseModel):
    model_config = ConfigDict(extra="ignore")

    enabled_ratio: float


@router.get("/c/signal_type", dependencies=[require(ApiScope.READ)], summary="List signal types")
def signal_types() -> list[SignalTypeConfig]:
    """Every signal type, always on here (``enabled_ratio`` 1)."""
    return [SignalTypeConfig(name=kind.value, enabled_ratio=1.0) for kind in SignalKind]


@router.get("/c/signal_type/index", dependencies=[require(ApiScope.READ)], summary="Signal type index status")
def signal_type_index(signal_type: str | None = None, state: WebState = Depends(get_state)) -> dict[str, Any]:
    """Per signal type: ``db_size`` (entries that match now), ``index_size`` (entries in the match
    index), ``index_out_of_date`` (the index is not loaded or stale), ``newest_db_item`` (Unix time of
    the newest entry, 0 when none) and ``index_built_to`` (here: the change-feed position the index
    has applied, -1 when not loaded; HMA gives a time)."""
    kinds = [parse_signal_type(signal_type)] if signal_type is not None else list(SignalKind)
    index = state.index
    loaded = index.loaded
    counts = index.entry_counts() if loaded else {}
    with state.platform.db.reading() as session:
        rows = session.execute(
            select(BankEntry.signal_type, func.count(), func.max(BankEntry.added_at))
            .join(Bank, Bank.id == BankEntry.bank_id)
            .where(BankEntry.enabled.is_(True), Bank.enabled.is_(True))
            .group_by(BankEntry.signal_type)
        ).all()
    in_db = {row[0]: (int(row[1]), row[2]) for row in rows}
    answer: dict[str, Any] = {}
    for kind in kinds:
        size, newest = in_db.get(kind.value, (0, None))
        answer[kind.value] = {
            "db_size": size,
            "index_size": counts.get(kind.value, 0),
            "index_out_of_date": not index.ready,
            "newest_db_item": int(newest.timestamp()) if newest is not None else 0,
            "index_built_to": index.position if loaded else -1,
        }
    return answer


@router.put(
    "/c/signal_type/{signal_type_name}",
    dependencies=[require(ApiScope.ADMIN), WRITABLE],
    summary="Set a signal type's ratio (always 1 here)",
)
def signal_type_update(
    body: SignalTypeUpdate, signal_type_name: str = Path(max_length=40)
) -> SignalTypeConfig:
    kind = parse_signal_type(signal_type_name)
    if body.enabled_ratio != 1.0:
        raise InvalidInput(
            f"signal type {kind.value} is always on here: enabled_ratio must be 1 "
            "(disable a bank, or an entry, to stop matches)"
        )
    return SignalTypeConfig(name=kind.value, enabled_ratio=1.0)


class ContentTypeConfig(BaseModel):
    name: str
    enabled: bool


@router.get("/c/content_type", dependencies=[require(ApiScope.READ)], summary="List content types")
def content_types() -> list[ContentTypeConfig]:
    return [ContentTypeConfig(name=c.value, enabled=True) for c in ContentType]
