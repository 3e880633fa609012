"""The Platform's exchange operations, as a mixin that ``suraksha.app.Platform`` inherits: the CLI and
the worker call these, never the modules underneath. Each owns its transaction(s)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from suraksha import audit
from suraksha.banks import services as bank_services
from suraksha.banks.models import Bank
from suraksha.errors import ConfigError
from suraksha.exchanges import services, sync, tasks
from suraksha.exchanges.credentials import Credentials, credentials_env_var, find_credentials
from suraksha.exchanges.feedback import FeedbackJobs, FeedbackVerdict
from suraksha.exchanges.models import Exchange, ExchangeApi, ExchangeEntry, Trust
from suraksha.exchanges.ports import ExchangeSource
from suraksha.exchanges.sync import FetchOptions, FetchResult
from suraksha.exchanges.tasks import ExchangeJobs
from suraksha.settings import Settings
from suraksha.worker.handlers import HandlerRegistry

if TYPE_CHECKING:
    from suraksha.db.engine import Database


class ExchangeOperations:
    settings: Settings
    if TYPE_CHECKING:

        @property
        def db(self) -> Database: ...

    @property
    def exchange_fetch_options(self) -> FetchOptions:
        s = self.settings
        return FetchOptions(
            budget_s=s.exchange_fetch_budget_s,
            every_s=s.exchange_fetch_every_s,
            backoff_base_s=s.exchange_backoff_base_s,
            backoff_max_s=s.exchange_backoff_max_s,
            commit_entries=s.exchange_commit_entries,
        )

    def exchange_credentials(self, name: str) -> Credentials | None:
        return find_credentials(name, self.settings.exchange_secrets_file)

    def exchange_source(self, exchange: Exchange) -> ExchangeSource:
        """The client for the exchange's list (``suraksha.exchanges.clients``, loaded here: only a fetch
        needs python-threatexchange)."""
        from suraksha.exchanges.clients import FileSource, NcmecSource, StaticSampleSource  # noqa: PLC0415

        api = ExchangeApi(exchange.api)
        settings = services.exchange_settings(exchange)
        if api == ExchangeApi.STATIC_SAMPLE:
            return StaticSampleSource(exchange.name)
        if api == ExchangeApi.FILE:
            return FileSource(
                exchange.name,
                str(settings["path"]),
                settings.get("signal_type"),
                page_size=int(settings.get("page_size", 1000)),
            )
        credentials = self.exchange_credentials(exchange.name)
        if credentials is None:
            raise ConfigError(
                f"exchange {exchange.name!r} has no credentials: set {credentials_env_var(exchange.name)} "
                "to user:password, or add it to the exchange_secrets_file"
            )
        if api in (ExchangeApi.STOPNCII, ExchangeApi.TAT, ExchangeApi.THREATEXCHANGE):
            if api == ExchangeApi.STOPNCII:
                from suraksha.exchanges.stopncii import StopNCIISource as Source  # noqa: PLC0415
            elif api == ExchangeApi.TAT:
                from suraksha.exchanges.tat import TATSource as Source  # type: ignore[assignment]  # noqa: PLC0415
            else:
                from suraksha.exchanges.threatexchange import (  # type: ignore[assignment]  # noqa: PLC0415
                    ThreatExchangeSource as Source,
                )
            return Source(
                exchange.name,
                settings,
                credentials,
                timeout_s=self.settings.exchange_timeout_s,
                budget_s=self.settings.exchange_fetch_budget_s,
            )
        return NcmecSource(
            exchange.name,
            settings,
            (credentials.user, credentials.password.reveal()),
            timeout_s=self.settings.exchange_timeout_s,
            budget_s=self.settings.exchange_fetch_budget_s,
        )

    def register_exchange_jobs(self, registry: HandlerRegistry) -> None:
        ExchangeJobs(
            db=self.db,
            fetch=lambda name, by: self.exchange_fetch(name, actor=by),
            every_s=self.settings.exchange_fetch_every_s,
        ).register(registry)
        FeedbackJobs(send=self.exchange_send_feedback).register(registry)

    def exchange_send_feedback(
        self, exchange: Exchange, record: ExchangeEntry, verdict: FeedbackVerdict
    ) -> None:
        """Report a reviewer's verdict on one of the exchange's records to the exchange
        (``suraksha.exchanges.feedback_clients``, loaded here: only the feedback job needs it)."""
        from suraksha.exchanges.feedback_clients import send_feedback  # noqa: PLC0415

        credentials = self.exchange_credentials(exchange.name)
        if credentials is None:
            raise ConfigError(
                f"exchange {exchange.name!r} has no credentials: set {credentials_env_var(exchange.name)}, "
                "or add it to the exchange_secrets_file"
            )
        send_feedback(
            exchange,
            services.exchange_settings(exchange),
            record,
            verdict,
            credentials,
            timeout_s=self.settings.exchange_timeout_s,
        )

    def _credentials_source(self, name: str) -> str | None:
        try:
            found = self.exchange_credentials(name)
        except ConfigError as exc:
            return f"unusable: {exc}"
        return found.source if found else None

    def exchange_create(
        self,
        name: str,
        api: ExchangeApi,
        bank: str,
        *,
        settings: Mapping[str, Any],
        trust: Trust,
        enabled: bool = True,
        new_bank: Mapping[str, Any] | None = None,
        actor: str,
    ) -> dict[str, object]:
        """Configure an exchange. ``new_bank`` (``banks.services.create_bank``'s fields): create the bank
        first when there is none of that name, in the same transaction (HMA's ``POST /c/exchanges``
        makes the exchange's bank), so a refused exchange leaves no bank behind."""
        with self.db.session() as session:
            if new_bank is not None and session.scalar(select(Bank.id).where(Bank.name == bank)) is None:
                made = bank_services.create_bank(session, bank, **new_bank)
                audit.record(
                    session,
                    actor,
                    audit.AuditAction.BANK_CHANGE,
                    f"bank:{made.name}",
                    {"change": "bank.create", "category": made.category, "kind": made.kind},
                )
            exchange = services.create_exchange(
                session, name, api, bank, settings=settings, trust=trust, enabled=enabled, by=actor
            )
            return services.exchange_view(session, exchange, credentials=self._credentials_source(name))

    def exchanges_list(self) -> list[dict[str, object]]:
        with self.db.reading() as session:
            return [
                services.exchange_view(session, e, credentials=self._credentials_source(e.name))
                for e in services.list_exchanges(session)
            ]

    def exchange_show(self, name: str, *, runs: int = 10) -> dict[str, object]:
        with self.db.reading() as session:
            exchange = services.get_exchange(session, name)
            view = services.exchange_view(session, exchange, credentials=self._credentials_source(name))
            view["runs"] = [services.run_view(r) for r in services.runs_of(session, exchange, runs)]
            return view

    def exchange_set_enabled(self, name: str, enabled: bool, *, actor: str) -> dict[str, object]:
        with self.db.session() as session:
            exchange = services.set_enabled(session, name, enabled, by=actor)
            return services.exchange_view(session, exchange, credentials=self._credentials_source(name))

    def exchange_update(
        self,
        name: str,
        *,
        trust: Trust | None = None,
        settings: Mapping[str, Any] | None = None,
        actor: str,
    ) -> dict[str, object]:
        """Change the exchange's trust and/or its API settings (``services.update_exchange``)."""
        with self.db.session() as session:
            exchange = services.update_exchange(session, name, trust=trust, settings=settings, by=actor)
            return services.exchange_view(session, exchange, credentials=self._credentials_source(name))

    def exchange_delete(self, name: str, *, actor: str) -> None:
        with self.db.session() as session:
            services.delete_exchange(session, name, by=actor)

    def exchange_request_fetch(self, name: str, *, actor: str) -> int | None:
        """A person's "fetch now": audited, and queued for the worker (``services.request_fetch``)."""
        with self.db.session() as session:
            return tasks.request_fetch(session, name, by=actor)

    def exchange_fetch(
        self, name: str, *, actor: str, after_page: Callable[[int], None] | None = None
    ) -> FetchResult:
        """Fetch the exchange now, from its checkpoint, within exchange_fetch_budget_s (a run of its
        own whether the worker or a person starts it; a failure is on the run, not raised)."""
        try:
            found = self.exchange_credentials(name)
        except ConfigError:
            found = None
        scrub = (found.password.reveal(),) if found else ()
        return sync.fetch(
            self.db,
            name,
            self.exchange_source,
            by=actor,
            options=self.exchange_fetch_options,
            scrub=scrub,
            after_page=after_page,
        )
