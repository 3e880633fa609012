"""The integration API for the host platform: submit items, check uploads synchronously, read an
item's state, poll the action feed. Every route needs an API key with the ``ingest`` role (or admin)."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field, ValidationError
from starlette.concurrency import run_in_threadpool

from suraksha.access.models import ApiScope
from suraksha.content.lookup import ITEM_FORMS, MAX_REF_CHARS, find_item
from suraksha.enforcement.acknowledgements import MAX_BATCH, MAX_REASON_CHARS, Acknowledgement, AckOutcome
from suraksha.enforcement.services import action_feed
from suraksha.intake.check import CheckVerdict, check_item
from suraksha.intake.pipeline import Pipeline
from suraksha.intake.schemas import ActionOut, ItemIn, ItemOut
from suraksha.intake.services import Prepared, get_item, prepare_item
from suraksha.intake.views import actions_out, item_out
from suraksha.web.auth import ApiCaller, require
from suraksha.web.problems import PROBLEM_RESPONSES
from suraksha.web.routes import API_V1
from suraksha.web.state import WebState, get_state
from suraksha.web.switches import WRITABLE, read_only
from suraksha.web.urls import public_url

router = APIRouter(prefix=API_V1, tags=["items"], responses=PROBLEM_RESPONSES)
INGEST = require(ApiScope.INGEST)
MAX_ID = 2**63 - 1
"""Ids are 64-bit integers in the database: a larger one is a 422, not an overflow."""


class Accepted(BaseModel):
    id: int
    platform_item_id: str
    state: str
    created: bool
    """False: the same item (same id and payload) had been submitted before; nothing new was queued."""
    status_url: str


class CheckOut(BaseModel):
    verdict: CheckVerdict
    """``match``: block it. ``not_checked``: some file could not be checked; hold it. ``no_match``."""
    media: list[dict[str, Any]]
    item_id: int | None
    """Set when a match made Suraksha record the item (decision and actions follow as for /items);
    not set in read-only mode, when nothing is recorded."""


class ActionFeed(BaseModel):
    actions: list[ActionOut]
    next_after: int
    """Pass as ``after`` to get the actions that follow (the same value when there are none yet)."""


class AckIn(BaseModel):
    outcome: AckOutcome
    """``done``: carried out. ``failed``: could not be; say why in ``reason``."""
    reason: str = Field("", max_length=MAX_REASON_CHARS)
    """Required for ``failed``: what could not be done and why (a person reads it)."""


class AckEntry(AckIn):
    action_id: int = Field(ge=1, le=2**63 - 1)


class AckBatch(BaseModel):
    acks: list[AckEntry] = Field(min_length=1, max_length=MAX_BATCH)


class Acknowledged(BaseModel):
    actions: list[ActionOut]


def pipeline_of(request: Request, state: WebState) -> Pipeline:
    """One pipeline per app, over the app's match index (built on first use: it loads rule packs)."""
    pipeline: Pipeline | None = getattr(request.app.state, "pipeline", None)
    if pipeline is None:
        pipeline = state.platform.pipeline(state.index)
        request.app.state.pipeline = pipeline
    return pipeline


INLINE_BODY_BYTES = 512 * 1024
"""Bodies up to this size are prepared on the event loop (see ``submit``)."""

ITEM_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ItemIn"}}},
    }
}
"""``POST /items`` reads its body itself (below); this documents it as FastAPI would have."""


@router.post(
    "/items",
    status_code=202,
    response_model=Accepted,
    dependencies=[INGEST, WRITABLE],
    openapi_extra=ITEM_BODY,
)
async def submit(request: Request, response: Response, state: WebState = Depends(get_state)) -> Accepted:
    """Queue an item for detection. Idempotent on ``platform_item_id``: the same payload again answers
    the existing item; a different payload under the same id is 409."""
    # The raw body is validated by pydantic straight from JSON (no Python dict of the body), then
    # checked and stored; the rows are written by the intake writer with whatever else arrived
    # meanwhile, in one transaction (suraksha.intake.batching). A body of up to INLINE_BODY_BYTES is
    # prepared on the event loop (a fraction of a millisecond: a trip to the thread pool cost more);
    # a larger one in the thread pool, so that it does not hold up other requests.
    raw = await request.body()
    content_type = request.headers.get("content-type")
    if len(raw) <= INLINE_BODY_BYTES:
        prepared = _prepare(state, content_type, raw)
    else:
        prepared = await run_in_threadpool(_prepare, state, content_type, raw)
    done = await asyncio.wrap_future(state.submissions.submit(prepared))
    url = public_url(request, state.public_base_url, "item_status", item_id=done.item_id)
    response.headers["Location"] = url
    return Accepted(
        id=done.item_id,
        platform_item_id=done.platform_item_id,
        state=done.state,
        created=done.created,
        status_url=url,
    )


def _prepare(state: WebState, content_type: str | None, raw: bytes) -> Prepared:
    item = item_from_json(content_type, raw)
    platform = state.platform
    return prepare_item(platform.media_store, item, max_media_bytes=platform.settings.media_max_bytes)


