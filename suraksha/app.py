"""Platform: the one internal API that the CLI (and later web, worker and plugins) call. Thin."""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from functools import cached_property
from pathlib import Path
from typing import Any

import pluggy
from sqlalchemy.orm import Session

from suraksha import audit
from suraksha.appeals.operations import AppealOperations
from suraksha.banks import flood
from suraksha.banks import services as bank_services
from suraksha.banks.flood import FloodPolicy
from suraksha.banks.index import BankIndex
from suraksha.banks.models import Bank, BankEntry, EntrySource
from suraksha.banks.services import ImportResult
from suraksha.content.lookup import UrlPatterns
from suraksha.db.base import utcnow
from suraksha.db.engine import Database, open_database
from suraksha.enforcement import acknowledgements
from suraksha.enforcement import tasks as enforcement_tasks
from suraksha.enforcement.acknowledgements import Acknowledgement
from suraksha.enforcement.follow_ups import DecisionFollowUps
from suraksha.enforcement.models import ActionKind
from suraksha.enforcement.policy import Policy, load_policy
from suraksha.errors import ConfigError, InvalidInput, NotFound
from suraksha.exchanges.operations import ExchangeOperations
from suraksha.files import write_private
from suraksha.flaggers.operations import FlaggerOperations
from suraksha.intake import tasks as intake_tasks
from suraksha.intake.adapters import EngineRules, Fetch
from suraksha.intake.pipeline import Pipeline
from suraksha.intake.schemas import ActionOut
from suraksha.intake.store import MediaStore
from suraksha.intake.views import actions_out
from suraksha.legal import actions as legal_actions
from suraksha.legal import disclosure as legal_disclosure
from suraksha.legal import services as legal
from suraksha.legal import tasks as legal_tasks
from suraksha.legal.clocks import JurisdictionRules, Step
from suraksha.legal.models import LegalRequest, RejectReason
from suraksha.legal.ports import (
    ClockAlerts,
    EveryAlerts,
    HttpAlerts,
    LogAlerts,
    MailAlerts,
    MailServer,
)
from suraksha.network import tasks as network_tasks
from suraksha.network.investigation_operations import InvestigationOperations
from suraksha.network.operations import NetworkOperations
from suraksha.outbound.fetch import FetchPolicy, MediaFetcher
from suraksha.outbound.webhooks import WebhookEndpoint, WebhookSender, endpoint_secrets
from suraksha.permissions import Role
from suraksha.plugins import Classifiers, plugin_manager
from suraksha.reporting import setup as reporting_setup
from suraksha.reporting import tasks as reporting_tasks
from suraksha.reporting.holds import VaultHolds
from suraksha.reporting.ports import NcmecApi
from suraksha.reporting.services import ReportOptions
from suraksha.reporting.submission import ReportSubmitter
from suraksha.review.cases import open_case_for_decision, open_case_for_failed_action
from suraksha.review.services import ReviewOptions
from suraksha.rules import RuleEngine
from suraksha.settings import Settings
from suraksha.signals.file_signals import HashOptions
from suraksha.signals.pdq import PdqMode
from suraksha.transparency import documents as answer_documents
from suraksha.transparency.answers import COMMISSION_QUESTIONS, Answer
from suraksha.transparency.answers import compose as compose_answer
from suraksha.transparency.operations import TransparencyOperations
from suraksha.transparency.series import Bucket, Granularity, series
from suraksha.transparency.statistics import Period
from suraksha.vault import tasks as vault_tasks
from suraksha.vault.crypto import EnvelopeCipher
from suraksha.vault.enrichment import EnrichmentSource, HttpEnrichment
from suraksha.vault.media import SealMediaResult, seal_media_store
from suraksha.vault.purge import destruction_of_media
from suraksha.vault.requests import request_preservation
from suraksha.vault.services import EvidenceActor, EvidenceVault
from suraksha.worker import bell
from suraksha.worker.handlers import HandlerRegistry, JobContext
from suraksha.worker.policy import WorkerConfig
from suraksha.worker.runner import WorkerCounters, default_worker_id, run_worker

