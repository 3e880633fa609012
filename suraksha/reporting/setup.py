"""Building reporting's parts from settings (the Platform calls these; tests build them directly)."""

from __future__ import annotations

from pathlib import Path

from suraksha.db.engine import Database
from suraksha.intake.store import MediaStore
from suraksha.reporting.evidence import VaultEvidence
from suraksha.reporting.ports import NcmecApi, api_from_settings
from suraksha.reporting.services import ReportOptions
from suraksha.reporting.submission import EvidenceSource, FileStore, ReportSubmitter, SubmissionPolicy
from suraksha.reporting.xml import CyberTiplineSchema
from suraksha.settings import Settings
from suraksha.vault.services import EvidenceVault


def xsd_path(settings: Settings) -> Path:
    """Where NCMEC's schema is read from: ``ncmec_xsd_path``, else ``<data_dir>/ncmec/cyber_tipline.xsd``
    (where ``suraksha report fetch-xsd`` saves it)."""
    configured = settings.ncmec_xsd_path
    return Path(configured) if configured else settings.data_path / "ncmec" / "cyber_tipline.xsd"


def schema_from_settings(settings: Settings) -> CyberTiplineSchema:
    return CyberTiplineSchema.from_path(xsd_path(settings))


def submitter_from_settings(
    db: Database,
    settings: Settings,
    media_store: MediaStore,
    *,
    api: NcmecApi | None = None,
    vault: EvidenceVault | None = None,
) -> ReportSubmitter:
    """The report state machine over the configured API (ConfigError when the schema or the
    credentials are missing: reports wait, they are not failed, until an operator fixes that).
    File bytes come from the intake media store, else (``vault`` given) from the evidence vault."""
    stores: list[FileStore] = [media_store]
    if vault is not None:
        stores.append(VaultEvidence(db, vault))
    return ReportSubmitter(
        db,
        api or api_from_settings(settings),
        schema_from_settings(settings),
        EvidenceSource(*stores),
        ReportOptions.from_settings(settings),
        SubmissionPolicy.from_settings(settings),
    )
