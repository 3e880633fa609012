"""The arrows out of a recorded decision into the areas above enforcement, as ports.

Enforcement sits below intake, review and the vault (the layers contract in pyproject.toml): it may
not import them, not even inside a function. ``record_decision`` takes these arrows through
``DecisionFollowUps`` instead, in the transaction that records the decision (each writes its rows and
queues its job there, so nothing is lost between two arrows). The areas above implement them
(``suraksha.review.cases.open_case_for_decision``, ``suraksha.vault.requests.request_preservation``)
and ``suraksha.app.DECISION_FOLLOW_UPS`` wires them once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.orm import Session

from suraksha.content.models import Item
from suraksha.enforcement.models import Decision


class OpensCase(Protocol):
    def __call__(self, session: Session, item: Item, decision: Decision, actions: Sequence[str], /) -> object:
        """Open (or find) the item's review case when the decision needs a person
        (``suraksha.enforcement.policy.needs_review``); idempotent per item."""
        ...


class RequestsPreservation(Protocol):
    def __call__(self, session: Session, decision: Decision, /) -> object:
        """A pending preservation of the decision's evidence and its job; idempotent per decision."""
        ...


@dataclass(frozen=True)
class DecisionFollowUps:
    """What a recorded decision sets going above enforcement: a review case, and for a ``preserve``
    action the vault's preservation."""

    open_case: OpensCase
    request_preservation: RequestsPreservation
