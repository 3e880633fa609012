"""The oracle: ``count_records`` as it was before the counting moved into SQL (items' first events
followed one by one in Python, durations bucketed by ``time_bucket``), kept only to check the SQL path
against (tests/integration/transparency/test_tally_sql.py)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, case, func, literal_column, select
from sqlalchemy.orm import Session

from suraksha.content.models import Item, ItemMatch, ItemRuleHit
from suraksha.enforcement.models import Action, ActionKind, DecidedBy, Decision
from suraksha.reporting.models import CyberTiplineReport, CyberTiplineReportFile, PoliceReferral, ReportState
from suraksha.transparency.measures import report_category
from suraksha.transparency.tally import (
    PLATFORM_ACTIONS,
    REMOVING,
    REPORTER_KINDS,
    TAKEDOWN_ACTIONS,
    VIOLATION_VERDICTS,
    Cell,
    Measure,
    Period,
    Tally,
    TimeMeasure,
    utc_day,
)


def count_records_in_python(session: Session, period: Period) -> Tally:
    """Every cell of every day of ``period``, each item's first events followed in Python."""
    start, end = period.start, period.end
    tally = Tally()
    counts = tally.counts

    # Plain counts are grouped by UTC day in the database (the day expression of each store), so a
    # day of many records comes back as a few rows; items' first events are followed one by one below.
    policy = case((Decision.decided_by == DecidedBy.POLICY.value, Decision.decided_by_ref), else_="")
    day = _day_of(session, Decision.created_at)
    decided = (Decision.category, Decision.automated, Decision.decided_by, policy)
    for when, category, automated, decided_by, ref, n in session.execute(
        select(day, *decided, func.count())
        .where(Decision.created_at >= start, Decision.created_at < end)
        .group_by(day, *decided)
    ):
        cell = Cell(Measure.DECISION, category=category, automated=bool(automated), decided_by=decided_by,
                    policy=ref)  # fmt: skip
        counts[_as_date(when), cell] += n

    day = _day_of(session, Action.created_at)
    countries = case((Action.kind == ActionKind.WITHHOLD.value, Action.countries), else_="")
    acted = (Action.kind, Action.automated, Decision.category, countries)
    for when, kind, automated, category, listed, n in session.execute(
        select(day, *acted, func.count())
        .join(Decision, Decision.id == Action.decision_id)
        .where(Action.created_at >= start, Action.created_at < end, Action.kind.in_(PLATFORM_ACTIONS))
        .group_by(day, *acted)
    ):
        on = _as_date(when)
        counts[on, Cell(Measure.ACTION, kind=kind, automated=bool(automated), category=category)] += n
        for country in sorted(set((listed or "").split())):
            counts[on, Cell(Measure.WITHHELD_COUNTRY, kind=kind, country=country[:40])] += n

    day = _day_of(session, CyberTiplineReport.finished_at)
    finished = (
        CyberTiplineReport.state == ReportState.FINISHED,
        CyberTiplineReport.finished_at >= start,
        CyberTiplineReport.finished_at < end,
    )
    for when, n in session.execute(select(day, func.count()).where(*finished).group_by(day)):
        counts[_as_date(when), Cell(Measure.CYBERTIPLINE_REPORT)] += n
    for when, n in session.execute(
        select(day, func.count())
        .join(CyberTiplineReportFile, CyberTiplineReportFile.report_id == CyberTiplineReport.id)
        .where(*finished)
        .group_by(day)
    ):
        counts[_as_date(when), Cell(Measure.CYBERTIPLINE_FILE)] += n

    for column, referral in (
        (PoliceReferral.created_at, Measure.REFERRAL_DRAFTED),
        (PoliceReferral.sent_at, Measure.REFERRAL_SENT),
        (PoliceReferral.acknowledged_at, Measure.REFERRAL_ACKNOWLEDGED),
    ):
        day = _day_of(session, column)
        for when, jurisdiction, n in session.execute(
            select(day, PoliceReferral.jurisdiction, func.count())
            .where(column >= start, column < end)
            .group_by(day, PoliceReferral.jurisdiction)
        ):
            counts[_as_date(when), Cell(referral, country=jurisdiction)] += n

    _identified(session, period, tally)
    _removals(session, period, tally)
    for measure, firsts in (
        (TimeMeasure.DETECTION_TO_ACTION, _first_actions(session, period)),
        (TimeMeasure.DETECTION_TO_REPORT, _first_reports(session, period)),
    ):
        for at, detected in _after_detection(session, firsts):
            tally.time(utc_day(at), measure.value, _seconds(at, detected))
    return tally


