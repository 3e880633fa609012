"""The vault's job handlers: ``vault.preserve`` (copy a decision's evidence in), ``vault.enrich`` (ask
the platform for more about it) and ``vault.purge`` (purge what no hold covers).

All three run outside a held transaction (they read media, encrypt, write files, call the platform)
and are idempotent by the preservation's state: a repeat finds the work done and does nothing. A
missing KEK defers preservation (no attempt spent) rather than failing it: evidence waits for the
key, it is never dropped.
"""

from __future__ import annotations

from suraksha.db.engine import Database
from suraksha.errors import ConfigError, NotFound
from suraksha.vault.enrichment import EnrichmentSource, enrich
from suraksha.vault.purge import purge_expired
from suraksha.vault.services import ENRICH, PRESERVE, PURGE, SYSTEM, EvidenceVault, preserve
from suraksha.worker.handlers import Deferred, HandlerRegistry, JobContext, PermanentFailure

MISSING_KEY_RECHECK_S = 60.0


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
        except ConfigError as exc:  # the KEK is missing or malformed: wait for an operator
            raise Deferred(str(exc), delay_s=MISSING_KEY_RECHECK_S) from exc

    def enrich_evidence(ctx: JobContext) -> None:
        preservation_id = _int(ctx, "preservation")
        if enrichment is None:
            raise Deferred("vault_enrichment_url is not set: enrichment waits", delay_s=3600.0)
        try:
            enrich(db, vault, enrichment, preservation_id)
        except NotFound as exc:
            raise PermanentFailure(str(exc)) from exc
        except ConfigError as exc:
            raise Deferred(str(exc), delay_s=MISSING_KEY_RECHECK_S) from exc

    def purge(_ctx: JobContext) -> None:
        purge_expired(db, vault, actor=SYSTEM)

    registry.register(PRESERVE, preserve_evidence, transactional=False)
    registry.register(ENRICH, enrich_evidence, transactional=False)
    registry.register(PURGE, purge, transactional=False)
