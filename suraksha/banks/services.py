"""Bank operations: create, list, import, export, enable and disable. Every function takes a session and
leaves committing to the caller's unit of work, so an import is one transaction.

Un-blocking a CSAM hash is never one person's call (18 USC 2258A; docs/review.md): disabling an entry
of a ``csam`` bank, disabling a ``csam`` bank that holds entries, or putting into an allow-list bank a
hash that a ``csam`` bank holds is refused (``Forbidden``) unless ``four_eyes`` names the approval
behind it. The only approval there is: a review decision ("benign", allow list) by a reviewer who
revealed the matched file, approved by a second person (``suraksha.review.decisions``). Console, CLI
and HMA routes pass none, so on those paths the guard refuses and says what to do.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import cast

import numpy as np
from sqlalchemy import Table, func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from suraksha.banks.formats import ListFormat, ParsedRow, RejectedRow, export_csv, parse_list
from suraksha.banks.models import (
    Bank,
    BankCategory,
    BankChange,
    BankChangeKind,
    BankEntry,
    BankKind,
    EntrySource,
)
from suraksha.db.base import utcnow
from suraksha.db.inserts import insert_many, upsert_insert
from suraksha.errors import Conflict, Forbidden, InvalidInput, NotFound
from suraksha.signals.bits import hamming_distances, hex_to_bytes, pack_hashes
from suraksha.signals.types import SignalKind, validate_signal

log = logging.getLogger(__name__)

BANK_NAME_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789_-.")
UNBLOCK_CSAM = (
    "is never one person's call: decide an item it matched 'benign' with 'allow list' in the review "
    "console after revealing the file, and a second person (decision:approve) approves it"
)


def check_unblock(bank: Bank, what: str, four_eyes: str = "") -> None:
    """Forbidden when ``what`` would un-block hashes of a ``csam`` block bank without a four-eyes
    approval (module docstring). Disabling in an allow-list bank blocks more, so it is not guarded."""
    if guards_unblocking(bank) and not four_eyes:
        raise Forbidden(f"{what} (csam bank {bank.name!r}) {UNBLOCK_CSAM}")


def digest_chunks(pairs: Iterable[tuple[str, str]], size: int = 500) -> Iterator[tuple[str, list[str]]]:
    """(signal type, value digest) pairs as (signal type, up to ``size`` digests) lookups: a lookup
    names the signal type so that it seeks the unique (bank, signal type, digest) index instead of
    reading every entry of the bank (a list of millions syncs page by page against it)."""
    by_kind: dict[str, set[str]] = {}
    for kind, digest in pairs:
        by_kind.setdefault(kind, set()).add(digest)
    for kind, digests in sorted(by_kind.items()):
        ordered = sorted(digests)
        for start in range(0, len(ordered), size):
            yield kind, ordered[start : start + size]


def csam_banks_holding(session: Session, pairs: Sequence[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """For (signal type, value digest) pairs: the name of a ``csam`` block bank holding each one held."""
    found: dict[tuple[str, str], str] = {}
    for signal_type, chunk in digest_chunks(pairs):
        query = (
            select(BankEntry.signal_type, BankEntry.value_digest, Bank.name)
            .join(Bank, Bank.id == BankEntry.bank_id)
            .where(Bank.category == BankCategory.CSAM, Bank.kind == BankKind.BLOCK)
            .where(BankEntry.signal_type == signal_type, BankEntry.value_digest.in_(chunk))
        )
        for kind, digest, name in session.execute(query):
            found.setdefault((kind, digest), name)
    wanted = set(pairs)
    return {pair: name for pair, name in found.items() if pair in wanted}


def csam_pdq_within_reach(session: Session, values: Sequence[str], allow_threshold: int) -> dict[str, str]:
    """For PDQ values bound for an allow-list bank: the name of a ``csam`` block bank with an entry
    that one of them would suppress. An allow entry P suppresses a query within ``allow_threshold`` of
    it, and a csam entry C matches queries within its bank's threshold, so some picture is matched by
    C and suppressed by P exactly when their distance is at most the two thresholds added. Compared
    against every csam PDQ entry (vectorised): allow-list additions are rare, hand-made changes."""
    if not values:
        return {}
    rows = session.execute(
        select(BankEntry.value, Bank.name, Bank.pdq_threshold)
        .join(Bank, Bank.id == BankEntry.bank_id)
        .where(Bank.category == BankCategory.CSAM, Bank.kind == BankKind.BLOCK)
        .where(BankEntry.signal_type == SignalKind.PDQ.value)
    ).all()
    if not rows:
        return {}
    packed = pack_hashes(hex_to_bytes(value) for value, _, _ in rows)
    reach = np.array([threshold for _, _, threshold in rows], dtype=np.int32) + allow_threshold
    found: dict[str, str] = {}
    for value in values:
        near = np.flatnonzero(hamming_distances(hex_to_bytes(value), packed) <= reach)
        if near.size:
            found[value] = rows[int(near[0])][1]
    return found


def value_digest(signal_type: str, value: str) -> str:
    return hashlib.sha256(f"{signal_type}:{value}".encode()).hexdigest()


def record_changes(
    session: Session, bank_id: int, kind: BankChangeKind, entry_ids: Sequence[int | None] = (None,)
) -> None:
    """Append to the change feed that match indexes follow, in the caller's transaction.

    On PostgreSQL the table lock makes feed ids follow commit order (a follower that has read id N has
    seen every change before it); SQLite has one writer at a time already.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("LOCK TABLE bank_changes IN SHARE ROW EXCLUSIVE MODE"))
    now = utcnow()
    insert_many(  # the driver's executemany: lists sync in pages of thousands
        session,
        BankChange,
        ("bank_id", "entry_id", "kind", "created_at"),
        [(bank_id, e, kind.value, now) for e in entry_ids],
    )


