"""One definition of each measure, for any period, counted from the records themselves.

The period is half-open, ``[start, end)`` in UTC, and every measure is additive over days: a record
counts on the day its own time falls in (a decision by its ``created_at``, an action by its
``created_at``, a CyberTipline report by its ``finished_at``, a police referral by each of its times),
and an item's first event counts on that event's day. Definitions (docs/transparency.md says them in
words; ``suraksha.transparency.tally`` counts them):

- **identified**: items whose FIRST decision of verdict ``violation`` or ``legal_order`` falls in the
  period (an item decided again later is not identified again), by the source that identified them:
  ``hash:<bank category>`` (an unsuppressed bank match), ``text_rule`` (a rule hit), ``user_report`` /
  ``trusted_flagger`` (who reported the item), ``authority`` (the legal desk acting on an order),
  ``classifier`` or ``reviewer`` otherwise. An item identified by two sources counts once under each,
  and once in ``identified_items``; by the category of that first decision; and how many of them the
  archive backfill imported (``identified_backfilled``, said in ``notes``).
- **decided**: decisions in the period, automated (by policy, no person) or by a person (a reviewer, the
  legal desk); by category and by policy version (``decided_by_ref`` of the policy's decisions).
- **actioned**: platform actions written in the period, by kind (remove, suspend, withhold, restrict,
  restore), how many of them were automated, by the category of their decision, and withholds by
  country.
- **reported**: CyberTipline reports finished in the period and the files in them; police referrals
  drafted, sent and acknowledged in the period.
- **times**, each counted in the period of its later event: from receipt to detection (the first
  violation decision) for items identified in the period; from detection to the item's first platform
  action, for items whose first action is in the period; from detection to the first finished report
  that carried one of the item's files, for items whose first such report finished in the period. The
  median, 90th and 99th percentiles in seconds are nearest-rank over log-scale buckets about 1 % wide
  (``tally.time_bucket``), each reported as the longest duration that fell in the bucket the rank falls
  in (a duration that occurred, at most 1 % above the exact percentile), so the rollup and the raw
  records give the same figure.

Zero is zero: every measure is present, with 0 where nothing happened, and a period without any
record says so in ``notes``.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import date

from sqlalchemy.orm import Session

from suraksha.enforcement.models import Decision
from suraksha.transparency.tally import (
    PLATFORM_ACTIONS,
    REMOVAL_MEASURES,
    VIOLATION_VERDICTS,
    Cell,
    Measure,
    Period,
    Tally,
    TimeMeasure,
    bucket_upper_s,
    count_records,
    time_bucket,
    to_ms,
)

__all__ = [
    "PLATFORM_ACTIONS",
    "VIOLATION_VERDICTS",
    "Period",
    "Spread",
    "Statistics",
    "assemble",
    "statistics",
]

NO_RECORDS = "no records in this period"
TEMPLATE_MEASURES = (*REMOVAL_MEASURES, Measure.REPORTED_ITEM)
"""Cells only the regulators' templates read (``transparency.measures.removals``): not statistics, and
not what makes a period one "with records" (something decided, actioned or reported)."""
UNSPECIFIED = "unspecified"
"""The key of records without the dimension asked for (a decision with no category)."""


@dataclass(frozen=True)
class Spread:
    count: int
    median_s: float | None
    p90_s: float | None
    p99_s: float | None

    @classmethod
    def of(cls, seconds: list[float]) -> Spread:
        """The spread of these durations, through the same buckets as the rollup's."""
        peaks: dict[int, int] = {}
        for s in seconds:
            bucket = time_bucket(s)
            peaks[bucket] = max(peaks.get(bucket, 0), to_ms(s))
        return cls.of_histogram(Counter(time_bucket(s) for s in seconds), peaks)

    @classmethod
    def of_histogram(cls, histogram: Mapping[int, int], peaks: Mapping[int, int] | None = None) -> Spread:
        """Nearest-rank percentiles over a histogram (bucket -> count), each reported as the longest
        duration that fell in the bucket the rank falls in (``peaks``, in ms), or without it as the
        bucket's upper bound: a duration that occurred, never more than 1 % above the exact
        percentile."""
        ordered = sorted((b, n) for b, n in histogram.items() if n)
        total = sum(n for _, n in ordered)
        if not total:
            return cls(0, None, None, None)

        def quantile(q: float) -> float:
            rank, seen = max(1, math.ceil(q * total)), 0
            for bucket, count in ordered:
                seen += count
                if seen >= rank:
                    if peaks is not None and bucket in peaks:
                        return round(peaks[bucket] / 1000, 3)
                    return bucket_upper_s(bucket)
            raise AssertionError("unreachable: the rank is at most the total")

        return cls(total, quantile(0.5), quantile(0.9), quantile(0.99))

    @classmethod
    def exact(cls, seconds: list[float]) -> Spread:
        """Nearest-rank percentiles of these durations, values that occurred: for figures counted only
        from the raw records (the legal desk's and notices' times in the templates), never rolled up."""
        ordered = sorted(seconds)
        if not ordered:
            return cls(0, None, None, None)

        def quantile(q: float) -> float:
            return round(ordered[max(1, math.ceil(q * len(ordered))) - 1], 3)

        return cls(len(ordered), quantile(0.5), quantile(0.9), quantile(0.99))


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
    identified_backfilled: int = 0
    identified_by_category: dict[str, int] = field(default_factory=dict)
    decisions_by_category: dict[str, int] = field(default_factory=dict)
    decisions_by_policy: dict[str, int] = field(default_factory=dict)
    actions_by_category: dict[str, int] = field(default_factory=dict)
    withheld_by_country: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return asdict(self)

    @property
    def automated_share(self) -> float | None:
        return round(self.decided_automatically / self.decisions, 4) if self.decisions else None


