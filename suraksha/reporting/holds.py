"""After a finished CyberTipline report: a preservation hold on everything in it, for the period the
law sets (18 USC 2258A(h) as amended by the REPORT Act: 1 year from the report), placed through the
evidence vault (``suraksha.vault.holds.place_hold``, basis ``cybertipline_report``)."""

from __future__ import annotations

import logging
from typing import Protocol

from sqlalchemy.orm import Session

from suraksha.reporting.models import CyberTiplineReport
from suraksha.settings import Settings
from suraksha.vault.holds import HoldPeriods, place_hold

log = logging.getLogger(__name__)

HOLD_BASIS = "cybertipline_report"
HOLD_JURISDICTION = "US"
"""The law that sets the hold: 18 USC 2258A(h), a US statute, wherever the platform operates, so a
``vault_hold_periods`` entry ``cybertipline_report@US=DAYS`` applies to it."""


class HoldPlacer(Protocol):
    def place(self, session: Session, report: CyberTiplineReport, *, actor: str) -> int:
        """Hold the evidence of every item in ``report`` from its finish time, in the caller's
        transaction; idempotent (one hold per preservation and reportId). Returns holds placed/found."""
        ...


class VaultHolds:
    """Holds through the evidence vault."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def place(self, session: Session, report: CyberTiplineReport, *, actor: str) -> int:
        item_ids = sorted({f.item_id for f in report.files})
        if not item_ids:
            return 0
        holds = place_hold(
            session,
            basis=HOLD_BASIS,
            reference=f"ncmec:{report.ncmec_report_id}",
            actor=actor,
            periods=HoldPeriods.parse(self.settings.vault_hold_periods),
            item_ids=item_ids,
            jurisdiction=HOLD_JURISDICTION,
            starts_at=report.finished_at,
        )
        log.info("event=report.hold report=%d holds=%d", report.id, len(holds))
        return len(holds)
