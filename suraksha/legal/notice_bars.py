"""The legal desk's answer to enforcement's question "may the user be told?" (the ``FindsNoticeBar``
port of ``suraksha.enforcement.user_notices``, wired by the Platform).

Business rules: the user is not told about an item or account that a request's scope covers (the item
itself, or its account) while
- the request is confidential (a gag: blocking orders always are) and its confidentiality has not
  ended (``confidential_until`` passed); a rejected request gags nothing, nor one the authority
  withdrew (its order is gone);
- or it is a preservation request still open: an investigation is going on.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from suraksha.enforcement.models import WithheldReason
from suraksha.enforcement.user_notices import NoticeBar
from suraksha.legal.clocks import RequestKind
from suraksha.legal.models import OPEN_STATES, LegalRequest, LegalRequestScope, RequestState


def notice_bar(session: Session, item_id: int, account_id: int, now: datetime) -> NoticeBar | None:
    """Why the user may not be told about ``item_id`` / ``account_id`` now (module docstring)."""
    requests = session.scalars(
        select(LegalRequest)
        .join(LegalRequestScope, LegalRequestScope.request_id == LegalRequest.id)
        .where(or_(LegalRequestScope.item_id == item_id, LegalRequestScope.account_id == account_id))
        .order_by(LegalRequest.id)
    ).unique()
    for request in requests:
        withdrawn = request.state == RequestState.CLOSED and request.state_reason.startswith("withdrawn")
        if request.state == RequestState.REJECTED or withdrawn:
            continue
        until = request.confidential_until
        if request.confidential and (until is None or until > now):
            return NoticeBar(WithheldReason.CONFIDENTIALITY, f"legal_request:{request.id}")
        if request.kind == RequestKind.PRESERVATION and request.state in OPEN_STATES:
            return NoticeBar(WithheldReason.PRESERVATION, f"legal_request:{request.id}")
    return None