def _check_name(name: str) -> str:
    normalised = name.strip()
    if not normalised or len(normalised) > 100 or not set(normalised.lower()) <= BANK_NAME_CHARS:
        raise InvalidInput(f"bank name {name!r} must be 1-100 characters of letters, digits, '_', '-' or '.'")
    return normalised


def create_bank(
    session: Session,
    name: str,
    *,
    category: BankCategory = BankCategory.OTHER,
    kind: BankKind = BankKind.BLOCK,
    description: str = "",
    pdq_threshold: int = 31,
    vpdq_query_percent: float = 80.0,
    vpdq_target_percent: float = 0.0,
) -> Bank:
    name = _check_name(name)
    if not 0 <= pdq_threshold <= 63:
        raise InvalidInput(f"pdq_threshold {pdq_threshold} must be between 0 and 63")
    for label, pct in (
        ("vpdq_query_percent", vpdq_query_percent),
        ("vpdq_target_percent", vpdq_target_percent),
    ):
        if not 0 <= pct <= 100:
            raise InvalidInput(f"{label} {pct} must be between 0 and 100")
    if session.scalar(select(Bank.id).where(Bank.name == name)) is not None:
        raise Conflict(f"a bank named {name!r} already exists; choose another name or import into it")
    bank = Bank(
        name=name,
        category=BankCategory(category),
        kind=BankKind(kind),
        description=description,
        pdq_threshold=pdq_threshold,
        vpdq_query_percent=vpdq_query_percent,
        vpdq_target_percent=vpdq_target_percent,
        enabled=True,
    )
    session.add(bank)
    session.flush()
    log.info("event=bank.create bank=%s category=%s kind=%s", name, category, kind)
    return bank


def get_bank(session: Session, name: str) -> Bank:
    bank = session.scalar(select(Bank).where(Bank.name == name))
    if bank is None:
        raise NotFound(f"no bank named {name!r}; `suraksha bank list` shows the banks")
    return bank


def list_banks(session: Session) -> list[Bank]:
    return list(session.scalars(select(Bank).order_by(Bank.name)))


@dataclass
class BankStats:
    total: int
    active: int
    by_signal_type: dict[str, int]


