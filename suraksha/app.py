"""Platform: the one internal API that the CLI (and later web, worker and plugins) call. Thin."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cached_property

import pluggy

from suraksha.banks.index import BankIndex
from suraksha.db.engine import Database, open_database
from suraksha.enforcement import tasks as enforcement_tasks
from suraksha.enforcement.policy import Policy, load_policy
from suraksha.enforcement.webhooks import WebhookEndpoint, WebhookSender, endpoint_secrets
from suraksha.errors import ConfigError, NotFound
from suraksha.intake import tasks as intake_tasks
from suraksha.intake.adapters import EngineRules, Fetch
from suraksha.intake.fetch import FetchPolicy, MediaFetcher
from suraksha.intake.pipeline import Pipeline
from suraksha.intake.store import MediaStore
from suraksha.plugins import Classifiers, plugin_manager
from suraksha.reporting import setup as reporting_setup
from suraksha.reporting import tasks as reporting_tasks
from suraksha.reporting.holds import VaultHolds
from suraksha.reporting.ports import NcmecApi
from suraksha.reporting.services import ReportOptions
from suraksha.reporting.submission import ReportSubmitter
from suraksha.review.services import ReviewOptions
from suraksha.rules import RuleEngine
from suraksha.settings import Settings
from suraksha.signals.file_signals import HashOptions
from suraksha.signals.pdq import PdqMode
from suraksha.vault import tasks as vault_tasks
from suraksha.vault.crypto import EnvelopeCipher
from suraksha.vault.enrichment import EnrichmentSource, HttpEnrichment
from suraksha.vault.media import SealMediaResult, seal_media_store
from suraksha.vault.purge import destruction_of_media
from suraksha.vault.services import EvidenceVault
from suraksha.worker.handlers import HandlerRegistry


class Platform:
    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or Settings.load()

    @cached_property
    def db(self) -> Database:
        self.settings.ensure_data_path()
        return open_database(
            self.settings.resolved_database_url, busy_timeout_s=self.settings.sqlite_busy_timeout_s
        )

    def hash_options(self, *, fast: bool | None = None, video_fps: float | None = None) -> HashOptions:
        """Hashing options from settings, with per-call overrides (``video_fps=0`` means every frame)."""
        mode = PdqMode.FAST if fast else PdqMode(self.settings.pdq_mode) if fast is None else PdqMode.EXACT
        fps = self.settings.video_fps if video_fps is None else video_fps
        return HashOptions(
            limits=self.settings.media_limits,
            mode=mode,
            video_fps=fps or None,
            quality_floor=self.settings.pdq_quality_floor,
        )

    def matcher(self, bank_names: Sequence[str] | None = None) -> BankIndex:
        """The match index over the enabled entries of the named block banks (all, if none named) and
        of every allow bank: allow lists always apply. Raises NotFound for an unknown bank name."""
        return self.bank_index(bank_names).load()

    def bank_index(self, bank_names: Sequence[str] | None = None) -> BankIndex:
        """A match index, not loaded yet, that starts from the published generation in the index
        folder when there is a usable one."""
        return BankIndex(
            self.db,
            quality_floor=self.settings.pdq_quality_floor,
            banks=bank_names,
            stale_after_s=self.settings.index_stale_after_s,
            index_dir=self.settings.index_path,
        )

    @cached_property
    def review_options(self) -> ReviewOptions:
        """Claims, exposure budgets, four eyes and display defaults for review (suraksha.review)."""
        return ReviewOptions.from_settings(self.settings)

    @cached_property
    def media_store(self) -> MediaStore:
        """Media kept between intake and decision, and for review: sealed under the vault's KEK."""
        cipher = EnvelopeCipher(self.settings.vault_kek, self.settings.vault_kek_previous)
        return MediaStore(self.settings.ensure_data_path() / "media", cipher)

    @cached_property
    def policy(self) -> Policy:
        return load_policy(self.settings.policy_file)

    def pipeline(self, index: BankIndex) -> Pipeline:
        """The detection pipeline over a loaded (and followed) match index."""
        return Pipeline(
            db=self.db,
            index=index,
            store=self.media_store,
            options=self.hash_options(),
            policy=self.policy,
            text_rules=EngineRules(self.rule_engine),
            fetch=Fetch(MediaFetcher(FetchPolicy.from_settings(self.settings))),
            endpoints=tuple(self.webhook_endpoints),
            classifiers=self.classifiers if self.classifiers.any else None,
        )

    @cached_property
    def plugins(self) -> pluggy.PluginManager:
        names = [n.strip() for n in (self.settings.plugins or "").split(",") if n.strip()]
        return plugin_manager(names)

    @cached_property
    def classifiers(self) -> Classifiers:
        return Classifiers(self.plugins)

    @cached_property
    def webhook_endpoints(self) -> dict[str, WebhookEndpoint]:
        """The platform's webhook endpoint, when one is configured (name: "platform")."""
        url = self.settings.webhook_url
        if not url:
            return {}
        return {"platform": self._signed_endpoint(url, "webhook_url", self.settings.webhook_timeout_s)}

    def _signed_endpoint(self, url: str, setting: str, timeout_s: float) -> WebhookEndpoint:
        """An endpoint of the platform's, signed with ``webhook_secrets`` (required: nothing goes to
        the platform unsigned)."""
        raw = self.settings.webhook_secrets
        secrets = [v.strip() for v in (raw.reveal() if raw else "").split(",") if v.strip()]
        if not secrets:
            raise ConfigError(f"{setting} is set but webhook_secrets is empty: requests must be signed")
        return WebhookEndpoint(
            url,
            endpoint_secrets(secrets),
            allow_private_network=self.settings.webhook_allow_private_network,
            timeout_s=timeout_s,
        )

    @cached_property
    def rule_engine(self) -> RuleEngine:
        return RuleEngine.from_settings(self.settings)

    def job_handlers(self, index: BankIndex, *, sender: WebhookSender | None = None) -> HandlerRegistry:
        """Every job kind this platform runs, with its handler."""
        registry = HandlerRegistry()
        intake_tasks.register(registry, self.pipeline(index))
        enforcement_tasks.register(registry, self.db, self.webhook_endpoints, sender or WebhookSender())
        reporting_tasks.register(
            registry,
            self.db,
            self.report_submitter,
            ReportOptions.from_settings(self.settings),
            VaultHolds(self.settings),
        )
        vault_tasks.register(registry, self.db, self.vault, self.enrichment)
        return registry

    @cached_property
    def vault(self) -> EvidenceVault:
        """The evidence vault (storage, keys, hold periods), for preservation, holds, access, export."""
        return EvidenceVault.from_settings(self.settings, self.media_store)

    def refuse_destroyed_media(self, media_id: int) -> None:
        """NotFound, saying when and under what the evidence was destroyed, for a media file whose
        preserved evidence the vault purged or deleted on request: what serves media (the console's
        reveal and content routes) answers that, never the bytes."""
        with self.db.reading() as session:
            destroyed = destruction_of_media(session, media_id)
        if destroyed is not None:
            raise NotFound(f"media {media_id} was {destroyed}: it is not shown or served any more")

    def seal_media(self, *, actor: str, progress: Callable[[int], None] | None = None) -> SealMediaResult:
        """Seal (in place) media stored in plain, re-wrap media keys under the current KEK, forget
        copies of purged evidence, make the media store private (``suraksha.vault.media``)."""
        return seal_media_store(self.db, self.media_store, actor=actor, progress=progress)

    @cached_property
    def enrichment(self) -> EnrichmentSource | None:
        """The platform's enrichment endpoint, when vault_enrichment_url is set (signed with
        webhook_secrets)."""
        url = self.settings.vault_enrichment_url
        if not url:
            return None
        timeout_s = self.settings.vault_enrichment_timeout_s
        endpoint = self._signed_endpoint(url, "vault_enrichment_url", timeout_s)
        return HttpEnrichment(endpoint, max_bytes=self.settings.vault_enrichment_max_bytes)

    def report_submitter(self, api: NcmecApi | None = None) -> ReportSubmitter:
        """The CyberTipline report state machine over the configured API (or ``api``)."""
        return reporting_setup.submitter_from_settings(
            self.db, self.settings, self.media_store, api=api, vault=self.vault
        )

    def close(self) -> None:
        if "db" in self.__dict__:
            self.db.dispose()
