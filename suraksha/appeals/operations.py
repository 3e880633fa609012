"""The Platform's operations on notices to users and appeals, as a mixin that ``suraksha.app.Platform``
inherits: the CLI, the web layer and the worker call these."""

from __future__ import annotations

from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any

from suraksha.appeals import rates as appeal_rates
from suraksha.appeals import services as appeals
from suraksha.appeals.services import AppealOptions, NewAppeal
from suraksha.db.base import utcnow
from suraksha.enforcement import user_notices
from suraksha.enforcement.user_notices import NoticeOptions
from suraksha.errors import NotFound
from suraksha.legal.clocks import JurisdictionRules, RequestKind, Step
from suraksha.legal.notice_bars import notice_bar
from suraksha.outbound.webhooks import WebhookEndpoint, WebhookSender
from suraksha.settings import Settings
from suraksha.worker.handlers import HandlerRegistry

if TYPE_CHECKING:
    from suraksha.db.engine import Database


class AppealOperations:
    settings: Settings
    if TYPE_CHECKING:

        @property
        def db(self) -> Database: ...

        @property
        def legal_rules(self) -> JurisdictionRules: ...

        @property
        def webhook_endpoints(self) -> dict[str, WebhookEndpoint]: ...

    @cached_property
    def notice_options(self) -> NoticeOptions:
        """How notices to users are prepared: the tip-off categories, the appeal window of
        ``appeal_jurisdiction``, the legal desk's gags (its port), the platform's webhook."""
        try:
            within = self.legal_rules.rule(
                self.settings.appeal_jurisdiction, RequestKind.APPEAL, Step.LODGE
            ).within
        except NotFound:
            within = None
        return NoticeOptions(
            tip_off_categories=frozenset(self.settings.notice_withhold_categories.lower().split()),
            appeal_within=within,
            terms_ground=self.settings.dsa_sor_terms_ground,
            bars=notice_bar,
            endpoints=self.webhook_endpoints,
        )

    @cached_property
    def appeal_options(self) -> AppealOptions:
        return AppealOptions.from_settings(self.settings)

    def register_notice_jobs(self, registry: HandlerRegistry, sender: WebhookSender) -> None:
        user_notices.register(registry, self.db, self.notice_options, sender)
        if self.settings.notice_release_every_s > 0:
            registry.schedule(user_notices.RELEASE_LIFTED, self.settings.notice_release_every_s)

    # Appeals.

    def appeal_lodge(
        self, new: NewAppeal, *, by: str, now: datetime | None = None
    ) -> tuple[dict[str, Any], bool]:
        """Lodge a user's appeal (``suraksha.appeals.services.lodge``): the appeal as the platform reads
        it, and whether it is new."""
        now = now or utcnow()
        with self.db.session() as session:
            appeal, created = appeals.lodge(
                session, self.legal_rules, new, self.appeal_options, by=by, now=now
            )
            return appeals.appeal_dict(session, appeal, self.legal_rules, now), created

    def appeal(self, appeal_id: int, *, now: datetime | None = None) -> dict[str, Any]:
        with self.db.reading() as session:
            return appeals.appeal_dict(
                session, appeals.get_appeal(session, appeal_id), self.legal_rules, now or utcnow()
            )

    def appeals_list(self, *, state: str | None = None, now: datetime | None = None) -> list[dict[str, Any]]:
        now = now or utcnow()
        with self.db.reading() as session:
            return [
                appeals.appeal_dict(session, a, self.legal_rules, now)
                for a in appeals.list_appeals(session, state=state)
            ]

    def appeal_rates(self, *, actor: str, flag: bool = True) -> list[appeal_rates.ReversalRate]:
        """Reversal rates by policy, tool, bank, rule and classifier; with ``flag``, the often wrong
        flagged (and cleared) first (``appeal_flag_threshold``, ``appeal_flag_min_count``)."""
        if not flag:
            with self.db.reading() as session:
                return appeal_rates.reversal_rates(session)
        with self.db.session() as session:
            return appeal_rates.flag_often_wrong(
                session,
                threshold=self.settings.appeal_flag_threshold,
                min_count=self.settings.appeal_flag_min_count,
                actor=actor,
                now=utcnow(),
            )

    # Notices to users.

    def user_notice_feed(self, *, after: int = 0, limit: int = 100) -> tuple[list[dict[str, Any]], int]:
        """Notices ready for users, in order, and the cursor to pass next."""
        with self.db.reading() as session:
            rows = user_notices.notice_feed(session, after=after, limit=limit)
            return [user_notices.notice_dict(n) for _, n in rows], (rows[-1][0] if rows else after)

    def user_notices(self, *, state: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        with self.db.reading() as session:
            return [
                user_notices.notice_dict(n)
                for n in user_notices.list_notices(session, state=state, limit=limit)
            ]

    def notice_release(self, notice_id: int, *, actor: str, note: str) -> dict[str, Any]:
        """A person releases a withheld notice (audited); it goes out unless a gag still holds it."""
        with self.db.session() as session:
            return user_notices.notice_dict(user_notices.release(session, notice_id, actor=actor, note=note))

    def notices_release_lifted(self, *, now: datetime | None = None) -> list[int]:
        """Release notices whose gag or investigation has ended (the worker does it on a schedule)."""
        with self.db.session() as session:
            return user_notices.release_lifted(session, self.notice_options, now or utcnow())