def bank_stats(session: Session, bank: Bank, now: datetime | None = None) -> BankStats:
    now = now or utcnow()
    by_type: dict[str, int] = {  # noqa: C416 - dict(Result) would treat the result as a mapping
        signal_type: count
        for signal_type, count in session.execute(
            select(BankEntry.signal_type, func.count())
            .where(BankEntry.bank_id == bank.id)
            .group_by(BankEntry.signal_type)
        )
    }
    inactive = (
        session.scalar(
            select(func.count()).where(
                BankEntry.bank_id == bank.id,
                BankEntry.enabled.is_(False),
                (BankEntry.disabled_until.is_(None)) | (BankEntry.disabled_until > now),
            )
        )
        or 0
    )
    total = sum(by_type.values())
    return BankStats(total=total, active=total - inactive, by_signal_type=by_type)


def set_bank_enabled(session: Session, name: str, enabled: bool) -> Bank:
    """Enable or disable a whole bank. A ``csam`` bank that holds entries is not disabled here (module
    docstring): its false positives are cleared one by one through review."""
    bank = get_bank(session, name)
    if not enabled and session.scalar(select(BankEntry.id).where(BankEntry.bank_id == bank.id).limit(1)):
        check_unblock(bank, "disabling the whole bank")
    bank.enabled = enabled
    record_changes(session, bank.id, BankChangeKind.BANK_CHANGED)
    log.info("event=bank.%s bank=%s", "enable" if enabled else "disable", name)
    return bank


def set_bank_ratio(session: Session, name: str, ratio: float) -> Bank:
    """HMA's ``matching_enabled_ratio``: stored as given; above 0 the bank is enabled and matches every
    lookup (no coin flip), 0 disables it (with the ``csam`` guard of ``set_bank_enabled``)."""
    if not 0.0 <= ratio <= 1.0:
        raise InvalidInput(f"enabled_ratio {ratio} must be between 0 and 1")
    bank = get_bank(session, name)
    if (ratio > 0) != bank.enabled:
        set_bank_enabled(session, name, ratio > 0)
    bank.enabled_ratio = ratio
    return bank


def rename_bank(session: Session, name: str, new_name: str) -> Bank:
    """Rename a bank; its entries, history and matches stay with it. The index reads the new name
    from the change feed."""
    bank = get_bank(session, name)
    new_name = _check_name(new_name)
    if new_name == bank.name:
        return bank
    if session.scalar(select(Bank.id).where(Bank.name == new_name)) is not None:
        raise Conflict(f"a bank named {new_name!r} already exists")
    bank.name = new_name
    record_changes(session, bank.id, BankChangeKind.BANK_CHANGED)
    log.info("event=bank.rename bank_id=%d from=%s to=%s", bank.id, name, new_name)
    return bank


def delete_bank(session: Session, name: str) -> bool:
    """Delete a bank and its entries; False when there is no such bank. A ``csam`` bank that holds
    entries is not deleted (module docstring). Match indexes drop the entries from the change feed."""
    bank = session.scalar(select(Bank).where(Bank.name == name))
    if bank is None:
        return False
    entry_ids = list(session.scalars(select(BankEntry.id).where(BankEntry.bank_id == bank.id)))
    if entry_ids:
        check_unblock(bank, "deleting the whole bank")
    record_changes(session, bank.id, BankChangeKind.ENTRY_DISABLED, entry_ids or [None])
    record_changes(session, bank.id, BankChangeKind.BANK_CHANGED)
    session.delete(bank)
    try:
        session.flush()
    except IntegrityError:
        raise Conflict(
            f"bank {name!r} is still in use (an exchange fills it): remove what uses it first"
        ) from None
    log.info("event=bank.delete bank=%s entries=%d", name, len(entry_ids))
    return True


def get_entry(session: Session, bank: Bank, entry_id: int) -> BankEntry:
    entry = session.get(BankEntry, entry_id)
    if entry is None or entry.bank_id != bank.id:
        raise NotFound(f"no entry {entry_id} in bank {bank.name!r}")
    return entry


def delete_entry(session: Session, bank: Bank, entry_id: int) -> None:
    """Delete one entry of ``bank`` (a ``csam`` bank's only with ``four_eyes``, which the HMA route
    never has: module docstring)."""
    entry = get_entry(session, bank, entry_id)
    check_unblock(bank, f"deleting entry {entry_id}")
    record_changes(session, bank.id, BankChangeKind.ENTRY_DISABLED, [entry.id])
    session.delete(entry)
    session.flush()
    log.info("event=bank.entry_delete entry=%d bank=%s", entry_id, bank.name)


