"""Exchange trust at decision time: a match on an entry only a "review" exchange vouches for goes to a
person; once an "auto_action" exchange lists it too, the bank's policy acts."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from sqlalchemy import func, select

from suraksha.app import DECISION_FOLLOW_UPS, Platform
from suraksha.banks.index import BankIndex
from suraksha.enforcement.models import Action, Decision, Verdict
from suraksha.enforcement.policy import BUILTIN
from suraksha.exchanges.models import ExchangeApi, RunState, Trust
from suraksha.intake.pipeline import Pipeline
from suraksha.intake.schemas import ItemIn
from suraksha.intake.services import submit_item
from suraksha.intake.store import MediaStore
from suraksha.signals.file_signals import HashOptions, hash_bytes
from suraksha.testing.synthetic import synthetic_jpeg
from suraksha.vault.crypto import EnvelopeCipher, KeyEncryptionKey

KNOWN = synthetic_jpeg(101)


@pytest.fixture
def bank_category() -> str:
    """The policy acts on a ``csam`` bank's matches by itself: what trust decides here."""
    return "csam"


def _item(platform_id: str) -> ItemIn:
    return ItemIn.model_validate(
        {
            "platform_item_id": platform_id,
            "kind": "post",
            "account": {"platform_id": f"acct-{platform_id}", "handle": f"@{platform_id}"},
            "media": [{"data": base64.b64encode(KNOWN).decode(), "content_type": "image/jpeg"}],
        }
    )


def _decide(pipeline: Pipeline, platform_id: str) -> Decision:
    with pipeline.db.session() as s:
        item_id = submit_item(s, pipeline.store, _item(platform_id), max_media_bytes=10_000_000).item_id
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
    index = BankIndex(platform.db).load()
    pipeline = Pipeline(
        db=platform.db,
        index=index,
        store=MediaStore(tmp_path / "media", EnvelopeCipher(KeyEncryptionKey.generate())),
        options=HashOptions(),
        policy=BUILTIN,
        follow_ups=DECISION_FOLLOW_UPS,
    )
    try:
        first = _decide(pipeline, "p1")
        assert first.verdict == Verdict.REVIEW and not first.automated
        assert "exchange whose matches go to review" in first.reason and "review_only" in first.basis
        with platform.db.reading() as s:
            assert s.scalar(select(func.count()).select_from(Action)) == 0

        _exchange(platform, "trusted", path, Trust.AUTO_ACTION)
        index.refresh()
        second = _decide(pipeline, "p2")
        assert second.verdict == Verdict.VIOLATION and second.automated
    finally:
        index.close()
