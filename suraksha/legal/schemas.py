"""The legal desk's API shapes (``/api/v1/legal``): what a platform forwards from its own
law-enforcement portal, and what it reads back."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from suraksha.legal.clocks import RequestKind
from suraksha.legal.models import Channel, ScopeKind
from suraksha.legal.services import NewRequest, ScopeEntry


class AuthorityIn(BaseModel):
    """The sender, as the portal knows it: registered on first sight (unverified until the desk says
    how it verified the request)."""

    model_config = ConfigDict(extra="forbid")

    agency: str = Field(min_length=1, max_length=200)
    jurisdiction: str = Field(min_length=2, max_length=10)
    unit: str = Field("", max_length=200)
    officer: str = Field("", max_length=200)
    rank: str = Field("", max_length=100)
    contact: str = Field("", max_length=300)


class ScopeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: ScopeKind
    value: str = Field("", max_length=2000)
    """An account (@handle, platform id, profile URL) or an item (post URL, platform id)."""
    from_at: AwareDatetime | None = None
    to_at: AwareDatetime | None = None


class LegalRequestIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    external_id: str = Field(min_length=1, max_length=200)
    """The portal's own id: the same id again is the same request (forwarding is safe to retry)."""
    kind: RequestKind
    jurisdiction: str = Field(min_length=2, max_length=10)
    received_at: AwareDatetime
    """When the platform received it: its clocks start here."""
    channel: Channel = Channel.PORTAL
    reference: str = Field("", max_length=200)
    legal_basis: str = Field("", max_length=300)
    summary: str = Field("", max_length=20_000)
    stated_due_at: AwareDatetime | None = None
    confidential: bool = False
    confidential_until: AwareDatetime | None = None
    authority: AuthorityIn | None = None
    scope: list[ScopeIn] = Field(default_factory=list, max_length=10_000)

    def new_request(self, authority_id: int | None) -> NewRequest:
        return NewRequest(
            kind=self.kind,
            jurisdiction=self.jurisdiction,
            received_at=self.received_at,
            channel=self.channel,
            authority_id=authority_id,
            reference=self.reference,
            legal_basis=self.legal_basis,
            summary=self.summary,
            stated_due_at=self.stated_due_at,
            confidential=self.confidential,
            confidential_until=self.confidential_until,
            scope=[ScopeEntry(s.kind, s.value, s.from_at, s.to_at) for s in self.scope],
            external_id=self.external_id,
        )


class ClockOut(BaseModel):
    kind: str
    step: str
    jurisdiction: str
    started_at: datetime
    due_at: datetime
    remaining_s: int
    state: str
    source: str


class LegalRequestOut(BaseModel):
    id: int
    kind: str
    jurisdiction: str
    state: str
    state_reason: str
    reference: str
    legal_basis: str
    channel: str
    received_at: datetime
    stated_due_at: datetime | None
    confidential: bool
    authority: dict[str, Any] | None
    scope: list[dict[str, Any]]
    clocks: list[ClockOut]
    holds: list[dict[str, Any]]
    """Vault holds placed for the request (preservation)."""
    disclosures: list[dict[str, Any]]
    """Disclosure packages drafted for it, with who drafted and who approved each."""
    actions: list[dict[str, Any]]
    """Actions taken under it (preserve, withhold, remove, restore), as delivered to the platform."""
    events: list[dict[str, Any]]


class DueOut(ClockOut):
    request_id: int
    reference: str