@dataclass(frozen=True)
class NewEntry:
    """One hash to add to a bank, with where it came from."""

    signal_type: SignalKind
    value: str
    quality: int | None = None
    source: EntrySource = EntrySource.MANUAL
    source_ref: str = ""
    note: str = ""
    digest: str = ""
    """``value_digest(signal_type, value)``, when the caller has it already (``ensure_entries``)."""


def add_entry(
    session: Session,
    bank: Bank,
    signal_type: SignalKind,
    value: str,
    *,
    quality: int | None = None,
    source: EntrySource = EntrySource.MANUAL,
    source_ref: str = "",
    note: str = "",
    four_eyes: str = "",
) -> tuple[BankEntry, bool]:
    """Add one entry; returns (entry, created). Re-adding an existing value changes nothing. A hash a
    ``csam`` bank holds goes into an allow-list bank only with ``four_eyes`` (module docstring)."""
    try:
        value = validate_signal(signal_type, value)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None
    digest = value_digest(signal_type, value)
    if bank.kind == BankKind.ALLOW and not four_eyes:
        holder = csam_banks_holding(session, [(signal_type.value, digest)])
        if holder:
            raise Forbidden(
                f"allow-listing this {signal_type.value} hash, which the csam bank {holder.popitem()[1]!r} "
                f"holds, {UNBLOCK_CSAM}"
            )
        if signal_type == SignalKind.PDQ:
            near = csam_pdq_within_reach(session, [value], bank.pdq_threshold)
            if near:
                raise Forbidden(
                    f"allow-listing this PDQ hash would suppress matches of the csam bank "
                    f"{near[value]!r}, whose entry it is close to: that {UNBLOCK_CSAM}"
                )
    existing = session.scalar(
        select(BankEntry).where(
            BankEntry.bank_id == bank.id,
            BankEntry.signal_type == signal_type,
            BankEntry.value_digest == digest,
        )
    )
    if existing is not None:
        return existing, False
    entry = BankEntry(
        bank_id=bank.id,
        signal_type=signal_type.value,
        value=value,
        value_digest=digest,
        quality=quality,
        source=source.value,
        source_ref=source_ref,
        note=note,
        added_at=utcnow(),
        enabled=True,
    )
    session.add(entry)
    session.flush()
    record_changes(session, bank.id, BankChangeKind.ENTRY_ADDED, [entry.id])
    return entry, True


@dataclass
class ImportResult:
    bank: str
    format: str
    added: int = 0
    unchanged: int = 0
    duplicates_in_file: int = 0
    rejected: list[RejectedRow] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    committed: bool = True

    def as_dict(self) -> dict[str, object]:
        return {
            "bank": self.bank,
            "format": self.format,
            "added": self.added,
            "unchanged": self.unchanged,
            "duplicates_in_file": self.duplicates_in_file,
            "committed": self.committed,
            "rejected": [{"line": r.line, "reason": r.reason, "text": r.text} for r in self.rejected],
            "warnings": self.warnings,
        }


