"""The vault's job handlers: ``vault.preserve`` (copy a decision's evidence in), ``vault.enrich`` (ask
the platform for more about it) and ``vault.purge`` (purge what no hold covers).

All three run outside a held transaction (they read media, encrypt, write files, call the platform)
and are idempotent by the preservation's state: a repeat finds the work done and does nothing. A
missing or malformed KEK dead-letters the job at once with a message saying what to set: the
preservation stays ``pending`` and the media bytes of matched items stay in the media store, so
nothing is lost; ``suraksha jobs retry`` replays it once the key is set. (Deferring instead would
keep a deployment without a vault key from ever draining its queue.)
"""

from __future__ import annotations

import logging

from suraksha.db.engine import Database
from suraksha.errors import ConfigError, NotFound
from suraksha.vault.enrichment import EnrichmentSource, enrich
from suraksha.vault.purge import purge_expired
from suraksha.vault.requests import PRESERVE
from suraksha.vault.services import ENRICH, PURGE, SYSTEM, EvidenceVault, preserve
from suraksha.worker.handlers import HandlerRegistry, JobContext, PermanentFailure

log = logging.getLogger(__name__)


def _int(ctx: JobContext, name: str) -> int:
    value = ctx.payload.get(name)
    if not isinstance(value, int):
        raise PermanentFailure(f"job {ctx.job_id} ({ctx.kind}) has no integer {name!r} in its payload")
    return value


def register(
    registry: HandlerRegistry, db: Database, vault: EvidenceVault, enrichment: EnrichmentSource | None
) -> None:
    def preserve_evidence(ctx: JobContext) -> None:
        decision_id = _int(ctx, "decision")
        try:
            preserve(db, vault, decision_id)
        except NotFound as exc:
            raise PermanentFailure(str(exc)) from exc
        except ConfigError as exc:  # the KEK is missing or malformed: an operator must act
            log.error("event=vault.preserve_blocked decision=%d reason=%s", decision_id, exc)
            raise PermanentFailure(f"{exc}; then `suraksha jobs retry {ctx.job_id}`") from exc

    def enrich_evidence(ctx: JobContext) -> None:
        preservation_id = _int(ctx, "preservation")
        if enrichment is None:
            raise PermanentFailure("vault_enrichment_url is not set: set it, then `suraksha jobs retry`")
        try:
            enrich(db, vault, enrichment, preservation_id)
        except NotFound as exc:
            raise PermanentFailure(str(exc)) from exc
        except ConfigError as exc:
            raise PermanentFailure(f"{exc}; then `suraksha jobs retry {ctx.job_id}`") from exc

    def purge(_ctx: JobContext) -> None:
        purge_expired(db, vault, actor=SYSTEM)

    registry.register(PRESERVE, preserve_evidence, transactional=False)
    registry.register(ENRICH, enrich_evidence, transactional=False)
    registry.register(PURGE, purge, transactional=False)