def _removals(session: Session, period: Period, tally: Tally) -> None:
    """Items reported (on the day received) and the removal measures, each removing action of the
    period checked against the item's removing actions of all time, in Python."""
    for received, reporter in session.execute(
        select(Item.received_at, Item.reporter_kind).where(
            Item.received_at >= period.start,
            Item.received_at < period.end,
            Item.reporter_kind.in_(REPORTER_KINDS),
        )
    ):
        tally.counts[utc_day(received), Cell(Measure.REPORTED_ITEM, source=reporter)] += 1
    items = sorted(
        set(
            session.scalars(
                select(Action.item_id).where(
                    Action.created_at >= period.start,
                    Action.created_at < period.end,
                    Action.kind.in_(REMOVING),
                )
            )
        )
    )
    for chunk in _chunks(items):
        reporters = dict(session.execute(select(Item.id, Item.reporter_kind).where(Item.id.in_(chunk))).all())
        history: dict[int, list[tuple[datetime, int, bool, str]]] = {}
        for action_id, item_id, at, automated, category in session.execute(
            select(Action.id, Action.item_id, Action.created_at, Action.automated, Decision.category)
            .join(Decision, Decision.id == Action.decision_id)
            .where(Action.item_id.in_(chunk), Action.kind.in_(REMOVING))
        ):
            history.setdefault(item_id, []).append(
                (at, action_id, bool(automated), report_category(category))
            )
        for item_id, actions in history.items():
            actions.sort()
            for index, (at, _, automated, category) in enumerate(actions):
                if not period.start <= at < period.end:
                    continue
                day = utc_day(at)
                earlier = actions[:index]
                keys = (
                    (Measure.REMOVED_ITEM, earlier, {"source": reporters.get(item_id) or ""}),
                    (
                        Measure.REMOVED_ITEM_TOOL,
                        [a for a in earlier if a[2] == automated],
                        {"automated": automated},
                    ),
                    (
                        Measure.REMOVED_ITEM_CATEGORY,
                        [a for a in earlier if a[2] == automated and a[3] == category],
                        {"automated": automated, "category": category},
                    ),
                )
                for measure, before, dimensions in keys:
                    since = utc_day(before[-1][0]) if before else None
                    if since is None or since < day:
                        cell = Cell(measure, since=since.isoformat() if since else "", **dimensions)  # type: ignore[arg-type]
                        tally.counts[day, cell] += 1


def _day_of(session: Session, column: Any) -> ColumnElement[Any]:
    """The UTC day of a time column, computed by the store: PostgreSQL keeps times with their zone;
    SQLite keeps them as UTC text (``suraksha.db.base.UTCDateTime``), its first ten characters the day.
    The zone is a literal, not a parameter, so the select and GROUP BY expressions are the same."""
    if session.get_bind().dialect.name == "postgresql":
        return func.date(func.timezone(literal_column("'UTC'"), column))
    return func.substr(column, 1, 10)


def _as_date(value: date | str) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def _seconds(later: datetime, earlier: datetime) -> float:
    return max(0.0, (later - earlier).total_seconds())


@dataclass(frozen=True)
class FirstViolation:
    item_id: int
    at: datetime
    category: str
    decided_by: str


def _first_violations(session: Session, item_ids: list[int]) -> dict[int, FirstViolation]:
    """Each item's first violation or legal-order decision (ties by decision id)."""
    firsts: dict[int, tuple[datetime, int, FirstViolation]] = {}
    for decision_id, item_id, at, category, decided_by in session.execute(
        select(
            Decision.id, Decision.item_id, Decision.created_at, Decision.category, Decision.decided_by
        ).where(Decision.item_id.in_(item_ids), Decision.verdict.in_(VIOLATION_VERDICTS))
    ):
        known = firsts.get(item_id)
        if known is None or (at, decision_id) < known[:2]:
            firsts[item_id] = (at, decision_id, FirstViolation(item_id, at, category, decided_by))
    return {item_id: first[2] for item_id, first in firsts.items()}


def _identified(session: Session, period: Period, tally: Tally) -> None:
    candidates = list(
        session.scalars(
            select(Decision.item_id)
            .where(
                Decision.created_at >= period.start,
                Decision.created_at < period.end,
                Decision.verdict.in_(VIOLATION_VERDICTS),
            )
            .distinct()
        )
    )
    for chunk in _chunks(sorted(candidates)):
        firsts = {
            item_id: first
            for item_id, first in _first_violations(session, chunk).items()
            if period.start <= first.at < period.end
        }
        if not firsts:
            continue
        items = {
            row.id: row
            for row in session.execute(
                select(Item.id, Item.received_at, Item.reporter_kind, Item.backfilled).where(
                    Item.id.in_(list(firsts))
                )
            )
        }
        sources = _sources(session, firsts, items)
        for item_id, first in firsts.items():
            day = utc_day(first.at)
            item = items.get(item_id)
            backfilled = bool(item.backfilled) if item is not None else False
            tally.counts[day, Cell(Measure.IDENTIFIED, category=first.category, backfilled=backfilled)] += 1
            for source in sources[item_id]:
                tally.counts[day, Cell(Measure.IDENTIFIED_SOURCE, source=source)] += 1
            if item is not None:
                seconds = _seconds(first.at, item.received_at)
                tally.time(day, TimeMeasure.RECEIPT_TO_DETECTION.value, seconds)


