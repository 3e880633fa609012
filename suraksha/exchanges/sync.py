"""Fetching an exchange's list into its bank. ``fetch`` owns its transactions: one per group of the
list's pages (``_groups``: up to ``FetchOptions.commit_entries`` entries), holding those pages' bank
changes (through the bank services, so the change feed, and every match index following it, sees each
one), the exchange's own records, and the checkpoint that resumes after the last of them. A fetch
killed at any point therefore resumes from the last committed group with nothing lost and nothing
twice; applying a page is also idempotent by upstream key, so a page fetched again changes nothing.

What a page does to the bank:

- a record new upstream adds its hashes (an entry the bank already has is shared, not duplicated);
- a record changed upstream (another hash) has its old hash released and the new one added;
- a record removed upstream (NCMEC's tombstones; a snapshot list's record missing from a complete
  pass) releases its hashes. A released bank entry is disabled (``retract_entries``) when no live
  record of any exchange still holds it and an exchange put it there; one a person added stays;
- a record listed again enables the entry that its removal disabled, never one a person disabled.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from suraksha import audit
from suraksha.banks import services as bank_services
from suraksha.banks.models import Bank, EntrySource
from suraksha.db.base import utcnow
from suraksha.db.engine import Database
from suraksha.db.inserts import insert_many
from suraksha.errors import Conflict, InvalidInput, NotFound, SurakshaError
from suraksha.exchanges.models import (
    Exchange,
    ExchangeEntry,
    ExchangeFetchRun,
    RunState,
)
from suraksha.exchanges.ports import ExchangeSource, FetchBudgetSpent, Page, checkpoint_json
from suraksha.exchanges.services import KEY_MAX, get_exchange, removal_reason

log = logging.getLogger(__name__)


@dataclass
class PageCounts:
    added: int = 0
    updated: int = 0
    removed: int = 0
    skipped: int = 0
    released: set[int] = field(default_factory=set)
    acquired: set[int] = field(default_factory=set)


def _release(session: Session, exchange: Exchange, bank: Bank, entry_ids: set[int]) -> None:
    """Disable the bank entries no live record of any exchange holds any more (module docstring)."""
    if not entry_ids:
        return
    ids = sorted(entry_ids)
    held: set[int] = set()
    for start in range(0, len(ids), 500):
        held.update(
            session.scalars(
                select(ExchangeEntry.bank_entry_id).where(
                    ExchangeEntry.bank_entry_id.in_(ids[start : start + 500]),
                    ExchangeEntry.removed.is_(False),
                )
            )
        )
    free = [i for i in ids if i not in held]
    if free:
        bank_services.retract_entries(session, bank, free, reason=removal_reason(exchange))


_RECORD_COLUMNS = (
    "exchange_id",
    "upstream_key",
    "signal_type",
    "value_digest",
    "bank_entry_id",
    "detail",
    "removed",
    "seen_generation",
    "updated_at",
)


def apply_page(session: Session, exchange: Exchange, bank: Bank, page: Page) -> PageCounts:
    """Apply one page's records to the exchange's records and the bank (module docstring)."""
    counts = PageCounts()
    # A key twice in a page: the last one stands. A key too long to store is skipped (none of the
    # clients makes one: NCMEC's are member-id).
    records = {r.key: r for r in page.records if len(r.key) <= KEY_MAX}
    counts.skipped = len({r.key for r in page.records}) - len(records)
    existing: dict[str, dict[str, ExchangeEntry]] = {}
    keys = sorted(records)
    for start in range(0, len(keys), 500):
        for found in session.scalars(
            select(ExchangeEntry).where(
                ExchangeEntry.exchange_id == exchange.id,
                ExchangeEntry.upstream_key.in_(keys[start : start + 500]),
            )
        ):
            existing.setdefault(found.upstream_key, {})[found.signal_type] = found
    source_ref = f"exchange:{exchange.name}"
    digests = {
        (s.signal_type, s.value): (str(s.signal_type), bank_services.value_digest(s.signal_type, s.value))
        for r in records.values()
        for s in r.signals
    }  # each signal's (kind, digest), worked out once
    wanted = [
        bank_services.NewEntry(
            signal_type, value, source=EntrySource.EXCHANGE, source_ref=source_ref, digest=digest
        )
        for (signal_type, value), (_, digest) in digests.items()
    ]
    fresh: set[int] = set()  # added to the bank by this page: nothing of theirs to restore
    entries = bank_services.ensure_entries(session, bank, wanted, added_ids=fresh) if wanted else {}
    now = utcnow()
    generation = exchange.generation
    new_rows: list[tuple[Any, ...]] = []
    for key, record in records.items():
        current = existing.get(key, {})
        detail = json.dumps(dict(record.detail), sort_keys=True, default=str) if record.detail else ""
        signals = [digests[s.signal_type, s.value] for s in record.signals]
        if current:
            kinds = {kind for kind, _ in signals}
            for kind, held in current.items():
                if kind not in kinds and not held.removed:
                    held.removed, held.updated_at = True, now
                    counts.released.add(held.bank_entry_id)
                    counts.removed += 1
        for kind, digest in signals:
            entry_id = entries[kind, digest]
            row = current.get(kind)
            if row is None:
                new_rows.append((exchange.id, key, kind, digest, entry_id, detail, False, generation, now))
                counts.added += 1
            elif row.removed or row.value_digest != digest:
                if not row.removed:
                    counts.released.add(row.bank_entry_id)
                    counts.updated += 1
                else:
                    counts.added += 1
                row.value_digest, row.bank_entry_id, row.removed = digest, entry_id, False
                row.detail, row.seen_generation, row.updated_at = detail, generation, now
            else:
                if row.detail != detail:
                    row.detail, row.updated_at = detail, now
                    counts.updated += 1
                row.seen_generation = generation
            counts.acquired.add(entry_id)
    insert_many(session, ExchangeEntry, _RECORD_COLUMNS, new_rows)
    session.flush()
    bank_services.restore_entries(
        session, bank, sorted(counts.acquired - fresh), reason=removal_reason(exchange)
    )
    _release(session, exchange, bank, counts.released - counts.acquired)
    return counts


def sweep(session: Session, exchange: Exchange, bank: Bank) -> int:
    """End of a complete pass over a snapshot list: its records not seen in the pass are gone."""
    released: set[int] = set()
    removed = 0
    last_id = 0
    while True:
        rows = list(
            session.scalars(
                select(ExchangeEntry)
                .where(
                    ExchangeEntry.exchange_id == exchange.id,
                    ExchangeEntry.removed.is_(False),
                    ExchangeEntry.seen_generation != exchange.generation,
                    ExchangeEntry.id > last_id,
                )
                .order_by(ExchangeEntry.id)
                .limit(1000)
            )
        )
        if not rows:
            break
        now = utcnow()
        for row in rows:
            row.removed, row.updated_at = True, now
            released.add(row.bank_entry_id)
        removed += len(rows)
        last_id = rows[-1].id
        session.flush()
    _release(session, exchange, bank, released)
    return removed


@dataclass(frozen=True)
class FetchOptions:
    budget_s: float = 120.0
    every_s: float = 900.0
    """After a fetch that caught up, the next is due this much later (0: only by command)."""
    backoff_base_s: float = 60.0
    backoff_max_s: float = 6 * 3600.0
    commit_entries: int = 5000
    """Pages are committed together up to about this many records a transaction (``_groups``)."""


@dataclass
class FetchResult:
    exchange: str
    run_id: int
    state: RunState
    pages: int = 0
    added: int = 0
    updated: int = 0
    removed: int = 0
    rejected: int = 0
    error: str = ""
    overlapped: bool = False
    """Stopped because another fetch of the exchange wrote first: not a failure of the list's."""

    def as_dict(self) -> dict[str, object]:
        return {
            "exchange": self.exchange,
            "run": self.run_id,
            "state": self.state.value,
            "pages": self.pages,
            "added": self.added,
            "updated": self.updated,
            "removed": self.removed,
            "rejected": self.rejected,
            "error": self.error,
        }


