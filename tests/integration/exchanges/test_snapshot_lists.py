"""Snapshot lists (a list file, python-threatexchange's static sample): read in pages, a record
missing from a complete pass is removed, a crash in the middle of a pass resumes from the stored
offset; the worker's scheduled job fetches due exchanges; the migration matches the models."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, inspect, select
from threatexchange.signal_type.md5 import VideoMD5Signal
from threatexchange.signal_type.pdq.signal import PdqSignal

from suraksha.app import Platform
from suraksha.db.base import Base
from suraksha.db.migrate import current_revision, downgrade, head_revision, upgrade
from suraksha.errors import InvalidInput
from suraksha.exchanges.models import ExchangeApi, ExchangeEntry, ExchangeFetchRun, RunState, Trust
from suraksha.exchanges.tasks import DUE, FETCH
from suraksha.worker.queue import enqueue
from tests.integration.exchanges.conftest import bank_values, md5, pdq

TABLES = {"exchanges", "exchange_entries", "exchange_fetch_runs"}


def _write(path: Path, lines: list[str]) -> None:
    path.write_text("".join(f"{line}\n" for line in lines))


def _file_exchange(p: Platform, path: Path, page_size: int = 4) -> None:
    p.exchange_create(
        "list",
        ExchangeApi.FILE,
        "known",
        settings={"path": str(path), "page_size": page_size},
        trust=Trust.AUTO_ACTION,
        actor="test",
    )


def test_a_list_file_syncs_in_pages_and_removes_what_it_drops(platform: Platform, tmp_path: Path) -> None:
    path = tmp_path / "list.txt"
    _write(path, [f"pdq {pdq(n)}" for n in range(10)] + [f"video_md5 {md5(1)}", "pdq not-a-hash", "sha1 abc"])
    _file_exchange(platform, path)
    first = platform.exchange_fetch("list", actor="test")
    assert (first.state, first.pages, first.added, first.rejected) == (RunState.DONE, 4, 11, 2)
    assert len(bank_values(platform)) == 11

    _write(path, [f"pdq {pdq(n)}" for n in range(2, 12)])  # 0, 1 and the md5 dropped; 10, 11 new
    second = platform.exchange_fetch("list", actor="test")
    assert (second.added, second.removed) == (2, 3)
    assert bank_values(platform) == sorted(pdq(n) for n in range(2, 12))
    assert bank_values(platform, enabled=False) == sorted([pdq(0), pdq(1), md5(1)])


def test_a_crash_in_the_middle_of_a_pass_resumes_from_the_offset(platform: Platform, tmp_path: Path) -> None:
    path = tmp_path / "list.txt"
    _write(path, [f"pdq {pdq(n)}" for n in range(20)])
    _file_exchange(platform, path)

    def crash(n: int) -> None:
        if n == 2:
            raise RuntimeError("killed")

    assert platform.exchange_fetch("list", actor="test", after_page=crash).state == RunState.FAILED
    assert len(bank_values(platform)) == 8
    _write(path, [f"pdq {pdq(n)}" for n in range(20)] + [f"pdq {pdq(99)}"])  # grown meanwhile
    done = platform.exchange_fetch("list", actor="test")
    assert (done.state, done.added, done.removed) == (RunState.DONE, 13, 0)  # the pass's first 8 kept
    assert len(bank_values(platform)) == 21
    with platform.db.reading() as session:
        states = list(session.scalars(select(ExchangeFetchRun.state).order_by(ExchangeFetchRun.id)))
        assert session.scalar(select(func.count()).select_from(ExchangeEntry)) == 21
    assert states == [RunState.FAILED, RunState.DONE]


def test_the_static_sample(platform: Platform) -> None:
    platform.exchange_create(
        "sample", ExchangeApi.STATIC_SAMPLE, "known", settings={}, trust=Trust.REVIEW, actor="test"
    )
    first = platform.exchange_fetch("sample", actor="test")
    examples = len(set(PdqSignal.get_examples())) + len(set(VideoMD5Signal.get_examples()))
    assert first.state == RunState.DONE and first.added + first.rejected == examples
    assert first.added > 0
    again = platform.exchange_fetch("sample", actor="test")
    assert (again.added, again.removed) == (0, 0)


def test_bad_configuration_is_refused(platform: Platform, tmp_path: Path) -> None:
    cases: list[tuple[str, ExchangeApi, str, dict[str, Any]]] = [
        ("Bad Name", ExchangeApi.STATIC_SAMPLE, "known", {}),
        ("x", ExchangeApi.FILE, "known", {}),
        ("x", ExchangeApi.NCMEC, "known", {"url": "http://example.org"}),
        ("x", ExchangeApi.NCMEC, "known", {"colour": "red"}),
    ]
    for name, api, bank, settings in cases:
        with pytest.raises(InvalidInput):
            platform.exchange_create(name, api, bank, settings=settings, trust=Trust.REVIEW, actor="t")
    assert platform.exchanges_list() == []


def test_the_worker_fetches_due_exchanges(platform: Platform, tmp_path: Path) -> None:
    path = tmp_path / "list.txt"
    _write(path, [f"pdq {pdq(n)}" for n in range(5)])
    _file_exchange(platform, path)
    registry = platform.job_handlers(platform.bank_index())
    assert DUE in registry.schedules and FETCH in registry
    with platform.db.session() as session:
        enqueue(session, DUE, {"period": 1}, key="test-due")
    platform.run_worker(
        platform.bank_index(), kinds=[DUE, FETCH], until_drained=True, install_signal_handlers=False
    )
    assert len(bank_values(platform)) == 5
    view = platform.exchange_show("list")
    assert view["last_run"]["state"] == "done" and view["last_run"]["by"] == "system"  # type: ignore[index]


def test_the_migration_matches_and_round_trips(platform: Platform) -> None:
    def differences() -> list[Any]:
        def include(obj: object, name: str | None, type_: str, _r: bool, _to: object) -> bool:
            table = getattr(obj, "table", None)
            return (name if type_ == "table" else getattr(table, "name", None)) in TABLES

        opts = {"compare_type": True, "include_object": include}
        with platform.db.engine.connect() as conn:
            return list(compare_metadata(MigrationContext.configure(conn, opts=opts), Base.metadata))

    assert differences() == []
    downgrade(platform.db, "0023")
    assert not TABLES & set(inspect(platform.db.engine).get_table_names())
    upgrade(platform.db)
    assert current_revision(platform.db) == head_revision(platform.db)
    assert differences() == []


def test_two_exchanges_on_one_bank_fetching_at_once_share_its_entries(
    platform: Platform, tmp_path: Path
) -> None:
    """Both lists hold the same hashes; fetched at the same time (PostgreSQL: really at once), neither
    fails on the other's new entries, and the bank holds each hash once."""
    lines = [f"pdq {pdq(n)}" for n in range(1500)]
    for name in ("one", "two"):
        path = tmp_path / f"{name}.txt"
        _write(path, lines if name == "one" else list(reversed(lines)))
        platform.exchange_create(
            name,
            ExchangeApi.FILE,
            "known",
            settings={"path": str(path), "page_size": 100},
            trust=Trust.REVIEW,
            actor="t",
        )
    results: dict[str, RunState] = {}

    def run(name: str) -> None:
        results[name] = platform.exchange_fetch(name, actor="test").state

    threads = [threading.Thread(target=run, args=(name,)) for name in ("one", "two")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert results == {"one": RunState.DONE, "two": RunState.DONE}
    assert len(bank_values(platform)) == 1500
    with platform.db.reading() as session:
        assert session.scalar(select(func.count()).select_from(ExchangeEntry)) == 3000
