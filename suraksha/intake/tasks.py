"""The pipeline's job handlers. ``item.process`` runs outside a held transaction (it fetches and
hashes) and is exactly-once in effect through the item's guarded state change (see pipeline.py)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from suraksha.errors import NotReady
from suraksha.intake.pipeline import Pipeline
from suraksha.intake.services import PROCESS_ITEM
from suraksha.worker.handlers import Deferred, HandlerRegistry, JobContext, PermanentFailure
from suraksha.worker.queue import LeaseLost, complete_batch

NOT_READY_RECHECK_S = 2.0


def register(registry: HandlerRegistry, pipeline: Pipeline) -> None:
    def process_item(ctx: JobContext) -> None:
        item_id = ctx.payload.get("item_id")
        if not isinstance(item_id, int):
            raise PermanentFailure(f"job {ctx.job_id} has no integer item_id in its payload")
        try:
            pipeline.process(item_id)
        except NotReady as exc:  # the match index is loading or stale: not the item's fault
            raise Deferred(str(exc), delay_s=NOT_READY_RECHECK_S) from exc

    def process_items(batch: Sequence[JobContext]) -> dict[int, Exception | None]:
        by_item: dict[int, list[int]] = {}
        outcomes: dict[int, Exception | None] = {}
        for ctx in batch:
            item_id = ctx.payload.get("item_id")
            if isinstance(item_id, int):
                by_item.setdefault(item_id, []).append(ctx.job_id)
            else:
                outcomes[ctx.job_id] = PermanentFailure(
                    f"job {ctx.job_id} has no integer item_id in its payload"
                )
        leases = {ctx.job_id: ctx.lease for ctx in batch}
        lost: set[int] = set()

        def finish(session: Session, done_items: list[int]) -> None:
            # The jobs complete in the transaction that records their items: one commit for both.
            held = [leases[job_id] for item_id in done_items for job_id in by_item.get(item_id, ())]
            lost.update(h.job_id for h in held)
            lost.difference_update(complete_batch(session, held))

        try:
            done = pipeline.process_many(list(by_item), finish=finish)
        except NotReady as exc:
            raise Deferred(str(exc), delay_s=NOT_READY_RECHECK_S) from exc
        for item_id, job_ids in by_item.items():
            for job_id in job_ids:
                outcomes[job_id] = done.get(item_id)
        for job_id in lost:  # another worker holds it now (the item's effect is guarded: written once)
            outcomes[job_id] = LeaseLost(f"job {job_id} was taken over before it completed")
        return outcomes

    registry.register(PROCESS_ITEM, process_item, transactional=False)
    registry.register_batch(PROCESS_ITEM, process_items, completes=True)