def _groups(pages: Iterator[Page], entries: int) -> Iterator[list[Page]]:
    """The pages in order, gathered until they hold ``entries`` records or one ends a pass (``entries``
    1: every page alone, empty ones too): each group is one transaction with its last page's
    checkpoint. A list's pages are small (NCMEC's fetch loop yields a few hundred entries a page), and
    a transaction a page spends more on committing, on the checkpoint and on rewriting the same index
    pages of the bank than on the entries. A crash loses nothing either way: the checkpoint commits
    with the pages it follows. A failure fetching a page hands over the pages gathered before it
    first, then is raised (unless the fetch stops after that group: its budget spent)."""
    group: list[Page] = []
    held = 0
    try:
        for page in pages:
            group.append(page)
            held += len(page.records)
            if held >= entries or page.end_of_pass or entries <= 1:
                yield group
                group, held = [], 0
    except Exception:
        if group:
            yield group
        raise
    if group:
        yield group


def _merged(group: list[Page]) -> Page:
    """Pages as one, in order (a key twice: the later page's record stands, as ``apply_page`` keeps)."""
    if len(group) == 1:
        return group[0]
    last = group[-1]
    records = [record for page in group for record in page.records]
    return Page(
        records, last.checkpoint, end_of_pass=last.end_of_pass, rejected=sum(p.rejected for p in group)
    )


