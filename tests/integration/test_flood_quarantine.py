"""Flood quarantine (suraksha.banks.flood) at decision time, with a fake clock: an entry that suddenly
matches far more items than entries usually do sends its matches to review and tells a lead (an audit
row); a lead's release lets its matches act again."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from suraksha.app import Platform
from suraksha.audit import AuditEvent
from suraksha.banks.flood import FloodPolicy
from suraksha.banks.models import EntryMatchCount
from suraksha.banks.services import NewEntry
from suraksha.enforcement.models import Decision, Verdict
from suraksha.errors import InvalidInput, NotFound
from suraksha.intake.pipeline import Pipeline
from suraksha.settings import Settings
from suraksha.signals.file_signals import HashOptions, hash_bytes
from suraksha.signals.types import SignalKind
from suraksha.testing.database import truncate_all
from suraksha.testing.synthetic import synthetic_jpeg
from tests.pipeline_support import real_pipeline, submit_picture

FLAT = synthetic_jpeg(101)
"""Stands for the flat, common picture an imported list should not have held (benign, synthetic)."""
OTHER = synthetic_jpeg(202)
START = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def platform(database_url: str, tmp_path: Path) -> Iterator[Platform]:
    settings = Settings.load(
        {
            "database_url": database_url,
            "data_dir": str(tmp_path / "data"),
            "index_dir": str(tmp_path / "index"),
            "flood_window_s": 3600,
            "flood_min_matches_per_hour": 3,
            "flood_multiple": 5,
            "flood_baseline_s": 7200,
        }
    )
    p = Platform(settings)
    p.bank_create("known", actor="test", category="csam")
    entries = []
    for data in (FLAT, OTHER):
        signals = hash_bytes(data, HashOptions())
        assert signals.pdq is not None
        entries.append(NewEntry(SignalKind.PDQ, signals.pdq.hex))
    p.bank_add_entries("known", entries, actor="test")
    try:
        yield p
    finally:
        if p.db.dialect == "postgresql":
            truncate_all(p.db)
        p.close()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def pipeline(platform: Platform, tmp_path: Path, clock: Clock) -> Iterator[Pipeline]:
    with real_pipeline(platform, tmp_path, flood=platform.flood_policy, clock=clock) as pipeline:
        yield pipeline


def _submit(pipeline: Pipeline, data: bytes) -> int:
    return submit_picture(pipeline, data)


def _decision(pipeline: Pipeline, item_id: int) -> Decision:
    with pipeline.db.session() as s:
        [decision] = s.scalars(select(Decision).where(Decision.item_id == item_id)).all()
        s.expunge(decision)
        return decision


def _decide(pipeline: Pipeline, data: bytes) -> Decision:
    item_id = _submit(pipeline, data)
    assert pipeline.process(item_id)
    return _decision(pipeline, item_id)


def _audit(platform: Platform, action: str) -> list[AuditEvent]:
    with platform.db.reading() as s:
        rows = list(s.scalars(select(AuditEvent).where(AuditEvent.action == action)))
        s.expunge_all()
        return rows


def test_a_flooding_entry_is_quarantined_until_a_lead_releases_it(
    platform: Platform, pipeline: Pipeline, clock: Clock
) -> None:
    first, second = _decide(pipeline, FLAT), _decide(pipeline, FLAT)
    assert first.verdict == second.verdict == Verdict.VIOLATION and first.automated
    assert platform.bank_quarantines() == []

    clock.now += timedelta(minutes=10)
    third = _decide(pipeline, FLAT)  # 3 in the hour: the threshold, no other entry matched (typical 0)
    assert third.verdict == Verdict.REVIEW and not third.automated
    assert "quarantined" in third.reason and "quarantined" in third.basis
    [shown] = platform.bank_quarantines()
    assert shown["bank"] == "known" and shown["matches"] == 3 and shown["active"]
    [told] = _audit(platform, "bank:quarantine")
    assert told.actor == "system:flood" and told.subject == f"bank_entry:{shown['entry_id']}"

    # the quarantine holds however slowly it matches afterwards; the other entry still acts
    clock.now += timedelta(days=3)
    assert _decide(pipeline, FLAT).verdict == Verdict.REVIEW
    assert _decide(pipeline, OTHER).verdict == Verdict.VIOLATION
    assert len(_audit(platform, "bank:quarantine")) == 1

    entry_id = int(str(shown["entry_id"]))
    with pytest.raises(InvalidInput):
        platform.bank_quarantine_release(entry_id, actor="user:lead", note=" ", now=clock.now)
    platform.bank_quarantine_release(entry_id, actor="user:lead", note="checked: a real entry", now=clock.now)
    assert platform.bank_quarantines() == []
    [released] = platform.bank_quarantines(include_released=True)
    assert released["released_by"] == "user:lead" and not released["active"]
    [audited] = _audit(platform, "bank:quarantine_release")
    assert audited.actor == "user:lead"
    with pytest.raises(NotFound):
        platform.bank_quarantine_release(entry_id, actor="user:lead", note="again", now=clock.now)

    # measured afresh: it acts again, and floods again only past the threshold again
    assert _decide(pipeline, FLAT).verdict == Verdict.VIOLATION
    assert _decide(pipeline, FLAT).verdict == Verdict.VIOLATION
    assert _decide(pipeline, FLAT).verdict == Verdict.REVIEW
    assert len(platform.bank_quarantines()) == 1


def test_slow_matches_never_flood(platform: Platform, pipeline: Pipeline, clock: Clock) -> None:
    for _ in range(6):
        assert _decide(pipeline, FLAT).verdict == Verdict.VIOLATION
        clock.now += timedelta(minutes=40)  # 1.5 an hour, under 3
    assert platform.bank_quarantines() == []


def test_an_entry_as_busy_as_the_typical_one_is_not_quarantined(
    platform: Platform, pipeline: Pipeline, clock: Clock
) -> None:
    # the other entry matched 4 times in the baseline (2 h), never 3 within an hour: typical 2 an
    # hour, so the threshold is 5 x 2 = 10 an hour
    for minutes in (0, 0, 61, 61):
        clock.now = START + timedelta(minutes=minutes)
        assert _decide(pipeline, OTHER).verdict == Verdict.VIOLATION
    clock.now = START + timedelta(minutes=100)
    for _ in range(9):
        assert _decide(pipeline, FLAT).verdict == Verdict.VIOLATION
    assert platform.bank_quarantines() == []
    assert _decide(pipeline, FLAT).verdict == Verdict.REVIEW
    [shown] = platform.bank_quarantines()
    assert shown["threshold_per_hour"] == 10.0 and shown["typical_per_hour"] == 2.0


def test_a_batch_counts_and_quarantines_together(platform: Platform, pipeline: Pipeline) -> None:
    ids = [_submit(pipeline, FLAT) for _ in range(4)]
    outcomes = pipeline.process_many(ids)
    assert all(v is None for v in outcomes.values())
    verdicts = {_decision(pipeline, i).verdict for i in ids}
    assert verdicts == {Verdict.REVIEW}  # the batch's 4 matches flood at once: none acts
    assert len(platform.bank_quarantines()) == 1


def test_quarantine_off_counts_nothing(platform: Platform, tmp_path: Path, clock: Clock) -> None:
    with real_pipeline(platform, tmp_path / "2", flood=FloodPolicy(min_per_hour=0), clock=clock) as pipeline:
        for _ in range(5):
            assert _decide(pipeline, FLAT).verdict == Verdict.VIOLATION
    with platform.db.reading() as s:
        assert s.scalar(select(func.count()).select_from(EntryMatchCount)) == 0