def import_entries(
    session: Session,
    bank_name: str,
    text: str,
    *,
    fmt: ListFormat | None = None,
    signal_type: SignalKind | None = None,
    skip_invalid: bool = False,
    source: EntrySource = EntrySource.FILE,
    source_ref: str = "",
) -> ImportResult:
    """Validate every row, then add the new ones.

    Atomic: when any row is rejected and ``skip_invalid`` is false, nothing is added and the result says
    which lines were wrong and why (the caller rolls back). Re-importing the same file adds nothing.
    """
    bank = get_bank(session, bank_name)
    parsed = parse_list(text, fmt, signal_type)
    result = ImportResult(
        bank=bank.name, format=parsed.format.value, rejected=parsed.rejected, warnings=parsed.warnings
    )
    if parsed.rejected and not skip_invalid:
        result.committed = False
        return result
    unique: dict[tuple[str, str], ParsedRow] = {}
    for row in parsed.rows:
        key = (row.signal_type.value, value_digest(row.signal_type, row.value))
        if key in unique:
            result.duplicates_in_file += 1
        else:
            unique[key] = row
    if bank.kind == BankKind.ALLOW:
        held = csam_banks_holding(session, list(unique))
        for pair, holder in held.items():
            row = unique.pop(pair)
            reason = f"the csam bank {holder!r} holds this hash: allow-listing it {UNBLOCK_CSAM}"
            result.rejected.append(RejectedRow(row.line, reason, row.value[:200]))
        pdq = [row.value for row in unique.values() if row.signal_type == SignalKind.PDQ]
        near = csam_pdq_within_reach(session, pdq, bank.pdq_threshold)
        for pair, row in list(unique.items()):
            if row.signal_type == SignalKind.PDQ and row.value in near:
                del unique[pair]
                reason = (
                    f"close to an entry of the csam bank {near[row.value]!r}: allow-listing it {UNBLOCK_CSAM}"
                )
                result.rejected.append(RejectedRow(row.line, reason, row.value[:200]))
        if (held or near) and not skip_invalid:
            result.committed = False
            return result
    existing = _existing_digests(session, bank.id, unique)
    now = utcnow()
    new_entries = []
    for (kind, digest), row in unique.items():
        if (kind, digest) in existing:
            result.unchanged += 1
            continue
        new_entries.append(
            BankEntry(
                bank_id=bank.id,
                signal_type=kind,
                value=row.value,
                value_digest=digest,
                quality=row.quality,
                source=source.value,
                source_ref=row.source_ref or source_ref,
                note=row.note,
                added_at=now,
                enabled=True,
            )
        )
    session.add_all(new_entries)
    session.flush()
    if new_entries:
        record_changes(session, bank.id, BankChangeKind.ENTRY_ADDED, [e.id for e in new_entries])
    result.added = len(new_entries)
    log.info(
        "event=bank.import bank=%s format=%s added=%d unchanged=%d rejected=%d",
        bank.name,
        parsed.format,
        result.added,
        result.unchanged,
        len(result.rejected),
    )
    return result


def _existing_digests(
    session: Session, bank_id: int, pairs: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], int]:
    """The ids of the bank's entries among (signal type, value digest) pairs."""
    found: dict[tuple[str, str], int] = {}
    for signal_type, chunk in digest_chunks(pairs):
        query = select(BankEntry.id, BankEntry.value_digest).where(
            BankEntry.bank_id == bank_id,
            BankEntry.signal_type == signal_type,
            BankEntry.value_digest.in_(chunk),
        )
        found.update(((signal_type, digest), entry_id) for entry_id, digest in session.execute(query))
    return found


def export_entries(session: Session, bank_name: str, *, include_disabled: bool = True) -> str:
    bank = get_bank(session, bank_name)
    query = select(BankEntry).where(BankEntry.bank_id == bank.id).order_by(BankEntry.id)
    if not include_disabled:
        query = query.where(BankEntry.enabled.is_(True))
    rows: list[dict[str, object]] = [
        {
            "signal_type": e.signal_type,
            "signal": e.value,
            "quality": "" if e.quality is None else e.quality,
            "note": e.note,
            "source_ref": e.source_ref,
            "added_at": e.added_at.isoformat(),
            "enabled": "true" if e.enabled else "false",
        }
        for e in session.scalars(query)
    ]
    return export_csv(rows)


def set_entry_enabled(
    session: Session,
    entry_id: int,
    enabled: bool,
    *,
    until: datetime | None = None,
    reason: str = "",
    four_eyes: str = "",
) -> BankEntry:
    """Disable an entry (for good, or ``until`` a time when it comes back by itself) or enable it again.
    An entry of a ``csam`` bank is disabled only with ``four_eyes`` (module docstring)."""
    entry = session.get(BankEntry, entry_id)
    if entry is None:
        raise NotFound(f"no bank entry with id {entry_id}; `suraksha bank show NAME --entries` lists ids")
    if not enabled:
        bank = session.get(Bank, entry.bank_id)
        assert bank is not None
        check_unblock(bank, f"disabling entry {entry_id}", four_eyes)
    entry.enabled = enabled
    record_changes(
        session,
        entry.bank_id,
        BankChangeKind.ENTRY_ENABLED if enabled else BankChangeKind.ENTRY_DISABLED,
        [entry.id],
    )
    entry.disabled_until = None if enabled else until
    entry.disabled_reason = "" if enabled else reason
    log.info(
        "event=bank.entry_%s entry=%d bank_id=%d", "enable" if enabled else "disable", entry_id, entry.bank_id
    )
    return entry


