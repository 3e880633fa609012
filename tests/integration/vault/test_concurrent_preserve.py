"""Two workers preserving the same media at once: one blob row, and no stored object left that no row
names (the loser's transaction fails, its objects are deleted, and its retry reuses the winner's blob)."""

from __future__ import annotations

import threading

from sqlalchemy import func, select

from suraksha.intake.pipeline import Pipeline
from suraksha.vault.models import EvidenceBlob, Preservation, PreservationState
from suraksha.vault.services import EvidenceVault, preserve
from tests.integration.vault.support import matched_item


def test_concurrent_preservations_share_one_blob_and_leave_no_orphans(
    pipeline: Pipeline, vault: EvidenceVault
) -> None:
    db = pipeline.db
    decisions = [matched_item(pipeline, f"p{i}", f"acct-{i}")[1] for i in range(4)]
    errors: list[BaseException] = []
    start = threading.Barrier(len(decisions))

    def run(decision_id: int) -> None:
        start.wait()
        for _attempt in range(5):  # the job queue's retries
            try:
                preserve(db, vault, decision_id)
                return
            except Exception as exc:
                errors.append(exc)

    threads = [threading.Thread(target=run, args=(d,)) for d in decisions]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    with db.reading() as s:
        states = set(s.scalars(select(Preservation.state)))
        assert states == {PreservationState.PRESERVED}, errors
        assert s.scalar(select(func.count()).select_from(EvidenceBlob)) == 1 + len(decisions)
        named = set(s.scalars(select(EvidenceBlob.object_name)))
    stored = {p.name for p in vault.storage.root.rglob("*") if p.is_file()}  # type: ignore[attr-defined]
    assert stored == named
