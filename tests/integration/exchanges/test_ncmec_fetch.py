"""Fetching from the NCMEC hash sharing stand-in over real HTTP, through python-threatexchange's client:
a full fetch, incremental fetches from the stored checkpoint, removals and changes upstream, shared
hashes, a crash after N pages and the resumed fetch, the time budget, overlapping fetches, and
credentials that never reach the database."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from urllib.parse import quote

import pytest
from sqlalchemy import func, inspect, select, text

from suraksha.app import Platform
from suraksha.banks.models import BankChange, BankChangeKind, BankEntry, EntrySource
from suraksha.banks.services import NewEntry
from suraksha.exchanges.clients import NcmecSource
from suraksha.exchanges.hashsharing_sim import format_time
from suraksha.exchanges.models import Exchange, ExchangeApi, ExchangeEntry, ExchangeFetchRun, RunState, Trust
from suraksha.signals.file_signals import FileSignals
from suraksha.signals.types import SignalKind
from tests.integration.exchanges.conftest import PASSWORD, Upstream, bank_values, image, md5, pdq


def _create(p: Platform, upstream: Upstream) -> None:
    p.exchange_create(
        "nc", ExchangeApi.NCMEC, "known", settings={"url": upstream.url}, trust=Trust.REVIEW, actor="test"
    )


def _checkpoint_ts(p: Platform) -> int:
    with p.db.reading() as session:
        exchange = session.scalar(select(Exchange).where(Exchange.name == "nc"))
        assert exchange is not None and exchange.checkpoint
        return int(json.loads(exchange.checkpoint)["get_entries_max_ts"])


def _wait_past(timestamp: int) -> None:
    """The client fetches up to now - 5 s: wait until ``timestamp`` is inside that."""
    while int(time.time()) - 5 <= timestamp:
        time.sleep(0.2)


def _feed(p: Platform, kind: BankChangeKind) -> list[int]:
    with p.db.reading() as session:
        return list(
            session.scalars(
                select(BankChange.entry_id).where(BankChange.kind == kind).order_by(BankChange.id)
            )
        )


def test_full_then_incremental_fetch(platform: Platform, upstream: Upstream) -> None:
    upstream.sim.upsert([image(n) for n in range(35)])
    _create(platform, upstream)
    result = platform.exchange_fetch("nc", actor="test")
    assert result.state == RunState.DONE, result.error
    assert result.added == 35 and result.pages >= 4  # pages of 10
    assert bank_values(platform) == sorted(pdq(n) for n in range(35))
    with platform.db.reading() as session:
        sources = set(session.scalars(select(BankEntry.source)))
    assert sources == {EntrySource.EXCHANGE}

    # nothing new upstream: nothing changes
    again = platform.exchange_fetch("nc", actor="test")
    assert (again.state, again.added, again.updated, again.removed) == (RunState.DONE, 0, 0, 0)

    # new entries after the checkpoint: only those are fetched
    checkpoint = _checkpoint_ts(platform)
    upstream.sim.upsert([image(n, timestamp=checkpoint + 1) for n in range(35, 40)])
    before = upstream.sim.requests
    _wait_past(checkpoint + 1)
    third = platform.exchange_fetch("nc", actor="test")
    assert (third.state, third.added) == (RunState.DONE, 5)
    assert upstream.sim.requests - before <= 3  # from the checkpoint, not the whole list again
    assert len(bank_values(platform)) == 40
    assert len(_feed(platform, BankChangeKind.ENTRY_ADDED)) == 40


def test_removal_and_change_upstream_disable_and_replace(platform: Platform, upstream: Upstream) -> None:
    upstream.sim.upsert([image(n) for n in range(5)])
    upstream.sim.upsert([{"member": 43, "id": "vid-1", "type": "video", "md5": md5(1)}])
    _create(platform, upstream)
    index = platform.matcher()
    try:
        assert platform.exchange_fetch("nc", actor="test").added == 6
        index.refresh()
        assert index.match(FileSignals(path=None, size=0, md5=md5(1))).hits

        checkpoint = _checkpoint_ts(platform)
        upstream.sim.upsert(
            [
                {"member": 42, "id": "img-0", "type": "image", "deleted": True, "timestamp": checkpoint + 1},
                image(1, pdq=pdq(101), timestamp=checkpoint + 1),  # re-hashed upstream
                image(2, classification="B2", timestamp=checkpoint + 1),  # re-rated
                {"member": 43, "id": "vid-1", "type": "video", "deleted": True, "timestamp": checkpoint + 1},
            ]
        )
        _wait_past(checkpoint + 1)
        result = platform.exchange_fetch("nc", actor="test")
        assert (result.added, result.updated, result.removed) == (0, 2, 2)
        assert bank_values(platform) == sorted([pdq(101), pdq(2), pdq(3), pdq(4)])
        assert bank_values(platform, enabled=False) == sorted([md5(1), pdq(0), pdq(1)])
        with platform.db.reading() as session:
            reasons = set(
                session.scalars(select(BankEntry.disabled_reason).where(BankEntry.enabled.is_(False)))
            )
            detail = session.scalar(
                select(ExchangeEntry.detail).where(ExchangeEntry.upstream_key == "42-img-2")
            )
        assert reasons == {"removed upstream (exchange nc)"}
        assert detail is not None and json.loads(detail)["classification"] == "B2"
        assert len(_feed(platform, BankChangeKind.ENTRY_DISABLED)) == 3
        index.refresh()  # the index follows the change feed
        assert not index.match(FileSignals(path=None, size=0, md5=md5(1))).hits

        # listed again upstream: the entry its removal disabled comes back
        checkpoint = _checkpoint_ts(platform)
        upstream.sim.upsert([image(0, timestamp=checkpoint + 1)])
        _wait_past(checkpoint + 1)
        assert platform.exchange_fetch("nc", actor="test").added == 1
        assert pdq(0) in bank_values(platform)
    finally:
        index.close()


@pytest.mark.parametrize("bank_category", ["csam"])
def test_a_csam_bank_keeps_blocking_what_the_list_withdrew(platform: Platform, upstream: Upstream) -> None:
    """Un-blocking a CSAM hash is never one person's call, and an exchange is not even one person: a
    removal upstream leaves the entry blocking, with a note saying so and how to un-block it; the
    note goes when the list lists the hash again."""
    upstream.sim.upsert([image(n) for n in range(3)])
    _create(platform, upstream)
    index = platform.matcher()
    try:
        assert platform.exchange_fetch("nc", actor="test").added == 3
        checkpoint = _checkpoint_ts(platform)
        upstream.sim.upsert(
            [{"member": 42, "id": "img-0", "type": "image", "deleted": True, "timestamp": checkpoint + 1}]
        )
        _wait_past(checkpoint + 1)
        assert platform.exchange_fetch("nc", actor="test").removed == 1
        assert bank_values(platform) == sorted([pdq(0), pdq(1), pdq(2)])
        assert bank_values(platform, enabled=False) == []
        assert _feed(platform, BankChangeKind.ENTRY_DISABLED) == []
        with platform.db.reading() as session:
            note = session.scalar(select(BankEntry.note).where(BankEntry.value == pdq(0)))
        assert note is not None and "removed upstream (exchange nc): still blocking" in note
        assert "second person" in note

        checkpoint = _checkpoint_ts(platform)
        upstream.sim.upsert([image(0, timestamp=checkpoint + 1)])
        _wait_past(checkpoint + 1)
        platform.exchange_fetch("nc", actor="test")
        with platform.db.reading() as session:
            assert session.scalar(select(BankEntry.note).where(BankEntry.value == pdq(0))) == ""
    finally:
        index.close()


def test_shared_and_manual_entries_are_not_disabled_by_one_removal(
    platform: Platform, upstream: Upstream
) -> None:
    platform.bank_add_entries("known", [NewEntry(SignalKind.PDQ, pdq(7))], actor="test")  # a person's
    upstream.sim.upsert(
        [
            image(1, member=42, id="a"),
            image(1, member=43, id="b"),  # the same hash from another member
            image(7, id="c"),
        ]
    )
    _create(platform, upstream)
    assert platform.exchange_fetch("nc", actor="test").added == 3
    checkpoint = _checkpoint_ts(platform)
    upstream.sim.upsert(
        [
            {"member": 42, "id": "a", "deleted": True, "timestamp": checkpoint + 1},
            {"member": 42, "id": "c", "deleted": True, "timestamp": checkpoint + 1},
        ]
    )
    _wait_past(checkpoint + 1)
    assert platform.exchange_fetch("nc", actor="test").removed == 2
    assert bank_values(platform) == sorted([pdq(1), pdq(7)])  # b still holds it; a person added 7


class Crash(Exception):
    pass


def test_a_crash_after_n_pages_then_resume_loses_and_duplicates_nothing(
    platform: Platform, upstream: Upstream
) -> None:
    now = int(time.time())
    upstream.sim.upsert([image(n, timestamp=now - 4000 + 40 * n) for n in range(95)])
    upstream.sim.upsert(
        [
            {"member": 43, "id": f"v{n}", "type": "video", "md5": md5(n), "timestamp": now - 100}
            for n in range(20)
        ]
    )
    _create(platform, upstream)

    def crash_after(entries: int) -> Callable[[int], None]:
        """Kill the fetch after the first page that brings the bank to ``entries`` or more."""

        def after(n: int) -> None:
            if len(bank_values(platform)) >= entries:
                raise Crash(f"killed after page {n}")

        return after

    first = platform.exchange_fetch("nc", actor="test", after_page=crash_after(30))
    assert first.state == RunState.FAILED and "killed after page" in first.error
    partial = len(bank_values(platform))
    assert 30 <= partial < 115
    resumed = platform.exchange_fetch("nc", actor="test", after_page=crash_after(partial + 20))
    assert resumed.state == RunState.FAILED
    assert partial < len(bank_values(platform)) < 115
    last = platform.exchange_fetch("nc", actor="test")
    assert last.state == RunState.DONE, last.error
    expected = sorted([pdq(n) for n in range(95)] + [md5(n) for n in range(20)])
    assert bank_values(platform) == expected
    with platform.db.reading() as session:
        assert session.scalar(select(func.count()).select_from(ExchangeEntry)) == 115
        runs = list(session.scalars(select(ExchangeFetchRun).order_by(ExchangeFetchRun.id)))
    assert sum(r.added for r in runs) == 115  # each entry added once, across the three runs
    added = _feed(platform, BankChangeKind.ENTRY_ADDED)
    assert len(added) == len(set(added)) == 115


def _commit_entries(p: Platform, entries: int) -> None:
    p.settings = p.settings.__class__.load({**p.settings.values, "exchange_commit_entries": entries})


def test_pages_committed_together_lose_and_repeat_nothing(platform: Platform, upstream: Upstream) -> None:
    """Pages of 10 committed about 25 entries a transaction: a crash after a commit keeps whole
    groups (never part of one), and the resumed fetch adds each entry once, changes included."""
    now = int(time.time())
    upstream.sim.upsert([image(n, timestamp=now - 4000 + 40 * n) for n in range(95)])
    _create(platform, upstream)
    _commit_entries(platform, 25)
    commits: list[int] = []

    def crash_after_second_commit(pages: int) -> None:
        commits.append(len(bank_values(platform)))
        if len(commits) == 2:
            raise RuntimeError("killed")

    first = platform.exchange_fetch("nc", actor="test", after_page=crash_after_second_commit)
    assert first.state == RunState.FAILED and first.pages >= 3
    assert commits[0] >= 25 and commits[1] >= 50  # pages of 10, at least 25 entries a commit
    assert len(bank_values(platform)) == commits[1]
    upstream.sim.upsert([image(n, timestamp=int(time.time()) - 30, pdq=pdq(n + 500)) for n in range(5)])
    done = platform.exchange_fetch("nc", actor="test")
    assert done.state == RunState.DONE, done.error
    with platform.db.reading() as session:
        assert session.scalar(select(func.count()).select_from(ExchangeEntry)) == 95
        runs = list(session.scalars(select(ExchangeFetchRun).order_by(ExchangeFetchRun.id)))
    assert sum(r.added for r in runs) == 95
    assert bank_values(platform) == sorted([pdq(n) for n in range(5, 95)] + [pdq(n + 500) for n in range(5)])
    added = _feed(platform, BankChangeKind.ENTRY_ADDED)
    assert len(added) == len(set(added)) == 100


def test_the_time_budget_stops_at_a_page_and_the_next_fetch_goes_on(
    platform: Platform, upstream: Upstream
) -> None:
    upstream.sim.upsert([image(n) for n in range(60)])
    upstream.sim.page_delay_s = 0.3
    _create(platform, upstream)
    platform.settings = platform.settings.__class__.load(
        {**platform.settings.values, "exchange_fetch_budget_s": 0.5}
    )
    first = platform.exchange_fetch("nc", actor="test")
    assert first.state == RunState.PARTIAL
    upstream.sim.page_delay_s = 0
    platform.settings = platform.settings.__class__.load(
        {**platform.settings.values, "exchange_fetch_budget_s": 60}
    )
    assert platform.exchange_fetch("nc", actor="test").state == RunState.DONE
    assert len(bank_values(platform)) == 60


def test_a_second_fetch_at_once_stops_instead_of_writing_twice(
    platform: Platform, upstream: Upstream
) -> None:
    upstream.sim.upsert([image(n) for n in range(30)])
    _create(platform, upstream)
    inner: list[object] = []

    def other_fetch(n: int) -> None:
        if n == 1 and not inner:
            inner.append(platform.exchange_fetch("nc", actor="other"))

    outer = platform.exchange_fetch("nc", actor="test", after_page=other_fetch)
    assert outer.state == RunState.FAILED and outer.overlapped
    assert len(bank_values(platform)) == 30
    with platform.db.reading() as session:
        exchange = session.scalar(select(Exchange).where(Exchange.name == "nc"))
        assert exchange is not None and exchange.failures == 0


def test_credentials_never_reach_the_database_and_bad_ones_back_off(
    platform: Platform, upstream: Upstream, monkeypatch: pytest.MonkeyPatch
) -> None:
    upstream.sim.upsert([image(n) for n in range(3)])
    _create(platform, upstream)
    assert platform.exchange_fetch("nc", actor="test").state == RunState.DONE
    assert platform.exchange_show("nc")["credentials"] == "SURAKSHA_EXCHANGE_NC_CREDENTIALS"
    assert PASSWORD not in json.dumps(platform.exchange_show("nc"), default=str)

    monkeypatch.setenv("SURAKSHA_EXCHANGE_NC_CREDENTIALS", "tester:wrong-password-123")
    _wait_past(_checkpoint_ts(platform) + 1)  # a time range to ask for
    failed = platform.exchange_fetch("nc", actor="test")
    assert failed.state == RunState.FAILED and "401" in failed.error
    assert "wrong-password-123" not in failed.error
    view = platform.exchange_show("nc")
    assert view["failures"] == 1 and view["next_fetch_at"] is not None

    monkeypatch.delenv("SURAKSHA_EXCHANGE_NC_CREDENTIALS")
    missing = platform.exchange_fetch("nc", actor="test")
    assert missing.state == RunState.FAILED and "SURAKSHA_EXCHANGE_NC_CREDENTIALS" in missing.error

    with pytest.raises(Exception, match="credentials never go"):
        platform.exchange_create(
            "leaky", ExchangeApi.NCMEC, "known", settings={"password": "x"}, trust=Trust.REVIEW, actor="t"
        )
    with platform.db.engine.connect() as conn:
        for table in inspect(conn).get_table_names():
            for row in conn.execute(text(f'SELECT * FROM "{table}"')):
                for secret in (PASSWORD, "wrong-password-123"):
                    assert secret not in repr(tuple(row)), table


def test_a_fetch_resumed_at_once_from_a_paging_url_goes_on_from_it(
    platform: Platform, upstream: Upstream
) -> None:
    """Many entries in one second: the client pages through that second, and the checkpoint after a page
    is its paging URL. A fetch resumed right after a crash there goes on from that URL (python-
    threatexchange's fetch_iter asserts the URL's range ended before its own; we wait for that)."""
    second = int(time.time()) - 6  # at the end of the first fetch's range: resumed in the same second
    upstream.sim.upsert([image(n, timestamp=second) for n in range(45)])
    _create(platform, upstream)

    def crash(n: int) -> None:
        if bank_values(platform):
            raise Crash("killed")

    assert platform.exchange_fetch("nc", actor="test", after_page=crash).state == RunState.FAILED
    with platform.db.reading() as session:
        exchange = session.scalar(select(Exchange).where(Exchange.name == "nc"))
        assert exchange is not None and exchange.checkpoint
        assert json.loads(exchange.checkpoint)["paging_info"]["paging_url"].startswith("/v2/entries?")
    held = len(bank_values(platform))
    assert held == 10
    done = platform.exchange_fetch("nc", actor="test")
    assert (done.state, done.added) == (RunState.DONE, 35), done.error
    assert len(bank_values(platform)) == 45


def test_a_paging_url_whose_range_ends_now_is_followed_after_a_wait(upstream: Upstream) -> None:
    """The client asserts that a stored paging URL's range ended before now - 5 s; resumed in that very
    second, the source waits instead of failing."""
    now = int(time.time())
    upstream.sim.upsert([image(n, timestamp=now - 5) for n in range(25)])
    start, end = now - 60, now - 5
    url = f"/v2/entries?from={quote(format_time(start))}&to={quote(format_time(end))}&start=11&size=10&max=25"
    checkpoint = {
        "get_entries_max_ts": start,
        "paging_info": {"paging_url": url, "paging_end_ts": end, "paging_url_ts": now},
    }
    source = NcmecSource("nc", {"url": upstream.url}, ("tester", PASSWORD), timeout_s=10, budget_s=30)
    pages = list(source.pages(checkpoint))
    resumed = [r.key for r in pages[0].records] + [r.key for r in pages[1].records]
    assert sorted(resumed) == sorted(f"42-img-{n}" for n in range(10, 25))  # pages 2 and 3 of that URL
    # (the next range starts at its end, inclusive: entries of that very second come again, harmlessly)
