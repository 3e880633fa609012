"""One definition of each measure, for any period, counted from the records themselves.

The period is half-open, ``[start, end)`` in UTC, and a record counts in the period its own time falls
in: a decision by its ``created_at``, an action by its ``created_at``, a CyberTipline report by its
``finished_at``, a police referral by its ``created_at``. Definitions (docs/transparency.md says them in
words):

- **identified**: items with a decision of verdict ``violation`` or ``legal_order`` in the period, by
  the source that identified them: ``hash:<bank category>`` (an unsuppressed bank match), ``text_rule``
  (a rule hit), ``user_report`` / ``trusted_flagger`` (who reported the item), ``authority`` (the legal
  desk acting on an order), ``classifier`` or ``reviewer`` otherwise. An item identified by two sources
  counts once under each, and once in ``identified_items``.
- **decided**: decisions in the period, automated (by policy, no person) or by a person (a reviewer, the
  legal desk).
- **actioned**: platform actions written in the period, by kind (remove, suspend, withhold, restrict,
  restore), and how many of them were automated.
- **reported**: CyberTipline reports finished in the period and the files in them; police referrals
  drafted, sent and acknowledged in the period.
- **times**: for items identified in the period, from receipt to the first violation decision
  (detection), from detection to the first platform action, and from detection to the finished report
  that carried one of its files; median, 90th and 99th percentiles in seconds.

Zero is zero: every measure is present, with 0 where nothing happened.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from suraksha.content.models import Item, ItemMatch, ItemRuleHit
from suraksha.enforcement.models import Action, ActionKind, DecidedBy, Decision, Verdict
from suraksha.errors import InvalidInput
from suraksha.reporting.models import CyberTiplineReport, CyberTiplineReportFile, PoliceReferral, ReportState

VIOLATION_VERDICTS = (Verdict.VIOLATION.value, Verdict.LEGAL_ORDER.value)
PLATFORM_ACTIONS = (
    ActionKind.REMOVE.value,
    ActionKind.SUSPEND.value,
    ActionKind.WITHHOLD.value,
    ActionKind.RESTRICT.value,
    ActionKind.RESTORE.value,
)


@dataclass(frozen=True)
class Period:
    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise InvalidInput("a period's start and end need their offset (UTC)")
        if self.start >= self.end:
            raise InvalidInput(f"the period starts ({self.start.date()}) after it ends ({self.end.date()})")


@dataclass(frozen=True)
class Spread:
    count: int
    median_s: float | None
    p90_s: float | None
    p99_s: float | None

    @classmethod
    def of(cls, seconds: list[float]) -> Spread:
        if not seconds:
            return cls(0, None, None, None)
        ordered = sorted(seconds)
        return cls(len(ordered), _quantile(ordered, 0.5), _quantile(ordered, 0.9), _quantile(ordered, 0.99))


def _quantile(ordered: list[float], q: float) -> float:
    """The nearest-rank quantile (a value that occurred, not an interpolation)."""
    rank = max(1, math.ceil(q * len(ordered)))
    return round(ordered[rank - 1], 3)


@dataclass(frozen=True)
class Statistics:
    start: str
    end: str
    identified_items: int
    identified_by_source: dict[str, int]
    decisions: int
    decided_automatically: int
    decided_by_people: int
    actions: dict[str, int]
    actions_automated: int
    cybertipline_reports_finished: int
    cybertipline_files_reported: int
    referrals_drafted: int
    referrals_sent: int
    referrals_acknowledged: int
    receipt_to_detection: Spread
    detection_to_action: Spread
    detection_to_report: Spread
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return asdict(self)

    @property
    def automated_share(self) -> float | None:
        return round(self.decided_automatically / self.decisions, 4) if self.decisions else None


def statistics(session: Session, period: Period) -> Statistics:
    """Every measure of the module docstring for ``period``, from the raw records."""
    start, end = period.start, period.end
    decisions = session.execute(
        select(
            Decision.id,
            Decision.item_id,
            Decision.verdict,
            Decision.automated,
            Decision.decided_by,
            Decision.created_at,
        )
        .where(Decision.created_at >= start, Decision.created_at < end)
        .order_by(Decision.created_at)
    ).all()
    automated = sum(1 for d in decisions if d.automated)
    violations: dict[int, tuple[datetime, str]] = {}
    for d in decisions:
        if d.verdict in VIOLATION_VERDICTS and d.item_id not in violations:
            violations[d.item_id] = (d.created_at, d.decided_by)
    sources = _sources(session, violations)
    actions = session.execute(
        select(Action.kind, Action.automated, func.count())
        .where(Action.created_at >= start, Action.created_at < end, Action.kind.in_(PLATFORM_ACTIONS))
        .group_by(Action.kind, Action.automated)
    ).all()
    by_kind: Counter[str] = Counter(dict.fromkeys(PLATFORM_ACTIONS, 0))
    for kind, _automated, count in actions:
        by_kind[kind] += count
    reports = (
        session.execute(
            select(CyberTiplineReport.id).where(
                CyberTiplineReport.state == ReportState.FINISHED,
                CyberTiplineReport.finished_at >= start,
                CyberTiplineReport.finished_at < end,
            )
        )
        .scalars()
        .all()
    )
    files = (
        session.scalar(
            select(func.count())
            .select_from(CyberTiplineReportFile)
            .where(CyberTiplineReportFile.report_id.in_(reports))
        )
        if reports
        else 0
    )
    referrals = session.execute(
        select(PoliceReferral.created_at, PoliceReferral.sent_at, PoliceReferral.acknowledged_at)
    ).all()

    times = _times(session, violations)

    def within(when: datetime | None) -> bool:
        return when is not None and start <= when < end

    return Statistics(
        start=start.isoformat(),
        end=end.isoformat(),
        identified_items=len(violations),
        identified_by_source=dict(sorted(sources.items())),
        decisions=len(decisions),
        decided_automatically=automated,
        decided_by_people=len(decisions) - automated,
        actions=dict(sorted(by_kind.items())),
        actions_automated=sum(count for _, was_automated, count in actions if was_automated),
        cybertipline_reports_finished=len(reports),
        cybertipline_files_reported=int(files or 0),
        referrals_drafted=sum(1 for r in referrals if within(r.created_at)),
        referrals_sent=sum(1 for r in referrals if within(r.sent_at)),
        referrals_acknowledged=sum(1 for r in referrals if within(r.acknowledged_at)),
        receipt_to_detection=times[0],
        detection_to_action=times[1],
        detection_to_report=times[2],
    )


def _sources(session: Session, violations: dict[int, tuple[datetime, str]]) -> Counter[str]:
    ids = list(violations)
    sources: Counter[str] = Counter()
    for chunk in _chunks(ids):
        matched = session.execute(
            select(ItemMatch.item_id, ItemMatch.bank_category)
            .where(ItemMatch.item_id.in_(chunk), ItemMatch.suppressed.is_(False))
            .distinct()
        ).all()
        ruled = set(
            session.scalars(select(ItemRuleHit.item_id).where(ItemRuleHit.item_id.in_(chunk)).distinct())
        )
        reporters = dict(session.execute(select(Item.id, Item.reporter_kind).where(Item.id.in_(chunk))).all())
        by_item: dict[int, set[str]] = {}
        for item_id, category in matched:
            by_item.setdefault(item_id, set()).add(f"hash:{category}")
        for item_id in chunk:
            found = by_item.setdefault(item_id, set())
            if item_id in ruled:
                found.add("text_rule")
            if reporters.get(item_id) in {"user", "trusted_flagger"}:
                found.add(
                    f"{reporters[item_id]}_report" if reporters[item_id] == "user" else "trusted_flagger"
                )
            if violations[item_id][1] == DecidedBy.LEGAL:
                found.add("authority")
            if not found:
                found.add("reviewer" if violations[item_id][1] == DecidedBy.REVIEWER else "classifier")
            sources.update(found)
    return sources


def _times(session: Session, violations: dict[int, tuple[datetime, str]]) -> tuple[Spread, Spread, Spread]:
    to_detection: list[float] = []
    to_action: list[float] = []
    to_report: list[float] = []
    for chunk in _chunks(list(violations)):
        received = dict(session.execute(select(Item.id, Item.received_at).where(Item.id.in_(chunk))).all())
        first_action = dict(
            session.execute(
                select(Action.item_id, func.min(Action.created_at))
                .where(Action.item_id.in_(chunk), Action.kind.in_(PLATFORM_ACTIONS[:-1]))
                .group_by(Action.item_id)
            ).all()
        )
        first_report = dict(
            session.execute(
                select(CyberTiplineReportFile.item_id, func.min(CyberTiplineReport.finished_at))
                .join(CyberTiplineReport, CyberTiplineReport.id == CyberTiplineReportFile.report_id)
                .where(
                    CyberTiplineReportFile.item_id.in_(chunk),
                    CyberTiplineReport.state == ReportState.FINISHED,
                )
                .group_by(CyberTiplineReportFile.item_id)
            ).all()
        )
        for item_id in chunk:
            detected = violations[item_id][0]
            if item_id in received:
                to_detection.append(max(0.0, (detected - received[item_id]).total_seconds()))
            acted = first_action.get(item_id)
            if acted is not None:
                to_action.append(max(0.0, (acted - detected).total_seconds()))
            reported = first_report.get(item_id)
            if reported is not None:
                to_report.append(max(0.0, (reported - detected).total_seconds()))
    return Spread.of(to_detection), Spread.of(to_action), Spread.of(to_report)


def _chunks(ids: list[int], size: int = 500) -> list[list[int]]:
    return [ids[i : i + size] for i in range(0, len(ids), size)]


def basis_of(decision: Decision) -> list[dict[str, object]]:
    try:
        parsed = json.loads(decision.basis or "[]")
    except ValueError:
        return []
    return parsed if isinstance(parsed, list) else []