def statistics(session: Session, period: Period) -> Statistics:
    """Every measure of the module docstring for ``period``, from the raw records."""
    return assemble(period, count_records(session, period))


def assemble(period: Period, tally: Tally, days: set[date] | None = None) -> Statistics:
    """The figures of ``period`` from a tally of its days (of ``days`` only, when given): the one
    place cells become measures, whichever path counted them."""
    counts: Counter[Cell] = Counter()
    for (day, cell), value in tally.counts.items():
        if days is None or day in days:
            counts[cell] += value
    histograms: dict[str, Counter[int]] = {m.value: Counter() for m in TimeMeasure}
    peaks: dict[str, dict[int, int]] = {m.value: {} for m in TimeMeasure}
    for (day, measure, bucket), value in tally.times.items():
        if days is None or day in days:
            histograms[measure][bucket] += value
            ms = tally.peaks.get((day, measure, bucket))
            if ms is not None and ms > peaks[measure].get(bucket, -1):
                peaks[measure][bucket] = ms

    def total(measure: Measure, **where: object) -> int:
        return sum(
            v
            for c, v in counts.items()
            if c.measure == measure and all(getattr(c, k) == w for k, w in where.items())
        )

    def by(measure: Measure, dimension: str) -> dict[str, int]:
        found: Counter[str] = Counter()
        for cell, value in counts.items():
            if cell.measure == measure and value:
                found[str(getattr(cell, dimension)) or UNSPECIFIED] += value
        return dict(sorted(found.items()))

    decisions = total(Measure.DECISION)
    automated = total(Measure.DECISION, automated=True)
    actions = dict.fromkeys(PLATFORM_ACTIONS, 0) | by(Measure.ACTION, "kind")
    backfilled = total(Measure.IDENTIFIED, backfilled=True)
    notes = []
    if backfilled:
        notes.append(
            f"{backfilled} of the identified items were imported by the archive backfill, with their "
            "original times"
        )
    counted = (v for c, v in counts.items() if c.measure not in TEMPLATE_MEASURES)
    if not any(counted) and not any(sum(h.values()) for h in histograms.values()):
        notes.append(NO_RECORDS)
    policies = Counter[str]()
    for cell, value in counts.items():
        if cell.measure == Measure.DECISION and cell.policy and value:
            policies[cell.policy] += value
    return Statistics(
        start=period.start.isoformat(),
        end=period.end.isoformat(),
        identified_items=total(Measure.IDENTIFIED),
        identified_by_source=by(Measure.IDENTIFIED_SOURCE, "source"),
        decisions=decisions,
        decided_automatically=automated,
        decided_by_people=decisions - automated,
        actions=dict(sorted(actions.items())),
        actions_automated=total(Measure.ACTION, automated=True),
        cybertipline_reports_finished=total(Measure.CYBERTIPLINE_REPORT),
        cybertipline_files_reported=total(Measure.CYBERTIPLINE_FILE),
        referrals_drafted=total(Measure.REFERRAL_DRAFTED),
        referrals_sent=total(Measure.REFERRAL_SENT),
        referrals_acknowledged=total(Measure.REFERRAL_ACKNOWLEDGED),
        receipt_to_detection=Spread.of_histogram(
            histograms[TimeMeasure.RECEIPT_TO_DETECTION], peaks[TimeMeasure.RECEIPT_TO_DETECTION]
        ),
        detection_to_action=Spread.of_histogram(
            histograms[TimeMeasure.DETECTION_TO_ACTION], peaks[TimeMeasure.DETECTION_TO_ACTION]
        ),
        detection_to_report=Spread.of_histogram(
            histograms[TimeMeasure.DETECTION_TO_REPORT], peaks[TimeMeasure.DETECTION_TO_REPORT]
        ),
        notes=notes,
        identified_backfilled=backfilled,
        identified_by_category=by(Measure.IDENTIFIED, "category"),
        decisions_by_category=by(Measure.DECISION, "category"),
        decisions_by_policy=dict(sorted(policies.items())),
        actions_by_category=by(Measure.ACTION, "category"),
        withheld_by_country=by(Measure.WITHHELD_COUNTRY, "country"),
    )


def basis_of(decision: Decision) -> list[dict[str, object]]:
    try:
        parsed = json.loads(decision.basis or "[]")
    except ValueError:
        return []
    return parsed if isinstance(parsed, list) else []