def _sources(
    session: Session, firsts: dict[int, FirstViolation], items: dict[int, Any]
) -> dict[int, set[str]]:
    """The sources that identified each item: ``hash:<bank category>`` (an unsuppressed bank match),
    ``text_rule``, ``user_report`` / ``trusted_flagger`` (who reported it), ``authority`` (the legal
    desk acting on an order), else ``reviewer`` or ``classifier`` (who decided)."""
    chunk = list(firsts)
    found: dict[int, set[str]] = {item_id: set() for item_id in chunk}
    for item_id, category in session.execute(
        select(ItemMatch.item_id, ItemMatch.bank_category)
        .where(ItemMatch.item_id.in_(chunk), ItemMatch.suppressed.is_(False))
        .distinct()
    ):
        found[item_id].add(f"hash:{category}")
    for item_id in session.scalars(
        select(ItemRuleHit.item_id).where(ItemRuleHit.item_id.in_(chunk)).distinct()
    ):
        found[item_id].add("text_rule")
    for item_id in chunk:
        reporter = getattr(items.get(item_id), "reporter_kind", None)
        if reporter == "user":
            found[item_id].add("user_report")
        elif reporter == "trusted_flagger":
            found[item_id].add("trusted_flagger")
        if firsts[item_id].decided_by == DecidedBy.LEGAL:
            found[item_id].add("authority")
        if not found[item_id]:
            found[item_id].add(
                "reviewer" if firsts[item_id].decided_by == DecidedBy.REVIEWER else "classifier"
            )
    return found


def _first_actions(session: Session, period: Period) -> dict[int, datetime]:
    """Each item whose first platform action (a restore aside) falls in ``period``, with its time."""
    candidates = session.scalars(
        select(Action.item_id)
        .where(
            Action.created_at >= period.start,
            Action.created_at < period.end,
            Action.kind.in_(TAKEDOWN_ACTIONS),
        )
        .distinct()
    ).all()
    firsts: dict[int, datetime] = {}
    for chunk in _chunks(sorted(candidates)):
        for item_id, at in session.execute(
            select(Action.item_id, func.min(Action.created_at))
            .where(Action.item_id.in_(chunk), Action.kind.in_(TAKEDOWN_ACTIONS))
            .group_by(Action.item_id)
        ):
            if period.start <= at < period.end:
                firsts[item_id] = at
    return firsts


def _first_reports(session: Session, period: Period) -> dict[int, datetime]:
    """Each item whose first finished CyberTipline report falls in ``period``, with its finished time."""
    candidates = session.scalars(
        select(CyberTiplineReportFile.item_id)
        .join(CyberTiplineReport, CyberTiplineReport.id == CyberTiplineReportFile.report_id)
        .where(
            CyberTiplineReport.state == ReportState.FINISHED,
            CyberTiplineReport.finished_at >= period.start,
            CyberTiplineReport.finished_at < period.end,
        )
        .distinct()
    ).all()
    firsts: dict[int, datetime] = {}
    for chunk in _chunks(sorted(candidates)):
        for item_id, at in session.execute(
            select(CyberTiplineReportFile.item_id, func.min(CyberTiplineReport.finished_at))
            .join(CyberTiplineReport, CyberTiplineReport.id == CyberTiplineReportFile.report_id)
            .where(
                CyberTiplineReportFile.item_id.in_(chunk), CyberTiplineReport.state == ReportState.FINISHED
            )
            .group_by(CyberTiplineReportFile.item_id)
        ):
            if at is not None and period.start <= at < period.end:
                firsts[item_id] = at
    return firsts


def _after_detection(session: Session, firsts: dict[int, datetime]) -> Iterator[tuple[datetime, datetime]]:
    """(time of the item's first event, its detection) for each item of ``firsts`` that was detected."""
    for chunk in _chunks(sorted(firsts)):
        detected = dict(
            session.execute(
                select(Decision.item_id, func.min(Decision.created_at))
                .where(Decision.item_id.in_(chunk), Decision.verdict.in_(VIOLATION_VERDICTS))
                .group_by(Decision.item_id)
            ).all()
        )
        for item_id in chunk:
            if detected.get(item_id) is not None:
                yield firsts[item_id], detected[item_id]


def _chunks(ids: list[int], size: int = 2000) -> list[list[int]]:
    return [ids[i : i + size] for i in range(0, len(ids), size)]
