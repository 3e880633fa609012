"""Exchange operations: configure (create, enable, disable, delete, show) and fetch.

Configuration functions take a session and leave committing to the caller. ``fetch`` owns its
transactions: one per page of the list, holding that page's bank changes (through the bank services,
so the change feed, and every match index following it, sees each one), the exchange's own records,
and the checkpoint that resumes after the page. A fetch killed at any point therefore resumes from the
last committed page with nothing lost and nothing twice; applying a page is also idempotent by
upstream key, so a page fetched again changes nothing.

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
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, delete, func, insert, select, update
from sqlalchemy.orm import Session

from suraksha import audit
from suraksha.banks import services as bank_services
from suraksha.banks.models import Bank, BankKind, EntrySource
from suraksha.db.base import utcnow
from suraksha.db.engine import Database
from suraksha.errors import Conflict, InvalidInput, NotFound, SurakshaError
from suraksha.exchanges.models import (
    Exchange,
    ExchangeApi,
    ExchangeEntry,
    ExchangeFetchRun,
    RunState,
    Trust,
)
from suraksha.exchanges.ports import ExchangeSource, FetchBudgetSpent, Page, check_base_url, checkpoint_json

log = logging.getLogger(__name__)

NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,99}$")
SETTINGS_KEYS: dict[ExchangeApi, dict[str, str]] = {
    ExchangeApi.NCMEC: {
        "environment": "NCMEC environment name (python-threatexchange NCMECEnvironment): Industry, NGO, ...",
        "url": "base URL instead of the environment's (the local stand-in: http://127.0.0.1:PORT)",
        "only_esp_ids": "list of member (ESP) ids whose entries are taken; empty: all",
    },
    ExchangeApi.STATIC_SAMPLE: {},
    ExchangeApi.FILE: {
        "path": "the list file: 'TYPE VALUE' per line (pdq, video_md5), or VALUE with signal_type",
        "signal_type": "the type of every line when lines have no type (pdq or video_md5)",
        "page_size": "lines per page (default 1000)",
    },
}
NEEDS_CREDENTIALS = {ExchangeApi.NCMEC}
SETTINGS_MAX_CHARS = 4000
KEY_MAX = 300
_SECRET_WORDS = ("password", "passwd", "secret", "token", "credential", "user", "key")


def removal_reason(exchange: Exchange) -> str:
    return f"removed upstream (exchange {exchange.name})"


def _check_settings(api: ExchangeApi, settings: Mapping[str, Any]) -> dict[str, Any]:
    allowed = SETTINGS_KEYS[api]
    for key in settings:
        if any(word in key.lower() for word in _SECRET_WORDS):
            raise InvalidInput(
                f"setting {key!r}: credentials never go into an exchange's settings (they would be stored "
                "in the database); put them in the environment or the exchange_secrets_file"
            )
        if key not in allowed:
            known = ", ".join(sorted(allowed)) or "none"
            raise InvalidInput(
                f"setting {key!r} is not one the {api.value} exchange takes (it takes: {known})"
            )
    clean = dict(settings)
    if api == ExchangeApi.NCMEC:
        if clean.get("url"):
            clean["url"] = check_base_url(str(clean["url"]))
        ids = clean.get("only_esp_ids", [])
        if not isinstance(ids, list) or not all(isinstance(i, int) for i in ids):
            raise InvalidInput("only_esp_ids must be a list of integers")
    if api == ExchangeApi.FILE:
        if not isinstance(clean.get("path"), str) or not clean["path"]:
            raise InvalidInput("a file exchange needs the setting path (the list file)")
        if clean.get("signal_type") not in (None, "pdq", "video_md5"):
            raise InvalidInput("signal_type must be pdq or video_md5 (python-threatexchange's names)")
        size = clean.get("page_size", 1000)
        if not isinstance(size, int) or not 1 <= size <= 100_000:
            raise InvalidInput("page_size must be an integer from 1 to 100000")
    if len(json.dumps(clean)) > SETTINGS_MAX_CHARS:
        raise InvalidInput(f"an exchange's settings are at most {SETTINGS_MAX_CHARS} characters of JSON")
    return clean


def create_exchange(
    session: Session,
    name: str,
    api: ExchangeApi,
    bank_name: str,
    *,
    settings: Mapping[str, Any],
    trust: Trust = Trust.REVIEW,
    enabled: bool = True,
    by: str,
) -> Exchange:
    if not NAME.fullmatch(name):
        raise InvalidInput(f"exchange name {name!r} must be 1-100 lower-case letters, digits, '_' or '-'")
    if session.scalar(select(Exchange.id).where(Exchange.name == name)) is not None:
        raise Conflict(f"an exchange named {name!r} already exists; `suraksha exchange list` shows them")
    bank = bank_services.get_bank(session, bank_name)
    if bank.kind == BankKind.ALLOW:
        raise InvalidInput(f"bank {bank.name!r} is an allow list: an exchange syncs into a block bank")
    exchange = Exchange(
        name=name,
        api=ExchangeApi(api).value,
        bank_id=bank.id,
        enabled=enabled,
        settings=json.dumps(_check_settings(ExchangeApi(api), settings), sort_keys=True),
        trust=Trust(trust).value,
        checkpoint=None,
        checkpoint_version=0,
        generation=0,
        failures=0,
        last_error="",
        next_fetch_at=None,
        created_at=utcnow(),
        created_by=by,
    )
    session.add(exchange)
    session.flush()
    audit.record(
        session,
        by,
        audit.AuditAction.EXCHANGE_CHANGE,
        f"exchange:{name}",
        {"change": "create", "api": exchange.api, "bank": bank.name, "trust": exchange.trust},
    )
    log.info("event=exchange.create exchange=%s api=%s bank=%s", name, exchange.api, bank.name)
    return exchange


def get_exchange(session: Session, name: str) -> Exchange:
    exchange = session.scalar(select(Exchange).where(Exchange.name == name))
    if exchange is None:
        raise NotFound(f"no exchange named {name!r}; `suraksha exchange list` shows them")
    return exchange


def list_exchanges(session: Session) -> list[Exchange]:
    return list(session.scalars(select(Exchange).order_by(Exchange.name)))


def set_enabled(session: Session, name: str, enabled: bool, *, by: str) -> Exchange:
    exchange = get_exchange(session, name)
    exchange.enabled = enabled
    if enabled:
        exchange.next_fetch_at = None  # due at once
    audit.record(
        session,
        by,
        audit.AuditAction.EXCHANGE_CHANGE,
        f"exchange:{name}",
        {"change": "enable" if enabled else "disable"},
    )
    return exchange


def delete_exchange(session: Session, name: str, *, by: str) -> None:
    """Forget the exchange, its records and runs. The entries it put in the bank stay there (disable
    them, or the bank, the usual way)."""
    exchange = get_exchange(session, name)
    for model in (ExchangeEntry, ExchangeFetchRun):
        session.execute(delete(model).where(model.exchange_id == exchange.id))
    session.delete(exchange)
    session.flush()
    audit.record(session, by, audit.AuditAction.EXCHANGE_CHANGE, f"exchange:{name}", {"change": "delete"})


def exchange_settings(exchange: Exchange) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(exchange.settings or "{}")
    return loaded


def exchange_view(session: Session, exchange: Exchange, *, credentials: str | None) -> dict[str, object]:
    """What ``show``/``list``/``status`` answer. ``credentials`` names where they were found (never
    the value), or None."""
    bank = session.get(Bank, exchange.bank_id)
    live = session.scalar(
        select(func.count(func.distinct(ExchangeEntry.bank_entry_id))).where(
            ExchangeEntry.exchange_id == exchange.id, ExchangeEntry.removed.is_(False)
        )
    )
    last = session.scalar(
        select(ExchangeFetchRun)
        .where(ExchangeFetchRun.exchange_id == exchange.id)
        .order_by(ExchangeFetchRun.id.desc())
        .limit(1)
    )
    checkpoint = json.loads(exchange.checkpoint) if exchange.checkpoint else None
    return {
        "name": exchange.name,
        "api": exchange.api,
        "bank": bank.name if bank else None,
        "enabled": exchange.enabled,
        "trust": exchange.trust,
        "settings": exchange_settings(exchange),
        "credentials": credentials
        if credentials
        else ("missing" if ExchangeApi(exchange.api) in NEEDS_CREDENTIALS else "not needed"),
        "entries": live or 0,
        "checkpoint": checkpoint,
        "next_fetch_at": exchange.next_fetch_at.isoformat() if exchange.next_fetch_at else None,
        "last_success_at": exchange.last_success_at.isoformat() if exchange.last_success_at else None,
        "failures": exchange.failures,
        "last_error": exchange.last_error,
        "last_run": run_view(last) if last else None,
    }


def run_view(run: ExchangeFetchRun) -> dict[str, object]:
    return {
        "id": run.id,
        "state": run.state,
        "started_at": run.started_at.isoformat(),
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "pages": run.pages,
        "added": run.added,
        "updated": run.updated,
        "removed": run.removed,
        "error": run.error,
        "by": run.by,
    }


def runs_of(session: Session, exchange: Exchange, limit: int = 20) -> list[ExchangeFetchRun]:
    return list(
        session.scalars(
            select(ExchangeFetchRun)
            .where(ExchangeFetchRun.exchange_id == exchange.id)
            .order_by(ExchangeFetchRun.id.desc())
            .limit(limit)
        )
    )


# Fetching ------------------------------------------------------------------------------------------


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
    wanted = [
        bank_services.NewEntry(s.signal_type, s.value, source=EntrySource.EXCHANGE, source_ref=source_ref)
        for r in records.values()
        for s in r.signals
    ]
    entries = bank_services.ensure_entries(session, bank, wanted) if wanted else {}
    now = utcnow()
    generation = exchange.generation
    new_rows: list[dict[str, Any]] = []
    for key, record in records.items():
        current = existing.get(key, {})
        detail = json.dumps(dict(record.detail), sort_keys=True, default=str) if record.detail else ""
        kinds = {s.signal_type.value for s in record.signals}
        for kind, held in current.items():
            if kind not in kinds and not held.removed:
                held.removed, held.updated_at = True, now
                counts.released.add(held.bank_entry_id)
                counts.removed += 1
        for signal in record.signals:
            kind = signal.signal_type.value
            digest = bank_services.value_digest(signal.signal_type, signal.value)
            entry_id = entries[kind, digest]
            row = current.get(kind)
            if row is None:
                new_rows.append(
                    {
                        "exchange_id": exchange.id,
                        "upstream_key": key,
                        "signal_type": kind,
                        "value_digest": digest,
                        "bank_entry_id": entry_id,
                        "detail": detail,
                        "removed": False,
                        "seen_generation": generation,
                        "updated_at": now,
                    }
                )
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
    if new_rows:
        session.execute(insert(cast(Table, ExchangeEntry.__table__)), new_rows)
    session.flush()
    bank_services.restore_entries(session, bank, sorted(counts.acquired), reason=removal_reason(exchange))
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
    """Fetch the exchange's list from its checkpoint, a page per transaction, until caught up or the
    time budget is spent (the run is then ``partial`` and the exchange due again at once). A failure
    is recorded on the run and the exchange (backing off), never raised, except for configuration
    errors found before the run starts. ``scrub``: strings (credentials) that must never appear in a
    stored error. ``after_page``: called with the page number after each commit (tests, progress)."""
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
        for page in source.pages(checkpoint):
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
                        pages=ExchangeFetchRun.pages + 1,
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
            result.pages += 1
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
