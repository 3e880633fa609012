"""Reversal rates: of the appealed decisions now decided, the share reversed, by the policy that
decided (``decision.decided_by_ref``), the tool that detected (hash bank, text rule, classifier, or a
reviewer), and each bank, rule and classifier; and the flag on those often wrong.

Business rules: a bank, rule or classifier is flagged once it has at least ``min_count`` decided
appeals and a reversal rate at or over ``threshold``; the flag is written once, with an audit row
(``appeals:flag``), and cleared (``appeals:unflag``) when it falls back under either bound.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from suraksha import audit
from suraksha.appeals.models import DECIDED_STATES, Appeal, AppealState, ReversalFlag
from suraksha.enforcement.grounds import Tool
from suraksha.enforcement.models import DecidedBy, Decision
from suraksha.enforcement.user_notices import findings_of

FLAGGABLE = ("bank", "rule", "classifier")
_DIMENSION_OF_TOOL = {Tool.HASH_BANK: "bank", Tool.TEXT_RULE: "rule", Tool.CLASSIFIER: "classifier"}


@dataclass(frozen=True)
class ReversalRate:
    dimension: str
    """``policy``, ``tool``, ``bank``, ``rule`` or ``classifier``."""
    key: str
    appealed: int
    """Decided appeals of decisions resting on it."""
    reversed: int
    flagged: bool = False

    @property
    def rate(self) -> float:
        return self.reversed / self.appealed if self.appealed else 0.0

    def as_dict(self) -> dict[str, object]:
        return {
            "dimension": self.dimension,
            "key": self.key,
            "appealed": self.appealed,
            "reversed": self.reversed,
            "rate": round(self.rate, 4),
            "flagged": self.flagged,
        }


def reversal_rates(
    session: Session, *, start: datetime | None = None, end: datetime | None = None
) -> list[ReversalRate]:
    """Reversal rates of appeals decided in ``[start, end)`` (all, when not given), per dimension and
    key, sorted by dimension then key; ``flagged`` marks those flagged as often wrong."""
    query = (
        select(Appeal, Decision)
        .join(Decision, Decision.id == Appeal.decision_id)
        .where(Appeal.state.in_([str(s) for s in DECIDED_STATES]))
    )
    if start is not None:
        query = query.where(Appeal.decided_at >= start)
    if end is not None:
        query = query.where(Appeal.decided_at < end)
    counts: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for appeal, decision in session.execute(query).all():
        keys = {
            (
                "policy",
                decision.decided_by_ref if decision.decided_by == DecidedBy.POLICY else decision.decided_by,
            )
        }
        for tool, key in findings_of(session, decision):
            keys.add(("tool", tool))
            if tool in _DIMENSION_OF_TOOL:
                keys.add((_DIMENSION_OF_TOOL[tool], key))
        for dimension_key in keys:
            counts[dimension_key][0] += 1
            counts[dimension_key][1] += appeal.state == AppealState.REVERSED
    flagged = set(session.scalars(select(ReversalFlag.key)))
    return [
        ReversalRate(dimension, key, n, r, key in flagged)
        for (dimension, key), (n, r) in sorted(counts.items())
    ]


def flag_often_wrong(
    session: Session, *, threshold: float, min_count: int, actor: str, now: datetime
) -> list[ReversalRate]:
    """Flag (and clear) the banks, rules and classifiers often wrong (module docstring); the rates, with
    ``flagged`` as it now stands."""
    rates = reversal_rates(session)
    existing = {f.key: f for f in session.scalars(select(ReversalFlag))}
    shown = []
    for rate in rates:
        if rate.dimension not in FLAGGABLE:
            shown.append(rate)
            continue
        wrong = rate.appealed >= min_count and rate.rate >= threshold
        row = existing.get(rate.key)
        if wrong and row is None:
            session.add(
                ReversalFlag(
                    key=rate.key,
                    dimension=rate.dimension,
                    appealed=rate.appealed,
                    reversed=rate.reversed,
                    rate=rate.rate,
                    flagged_at=now,
                )
            )
            audit.record(
                session, actor, "appeals:flag", rate.key[:200], {**rate.as_dict(), "threshold": threshold}
            )
        elif wrong and row is not None:
            row.appealed, row.reversed, row.rate = rate.appealed, rate.reversed, rate.rate
        elif row is not None:
            session.delete(row)
            audit.record(
                session, actor, "appeals:unflag", rate.key[:200], {**rate.as_dict(), "threshold": threshold}
            )
        shown.append(ReversalRate(rate.dimension, rate.key, rate.appealed, rate.reversed, wrong))
    session.flush()
    return shown
