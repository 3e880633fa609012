"""HMA's curation routes for banks: ``/c/banks``, ``/c/bank/{name}``, ``/c/bank/{name}/content`` (add
by upload or URL) and ``/c/bank/{name}/signal`` (add hashes directly).

Shapes follow HMA's ``OpenMediaMatch/blueprints/curation.py``: a bank is
``{"name", "matching_enabled_ratio"}`` (we add ``kind``, ``category`` and ``enabled``); adding content
answers ``{"id": ..., "signals": {...}}``. Where we differ: banks are on or off (``enabled_ratio`` 0 or
1); an existing name is 409 (HMA: 403); one bank entry per signal, so ``id`` is the entry of the
content's main signal (PDQ or vPDQ) and ``ids`` names every entry; banks are not renamed or deleted
here (disable one instead). Reading needs the read role; changing a bank needs admin.
"""

from __future__ import annotations

import logging

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from suraksha.access.models import ApiScope
from suraksha.banks import services
from suraksha.banks.models import Bank, BankCategory, BankKind, EntrySource
from suraksha.errors import InvalidInput
from suraksha.signals.file_signals import FileSignals, HashState
from suraksha.signals.types import SignalKind
from suraksha.web.auth import ApiCaller, require
from suraksha.web.hma.media import (
    UPLOAD_BODY,
    fetch_url,
    hash_content,
    parse_content_type,
    parse_signal,
    parse_signal_type,
    read_upload,
)
from suraksha.web.problems import PROBLEM_RESPONSES
from suraksha.web.state import WebState, get_state
from suraksha.web.switches import WRITABLE

log = logging.getLogger(__name__)

router = APIRouter(prefix="/c", tags=["HMA: curation"], responses=PROBLEM_RESPONSES)

BANK_NAME = Path(description="The bank's name.", min_length=1, max_length=100)


class BankConfig(BaseModel):
    name: str
    matching_enabled_ratio: float = Field(description="1.0 when the bank matches, 0.0 when disabled.")
    enabled: bool
    kind: BankKind
    category: BankCategory

    @classmethod
    def of(cls, bank: Bank) -> BankConfig:
        return cls(
            name=bank.name,
            matching_enabled_ratio=1.0 if bank.enabled else 0.0,
            enabled=bank.enabled,
            kind=BankKind(bank.kind),
            category=BankCategory(bank.category),
        )


class BankCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    enabled_ratio: float | None = Field(None, ge=0.0, le=1.0)
    enabled: bool | None = None
    kind: BankKind = BankKind.BLOCK
    category: BankCategory = BankCategory.OTHER
    description: str = Field("", max_length=10_000)


class BankUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, min_length=1, max_length=100)
    enabled_ratio: float | None = Field(None, ge=0.0, le=1.0)
    enabled: bool | None = None


class ContentAdded(BaseModel):
    id: int = Field(description="The entry of the content's main signal (PDQ, vPDQ, else MD5).")
    signals: dict[str, str]
    ids: dict[str, int] = Field(description="The bank entry of each signal.")
    skipped: dict[str, str] = Field(default_factory=dict, description="Signals not added, and why.")


def _enabled_from(ratio: float | None, enabled: bool | None) -> bool | None:
    """HMA's matching ratio, read as on or off: we do not match a random share of lookups."""
    if ratio is not None:
        if ratio not in (0.0, 1.0):
            raise InvalidInput(
                f"enabled_ratio {ratio}: banks here are on (1) or off (0); partial matching is not supported"
            )
        return ratio == 1.0
    return enabled


@router.get("/banks", dependencies=[require(ApiScope.READ)], summary="List banks")
def banks_index(state: WebState = Depends(get_state)) -> list[BankConfig]:
    with state.platform.db.session() as session:
        return [BankConfig.of(b) for b in services.list_banks(session)]


@router.post(
    "/banks", status_code=201, dependencies=[require(ApiScope.ADMIN), WRITABLE], summary="Create a bank"
)
def bank_create(body: BankCreate, state: WebState = Depends(get_state)) -> BankConfig:
    enabled = _enabled_from(body.enabled_ratio, body.enabled)
    settings = state.settings
    with state.platform.db.session() as session:
        bank = services.create_bank(
            session,
            body.name,
            category=body.category,
            kind=body.kind,
            description=body.description,
            pdq_threshold=settings.default_pdq_threshold,
            vpdq_query_percent=settings.vpdq_query_match_percent,
            vpdq_target_percent=settings.vpdq_target_match_percent,
        )
        if enabled is False:
            services.set_bank_enabled(session, bank.name, False)
        return BankConfig.of(bank)


@router.get("/bank/{bank_name}", dependencies=[require(ApiScope.READ)], summary="Get a bank")
def bank_show_by_name(bank_name: str = BANK_NAME, state: WebState = Depends(get_state)) -> BankConfig:
    with state.platform.db.session() as session:
        return BankConfig.of(services.get_bank(session, bank_name))


@router.put(
    "/bank/{bank_name}", dependencies=[require(ApiScope.ADMIN), WRITABLE], summary="Enable or disable a bank"
)
def bank_update(
    body: BankUpdate, bank_name: str = BANK_NAME, state: WebState = Depends(get_state)
) -> BankConfig:
    if body.name is not None and body.name != bank_name:
        raise InvalidInput("banks are not renamed here: create a bank under the new name and import into it")
    enabled = _enabled_from(body.enabled_ratio, body.enabled)
    with state.platform.db.session() as session:
        bank = services.get_bank(session, bank_name)
        if enabled is not None and enabled != bank.enabled:
            bank = services.set_bank_enabled(session, bank_name, enabled)
        return BankConfig.of(bank)


