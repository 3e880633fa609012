"""The API shapes of appeals (``/api/v1/appeals``) and of the notices to users feed
(``/api/v1/user-notices``)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from suraksha.appeals.services import MAX_EXTERNAL_ID, MAX_STATEMENT, NewAppeal

MAX_ID = 2**63 - 1


class AppealIn(BaseModel):
    """An appeal the platform lodges on its user's behalf."""

    model_config = ConfigDict(extra="forbid")

    appeal_id: str = Field(min_length=1, max_length=MAX_EXTERNAL_ID, pattern=r"\S")
    """The platform's own id for the appeal: the same id again is the same appeal (safe to retry)."""
    decision_id: int | None = Field(None, ge=1, le=MAX_ID)
    """The decision appealed (``decision_id`` of an action in the feed or a webhook, or of a notice)."""
    action_id: int | None = Field(None, ge=1, le=MAX_ID)
    """Or one of its actions."""
    statement: str = Field(min_length=1, max_length=MAX_STATEMENT, pattern=r"\S")
    """The user's own words: why the decision is wrong."""
    jurisdiction: str | None = Field(
        None, min_length=2, max_length=10, pattern=r"^[A-Za-z]{2}(-[A-Za-z0-9]{1,3})?$"
    )
    """Whose rules set the clocks (``IN``, ``EU``); the operator's ``appeal_jurisdiction`` when not given."""

    @model_validator(mode="after")
    def _one_target(self) -> AppealIn:
        if (self.decision_id is None) == (self.action_id is None):
            raise ValueError("name the decision appealed: decision_id or action_id (one of them)")
        return self

    def new_appeal(self) -> NewAppeal:
        return NewAppeal(
            external_id=self.appeal_id,
            statement=self.statement,
            decision_id=self.decision_id,
            action_id=self.action_id,
            jurisdiction=self.jurisdiction,
        )


class AppealOut(BaseModel):
    id: int
    appeal_id: str
    decision_id: int
    action_id: int | None
    state: str
    """``open``, ``awaiting_approval`` (a second person checks a reversal), ``upheld``, ``reversed``."""
    outcome: str | None
    jurisdiction: str
    received_at: str
    due_at: str
    clock: str
    """``running``, ``warning``, ``overdue``, ``met``, ``met_late``."""
    decided_at: str | None
    restore_action_ids: list[int]
    """The ``restore`` actions a reversal sent (feed and webhook, like any action)."""
    notice_id: int | None
    """The notice of the outcome to the user (``/user-notices``), once decided."""


class UserNoticeOut(BaseModel):
    id: int
    key: str
    kind: str
    """``action`` (a statement of reasons) or ``appeal_outcome``."""
    decision_id: int
    action_id: int | None
    state: str
    withheld_reason: str | None
    withheld_ref: str | None
    withheld_at: str | None
    released_at: str | None
    released_by: str | None
    delivered_at: str | None
    created_at: str
    statement: dict[str, Any] | None


class UserNoticeFeed(BaseModel):
    notices: list[UserNoticeOut]
    next_after: int
    """Pass as ``after`` to get the notices that follow (the same value when there are none yet)."""
