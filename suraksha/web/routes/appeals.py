"""Appeals and notices to users, for the host platform: lodge a user's appeal, read its state, and poll
the notices to show users. Every route needs an API key with the ``ingest`` role (or admin)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Path, Query, Response

from suraksha.access.models import ApiScope
from suraksha.appeals.schemas import MAX_ID, AppealIn, AppealOut, UserNoticeFeed, UserNoticeOut
from suraksha.web.auth import ApiCaller, require
from suraksha.web.problems import PROBLEM_RESPONSES
from suraksha.web.routes import API_V1
from suraksha.web.state import WebState, get_state
from suraksha.web.switches import WRITABLE

router = APIRouter(prefix=API_V1, tags=["appeals"], responses=PROBLEM_RESPONSES)
INGEST = require(ApiScope.INGEST)


@router.post("/appeals", status_code=201, response_model=AppealOut, dependencies=[WRITABLE])
def lodge_appeal(
    body: AppealIn, response: Response, caller: ApiCaller = INGEST, state: WebState = Depends(get_state)
) -> AppealOut:
    """Lodge a user's appeal of a decision on their content or account: it goes to a person who did not
    make the decision, due by ``due_at`` (the jurisdiction's rules). The same ``appeal_id`` again
    answers the appeal already lodged (200); with other content it is a 409, as is a second appeal of
    one decision. 404: no such decision or action; 422: nothing to appeal, or too late."""
    shown, created = state.platform.appeal_lodge(body.new_appeal(), by=f"api:{caller.name}")
    if not created:
        response.status_code = 200
    response.headers["Location"] = f"{API_V1}/appeals/{shown['id']}"
    return AppealOut.model_validate(shown)


@router.get("/appeals/{appeal_id}", response_model=AppealOut, dependencies=[INGEST])
def read_appeal(
    appeal_id: int = Path(ge=1, le=MAX_ID, description="Suraksha's id of the appeal (from POST /appeals)."),
    state: WebState = Depends(get_state),
) -> AppealOut:
    """The appeal's state, clock, outcome, the restore actions of a reversal and the outcome's notice."""
    return AppealOut.model_validate(state.platform.appeal(appeal_id))


@router.get("/user-notices", response_model=UserNoticeFeed, dependencies=[INGEST])
def user_notice_feed(
    after: int = Query(
        0, ge=0, le=MAX_ID, description="The cursor: the last next_after seen (0 for the start)."
    ),
    limit: int = Query(100, ge=1, le=1000),
    state: WebState = Depends(get_state),
) -> UserNoticeFeed:
    """Notices to show users, in the order they became ready (the same as the ``notice.user``
    webhook): statements of reasons for actions on their content or account, and appeal outcomes.
    A notice withheld by law (a gag, an investigation, a tip-off risk) joins the feed when released."""
    rows, cursor = state.platform.user_notice_feed(after=after, limit=limit)
    return UserNoticeFeed(notices=[UserNoticeOut.model_validate(r) for r in rows], next_after=cursor)
