"""HMA's curation routes for banks: ``/c/banks``, ``/c/bank/{name}``, ``/c/bank/{name}/content`` (add
by upload or URL) and ``/c/bank/{name}/signal`` (add hashes directly).

Shapes follow HMA's ``OpenMediaMatch/blueprints/curation.py``: a bank is
``{"name", "matching_enabled_ratio"}`` (we add ``kind``, ``category`` and ``enabled``); adding content
answers ``{"id": ..., "signals": {...}}``; ``/c/bank/{name}/content/{id}`` reads, time-disables,
annotates and deletes one content item. Unknown fields in a body are ignored, as HMA does. Where we
differ: a ratio above 0 matches every lookup (no coin flip); one bank entry per signal, so ``id`` is
the entry of the content's main signal (PDQ or vPDQ) and ``ids`` names every entry; disabling or
deleting what a ``csam`` bank holds is refused (four eyes, ``banks.services``). Reading needs the read
role; changing a bank needs admin.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.concurrency import run_in_threadpool

from suraksha.access.models import ApiScope
from suraksha.banks import services
from suraksha.banks.models import Bank, BankCategory, BankEntry, BankKind, EntrySource
from suraksha.errors import Conflict, Forbidden, InvalidInput
from suraksha.signals.file_signals import FileSignals, HashState
from suraksha.signals.types import SignalKind
from suraksha.web.auth import ApiCaller, require
from suraksha.web.hma.media import (
    UPLOAD_BODY,
    VIDEO_MD5,
    fetch_url,
    hash_content,
    hma_name,
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
            matching_enabled_ratio=bank.enabled_ratio if bank.enabled else 0.0,
            enabled=bank.enabled,
            kind=BankKind(bank.kind),
            category=BankCategory(bank.category),
        )


class BankCreate(BaseModel):
    model_config = ConfigDict(extra="ignore")

    name: str = Field(min_length=1, max_length=100)
    enabled_ratio: float | None = Field(None, ge=0.0, le=1.0)
    enabled: bool | None = None
    kind: BankKind = BankKind.BLOCK
    category: BankCategory = BankCategory.OTHER
    description: str = Field("", max_length=10_000)


class BankUpdate(BaseModel):
    model_config = ConfigDict(extra="ignore")

    name: str | None = Field(None, min_length=1, max_length=100)
    enabled_ratio: float | None = Field(None, ge=0.0, le=1.0)
    enabled: bool | None = None


class ContentAdded(BaseModel):
    id: int = Field(description="The entry of the content's main signal (PDQ, vPDQ, else MD5).")
    signals: dict[str, str]
    ids: dict[str, int] = Field(description="The bank entry of each signal.")
    skipped: dict[str, str] = Field(default_factory=dict, description="Signals not added, and why.")


MAX_NOTE = 255  # HMA: "User-supplied note (max 255 chars)"
MAX_CONTENT_JSON = 64 * 1024


class ContentMetadata(BaseModel):
    """HMA's ``BankedContentMetadata``: every key optional, no other key allowed (HMA answers 400)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    content_id: str | None = Field(None, max_length=255, description="The caller's id for the content.")
    content_uri: str | None = Field(None, max_length=2048, description="Where the content came from.")
    json_data: dict[str, Any] | None = Field(None, alias="json", description="Anything the caller needs.")


class ContentUpdate(BaseModel):
    model_config = ConfigDict(extra="ignore")

    disable_until_ts: int | None = Field(
        None, description="0 enables, 1 disables for good, a later Unix time disables until then."
    )
    note: str | None = None


class BankContent(BaseModel):
    """HMA's ``BankContentResponse``, for one bank entry."""

    id: int
    disable_until_ts: int = Field(description="0 enabled, 1 disabled for good, else disabled until then.")
    collab_metadata: dict[str, list[str]] = Field(default_factory=dict)
    original_media_uri: str | None = None
    bank: BankConfig
    signals: dict[str, str] | None = None
    metadata: dict[str, Any] | None = None
    note: str | None = None

    @classmethod
    def of(cls, bank: Bank, entry: BankEntry, *, include_signals: bool) -> BankContent:
        metadata: dict[str, Any] | None = None
        if entry.content_id is not None or entry.content_uri is not None or entry.content_json is not None:
            metadata = {
                "content_id": entry.content_id,
                "content_uri": entry.content_uri,
                "json": json.loads(entry.content_json) if entry.content_json is not None else None,
            }
        return cls(
            id=entry.id,
            disable_until_ts=_disable_until_ts(entry),
            original_media_uri=entry.content_uri,
            bank=BankConfig.of(bank),
            signals={entry.signal_type: entry.value} if include_signals else None,
            metadata=metadata,
            note=entry.note or None,
        )


ENABLED_TS, DISABLED_TS = 0, 1  # HMA's BankContentConfig.ENABLED and .DISABLED


def _disable_until_ts(entry: BankEntry) -> int:
    if entry.enabled:
        return ENABLED_TS
    if entry.disabled_until is None:
        return DISABLED_TS
    return int(entry.disabled_until.timestamp())


