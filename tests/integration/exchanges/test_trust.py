"""Exchange trust at decision time: a match on an entry only a "review" exchange vouches for goes to a
person; once an "auto_action" exchange lists it too, the bank's policy acts."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from suraksha.app import Platform
from suraksha.enforcement.models import Action, Decision, Verdict
from suraksha.exchanges.models import ExchangeApi, RunState, Trust
from suraksha.intake.pipeline import Pipeline
from suraksha.signals.file_signals import HashOptions, hash_bytes
from suraksha.testing.synthetic import synthetic_jpeg
from tests.pipeline_support import real_pipeline, submit_picture

KNOWN = synthetic_jpeg(101)


@pytest.fixture
def bank_category() -> str:
    """The policy acts on a ``csam`` bank's matches by itself: what trust decides here."""
    return "csam"


def _decide(pipeline: Pipeline, platform_id: str) -> Decision:
    item_id = submit_picture(pipeline, KNOWN, platform_id)
    assert pipeline.process(item_id)
    with pipeline.db.session() as s:
        [decision] = s.scalars(select(Decision).where(Decision.item_id == item_id)).all()
        s.expunge(decision)
        return decision


def _exchange(platform: Platform, name: str, path: Path, trust: Trust) -> None:
    platform.exchange_create(
        name, ExchangeApi.FILE, "known", settings={"path": str(path)}, trust=trust, actor="t"
    )
    assert platform.exchange_fetch(name, actor="test").state == RunState.DONE


def test_review_trust_sends_matches_to_a_person_until_a_trusted_exchange_lists_them(
    platform: Platform, tmp_path: Path
) -> None:
    signals = hash_bytes(KNOWN, HashOptions())
    assert signals.pdq is not None
    path = tmp_path / "list.txt"
    path.write_text(f"pdq {signals.pdq.hex}\n")
    _exchange(platform, "reviewed", path, Trust.REVIEW)
    with real_pipeline(platform, tmp_path) as pipeline:
        first = _decide(pipeline, "p1")
        assert first.verdict == Verdict.REVIEW and not first.automated
        assert "exchange whose matches go to review" in first.reason and "review_only" in first.basis
        with platform.db.reading() as s:
            assert s.scalar(select(func.count()).select_from(Action)) == 0

        _exchange(platform, "trusted", path, Trust.AUTO_ACTION)
        pipeline.index.refresh()
        second = _decide(pipeline, "p2")
        assert second.verdict == Verdict.VIOLATION and second.automated