class FetchOverlap(Conflict):
    """Another fetch of the same exchange wrote a page since this one started: this one stops."""


def _lock_exchange(session: Session, exchange_id: int) -> Exchange | None:
    query = select(Exchange).where(Exchange.id == exchange_id)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    return session.scalar(query)


def fetch(
    db: Database,
    name: str,
    make_source: Callable[[Exchange], ExchangeSource],
    *,
    by: str,
    options: FetchOptions,
    scrub: Sequence[str] = (),
    after_page: Callable[[int], None] | None = None,
) -> FetchResult:
    """Fetch the exchange's list from its checkpoint, a group of pages a transaction, until caught up or the
    time budget is spent (the run is then ``partial`` and the exchange due again at once). A failure
    is recorded on the run and the exchange (backing off), never raised, except for configuration
    errors found before the run starts. ``scrub``: strings (credentials) that must never appear in a
    stored error. ``after_page``: called with the number of pages so far after each commit (tests,
    progress)."""
    with db.session() as session:
        exchange = get_exchange(session, name)
        try:
            source: ExchangeSource | None = make_source(exchange)
            setup_error = ""
        except SurakshaError as exc:  # missing credentials, a bad setting: recorded like any failure
            source, setup_error = None, str(exc)
        run = ExchangeFetchRun(exchange_id=exchange.id, state=RunState.RUNNING, started_at=utcnow(), by=by)
        session.add(run)
        session.flush()
        run_id, exchange_id = run.id, exchange.id
        version = exchange.checkpoint_version
        checkpoint = json.loads(exchange.checkpoint) if exchange.checkpoint else None
    result = FetchResult(name, run_id, RunState.DONE)
    deadline = time.monotonic() + options.budget_s
    try:
        if source is None:
            raise InvalidInput(setup_error)
        for group in _groups(source.pages(checkpoint), max(1, options.commit_entries)):
            page = _merged(group)
            with db.session() as session:
                exchange_row = _lock_exchange(session, exchange_id)
                if exchange_row is None:
                    raise NotFound(f"exchange {name!r} was deleted during the fetch")
                if exchange_row.checkpoint_version != version:
                    raise FetchOverlap(f"another fetch of exchange {name!r} is running; this one stopped")
                bank = session.get(Bank, exchange_row.bank_id)
                assert bank is not None
                counts = apply_page(session, exchange_row, bank, page)
                if page.end_of_pass:
                    counts.removed += sweep(session, exchange_row, bank)
                    exchange_row.generation += 1
                exchange_row.checkpoint = checkpoint_json(page.checkpoint)
                exchange_row.checkpoint_version = version = version + 1
                session.execute(
                    update(ExchangeFetchRun)
                    .where(ExchangeFetchRun.id == run_id)
                    .values(
                        pages=ExchangeFetchRun.pages + len(group),
                        added=ExchangeFetchRun.added + counts.added,
                        updated=ExchangeFetchRun.updated + counts.updated,
                        removed=ExchangeFetchRun.removed + counts.removed,
                    )
                )
                if counts.added or counts.updated or counts.removed:
                    audit.record(
                        session,
                        by,
                        audit.AuditAction.BANK_CHANGE,
                        f"bank:{bank.name}",
                        {
                            "change": "exchange.page",
                            "exchange": name,
                            "run": run_id,
                            "added": counts.added,
                            "updated": counts.updated,
                            "removed": counts.removed,
                        },
                    )
            result.pages += len(group)
            result.added += counts.added
            result.updated += counts.updated
            result.removed += counts.removed
            result.rejected += page.rejected + counts.skipped
            if after_page is not None:
                after_page(result.pages)
            if time.monotonic() > deadline:
                result.state = RunState.PARTIAL
                break
    except FetchBudgetSpent:
        result.state = RunState.PARTIAL
    except FetchOverlap as exc:
        result.state, result.error, result.overlapped = RunState.FAILED, str(exc), True
    except Exception as exc:  # recorded on the run; the exchange backs off
        message = f"{type(exc).__name__}: {exc}" if not isinstance(exc, InvalidInput | Conflict) else str(exc)
        for secret in scrub:
            if secret:
                message = message.replace(secret, "**********")
        result.state, result.error = RunState.FAILED, message[:2000]
    _finish(db, exchange_id, result, options)
    log.info(
        "event=exchange.fetch exchange=%s run=%d state=%s pages=%d added=%d updated=%d removed=%d",
        name,
        run_id,
        result.state,
        result.pages,
        result.added,
        result.updated,
        result.removed,
    )
    return result


