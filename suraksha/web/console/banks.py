"""Bank pages (list, create, import a file, stats, disable an entry, allow lists) and the match
debugger (upload a picture or video: its hashes and what it matches, at what distance).

Every change goes through ``suraksha.banks.services`` and is audited (``bank:change``) in the same
transaction, naming the person by pseudonym.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from sqlalchemy import func, select
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from suraksha.banks import services as banks
from suraksha.banks.models import BankCategory, BankEntry, BankKind
from suraksha.errors import InvalidInput
from suraksha.permissions import Permission
from suraksha.signals.types import SignalKind
from suraksha.web.console.pages import is_htmx, render, see_other
from suraksha.web.console.params import PathId
from suraksha.web.console.viewer import ROUTER_CHECKS, Viewer, allowed_when_read_only, require
from suraksha.web.hma.media import hash_content
from suraksha.web.state import WebState, get_state

log = logging.getLogger(__name__)

router = APIRouter(prefix="/console", dependencies=ROUTER_CHECKS, include_in_schema=False)

ENTRIES_PAGE = 100
MAX_DESCRIPTION = 2000


async def _read_bounded(upload: UploadFile, limit: int, what: str) -> bytes:
    data = await upload.read(limit + 1)
    if len(data) > limit:
        raise InvalidInput(f"the {what} is over the limit of {limit:,} bytes")
    if not data:
        raise InvalidInput(f"the {what} is empty: choose a file")
    return data


@router.get("/banks")
def bank_list(
    request: Request, state: WebState = Depends(get_state), who: Viewer = require(Permission.BANK_MANAGE)
) -> Response:
    with state.platform.db.reading() as session:
        rows = [(bank, banks.bank_stats(session, bank)) for bank in banks.list_banks(session)]
    context = {
        "banks": rows,
        "categories": list(BankCategory),
        "kinds": list(BankKind),
        "default_threshold": int(state.settings.default_pdq_threshold),
    }
    return render(request, "console/banks.html", who, context)


@router.post("/banks")
def bank_create(
    name: str = Form(..., max_length=100),
    category: BankCategory = Form(BankCategory.OTHER),
    kind: BankKind = Form(BankKind.BLOCK),
    description: str = Form("", max_length=MAX_DESCRIPTION),
    pdq_threshold: int = Form(31, ge=0, le=63),
    state: WebState = Depends(get_state),
    who: Viewer = require(Permission.BANK_MANAGE),
) -> Response:
    created = state.platform.bank_create(
        name,
        actor=who.actor,
        category=category,
        kind=kind,
        description=description,
        pdq_threshold=pdq_threshold,
    )
    return see_other(f"/console/banks/{created}")


def _bank_page(
    request: Request, state: WebState, who: Viewer, name: str, *, result: Any = None, status: int = 200
) -> Response:
    with state.platform.db.reading() as session:
        bank = banks.get_bank(session, name)
        stats = banks.bank_stats(session, bank)
        entries = list(
            session.scalars(
                select(BankEntry)
                .where(BankEntry.bank_id == bank.id)
                .order_by(BankEntry.id.desc())
                .limit(ENTRIES_PAGE)
            )
        )
        disabled = session.scalar(
            select(func.count()).where(BankEntry.bank_id == bank.id, BankEntry.enabled.is_(False))
        )
    context = {
        "bank": bank,
        "stats": stats,
        "entries": entries,
        "disabled": int(disabled or 0),
        "result": result,
        "signal_kinds": list(SignalKind),
    }
    return render(request, "console/bank.html", who, context, status_code=status)


@router.get("/banks/{name}")
def bank_show(
    request: Request,
    name: str,
    state: WebState = Depends(get_state),
    who: Viewer = require(Permission.BANK_MANAGE),
) -> Response:
    return _bank_page(request, state, who, name)


@router.post("/banks/{name}/import")
async def bank_import(
    request: Request,
    name: str,
    file: UploadFile = File(...),
    skip_invalid: bool = Form(False),
    state: WebState = Depends(get_state),
    who: Viewer = require(Permission.BANK_MANAGE),
) -> Response:
    """Import a hash-list file (CSV, one hash a line, or a vPDQ frame list). Atomic unless
    ``skip_invalid``: a file with a bad line adds nothing and the page says which lines and why."""
    data = await _read_bounded(file, int(state.settings.import_max_bytes), "hash-list file")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput("the hash-list file is not UTF-8 text") from None
    source_ref = (file.filename or "upload")[:200]

    def work() -> banks.ImportResult:
        return state.platform.bank_import(
            name, text, actor=who.actor, source_ref=source_ref, skip_invalid=skip_invalid
        )

    result = await run_in_threadpool(work)
    return await run_in_threadpool(
        _bank_page, request, state, who, name, result=result, status=200 if result.committed else 400
    )


@router.post("/banks/{name}/entries")
def bank_add_entry(
    name: str,
    signal_type: SignalKind = Form(...),
    value: str = Form(..., max_length=200_000),
    note: str = Form("", max_length=1000),
    state: WebState = Depends(get_state),
    who: Viewer = require(Permission.BANK_MANAGE),
) -> Response:
    """Add one hash (the way a benign file a list mis-hashed goes into an allow-list bank)."""
    new = banks.NewEntry(signal_type, value.strip(), note=note)
    state.platform.bank_add_entries(name, [new], actor=who.actor)
    return see_other(f"/console/banks/{name}")


@router.post("/banks/{name}/entries/{entry_id}/enabled")
def entry_enabled(
    request: Request,
    name: str,
    entry_id: PathId,
    enabled: bool = Form(...),
    reason: str = Form("", max_length=1000),
    state: WebState = Depends(get_state),
    who: Viewer = require(Permission.BANK_MANAGE),
) -> Response:
    """Disable an entry (it stops matching at the index's next refresh) or enable it again."""
    entry = state.platform.bank_set_entry_enabled(
        entry_id, enabled, actor=who.actor, bank_name=name, reason=reason
    )
    if is_htmx(request):
        return render(request, "console/fragments/entry_row.html", who, {"entry": entry, "bank_name": name})
    return see_other(f"/console/banks/{name}")


@router.post("/banks/{name}/enabled")
def bank_enabled(
    name: str,
    enabled: bool = Form(...),
    state: WebState = Depends(get_state),
    who: Viewer = require(Permission.BANK_MANAGE),
) -> Response:
    state.platform.bank_set_enabled(name, enabled, actor=who.actor)
    return see_other(f"/console/banks/{name}")


# -- the match debugger --------------------------------------------------------------------------------


@router.get("/debugger")
def debugger_form(
    request: Request, state: WebState = Depends(get_state), who: Viewer = require(Permission.BANK_MANAGE)
) -> Response:
    return render(request, "console/debugger.html", who, {"signals": None, "outcome": None})


@router.post("/debugger")
@allowed_when_read_only  # hashes and matches an upload; stores nothing
async def debugger_run(
    request: Request,
    file: UploadFile = File(...),
    rotations: bool = Form(False),
    state: WebState = Depends(get_state),
    who: Viewer = require(Permission.BANK_MANAGE),
) -> Response:
    """Hash the upload as the pipeline and the ``/m/lookup`` route do, and match it against every
    enabled bank (allow lists applied, suppressed hits shown with what suppressed them). The file is
    neither stored nor shown back. An index that is loading or stale is an error (503), never "no
    match"."""
    data = await _read_bounded(file, int(state.settings.media_max_bytes), "file")

    def work() -> tuple[Any, Any, list[Any]]:
        signals = hash_content(state, None, data)
        outcome = state.index.match(signals, rotations=rotations)
        with state.platform.db.reading() as session:
            allow = [b.name for b in banks.list_banks(session) if b.kind == BankKind.ALLOW]
        return signals, outcome, allow

    signals, outcome, allow_banks = await run_in_threadpool(work)
    log.info(
        "event=console.debugger pseudonym=%s hits=%d suppressed=%d",
        who.pseudonym,
        len(outcome.hits),
        len(outcome.suppressed),
    )
    context = {"signals": signals, "outcome": outcome, "allow_banks": allow_banks, "filename": file.filename}
    return render(request, "console/debugger.html", who, context)