def _check_note(note: str) -> str:
    if len(note) > MAX_NOTE:
        raise InvalidInput(f"note is {len(note)} characters: at most {MAX_NOTE}")
    return note


def _ratio_from(ratio: float | None, enabled: bool | None) -> float | None:
    """HMA's order: ``enabled_ratio`` when given, else ``enabled`` as 1 or 0."""
    if ratio is not None:
        return ratio
    if enabled is not None:
        return 1.0 if enabled else 0.0
    return None


@router.get("/banks", dependencies=[require(ApiScope.READ)], summary="List banks")
def banks_index(state: WebState = Depends(get_state)) -> list[BankConfig]:
    with state.platform.db.session() as session:
        return [BankConfig.of(b) for b in services.list_banks(session)]


@router.post(
    "/banks", status_code=201, dependencies=[require(ApiScope.ADMIN), WRITABLE], summary="Create a bank"
)
def bank_create(body: BankCreate, state: WebState = Depends(get_state)) -> BankConfig:
    """An existing name is 403 "Bank already exists", as HMA answers."""
    ratio = _ratio_from(body.enabled_ratio, body.enabled)
    settings = state.settings
    with state.platform.db.session() as session:
        try:
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
        except Conflict as exc:
            raise Forbidden(f"Bank already exists: {exc}") from None
        if ratio is not None:
            services.set_bank_ratio(session, bank.name, ratio)
        return BankConfig.of(bank)


@router.get("/bank/{bank_name}", dependencies=[require(ApiScope.READ)], summary="Get a bank")
def bank_show_by_name(bank_name: str = BANK_NAME, state: WebState = Depends(get_state)) -> BankConfig:
    with state.platform.db.session() as session:
        return BankConfig.of(services.get_bank(session, bank_name))


@router.put(
    "/bank/{bank_name}",
    dependencies=[require(ApiScope.ADMIN), WRITABLE],
    summary="Rename, enable or disable a bank",
)
def bank_update(
    body: BankUpdate, bank_name: str = BANK_NAME, state: WebState = Depends(get_state)
) -> BankConfig:
    """``name`` renames (403 when taken, as HMA); ``enabled_ratio`` or ``enabled`` sets the ratio."""
    ratio = _ratio_from(body.enabled_ratio, body.enabled)
    with state.platform.db.session() as session:
        bank = services.get_bank(session, bank_name)
        if body.name is not None and body.name != bank.name:
            try:
                bank = services.rename_bank(session, bank_name, body.name)
            except Conflict as exc:
                raise Forbidden(f"Bank name already exists: {exc}") from None
        if ratio is not None:
            bank = services.set_bank_ratio(session, bank.name, ratio)
        return BankConfig.of(bank)


@router.delete("/bank/{bank_name}", dependencies=[require(ApiScope.ADMIN), WRITABLE], summary="Delete a bank")
def bank_delete(bank_name: str = BANK_NAME, state: WebState = Depends(get_state)) -> dict[str, str]:
    """200 whether or not the bank existed, as HMA. A ``csam`` bank holding entries is refused (403)."""
    with state.platform.db.session() as session:
        services.delete_bank(session, bank_name)
    return {"message": "Done"}


def _add_signals(
    state: WebState,
    bank_name: str,
    values: dict[SignalKind, str],
    *,
    qualities: dict[SignalKind, int] | None = None,
    skipped: dict[str, str] | None = None,
    source_ref: str = "",
    metadata: ContentMetadata | None = None,
    note: str = "",
    names: dict[SignalKind, str] | None = None,
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
                note=note,
            )
            if created and metadata is not None:
                entry.content_id = metadata.content_id
                entry.content_uri = metadata.content_uri
                if metadata.json_data is not None:
                    entry.content_json = json.dumps(metadata.json_data, separators=(",", ":"))
            ids[(names or {}).get(kind, kind.value)] = entry.id
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
        signals={(names or {}).get(k, k.value): v for k, v in values.items()},
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
        metadata, note = await _metadata_from(request)

        def from_url() -> ContentAdded:
            signals = hash_content(state, wanted, fetch_url(state, url))
            values, qualities, skipped = _content_signals(state, signals)
            return _add_signals(
                state,
                bank_name,
                values,
                qualities=qualities,
                skipped=skipped,
                source_ref=source_ref,
                metadata=metadata,
                note=note,
                names={k: hma_name(k, signals) for k in values},
            )

        return await run_in_threadpool(from_url)
    if not request.headers.get("content-type", "").lower().startswith("multipart/form-data"):
        raise InvalidInput("Neither `url` nor multipart file upload was received")
    kind, data = await read_upload(request)

    def from_upload() -> ContentAdded:
        signals = hash_content(state, kind, data)
        values, qualities, skipped = _content_signals(state, signals)
        return _add_signals(
            state,
            bank_name,
            values,
            qualities=qualities,
            skipped=skipped,
            source_ref=source_ref,
            names={k: hma_name(k, signals) for k in values},
        )

    return await run_in_threadpool(from_upload)


