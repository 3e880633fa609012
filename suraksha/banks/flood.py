"""Flood quarantine: a bank entry that suddenly matches far more items than entries usually do (a flat
or common picture in an imported list) is quarantined. While quarantined, its matches go to review,
never to an automated action (``suraksha.enforcement.policy``: ``BankFinding.review_only``), and a lead
is told: an audit row (``bank:quarantine``), a warning in the log (``event=banks.flood_quarantine``)
and the ``suraksha_bank_quarantines`` gauge in ``/metrics``.
A lead releases it (``release``; ``suraksha bank quarantine release``).

The detection pipeline calls ``count_and_check`` in the transaction that writes a batch's matches.
Each item counts once per entry, in time buckets (``EntryMatchCount``). An entry is quarantined when
its rate over ``window_s`` reaches both ``min_per_hour`` and ``multiple`` times the typical entry's rate:
the mean rate of the other entries that matched within ``baseline_s``, measured only when an entry
passes ``min_per_hour`` (rare), so the hot path is one upsert and one read per batch with bank hits.
Releasing an entry drops its counts within the window: it is measured afresh from then on.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from suraksha import audit
from suraksha.banks.models import Bank, BankEntry, EntryMatchCount, EntryQuarantine
from suraksha.db.inserts import upsert_insert
from suraksha.errors import InvalidInput, NotFound

log = logging.getLogger(__name__)

QUARANTINE = "bank:quarantine"
RELEASE = "bank:quarantine_release"
SYSTEM = "system:flood"

_COUNTS = EntryMatchCount.__table__
_QUARANTINES = EntryQuarantine.__table__


@dataclass(frozen=True)
class FloodPolicy:
    """The thresholds (settings ``flood_*``)."""

    window_s: float = 3600.0
    min_per_hour: float = 100.0
    """0 turns quarantine off (nothing is counted)."""
    multiple: float = 20.0
    baseline_s: float = 604800.0

    @property
    def enabled(self) -> bool:
        return self.min_per_hour > 0

    @property
    def bucket_s(self) -> int:
        """A twelfth of the window, at least a minute."""
        return max(60, int(self.window_s // 12))


@dataclass(frozen=True)
class Quarantined:
    entry_id: int
    bank: str
    matches: int
    rate_per_hour: float
    threshold_per_hour: float
    typical_per_hour: float


def active_quarantines(session: Session, entry_ids: Iterable[int]) -> set[int]:
    """The entries among ``entry_ids`` under an active quarantine."""
    ids = sorted(set(entry_ids))
    found: set[int] = set()
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        found |= set(
            session.scalars(
                select(EntryQuarantine.entry_id).where(
                    EntryQuarantine.entry_id.in_(chunk), EntryQuarantine.active.is_(True)
                )
            )
        )
    return found


def count_active(session: Session) -> int:
    """How many entries are under quarantine now (the ``suraksha_bank_quarantines`` gauge)."""
    return int(
        session.scalar(
            select(func.count()).select_from(EntryQuarantine).where(EntryQuarantine.active.is_(True))
        )
        or 0
    )


def count_and_check(
    session: Session, matched: Iterable[Iterable[int]], policy: FloodPolicy, now: datetime
) -> set[int]:
    """Count the matches of a batch (``matched``: per item, the entry ids it matched) and answer the
    entries among them under quarantine, quarantining those that flood now (audited, logged)."""
    if not policy.enabled:
        return set()
    counts: Counter[int] = Counter()
    for entries in matched:
        counts.update(set(entries))
    if not counts:
        return set()
    ids = sorted(counts)
    epoch = int(now.timestamp())
    bucket = epoch - epoch % policy.bucket_s
    stmt = upsert_insert(session, EntryMatchCount)
    stmt = stmt.on_conflict_do_update(
        index_elements=[_COUNTS.c.entry_id, _COUNTS.c.bucket],
        set_={"matches": _COUNTS.c.matches + stmt.excluded.matches},
    )
    # sorted by entry: concurrent batches take the rows' locks in one order (no deadlock)
    session.execute(stmt, [{"entry_id": i, "bucket": bucket, "matches": counts[i]} for i in ids])
    held = active_quarantines(session, ids)
    since = epoch - int(policy.window_s)
    hours = policy.window_s / 3600.0
    window = dict(
        session.execute(
            select(EntryMatchCount.entry_id, func.sum(EntryMatchCount.matches))
            .where(EntryMatchCount.entry_id.in_([i for i in ids if i not in held]))
            .where(EntryMatchCount.bucket > since, EntryMatchCount.bucket <= epoch)
            .group_by(EntryMatchCount.entry_id)
        ).all()
    )
    over = {i: int(n) for i, n in window.items() if n / hours >= policy.min_per_hour}
    if not over:
        return held
    typical = _typical_per_hour(session, set(over), policy, epoch)
    threshold = max(policy.min_per_hour, policy.multiple * typical)
    for entry_id, n in sorted(over.items()):
        rate = n / hours
        if rate >= threshold:
            quarantined = _quarantine(session, entry_id, n, rate, threshold, typical, now)
            if quarantined is not None:
                held.add(entry_id)
    session.execute(
        delete(EntryMatchCount).where(
            EntryMatchCount.entry_id.in_(sorted(over)),
            EntryMatchCount.bucket < epoch - int(policy.baseline_s),
        )
    )
    return held


def _typical_per_hour(session: Session, flooding: set[int], policy: FloodPolicy, epoch: int) -> float:
    """The mean matches per hour of the entries that matched within the baseline, those flooding now
    left out (0 when no other entry matched)."""
    since = epoch - int(policy.baseline_s)
    total, entries = session.execute(
        select(
            func.coalesce(func.sum(EntryMatchCount.matches), 0),
            func.count(func.distinct(EntryMatchCount.entry_id)),
        ).where(EntryMatchCount.bucket >= since, EntryMatchCount.entry_id.not_in(sorted(flooding)))
    ).one()
    if not entries:
        return 0.0
    return float(total) / int(entries) / (policy.baseline_s / 3600.0)


def _quarantine(
    session: Session,
    entry_id: int,
    matches: int,
    rate: float,
    threshold: float,
    typical: float,
    now: datetime,
) -> Quarantined | None:
    inserted = session.execute(
        upsert_insert(session, EntryQuarantine)
        .values(
            entry_id=entry_id,
            active=True,
            started_at=now,
            matches=matches,
            rate_per_hour=rate,
            threshold_per_hour=threshold,
            typical_per_hour=typical,
            released_by="",
            release_note="",
        )
        .on_conflict_do_nothing(index_elements=[_QUARANTINES.c.entry_id, _QUARANTINES.c.active])
        .returning(_QUARANTINES.c.id)
    ).scalar_one_or_none()
    if inserted is None:  # another batch quarantined it first
        return None
    bank = session.scalar(
        select(Bank.name).join(BankEntry, BankEntry.bank_id == Bank.id).where(BankEntry.id == entry_id)
    )
    shown = Quarantined(entry_id, bank or "", matches, round(rate, 2), round(threshold, 2), round(typical, 4))
    audit.record(
        session,
        SYSTEM,
        QUARANTINE,
        f"bank_entry:{entry_id}",
        {
            "bank": shown.bank,
            "quarantine": inserted,
            "matches": matches,
            "rate_per_hour": shown.rate_per_hour,
            "threshold_per_hour": shown.threshold_per_hour,
            "typical_per_hour": shown.typical_per_hour,
        },
    )
    log.warning(
        "event=banks.flood_quarantine entry=%d bank=%s matches=%d rate_per_hour=%.1f threshold=%.1f "
        "typical=%.3f: its matches go to review until a lead releases it (suraksha bank quarantine release)",
        entry_id,
        shown.bank,
        matches,
        rate,
        threshold,
        typical,
    )
    return shown


def list_quarantines(session: Session, *, include_released: bool = False) -> list[dict[str, object]]:
    """Quarantines, newest first, with their entry's bank."""
    query = (
        select(EntryQuarantine, Bank.name, BankEntry.signal_type)
        .join(BankEntry, BankEntry.id == EntryQuarantine.entry_id)
        .join(Bank, Bank.id == BankEntry.bank_id)
        .order_by(EntryQuarantine.id.desc())
    )
    if not include_released:
        query = query.where(EntryQuarantine.active.is_(True))
    return [
        {
            "id": q.id,
            "entry_id": q.entry_id,
            "bank": bank,
            "signal_type": signal_type,
            "active": bool(q.active),
            "started_at": q.started_at.isoformat(),
            "matches": q.matches,
            "rate_per_hour": q.rate_per_hour,
            "threshold_per_hour": q.threshold_per_hour,
            "typical_per_hour": q.typical_per_hour,
            "released_at": q.released_at.isoformat() if q.released_at else None,
            "released_by": q.released_by,
            "release_note": q.release_note,
        }
        for q, bank, signal_type in session.execute(query).all()
    ]