def _finish(db: Database, exchange_id: int, result: FetchResult, options: FetchOptions) -> None:
    now = utcnow()
    with db.session() as session:
        run = session.get(ExchangeFetchRun, result.run_id)
        if run is not None:
            run.state, run.finished_at, run.error = result.state.value, now, result.error
        exchange = session.get(Exchange, exchange_id)
        if exchange is None:
            return
        if not result.overlapped:
            # Runs still "running" before this one ended with their process (killed): say so.
            session.execute(
                update(ExchangeFetchRun)
                .where(
                    ExchangeFetchRun.exchange_id == exchange_id,
                    ExchangeFetchRun.id < result.run_id,
                    ExchangeFetchRun.state == RunState.RUNNING,
                )
                .values(
                    state=RunState.FAILED,
                    finished_at=now,
                    error="interrupted: its process ended before the run did (pages it committed stand)",
                )
            )
        if result.state == RunState.FAILED:
            if result.overlapped:
                return  # the other fetch keeps the exchange's schedule
            exchange.failures += 1
            exchange.last_error = result.error
            delay = min(options.backoff_max_s, options.backoff_base_s * 2 ** min(exchange.failures - 1, 30))
            exchange.next_fetch_at = now + timedelta(seconds=delay)
            return
        exchange.failures, exchange.last_error = 0, ""
        if result.state == RunState.PARTIAL:
            exchange.next_fetch_at = now
        else:
            exchange.last_success_at = now
            exchange.next_fetch_at = now + timedelta(seconds=options.every_s) if options.every_s > 0 else None


def due_exchanges(session: Session, now: datetime) -> list[Exchange]:
    return list(
        session.scalars(
            select(Exchange)
            .where(Exchange.enabled.is_(True))
            .where(Exchange.next_fetch_at.is_(None) | (Exchange.next_fetch_at <= now))
            .order_by(Exchange.id)
        )
    )
