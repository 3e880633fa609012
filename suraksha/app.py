"""Platform: the one internal API that the CLI (and later web, worker and plugins) call. Thin."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from functools import cached_property
from pathlib import Path

import pluggy
from sqlalchemy.orm import Session

from suraksha.banks.index import BankIndex
from suraksha.content.lookup import UrlPatterns
from suraksha.db.base import utcnow
from suraksha.db.engine import Database, open_database
from suraksha.enforcement import acknowledgements
from suraksha.enforcement import tasks as enforcement_tasks
from suraksha.enforcement.acknowledgements import Acknowledgement
from suraksha.enforcement.follow_ups import DecisionFollowUps
from suraksha.enforcement.policy import Policy, load_policy
from suraksha.errors import ConfigError
from suraksha.intake import tasks as intake_tasks
from suraksha.intake.adapters import EngineRules, Fetch
from suraksha.intake.pipeline import Pipeline
from suraksha.intake.schemas import ActionOut
from suraksha.intake.store import MediaStore
from suraksha.intake.views import actions_out
from suraksha.legal import services as legal
from suraksha.legal.clocks import JurisdictionRules, Step
from suraksha.legal.models import LegalRequest, RejectReason
from suraksha.outbound.fetch import FetchPolicy, MediaFetcher
from suraksha.outbound.webhooks import WebhookEndpoint, WebhookSender, endpoint_secrets
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
from suraksha.vault import tasks as vault_tasks
from suraksha.vault.enrichment import EnrichmentSource, HttpEnrichment
from suraksha.vault.requests import request_preservation
from suraksha.vault.services import EvidenceVault
from suraksha.worker import bell
from suraksha.worker.handlers import HandlerRegistry
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


class Platform:
    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or Settings.load()

    @cached_property
    def db(self) -> Database:
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
        return MediaStore(self.settings.data_path / "media")

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
        enforcement_tasks.register(
            registry, self.db, self.webhook_endpoints, sender or WebhookSender(), ACTION_FAILED_FOLLOW_UP
        )
        reporting_tasks.register(
            registry,
            self.db,
            self.report_submitter,
            ReportOptions.from_settings(self.settings),
            VaultHolds(self.settings),
        )
        vault_tasks.register(registry, self.db, self.vault, self.enrichment)
        return registry

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
        ``suraksha worker``, ``suraksha serve`` and ``suraksha demo`` run jobs."""
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
    def vault(self) -> EvidenceVault:
        """The evidence vault (storage, keys, hold periods), for preservation, holds, access, export."""
        return EvidenceVault.from_settings(self.settings, self.media_store)

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

    # The legal desk. Each operation owns its transaction and answers plain data (the request as
    # ``legal.request_dict`` shows it, clocks at ``now``); ``now`` defaults to the wall clock.

    def legal_add_authority(self, *, actor: str, **fields: str) -> dict[str, object]:
        with self.db.session() as session:
            authority = legal.add_authority(session, actor=actor, **fields)
            return {"id": authority.id, "agency": authority.agency, "rank": authority.rank}

    def legal_receive(
        self, new: legal.NewRequest, *, actor: str, now: datetime | None = None
    ) -> dict[str, object]:
        now = now or utcnow()
        with self.db.session() as session:
            request = legal.receive(
                session, self.legal_rules, new, actor=actor, now=now, patterns=self.url_patterns
            )
            return legal.request_dict(request, self.legal_rules, now)

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
        return self._legal(lambda s, t: legal.close(s, request_id, actor=actor, now=t, note=note), now)

    def legal_withdraw(
        self, request_id: int, *, actor: str, note: str, now: datetime | None = None
    ) -> dict[str, object]:
        return self._legal(lambda s, t: legal.withdraw(s, request_id, actor=actor, now=t, note=note), now)

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