def _add_signals(
    state: WebState,
    bank_name: str,
    values: dict[SignalKind, str],
    *,
    qualities: dict[SignalKind, int] | None = None,
    skipped: dict[str, str] | None = None,
    source_ref: str = "",
) -> ContentAdded:
    """Add every signal in one transaction (all or nothing). Adding a value the bank already holds
    changes nothing and returns its existing entry."""
    if not values:
        raise InvalidInput("No signals given")
    ids: dict[str, int] = {}
    added = 0
    with state.platform.db.session() as session:
        bank = services.get_bank(session, bank_name)
        for kind, value in values.items():
            entry, created = services.add_entry(
                session,
                bank,
                kind,
                value,
                quality=(qualities or {}).get(kind),
                source=EntrySource.MANUAL,
                source_ref=source_ref,
            )
            ids[kind.value] = entry.id
            added += created
    log.info(
        "event=bank.content_add bank=%s added=%d unchanged=%d by=%s",
        bank_name,
        added,
        len(ids) - added,
        source_ref,
    )
    main = next((ids[k.value] for k in (SignalKind.PDQ, SignalKind.VPDQ) if k.value in ids), None)
    return ContentAdded(
        id=main if main is not None else next(iter(ids.values())),
        signals={k.value: v for k, v in values.items()},
        ids=ids,
        skipped=skipped or {},
    )


def _content_signals(
    state: WebState, signals: FileSignals
) -> tuple[dict[SignalKind, str], dict[SignalKind, int], dict[str, str]]:
    """What a file adds to a bank: its PDQ (or vPDQ) when good enough to match, and its MD5, as
    ``suraksha bank add`` does."""
    values: dict[SignalKind, str] = {}
    qualities: dict[SignalKind, int] = {}
    skipped: dict[str, str] = {}
    floor = state.settings.pdq_quality_floor
    if signals.pdq is not None:
        if signals.pdq.quality >= floor:
            values[SignalKind.PDQ] = signals.pdq.hex
            qualities[SignalKind.PDQ] = signals.pdq.quality
        else:
            skipped[SignalKind.PDQ.value] = f"PDQ quality {signals.pdq.quality} is under the floor {floor}"
    if signals.vpdq:
        if signals.state is HashState.LOW_QUALITY:
            skipped[SignalKind.VPDQ.value] = f"no frame has a PDQ quality of {floor} or more"
        else:
            values[SignalKind.VPDQ] = "\n".join(f.to_line() for f in signals.vpdq)
    if signals.md5:
        values[SignalKind.MD5] = signals.md5
    return values, qualities, skipped


@router.post(
    "/bank/{bank_name}/content",
    summary="Add content to a bank (upload, or url=)",
    dependencies=[WRITABLE],
    openapi_extra={**UPLOAD_BODY, "requestBody": {**UPLOAD_BODY["requestBody"], "required": False}},
)
async def bank_add_content(
    request: Request,
    bank_name: str = BANK_NAME,
    url: str | None = Query(None, max_length=4096, description="Fetch the media from here instead."),
    content_type: str | None = Query(None, max_length=40),
    caller: ApiCaller = require(ApiScope.ADMIN),
    state: WebState = Depends(get_state),
) -> ContentAdded:
    """The media's signals go in as entries whose ``source_ref`` names the API key that added them."""
    source_ref = f"api-key:{caller.name}"
    # The bank first: an unknown bank is 404 before anything is read, fetched or hashed.
    await run_in_threadpool(_require_bank, state, bank_name)
    if url:
        wanted = parse_content_type(content_type) if content_type else None

        def from_url() -> ContentAdded:
            signals = hash_content(state, wanted, fetch_url(state, url))
            values, qualities, skipped = _content_signals(state, signals)
            return _add_signals(
                state, bank_name, values, qualities=qualities, skipped=skipped, source_ref=source_ref
            )

        return await run_in_threadpool(from_url)
    if not request.headers.get("content-type", "").lower().startswith("multipart/form-data"):
        raise InvalidInput("Neither `url` nor multipart file upload was received")
    kind, data = await read_upload(request)

    def from_upload() -> ContentAdded:
        signals = hash_content(state, kind, data)
        values, qualities, skipped = _content_signals(state, signals)
        return _add_signals(
            state, bank_name, values, qualities=qualities, skipped=skipped, source_ref=source_ref
        )

    return await run_in_threadpool(from_upload)


def _require_bank(state: WebState, bank_name: str) -> None:
    with state.platform.db.session() as session:
        services.get_bank(session, bank_name)


@router.post("/bank/{bank_name}/signal", summary="Add hashes to a bank directly", dependencies=[WRITABLE])
def bank_add_as_signals(
    body: dict[str, str],
    bank_name: str = BANK_NAME,
    caller: ApiCaller = require(ApiScope.ADMIN),
    state: WebState = Depends(get_state),
) -> ContentAdded:
    """Body: ``{signal_type: signal}``, e.g. ``{"pdq": "f8f8..."}``. Every value is checked before any
    is added."""
    _require_bank(state, bank_name)
    if not body:
        raise InvalidInput("No signals given")
    values: dict[SignalKind, str] = {}
    for name, value in body.items():
        kind = parse_signal_type(name)
        if kind in values:
            raise InvalidInput(f"signal type {kind.value} given twice")
        values[kind] = parse_signal(kind, value)
    return _add_signals(state, bank_name, values, source_ref=f"api-key:{caller.name}")