DECISION_FOLLOW_UPS = DecisionFollowUps(
    open_case=open_case_for_decision, request_preservation=request_preservation
)
"""Enforcement's ports into the areas above it: review opens the case of a decision that needs a person,
the vault preserves the evidence of a ``preserve`` action (``suraksha.enforcement.follow_ups``)."""

ACTION_FAILED_FOLLOW_UP = open_case_for_failed_action
"""Enforcement's port into review for an action the platform could not carry out: the item's case
opens again, saying what failed (``suraksha.enforcement.acknowledgements``)."""

AUDIT_CHECKPOINT_JOB = "audit.checkpoint"


class Platform(
    TransparencyOperations,
    FlaggerOperations,
    NetworkOperations,
    InvestigationOperations,
    AppealOperations,
    ExchangeOperations,
):
    investigation_follow_ups = DECISION_FOLLOW_UPS
    """The ports an investigation's approved actions are carried out with."""

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
            follow_ups=DECISION_FOLLOW_UPS,
            text_rules=EngineRules(self.rule_engine),
            fetch=Fetch(MediaFetcher(FetchPolicy.from_settings(self.settings))),
            classifiers=self.classifiers if self.classifiers.any else None,
            recorded=network_tasks.queue_items,
            flood=self.flood_policy,
        )

    @property
    def flood_policy(self) -> FloodPolicy:
        """Flood quarantine's thresholds (settings ``flood_*``; ``suraksha.banks.flood``)."""
        s = self.settings
        return FloodPolicy(
            s.flood_window_s, s.flood_min_matches_per_hour, s.flood_multiple, s.flood_baseline_s
        )

    def bank_quarantines(self, *, include_released: bool = False) -> list[dict[str, object]]:
        """Flood quarantines, newest first (active ones only unless ``include_released``)."""
        with self.db.reading() as session:
            return flood.list_quarantines(session, include_released=include_released)

    def bank_quarantine_release(
        self, entry_id: int, *, actor: str, note: str, now: datetime | None = None
    ) -> dict[str, object]:
        """End an entry's flood quarantine (a lead; audited): its matches act by the policy again."""
        with self.db.session() as session:
            released = flood.release(
                session, entry_id, actor=actor, note=note, policy=self.flood_policy, now=now or utcnow()
            )
            return {"id": released.id, "entry_id": entry_id, "released_at": str(released.released_at)}

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
        sender = sender or WebhookSender()
        intake_tasks.register(registry, self.pipeline(index))
        enforcement_tasks.register(registry, self.db, self.webhook_endpoints, sender, ACTION_FAILED_FOLLOW_UP)
        self.register_notice_jobs(registry, sender)
        reporting_tasks.register(
            registry,
            self.db,
            self.report_submitter,
            ReportOptions.from_settings(self.settings),
            VaultHolds(self.settings),
        )
        vault_tasks.register(registry, self.db, self.vault, self.enrichment)
        registry.register(AUDIT_CHECKPOINT_JOB, self._audit_checkpoint_job, transactional=False)
        if self.settings.audit_checkpoint_every_s > 0:
            registry.schedule(AUDIT_CHECKPOINT_JOB, self.settings.audit_checkpoint_every_s)
        registry.register(legal_tasks.CLOCKS, self._legal_clocks_job)
        if self.settings.legal_alert_every_s > 0:
            registry.schedule(legal_tasks.CLOCKS, self.settings.legal_alert_every_s)
        self.register_transparency_jobs(registry)
        self.register_flagger_jobs(registry, sender)
        self.register_network_jobs(registry)
        self.register_exchange_jobs(registry)
        return registry

    def _legal_clocks_job(self, ctx: JobContext) -> None:
        assert ctx.transaction is not None  # registered transactional
        legal_tasks.check_clocks(ctx.transaction, self.legal_rules, self.legal_alerts, now=utcnow())

    @cached_property
    def legal_alerts(self) -> ClockAlerts:
        """Where clock warnings go: legal_alert_url (signed with webhook_secrets) and/or mail through
        legal_alert_smtp_host; with neither, the log."""
        settings = self.settings
        ports: list[ClockAlerts] = []
        if settings.legal_alert_url:
            endpoint = self._signed_endpoint(
                settings.legal_alert_url, "legal_alert_url", settings.webhook_timeout_s
            )
            ports.append(HttpAlerts(endpoint))
        if settings.legal_alert_smtp_host:
            password = settings.legal_alert_smtp_password
            server = MailServer(
                settings.legal_alert_smtp_host,
                settings.legal_alert_smtp_port,
                starttls=settings.legal_alert_smtp_starttls,
                user=settings.legal_alert_smtp_user or "",
                password=password.reveal() if password else "",
                timeout_s=settings.webhook_timeout_s,
            )
            to = [a.strip() for a in settings.legal_alert_mail_to.split(",") if a.strip()]
            ports.append(
                MailAlerts(
                    server, sender=settings.legal_alert_mail_from, to=to, desk_url=settings.public_base_url
                )
            )
        if not ports:
            return LogAlerts()
        return ports[0] if len(ports) == 1 else EveryAlerts(ports)

    def run_worker(
        self,
        index: BankIndex,
        *,
        kinds: Collection[str] | None = None,
        until_drained: bool = False,
        stop_event: threading.Event | None = None,
        install_signal_handlers: bool = True,
        worker_id: str | None = None,
    ) -> WorkerCounters:
        """Run jobs with every handler of this platform, configured from settings, until SIGTERM/SIGINT
        (or ``stop_event``, or, with ``until_drained``, until no job is queued or leased). The one way
        ``suraksha worker``, ``suraksha serve`` and ``suraksha demo`` run jobs. An index nobody follows
        is followed while the jobs run (one left unrefreshed answers not-ready after
        ``index_stale_after_s``, and the pipeline's jobs would wait for ever)."""
        ours = not index.following
        if ours:
            index.follow(interval_s=1.0)
        try:
            return run_worker(
                self.db,
                self.job_handlers(index),
                worker_id=worker_id,
                kinds=kinds,
                stop_event=stop_event,
                config=WorkerConfig.from_settings(self.settings),
                until_drained=until_drained,
                install_signal_handlers=install_signal_handlers,
            )
        finally:
            if ours:
                index.close()

    @contextmanager
    def worker_threads(self, index: BankIndex, count: int) -> Iterator[None]:
        """``count`` job workers as threads of this process (the one-process SQLite deployment) for the
        life of the block; on leaving it a job in hand is finished (or released) before they stop."""
        stop = threading.Event()
        threads = [
            threading.Thread(
                target=self.run_worker,
                args=(index,),
                kwargs={
                    "stop_event": stop,
                    "install_signal_handlers": False,
                    "worker_id": f"{default_worker_id()}-serve-{n}",
                },
                name=f"serve-worker-{n}",
                daemon=True,
            )
            for n in range(count)
        ]
        for thread in threads:
            thread.start()
        try:
            yield
        finally:
            stop.set()
            bell.ring()  # idle workers notice at once
            for thread in threads:
                thread.join(timeout=60)

    @cached_property
    def audit_checkpoints(self) -> audit.CheckpointFile:
        """Where the audit chain's checkpoints go (outside the database), signed when
        audit_signing_key is set."""
        path = self.settings.audit_checkpoint_file
        key = self.settings.audit_signing_key
        return audit.CheckpointFile(
            Path(path) if path else self.settings.data_path / "audit-checkpoints.jsonl",
            audit.signing_key_from_text(key) if key else None,
        )

    def audit_checkpoint(self) -> audit.Checkpoint | None:
        """Checkpoint the audit chain's head now (the worker does it every audit_checkpoint_every_s)."""
        with self.db.reading() as session:
            return audit.write_checkpoint(session, self.audit_checkpoints)

    def _audit_checkpoint_job(self, _ctx: JobContext) -> None:
        self.audit_checkpoint()

    def audit_verify(self, *, expect: str | None = None, checkpoints: bool = True) -> audit.VerifyResult:
        """Verify the audit chain, against its checkpoints unless ``checkpoints`` is False. A bad
        checkpoint line (forged, altered, not one) is a failed verification, saying which line."""
        try:
            anchors = self.audit_checkpoints.read() if checkpoints else []
        except InvalidInput as exc:
            return audit.VerifyResult(False, 0, None, None, None, str(exc))
        with self.db.reading() as session:
            return audit.verify(session, expect=expect, checkpoints=anchors)

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

    @cached_property
    def legal_rules(self) -> JurisdictionRules:
        """Every deadline of the legal desk: the built-in jurisdiction files, then the operator's."""
        raw = self.settings.legal_jurisdiction_paths or ""
        return JurisdictionRules.load(Path(p) for p in raw.split(os.pathsep) if p.strip())

    @cached_property
    def url_patterns(self) -> UrlPatterns:
        """The platform's post and profile URL patterns, to read back the URLs people name."""
        return UrlPatterns(item=self.settings.platform_item_url, profile=self.settings.platform_profile_url)

    # Actions the platform acknowledges (suraksha.enforcement.acknowledgements).

    def acknowledge_actions(self, acks: Sequence[Acknowledgement], *, by: str) -> list[ActionOut]:
        """Record the platform's outcomes (done, failed with a reason), all or none; a newly failed
        action reopens its item's case. Answers the actions as the feed shows them."""
        with self.db.session() as session:
            done = acknowledgements.acknowledge(session, acks, by=by, on_failure=ACTION_FAILED_FOLLOW_UP)
            return actions_out(session, done, overdue_after_s=self.settings.action_ack_overdue_s)

    def unconfirmed_actions(
        self, *, include_failed: bool = True, now: datetime | None = None, limit: int = 500
    ) -> list[ActionOut]:
        """Actions the platform has not confirmed for longer than ``action_ack_overdue_s``, and those
        it said failed, oldest first: what people follow up (CLI, console dashboard)."""
        overdue_s = self.settings.action_ack_overdue_s
        with self.db.reading() as session:
            rows = acknowledgements.unconfirmed(
                session, overdue_s, now=now, include_failed=include_failed, limit=limit
            )
            return actions_out(session, rows, overdue_after_s=overdue_s)

    # Banks: every change in its own transaction with the same audit row (``bank:change``), whether a
    # person makes it in the console or on the command line.

    def bank_create(self, name: str, *, actor: str, **fields: Any) -> str:
        with self.db.session() as session:
            bank = bank_services.create_bank(session, name, **fields)
            self._bank_change(
                session, actor, bank.name, "bank.create", category=bank.category, kind=bank.kind
            )
            return bank.name

    def bank_add_entries(
        self, name: str, entries: Sequence[bank_services.NewEntry], *, actor: str
    ) -> tuple[list[int], int]:
        """Add hashes to a bank (each once); the ids of the new entries, and how many were there already."""
        with self.db.session() as session:
            bank = bank_services.get_bank(session, name)
            added, unchanged = [], 0
            for new in entries:
                entry, created = bank_services.add_entry(
                    session,
                    bank,
                    new.signal_type,
                    new.value,
                    quality=new.quality,
                    source=new.source,
                    source_ref=new.source_ref,
                    note=new.note,
                )
                if created:
                    added.append(entry.id)
                    self._bank_change(
                        session, actor, name, "entry.add", entry=entry.id, signal_type=entry.signal_type
                    )
                else:
                    unchanged += 1
            return added, unchanged

    def bank_import(
        self, name: str, text: str, *, actor: str, source_ref: str, **options: Any
    ) -> ImportResult:
        """Import a hash list: all or nothing unless ``skip_invalid`` (nothing is written, and no audit
        row, when the result is not committed)."""
        with self.db.session() as session:
            result = bank_services.import_entries(
                session, name, text, source=EntrySource.FILE, source_ref=source_ref, **options
            )
            if not result.committed:
                session.rollback()
                return result
            self._bank_change(
                session,
                actor,
                result.bank,
                "bank.import",
                added=result.added,
                rejected=len(result.rejected),
                file=source_ref[:200],
            )
            return result

    def bank_set_enabled(self, name: str, enabled: bool, *, actor: str) -> None:
        with self.db.session() as session:
            bank_services.set_bank_enabled(session, name, enabled)
            self._bank_change(session, actor, name, "bank.enable" if enabled else "bank.disable")

    def bank_set_entry_enabled(
        self,
        entry_id: int,
        enabled: bool,
        *,
        actor: str,
        bank_name: str | None = None,
        until: datetime | None = None,
        reason: str = "",
    ) -> BankEntry:
        """Disable an entry (for good or until a time) or enable it again; ``bank_name``, when given,
        must be the entry's bank. Answers the entry, detached."""
        with self.db.session() as session:
            current = session.get(BankEntry, entry_id)
            bank = session.get(Bank, current.bank_id) if current is not None else None
            if current is None or bank is None or (bank_name is not None and bank.name != bank_name):
                where = f" in bank {bank_name!r}" if bank_name else ""
                raise NotFound(f"no entry {entry_id}{where}; `suraksha bank show NAME --entries` lists ids")
            entry = bank_services.set_entry_enabled(
                session, entry_id, enabled, until=until, reason=reason.strip()
            )
            change = "entry.enable" if enabled else "entry.disable"
            self._bank_change(session, actor, bank.name, change, entry=entry_id, reason=reason.strip()[:200])
            session.flush()
            session.expunge(entry)
            return entry

    @staticmethod
    def _bank_change(session: Session, actor: str, bank: str, change: str, **details: object) -> None:
        audit.record(
            session, actor, audit.AuditAction.BANK_CHANGE, f"bank:{bank}", {"change": change, **details}
        )

    # The legal desk. Each operation owns its transaction and answers plain data (the request as
    # ``legal.request_dict`` shows it, clocks at ``now``); ``now`` defaults to the wall clock.

    def legal_add_authority(self, *, actor: str, **fields: str) -> dict[str, object]:
        with self.db.session() as session:
            return legal.authority_dict(legal.add_authority(session, actor=actor, **fields))

    def legal_authorities(self) -> list[dict[str, object]]:
        with self.db.reading() as session:
            return [legal.authority_dict(a) for a in legal.list_authorities(session)]

    def legal_requests(
        self, *, open_only: bool = True, now: datetime | None = None
    ) -> list[dict[str, object]]:
        now = now or utcnow()
        with self.db.reading() as session:
            return [
                legal.request_dict(r, self.legal_rules, now)
                for r in legal.list_requests(session, open_only=open_only)
            ]

    def legal_receive(
        self, new: legal.NewRequest, *, actor: str, now: datetime | None = None
    ) -> dict[str, object]:
        now = now or utcnow()
        with self.db.session() as session:
            request = legal.receive(
                session, self.legal_rules, new, actor=actor, now=now, patterns=self.url_patterns
            )
            return legal.request_dict(request, self.legal_rules, now)

    def legal_forward(
        self,
        new: legal.NewRequest,
        *,
        authority: dict[str, str] | None,
        actor: str,
        now: datetime | None = None,
    ) -> tuple[dict[str, object], bool]:
        """A request forwarded by the platform's portal (registers its sender on first sight); the
        request as shown, and whether it is new."""
        now = now or utcnow()
        with self.db.session() as session:
            request, created = legal.forward(
                session,
                self.legal_rules,
                new,
                authority=authority,
                actor=actor,
                now=now,
                patterns=self.url_patterns,
            )
            return legal.request_dict(request, self.legal_rules, now), created

    def legal_request(self, request_id: int, *, now: datetime | None = None) -> dict[str, object]:
        with self.db.reading() as session:
            return legal.request_dict(
                legal.get_request(session, request_id), self.legal_rules, now or utcnow()
            )

    def legal_due(
        self, *, now: datetime | None = None, within: timedelta | None = None
    ) -> list[dict[str, object]]:
        """Every unmet clock of an open request, overdue first, then soonest."""
        now = now or utcnow()
        with self.db.reading() as session:
            return [
                {"request_id": d.request.id, "reference": d.request.reference, **d.clock.as_dict()}
                for d in legal.due(session, self.legal_rules, now=now, within=within)
            ]

    def legal_verify(
        self,
        request_id: int,
        *,
        actor: str,
        how: str,
        rank_accepted_because: str = "",
        now: datetime | None = None,
    ) -> dict[str, object]:
        return self._legal(
            lambda s, t: legal.verify(
                s,
                self.legal_rules,
                request_id,
                actor=actor,
                how=how,
                now=t,
                rank_accepted_because=rank_accepted_because,
            ),
            now,
        )

    def legal_reject(
        self, request_id: int, *, reason: RejectReason, detail: str, actor: str, now: datetime | None = None
    ) -> dict[str, object]:
        return self._legal(
            lambda s, t: legal.reject(s, request_id, reason=reason, detail=detail, actor=actor, now=t), now
        )

    def legal_start(
        self, request_id: int, *, actor: str, note: str = "", now: datetime | None = None
    ) -> dict[str, object]:
        return self._legal(lambda s, t: legal.start(s, request_id, actor=actor, now=t, note=note), now)

    def legal_answer(
        self, request_id: int, *, actor: str, partly_because: str = "", now: datetime | None = None
    ) -> dict[str, object]:
        return self._legal(
            lambda s, t: legal.answer(s, request_id, actor=actor, now=t, partly_because=partly_because), now
        )

    def legal_close(
        self, request_id: int, *, actor: str, note: str = "", now: datetime | None = None
    ) -> dict[str, object]:
        """Close a request; the holds placed for it are released (other holds on the evidence stay)."""

        def close(session: Session, at: datetime) -> LegalRequest:
            request = legal.close(session, request_id, actor=actor, now=at, note=note)
            legal_actions.release_holds(
                session, request, actor=self._legal_holder(actor), now=at, reason="closed"
            )
            return request

        return self._legal(close, now)

    def legal_withdraw(
        self, request_id: int, *, actor: str, note: str, now: datetime | None = None
    ) -> dict[str, object]:
        """The authority took the request back: it closes, its holds are released, and what was withheld
        or removed under it is restored."""

        def withdraw(session: Session, at: datetime) -> LegalRequest:
            request = legal.withdraw(session, request_id, actor=actor, now=at, note=note)
            legal_actions.lift(session, request, actor=actor, now=at, follow_ups=DECISION_FOLLOW_UPS)
            legal_actions.release_holds(
                session, request, actor=self._legal_holder(actor), now=at, reason="withdrawn"
            )
            return request

        return self._legal(withdraw, now)

    def legal_preserve(
        self, request_id: int, *, actor: str, now: datetime | None = None
    ) -> dict[str, object]:
        """Preserve everything in the request's scope and hold it for the jurisdiction's period."""

        def preserve(session: Session, at: datetime) -> LegalRequest:
            legal_actions.preserve(
                session, self.legal_rules, request_id, actor=actor, now=at, follow_ups=DECISION_FOLLOW_UPS
            )
            return legal.get_request(session, request_id)

        return self._legal(preserve, now)

    def legal_renew(
        self, request_id: int, *, actor: str, reason: str, now: datetime | None = None
    ) -> dict[str, object]:
        """The authority renewed its preservation: the request's holds run one more period."""

        def renew(session: Session, at: datetime) -> LegalRequest:
            legal_actions.renew(session, self.legal_rules, request_id, actor=actor, now=at, reason=reason)
            return legal.get_request(session, request_id)

        return self._legal(renew, now)

    def legal_act(
        self,
        request_id: int,
        kind: ActionKind,
        *,
        actor: str,
        countries: Sequence[str] = (),
        now: datetime | None = None,
    ) -> dict[str, object]:
        """Withhold or remove everything in scope under a verified order (the order is each action's
        basis); the actions go to the platform like any other."""

        def carry_out(session: Session, at: datetime) -> LegalRequest:
            legal_actions.act(
                session,
                request_id,
                kind,
                actor=actor,
                now=at,
                countries=countries,
                follow_ups=DECISION_FOLLOW_UPS,
            )
            return legal.get_request(session, request_id)

        return self._legal(carry_out, now)

    def legal_disclose(
        self, request_id: int, *, actor: EvidenceActor, now: datetime | None = None
    ) -> dict[str, object]:
        """Draft the disclosure package for a verified request (a second person approves it)."""
        with self.db.session() as session:
            drafted = legal_disclosure.draft(
                session,
                self.vault,
                request_id,
                actor=actor,
                out_dir=self._legal_dir / legal_disclosure.FOLDERS["disclosure"],
                organisation=self.settings.platform_name,
                now=now or utcnow(),
            )
            return legal_disclosure.disclosure_dict(drafted)

    def legal_approve_disclosure(
        self, disclosure_id: int, *, actor: EvidenceActor, now: datetime | None = None
    ) -> dict[str, object]:
        with self.db.session() as session:
            approved = legal_disclosure.approve(session, disclosure_id, actor=actor, now=now or utcnow())
            return legal_disclosure.disclosure_dict(approved)

    def legal_disclosure_sent(
        self, disclosure_id: int, *, via: str, actor: EvidenceActor, now: datetime | None = None
    ) -> dict[str, object]:
        with self.db.session() as session:
            sent = legal_disclosure.mark_sent(
                session, disclosure_id, via=via, actor=actor, now=now or utcnow()
            )
            return legal_disclosure.disclosure_dict(sent)

    # Accountability: the figures and answers a regulator or a commission asks for.

    def answer(
        self,
        start: datetime,
        end: datetime,
        *,
        items: Sequence[str] = (),
        questions: Sequence[str] = COMMISSION_QUESTIONS,
        now: datetime | None = None,
    ) -> Answer:
        """The commission's questions for the period, answered from the records (each post or URL in
        ``items`` explained)."""
        with self.db.reading() as session:
            return compose_answer(
                session,
                Period(start, end),
                policy=self.policy,
                packs=self.rule_engine.packs,
                now=now or utcnow(),
                items=items,
                patterns=self.url_patterns,
                questions=questions,
            )

    def stats_series(self, period: Period, by: Granularity) -> list[Bucket]:
        """Every measure for each calendar bucket of ``period`` (``transparency.series``): what the
        console's charts and CSV show. InvalidInput when ``by`` cuts it into too many buckets."""
        with self.db.reading() as session:
            return series(session, period, by)

    def export_answer(self, answer: Answer, kind: str, *, actor: str) -> bytes:
        """The answer as a document made now, ``pdf`` (to send) or ``docx`` (to edit); the export is
        audited (``export:create``, naming the document's SHA-256, the period and how many posts)."""
        organisation = self.settings.platform_name
        if kind == "pdf":
            data = answer_documents.render_pdf(answer, organisation=organisation)
        elif kind == "docx":
            data = answer_documents.render_docx(answer, organisation=organisation)
        else:
            raise InvalidInput(f"an answer is exported as pdf or docx, not {kind[:20]!r}")
        sha256 = hashlib.sha256(data).hexdigest()
        with self.db.session() as session:
            audit.record(
                session,
                actor,
                audit.AuditAction.EXPORT_CREATE,
                f"answer:{sha256[:32]}",
                {
                    "document": f"answer.{kind}",
                    "sha256": sha256,
                    "period_start": answer.period_start,
                    "period_end": answer.period_end,
                    "posts_named": len(answer.items),
                },
            )
        return data

    def write_answer(self, answer: Answer, folder: Path, *, heading: str = "Reply to the notice") -> str:
        """The answer as ``reply.pdf`` (to send), ``reply.docx`` (to edit) and ``answer.json`` (exact), in
        a private folder; returns the PDF's SHA-256."""
        organisation = self.settings.platform_name
        pdf = answer_documents.render_pdf(answer, heading=heading, organisation=organisation)
        write_private(folder / "reply.pdf", pdf)
        write_private(
            folder / "reply.docx",
            answer_documents.render_docx(answer, heading=heading, organisation=organisation),
        )
        write_private(
            folder / "answer.json", json.dumps(answer.as_dict(), indent=2, ensure_ascii=False).encode()
        )
        return hashlib.sha256(pdf).hexdigest()

    def legal_reply(
        self, request_id: int, *, actor: EvidenceActor, now: datetime | None = None
    ) -> dict[str, object]:
        """Draft the reply to a commission's notice: its questions answered from the records, for the
        period its scope names (else the four years before it arrived), each post it names explained.
        A second person approves it before it is sent (``legal_approve_disclosure``)."""
        now = now or utcnow()
        with self.db.reading() as session:
            request = legal.get_request(session, request_id)
            ranges = [(s.from_at, s.to_at) for s in request.scope if s.from_at and s.to_at]
            start = min((r[0] for r in ranges), default=request.received_at - timedelta(days=4 * 365))
            end = max((r[1] for r in ranges), default=request.received_at)
            named = [s.value for s in request.scope if s.kind in ("item", "url")]
            heading = f"Reply to {request.reference or 'the notice'}"
        drafted = self.answer(start, end, items=named, now=now)
        with self.db.session() as session:
            reply = legal_disclosure.record_reply(
                session,
                request_id,
                actor=actor,
                now=now,
                write=lambda folder: self.write_answer(drafted, folder, heading=heading),
                out_dir=self._legal_dir / legal_disclosure.FOLDERS["reply"],
            )
            return legal_disclosure.disclosure_dict(reply)

    @property
    def _legal_dir(self) -> Path:
        """Where disclosure packages and replies are written (private folders, one per id)."""
        return self.settings.data_path / "legal"

    def legal_disclosure_file(
        self, request_id: int, disclosure_id: int, name: str, *, actor: EvidenceActor, reason: str
    ) -> legal_disclosure.PackageFile:
        """One file of a request's disclosure package or reply (``legal_disclosure.PACKAGE_FILES``),
        its opening audited (``evidence:access``) and committed before it is handed out."""
        with self.db.session() as session:
            return legal_disclosure.open_file(
                session,
                disclosure_id,
                name,
                request_id=request_id,
                actor=actor,
                legal_dir=self._legal_dir,
                reason=reason,
            )

    @staticmethod
    def _legal_holder(actor: str) -> EvidenceActor:
        """The legal desk ends its own holds: the person who ended the request, with the legal role
        the desk's commands and API already required of them."""
        return EvidenceActor(actor, frozenset({Role.LEGAL.value}))

    def legal_mark_done(
        self, request_id: int, step: Step, *, actor: str, note: str = "", now: datetime | None = None
    ) -> dict[str, object]:
        return self._legal(
            lambda s, t: legal.mark_done(s, request_id, step, actor=actor, now=t, note=note), now
        )

    def _legal(
        self, change: Callable[[Session, datetime], LegalRequest], now: datetime | None
    ) -> dict[str, object]:
        now = now or utcnow()
        with self.db.session() as session:
            return legal.request_dict(change(session, now), self.legal_rules, now)

    def close(self) -> None:
        if "db" in self.__dict__:
            self.db.dispose()
