"""The pipeline's job handlers. ``item.process`` runs outside a held transaction (it fetches and
hashes) and is exactly-once in effect through the item's guarded state change (see pipeline.py)."""

from __future__ import annotations

from suraksha.errors import NotReady
from suraksha.intake.pipeline import Pipeline
from suraksha.intake.services import PROCESS_ITEM
from suraksha.worker.handlers import Deferred, HandlerRegistry, JobContext, PermanentFailure

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

    registry.register(PROCESS_ITEM, process_item, transactional=False)