def release(
    session: Session, entry_id: int, *, actor: str, note: str, policy: FloodPolicy, now: datetime
) -> EntryQuarantine:
    """End the entry's active quarantine (audited): its matches act by the policy again, and its
    counts within the window are dropped, so it is measured afresh."""
    note = note.strip()
    if not note:
        raise InvalidInput("say why the quarantine ends (--note): it is kept in the audit log")
    if len(note) > 1000:
        raise InvalidInput("the note is at most 1000 characters")
    quarantine = session.scalar(
        select(EntryQuarantine)
        .where(EntryQuarantine.entry_id == entry_id, EntryQuarantine.active.is_(True))
        .with_for_update()
    )
    if quarantine is None:
        raise NotFound(f"entry {entry_id} is not quarantined; `suraksha bank quarantine list` lists them")
    quarantine.active = None
    quarantine.released_at = now
    quarantine.released_by = actor
    quarantine.release_note = note
    epoch = int(now.timestamp())
    session.execute(
        delete(EntryMatchCount).where(
            EntryMatchCount.entry_id == entry_id,
            EntryMatchCount.bucket > epoch - int(policy.window_s) - policy.bucket_s,
        )
    )
    session.flush()
    audit.record(
        session,
        actor,
        RELEASE,
        f"bank_entry:{entry_id}",
        {"quarantine": quarantine.id, "note": note[:200]},
    )
    return quarantine