async def _metadata_from(request: Request) -> tuple[ContentMetadata | None, str]:
    """HMA's optional JSON body beside ``url=``: ``{"metadata": {content_id, content_uri, json},
    "note": "..."}``, checked as HMA does (400 for any other metadata key). Other keys are ignored."""
    if not request.headers.get("content-type", "").lower().startswith("application/json"):
        return None, ""
    raw = await request.body()
    if not raw.strip():
        return None, ""
    try:
        body = json.loads(raw)
    except ValueError:
        raise InvalidInput("the body is not JSON") from None
    if not isinstance(body, dict):
        return None, ""
    note = body.get("note") or ""
    if not isinstance(note, str):
        raise InvalidInput("note should be a string")
    _check_note(note)
    metadata = body.get("metadata")
    if metadata is None:
        return None, note
    if not isinstance(metadata, dict):
        raise InvalidInput("metadata should be a json object")
    try:
        parsed = ContentMetadata.model_validate(metadata)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise InvalidInput(f"Invalid metadata: {problems}") from None
    if parsed.json_data is not None and len(json.dumps(parsed.json_data)) > MAX_CONTENT_JSON:
        raise InvalidInput(f"metadata json is over {MAX_CONTENT_JSON:,} bytes")
    return parsed, note


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
    names: dict[SignalKind, str] = {}
    for name, value in body.items():
        kind = parse_signal_type(name)
        if kind in values:
            raise InvalidInput(f"signal type {kind.value} given twice")
        values[kind] = parse_signal(kind, value)
        names[kind] = VIDEO_MD5 if name.strip().lower() == VIDEO_MD5 else kind.value
    return _add_signals(state, bank_name, values, source_ref=f"api-key:{caller.name}", names=names)


CONTENT_ID = Path(description="The bank entry's id.", ge=1, le=2**63 - 1)


@router.get(
    "/bank/{bank_name}/content/{content_id}",
    dependencies=[require(ApiScope.READ)],
    summary="Get bank content",
)
def bank_get_content(
    bank_name: str = BANK_NAME,
    content_id: int = CONTENT_ID,
    include_signals: bool = Query(False, description="Add the entry's signal."),
    state: WebState = Depends(get_state),
) -> dict[str, Any]:
    """404 for an unknown bank, or an id that is not an entry of this bank."""
    with state.platform.db.session() as session:
        bank = services.get_bank(session, bank_name)
        entry = services.get_entry(session, bank, content_id)
        return BankContent.of(bank, entry, include_signals=include_signals).model_dump(exclude_none=True)


@router.put(
    "/bank/{bank_name}/content/{content_id}",
    dependencies=[require(ApiScope.ADMIN), WRITABLE],
    summary="Disable until a time, enable, or annotate bank content",
)
def bank_update_content(
    body: ContentUpdate,
    bank_name: str = BANK_NAME,
    content_id: int = CONTENT_ID,
    state: WebState = Depends(get_state),
) -> dict[str, Any]:
    """``disable_until_ts``: 0 enables, 1 disables for good, a Unix time (at most 5 years ahead, as
    HMA) disables until then, when the entry matches again by itself. An entry of a ``csam`` bank is
    not disabled here (403; ``banks.services``). ``note``: at most 255 characters."""
    with state.platform.db.session() as session:
        bank = services.get_bank(session, bank_name)
        entry = services.get_entry(session, bank, content_id)
        if body.note is not None:
            entry.note = _check_note(body.note)
        ts = body.disable_until_ts
        if ts is not None:
            now = datetime.now(UTC)
            if ts < 0:
                raise InvalidInput("disable_until_ts must be a non-negative integer")
            if ts > (now + timedelta(days=365 * 5)).timestamp():
                raise InvalidInput("disable_until_ts must be less than 5 years in the future")
            if ts == ENABLED_TS:
                if not entry.enabled:
                    services.set_entry_enabled(session, entry.id, True)
            else:
                until = None if ts == DISABLED_TS else datetime.fromtimestamp(ts, UTC)
                if until is not None and until <= now:
                    # A time already past: HMA's entry is enabled again; so is ours.
                    if not entry.enabled:
                        services.set_entry_enabled(session, entry.id, True)
                else:
                    services.set_entry_enabled(
                        session, entry.id, False, until=until, reason="disabled over the HMA API"
                    )
        return BankContent.of(bank, entry, include_signals=False).model_dump(exclude_none=True)


@router.delete(
    "/bank/{bank_name}/content/{content_id}",
    dependencies=[require(ApiScope.ADMIN), WRITABLE],
    summary="Delete bank content",
)
def bank_delete_content(
    bank_name: str = BANK_NAME, content_id: int = CONTENT_ID, state: WebState = Depends(get_state)
) -> dict[str, int]:
    """``{"deleted": 1}``; an id that is not in the bank is 404. A ``csam`` bank's entry is refused (403)."""
    with state.platform.db.session() as session:
        bank = services.get_bank(session, bank_name)
        services.delete_entry(session, bank, content_id)
    return {"deleted": 1}