def active_entries(
    session: Session, bank_names: Sequence[str] | None = None, now: datetime | None = None
) -> list[tuple[Bank, BankEntry]]:
    """Every entry that matches right now, with its bank: enabled banks only (named ones, if given)."""
    now = now or utcnow()
    query = (
        select(Bank, BankEntry)
        .join(BankEntry, BankEntry.bank_id == Bank.id)
        .where(Bank.enabled.is_(True))
        .where(
            BankEntry.enabled.is_(True)
            | (BankEntry.disabled_until.is_not(None) & (BankEntry.disabled_until <= now))
        )
    )
    if bank_names:
        missing = set(bank_names) - set(session.scalars(select(Bank.name).where(Bank.name.in_(bank_names))))
        if missing:
            raise NotFound(
                f"no bank named {', '.join(sorted(missing))}; `suraksha bank list` shows the banks"
            )
        query = query.where(Bank.name.in_(bank_names))
    return [(b, e) for b, e in session.execute(query.order_by(BankEntry.id))]


def ensure_entries(
    session: Session, bank: Bank, rows: Sequence[NewEntry], *, added_ids: set[int] | None = None
) -> dict[tuple[str, str], int]:
    """The id of each row's entry, added when the bank lacks it (``added_ids``, when given, receives
    the ids this call added) (lookups by signal type and digest, one insert, one change-feed write; no
    ORM objects: lists sync in pages of thousands): by (signal type, value digest). Values must be
    normalised already (``validate_signal``). For lists that sync into a block bank (exchanges); an
    allow-list bank is refused here, because the four-eyes checks of ``add_entry`` do not run."""
    if bank.kind == BankKind.ALLOW:
        raise Forbidden(f"bank {bank.name!r} is an allow list: hashes go into it one by one (`bank add`)")
    wanted = {
        (str(row.signal_type), row.digest or value_digest(row.signal_type, row.value)): row for row in rows
    }
    found = _existing_digests(session, bank.id, wanted)
    new = [(pair, row) for pair, row in wanted.items() if pair not in found]
    if not new:
        return found
    now = utcnow()
    values = [
        (
            bank.id,
            kind,
            row.value,
            digest,
            row.quality,
            str(row.source),
            row.source_ref[:500],
            row.note,
            now,
            True,
            "",
            0,
            0,
        )
        for (kind, digest), row in new
    ]
    # Another writer may add one of them meanwhile (two exchanges on one bank, a person): ON CONFLICT
    # DO NOTHING, and that one is read back (it is theirs, and in their change feed row).
    unique = ("bank_id", "signal_type", "value_digest")
    if session.get_bind().dialect.name == "sqlite":
        # One writer at a time (BEGIN IMMEDIATE): what was missing before the insert and is there after
        # it is this call's. The driver's executemany, without RETURNING, which it cannot do.
        insert_many(session, BankEntry, ENTRY_INSERT_COLUMNS, values, skip_conflicts_on=unique)
        added = _existing_digests(session, bank.id, [pair for pair, _ in new])
    else:
        table = cast(Table, BankEntry.__table__)
        statement = (
            upsert_insert(session, BankEntry)
            .on_conflict_do_nothing(index_elements=[table.c[c] for c in unique])
            .returning(table.c.id, table.c.signal_type, table.c.value_digest)
        )
        params = [dict(zip(ENTRY_INSERT_COLUMNS, v, strict=True)) for v in values]
        returned = session.connection().execute(statement, params)
        added = {(kind, digest): entry_id for entry_id, kind, digest in returned}
    if added:
        record_changes(session, bank.id, BankChangeKind.ENTRY_ADDED, sorted(added.values()))
        if added_ids is not None:
            added_ids.update(added.values())
    found.update(added)
    if len(found) < len(wanted):
        found.update(_existing_digests(session, bank.id, [pair for pair in wanted if pair not in found]))
    return found