def item_from_json(content_type: str | None, raw: bytes) -> ItemIn:
    """The item in a JSON body, or the 422 FastAPI gives for a body it cannot read as ``ItemIn``."""
    if content_type:
        kind = content_type.split(";", 1)[0].strip().lower()
        if not (kind == "application/json" or (kind.startswith("application/") and kind.endswith("+json"))):
            raise RequestValidationError(
                [
                    {
                        "type": "content_type",
                        "loc": ("body",),
                        "msg": f"send JSON (Content-Type: application/json), not {kind!r}",
                    }
                ]
            )
    if not raw:
        raise RequestValidationError([{"type": "missing", "loc": ("body",), "msg": "Field required"}])
    try:
        return ItemIn.model_validate_json(raw)
    except ValidationError as exc:
        raise RequestValidationError(
            [
                {"type": e["type"], "loc": ("body", *e["loc"]), "msg": e["msg"]}
                for e in exc.errors(include_url=False)
            ]
        ) from None


@router.get("/items/{item_id}", response_model=ItemOut, name="item_status", dependencies=[INGEST])
def item_status(
    item_id: int = Path(ge=1, le=MAX_ID, description="Suraksha's id of the item (from POST /items)."),
    state: WebState = Depends(get_state),
) -> ItemOut:
    """State (queued, decided, actioned, error), signals, matches, rule hits, entities, decision, and
    each action's state (pending, delivered, done, failed with its reason; ``overdue`` when not
    acknowledged in time). To look an item up by your own id or post URL: ``GET /items?ref=``."""
    overdue_s = state.platform.settings.action_ack_overdue_s
    with state.platform.db.reading() as session:
        return item_out(session, get_item(session, item_id), overdue_after_s=overdue_s)


@router.get("/items", response_model=ItemOut, dependencies=[INGEST])
def item_by_ref(
    ref: str = Query(
        min_length=1, max_length=MAX_REF_CHARS, description=f"The item: {ITEM_FORMS} (e.g. your post id)."
    ),
    state: WebState = Depends(get_state),
) -> ItemOut:
    """The item named the way people name it (your item id, a post URL, or Suraksha's ``#id``), as
    ``GET /items/{item_id}`` shows it."""
    platform = state.platform
    with platform.db.reading() as session:
        item = find_item(session, ref, platform.url_patterns)
        return item_out(session, item, overdue_after_s=platform.settings.action_ack_overdue_s)


@router.post("/check", response_model=CheckOut, dependencies=[INGEST])
def check(body: ItemIn, request: Request, state: WebState = Depends(get_state)) -> CheckOut:
    """Hash and match uploaded media now (no URLs), for platforms that block before publishing.
    Nothing is stored unless something matches. 503 while the match index is not ready."""
    result = check_item(
        pipeline_of(request, state),
        body,
        max_media_bytes=state.platform.settings.media_max_bytes,
        record=not read_only(state),
    )
    return CheckOut(verdict=result.verdict, media=result.media, item_id=result.item_id)


@router.get("/actions", response_model=ActionFeed, dependencies=[INGEST])
def actions(
    after: int = Query(
        0, ge=0, le=MAX_ID, description="The cursor: the last action id seen (0 for the start)."
    ),
    limit: int = Query(100, ge=1, le=1000),
    state: WebState = Depends(get_state),
) -> ActionFeed:
    """Actions for the platform to carry out, oldest first (for platforms that poll instead of, or as
    well as, receiving webhooks). Each shows its state (pending, delivered, done, failed with its
    reason) and ``overdue`` once unacknowledged for longer than the operator allows: acknowledge
    each with ``POST /actions/{action_id}/ack`` or ``POST /actions/ack``."""
    overdue_s = state.platform.settings.action_ack_overdue_s
    with state.platform.db.reading() as session:
        rows = action_feed(session, after=after, limit=limit)
        return ActionFeed(
            actions=actions_out(session, rows, overdue_after_s=overdue_s),
            next_after=rows[-1].id if rows else after,
        )


@router.post("/actions/ack", response_model=Acknowledged, dependencies=[WRITABLE])
def acknowledge_many(
    body: AckBatch, state: WebState = Depends(get_state), caller: ApiCaller = INGEST
) -> Acknowledged:
    """Say how several actions went, all or none (up to 500): ``done``, or ``failed`` with a reason.
    Idempotent: the same outcome again changes nothing. ``failed`` may later become ``done`` (a retry
    worked), never the reverse (409). A failed action goes back before a person."""
    acks = [Acknowledgement(a.action_id, a.outcome, a.reason) for a in body.acks]
    return Acknowledged(actions=state.platform.acknowledge_actions(acks, by=f"api key {caller.name}"))


@router.post("/actions/{action_id}/ack", response_model=ActionOut, dependencies=[WRITABLE])
def acknowledge_one(
    body: AckIn,
    action_id: int = Path(ge=1, le=MAX_ID, description="The action's ``action_id`` (feed or webhook)."),
    state: WebState = Depends(get_state),
    caller: ApiCaller = INGEST,
) -> ActionOut:
    """Say how one action went: ``{"outcome": "done"}`` or ``{"outcome": "failed", "reason": "..."}``
    (rules as for ``POST /actions/ack``)."""
    ack = Acknowledgement(action_id, body.outcome, body.reason)
    return state.platform.acknowledge_actions([ack], by=f"api key {caller.name}")[0]
