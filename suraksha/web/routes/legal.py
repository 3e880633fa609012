"""The legal desk's API: a platform forwards what its law-enforcement portal receives, and reads the
state and clocks back. Every route needs an API key with the ``legal`` role (or admin)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Path, Query, Response

from suraksha.access.models import ApiScope
from suraksha.errors import InvalidInput
from suraksha.legal.clocks import parse_duration
from suraksha.legal.schemas import DueOut, LegalRequestIn, LegalRequestOut
from suraksha.web.auth import ApiCaller, require
from suraksha.web.problems import PROBLEM_RESPONSES
from suraksha.web.routes import API_V1
from suraksha.web.state import WebState, get_state
from suraksha.web.switches import WRITABLE

router = APIRouter(prefix=f"{API_V1}/legal", tags=["legal"], responses=PROBLEM_RESPONSES)
LEGAL = require(ApiScope.LEGAL)
MAX_ID = 2**63 - 1


@router.post("/requests", status_code=201, dependencies=[WRITABLE])
def forward_request(
    body: LegalRequestIn,
    response: Response,
    caller: ApiCaller = LEGAL,
    state: WebState = Depends(get_state),
) -> LegalRequestOut:
    """Forward a request from an authority: its clocks start at ``received_at``, its scope is looked up
    (accounts by @handle, platform id or profile URL; items by post URL or platform id). The same
    ``external_id`` again answers the request already received (200), so forwarding is safe to retry."""
    shown, created = state.platform.legal_forward(
        body.new_request(None),
        authority=body.authority.model_dump() if body.authority else None,
        actor=f"api:{caller.name}",
    )
    if not created:
        response.status_code = 200
    response.headers["Location"] = f"{API_V1}/legal/requests/{shown['id']}"
    return LegalRequestOut.model_validate(shown)


@router.get("/requests/{request_id}")
def read_request(
    request_id: int = Path(ge=1, le=MAX_ID),
    caller: ApiCaller = LEGAL,
    state: WebState = Depends(get_state),
) -> LegalRequestOut:
    """A request with its scope, state, clocks and timeline."""
    return LegalRequestOut.model_validate(state.platform.legal_request(request_id))


@router.get("/due")
def due_clocks(
    within: str | None = Query(
        None, max_length=10, description="Only clocks due within, e.g. 24h; overdue always."
    ),
    caller: ApiCaller = LEGAL,
    state: WebState = Depends(get_state),
) -> list[DueOut]:
    """Every running clock of an open request, overdue first, then soonest."""
    try:
        window = parse_duration(within) if within else None
    except ValueError as exc:
        raise InvalidInput(f"within: {exc}") from None
    return [DueOut.model_validate(row) for row in state.platform.legal_due(within=window)]