ENTRY_INSERT_COLUMNS = (
    "bank_id",
    "signal_type",
    "value",
    "value_digest",
    "quality",
    "source",
    "source_ref",
    "note",
    "added_at",
    "enabled",
    "disabled_reason",
    "confirm_count",
    "deconfirm_count",
)


def guards_unblocking(bank: Bank) -> bool:
    """Whether un-blocking this bank's hashes takes a four-eyes approval (module docstring)."""
    return bank.category == BankCategory.CSAM and bank.kind == BankKind.BLOCK


def withdrawn_note(reason: str) -> str:
    """The note an entry of a ``csam`` bank carries while the list that put it there has withdrawn it
    but it still blocks (``retract_entries``)."""
    return (
        f"{reason}: still blocking; un-blocking a csam hash {UNBLOCK_CSAM} "
        "(or `suraksha bank entry-disable` with that approval)"
    )


def retract_entries(session: Session, bank: Bank, entry_ids: Sequence[int], *, reason: str) -> list[int]:
    """The list that put these entries in the bank took them back upstream (an exchange's removal):
    disable them, and answer the ids disabled.

    Only entries whose source is an exchange and that are enabled are touched; one a person added, or
    disabled, is left as it is. In a ``csam`` block bank nothing is disabled: un-blocking a CSAM hash
    is never one person's call, and an exchange is not even one person (a withdrawn hash may be a
    listing error, or a spoofed or compromised feed). The entry keeps blocking and carries
    ``withdrawn_note(reason)``, for a reviewer and a second person to un-block through the four-eyes
    path; the listing shows it. ``reason`` is stored on a disabled entry, and ``restore_entries`` with
    the same reason undoes either when the list lists the hash again."""
    guarded = guards_unblocking(bank)
    note = withdrawn_note(reason)
    disabled: list[int] = []
    for start in range(0, len(entry_ids), 500):
        query = select(BankEntry).where(
            BankEntry.bank_id == bank.id,
            BankEntry.id.in_(entry_ids[start : start + 500]),
            BankEntry.source == EntrySource.EXCHANGE,
            BankEntry.enabled.is_(True),
        )
        for entry in session.scalars(query):
            if guarded:
                if note not in entry.note:
                    entry.note = f"{entry.note}\n{note}" if entry.note else note
                continue
            entry.enabled = False
            entry.disabled_until = None
            entry.disabled_reason = reason
            disabled.append(entry.id)
    if disabled:
        record_changes(session, bank.id, BankChangeKind.ENTRY_DISABLED, disabled)
    elif guarded and entry_ids:
        log.info(
            "event=bank.withdrawn_upstream bank=%s entries=%d kept_blocking=true", bank.name, len(entry_ids)
        )
    return disabled


def restore_entries(session: Session, bank: Bank, entry_ids: Sequence[int], *, reason: str) -> list[int]:
    """Enable again the entries ``retract_entries`` disabled with this ``reason`` (never one a person
    disabled), and drop its note from those it kept blocking; answers the ids enabled."""
    note = withdrawn_note(reason)
    enabled: list[int] = []
    for start in range(0, len(entry_ids), 500):
        chunk = entry_ids[start : start + 500]
        query = select(BankEntry).where(
            BankEntry.bank_id == bank.id,
            BankEntry.id.in_(chunk),
            BankEntry.enabled.is_(False),
            BankEntry.disabled_reason == reason,
        )
        for entry in session.scalars(query):
            entry.enabled = True
            entry.disabled_reason = ""
            enabled.append(entry.id)
        noted = select(BankEntry).where(
            BankEntry.bank_id == bank.id, BankEntry.id.in_(chunk), BankEntry.note.contains(note)
        )
        for entry in session.scalars(noted):
            entry.note = "\n".join(line for line in entry.note.split("\n") if line != note)
    if enabled:
        record_changes(session, bank.id, BankChangeKind.ENTRY_ENABLED, enabled)
    return enabled
