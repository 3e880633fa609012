"""Trusted flaggers' notices: ``POST /api/v1/notices`` and ``GET /api/v1/notices/{id}``.

Every route needs a flagger's own API key (role ``flagger``, made by ``suraksha flaggers add``): not
``admin``, which does not speak for a flagger, nor any other role. A flagger reads only its own notices:
another's answers 404, as if it did not exist.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Path, Response

from suraksha.access.models import ApiScope
from suraksha.errors import Forbidden
from suraksha.flaggers.schemas import NoticeIn, NoticeOut
from suraksha.web.auth import ApiCaller, authenticated
from suraksha.web.problems import PROBLEM_RESPONSES
from suraksha.web.routes import API_V1
from suraksha.web.state import WebState, get_state
from suraksha.web.switches import WRITABLE

router = APIRouter(prefix=f"{API_V1}/notices", tags=["notices"], responses=PROBLEM_RESPONSES)
MAX_ID = 2**63 - 1


async def flagger(caller: ApiCaller = Depends(authenticated)) -> ApiCaller:
    """Only a key holding the ``flagger`` role itself (``admin`` does not imply it here)."""
    if ApiScope.FLAGGER not in caller.scopes:
        raise Forbidden(
            f"the API key {caller.name!r} has the role(s) {', '.join(sorted(caller.scopes))}; notices are "
            "sent with a trusted flagger's own key (role flagger)"
        )
    return caller


FLAGGER = Depends(flagger)


@router.post("", status_code=201, dependencies=[WRITABLE])
def submit_notice(
    body: NoticeIn,
    response: Response,
    caller: ApiCaller = FLAGGER,
    state: WebState = Depends(get_state),
) -> NoticeOut:
    """Send a notice: the things it names are looked up (post URL, platform id, or the exact file of an
    upload), asked of the platform when not held, and put in review at your priority. The answer is
    the acknowledgement (also sent to your webhook). The same ``reference`` again answers the notice
    already received (200), so sending is safe to retry; with other content it is a 409."""
    shown, created = state.platform.notice_submit(caller.prefix, body)
    if not created:
        response.status_code = 200
    response.headers["Location"] = f"{API_V1}/notices/{shown['id']}"
    return NoticeOut.model_validate(shown)


@router.get("/{notice_id}")
def read_notice(
    notice_id: int = Path(ge=1, le=MAX_ID),
    caller: ApiCaller = FLAGGER,
    state: WebState = Depends(get_state),
) -> NoticeOut:
    """Your notice: its state, clocks, and for each thing it names what was found and decided."""
    return NoticeOut.model_validate(state.platform.notice_read(caller.prefix, notice_id))
