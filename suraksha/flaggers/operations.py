"""The Platform's trusted-flagger operations, as a mixin that ``suraksha.app.Platform`` inherits: the
CLI, the web layer and the worker call these, never the modules underneath. Each owns its transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from suraksha.access.models import ConsoleUser
from suraksha.db.base import utcnow
from suraksha.flaggers import registry, services, staff
from suraksha.flaggers.accuracy import AccuracyOptions, FlaggerAccuracy, flagger_accuracy
from suraksha.flaggers.models import Flagger, FlaggerState, Notice
from suraksha.flaggers.ports import HttpPlatformItems, LocalPlatformItems, PlatformItems
from suraksha.flaggers.schemas import NoticeIn
from suraksha.flaggers.tasks import FlaggerJobs
from suraksha.outbound.webhooks import WebhookEndpoint, WebhookSender
from suraksha.settings import Settings
from suraksha.vault.crypto import EnvelopeCipher
from suraksha.worker.handlers import HandlerRegistry

if TYPE_CHECKING:
    from suraksha.content.lookup import UrlPatterns
    from suraksha.db.engine import Database
    from suraksha.intake.store import MediaStore
    from suraksha.legal.clocks import JurisdictionRules


@dataclass(frozen=True)
class StaffMember:
    """A flagger's console user sending or reading notices (the API's callers are named by their key's
    prefix instead): the flagger is the one they belong to (``suraksha.flaggers.staff``)."""

    user_id: int
    actor: str
    """``user:<pseudonym>``: the notice's audit row names them."""


def _sender(session: Session, caller: str | StaffMember) -> tuple[Flagger, str | None]:
    """The flagger a caller speaks for, and the audit actor (None: the key's default)."""
    if isinstance(caller, StaffMember):
        return staff.flagger_of_user(session, caller.user_id), caller.actor
    return registry.flagger_of_key(session, caller), None


class FlaggerOperations:
    settings: Settings
    if TYPE_CHECKING:

        @property
        def db(self) -> Database: ...

        @property
        def legal_rules(self) -> JurisdictionRules: ...

        @property
        def url_patterns(self) -> UrlPatterns: ...

        @property
        def media_store(self) -> MediaStore: ...

        def _signed_endpoint(self, url: str, setting: str, timeout_s: float) -> WebhookEndpoint: ...

    @cached_property
    def flagger_cipher(self) -> EnvelopeCipher:
        """Seals the flaggers' webhook secrets under the vault's key."""
        return EnvelopeCipher(self.settings.vault_kek, self.settings.vault_kek_previous)

    @cached_property
    def flagger_items(self) -> PlatformItems:
        """Where items a notice names but we do not hold are asked for: platform_item_fetch_url
        (signed with webhook_secrets), else the local stand-in (knows no items; tests and the demo
        give it some)."""
        url = self.settings.platform_item_fetch_url
        if not url:
            return LocalPlatformItems()
        endpoint = self._signed_endpoint(url, "platform_item_fetch_url", self.settings.fetch_timeout_s)
        return HttpPlatformItems(endpoint)

    @cached_property
    def flagger_accuracy_options(self) -> AccuracyOptions:
        return AccuracyOptions(
            min_accuracy=self.settings.flagger_min_accuracy,
            min_notices=self.settings.flagger_accuracy_min_notices,
        )

    def register_flagger_jobs(self, registry: HandlerRegistry, sender: WebhookSender) -> None:
        FlaggerJobs(
            db=self.db,
            rules=self.legal_rules,
            items=self.flagger_items,
            store=self.media_store,
            sender=sender,
            cipher=self.flagger_cipher,
            accuracy=self.flagger_accuracy_options,
            max_media_bytes=self.settings.media_max_bytes,
            webhook_timeout_s=self.settings.webhook_timeout_s,
            max_attempts=self.settings.job_max_attempts,
        ).register(registry)

    # The registry (administrators).

    def flagger_add(self, new: registry.NewFlagger, *, actor: str) -> dict[str, object]:
        """Register a flagger; the answer holds its API key and webhook secret, shown this once."""
        with self.db.session() as session:
            made = registry.register(session, new, self.legal_rules, self.flagger_cipher, by=actor)
            shown = self._flagger_dict(made.flagger)
        return {**shown, "api_key": made.api_key, "webhook_secret": made.webhook_secret}

    def flaggers_list(self) -> list[dict[str, object]]:
        with self.db.reading() as session:
            figures = {f.flagger: f for f in flagger_accuracy(session)}
            return [
                {**self._flagger_dict(f), "accuracy": figures[f.name].as_dict()}
                for f in registry.list_flaggers(session)
            ]

    def flagger_show(self, name: str) -> dict[str, object]:
        with self.db.reading() as session:
            flagger = registry.get_flagger(session, name)
            (figures,) = flagger_accuracy(session, flagger_id=flagger.id)
            return {**self._flagger_dict(flagger), "accuracy": figures.as_dict()}

    def flagger_set_state(
        self, name: str, state: FlaggerState, *, reason: str, actor: str
    ) -> dict[str, object]:
        """Suspend or reinstate (audited, with the reason)."""
        with self.db.session() as session:
            return self._flagger_dict(registry.set_state(session, name, state, reason=reason, by=actor))

    def flagger_update(self, name: str, changes: registry.FlaggerChanges, *, actor: str) -> dict[str, object]:
        with self.db.session() as session:
            return self._flagger_dict(registry.update(session, name, changes, self.legal_rules, by=actor))

    def flagger_new_key(self, name: str, *, actor: str) -> str:
        """A new API key for the flagger, the old one revoked; shown this once."""
        with self.db.session() as session:
            return registry.new_key(session, name, by=actor)

    def flagger_new_secret(self, name: str, *, actor: str) -> str:
        """A new webhook secret for the flagger; shown this once."""
        with self.db.session() as session:
            return registry.new_secret(session, name, self.flagger_cipher, by=actor)

    def flagger_clear_review(self, name: str, *, note: str, actor: str) -> dict[str, object]:
        with self.db.session() as session:
            return self._flagger_dict(registry.clear_status_review(session, name, note=note, by=actor))

    def flagger_figures(
        self, *, start: datetime | None = None, end: datetime | None = None
    ) -> list[FlaggerAccuracy]:
        """Every flagger's accuracy and median time to decision (leads; the statistics)."""
        with self.db.reading() as session:
            return flagger_accuracy(session, start=start, end=end)

    # Notices (a flagger's own API key).

    def notice_submit(
        self, caller: str | StaffMember, body: NoticeIn, *, now: datetime | None = None
    ) -> tuple[dict[str, object], bool]:
        """Receive a notice from the flagger the caller speaks for (an API key, by its prefix, or one of
        its console users: the same path for both); (its view, created)."""
        now = now or utcnow()
        for attempt in (1, 2):
            try:
                with self.db.session() as session:
                    flagger, actor = _sender(session, caller)
                    notice, created = services.submit_notice(
                        session,
                        flagger,
                        body,
                        self.legal_rules,
                        patterns=self.url_patterns,
                        max_upload_bytes=self.settings.media_max_bytes,
                        actor=actor,
                        now=now,
                    )
                    return services.notice_view(session, notice, self.legal_rules, now=now), created
            except IntegrityError:
                # Two writers at once (PostgreSQL): the same reference sent twice, or two notices opening
                # the same item's case. Once more: the other's rows are there now, and are answered or
                # joined.
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def notice_read(
        self, caller: str | StaffMember, notice_id: int, *, now: datetime | None = None
    ) -> dict[str, object]:
        """One of the caller's flagger's notices (another flagger's is "not found")."""
        with self.db.reading() as session:
            flagger, _ = _sender(session, caller)
            notice = services.get_notice(session, flagger, notice_id)
            return services.notice_view(session, notice, self.legal_rules, now=now)

    # A flagger's staff in the console.

    def flagger_add_user(self, name: str, email: str, *, actor: str) -> dict[str, object]:
        """Link a console user (role ``flagger`` alone) to the flagger; audited."""
        with self.db.session() as session:
            link = staff.add_user(session, name, email, by=actor)
            user = session.get(ConsoleUser, link.user_id)
            assert user is not None
            return {"flagger": name.strip().lower(), "email": user.email, "pseudonym": user.pseudonym}

    def flagger_remove_user(self, name: str, email: str, *, actor: str) -> None:
        """Unlink a console user from the flagger; their console sessions end now. Audited."""
        with self.db.session() as session:
            staff.remove_user(session, name, email, by=actor)

    def flagger_users(self, name: str) -> list[dict[str, object]]:
        with self.db.reading() as session:
            return [
                {
                    "email": user.email,
                    "pseudonym": user.pseudonym,
                    "linked_at": link.linked_at.isoformat(),
                    "last_sign_in_at": user.last_sign_in_at.isoformat() if user.last_sign_in_at else None,
                    "disabled": user.disabled_at is not None,
                }
                for user, link in staff.users_of(session, name)
            ]

    def staff_flagger(self, member: StaffMember) -> dict[str, object]:
        """The flagger a console user belongs to, as its staff see it: name, organisation, state (never
        its contacts, key, webhook or accuracy marks). Forbidden when they belong to none."""
        with self.db.reading() as session:
            flagger = staff.flagger_of_user(session, member.user_id)
            return {
                "name": flagger.name,
                "organisation": flagger.organisation,
                "jurisdiction": flagger.jurisdiction,
                "state": flagger.state,
                "state_reason": flagger.state_reason if flagger.state != FlaggerState.ACTIVE else "",
            }

    def staff_notices(
        self, member: StaffMember, *, limit: int = 100, now: datetime | None = None
    ) -> list[dict[str, object]]:
        """The latest notices of the flagger a console user belongs to, newest first, as the API shows
        them (state, clocks, outcome, what each target resolved to)."""
        with self.db.reading() as session:
            flagger = staff.flagger_of_user(session, member.user_id)
            notices = session.scalars(
                select(Notice).where(Notice.flagger_id == flagger.id).order_by(Notice.id.desc()).limit(limit)
            )
            return [services.notice_view(session, n, self.legal_rules, now=now) for n in notices]

    def flagger_notices(
        self, name: str, *, limit: int = 50, now: datetime | None = None
    ) -> list[dict[str, object]]:
        """A flagger's latest notices with their state and clocks (leads, the CLI), and the state of the
        webhooks owed on each (``webhooks``: event -> pending, delivered, failed or no_endpoint)."""
        with self.db.reading() as session:
            flagger = registry.get_flagger(session, name)
            notices = list(
                session.scalars(
                    select(Notice)
                    .where(Notice.flagger_id == flagger.id)
                    .order_by(Notice.id.desc())
                    .limit(limit)
                )
            )
            sent: dict[int, dict[str, str]] = {}
            for message in services.messages_of(session, [n.id for n in notices]):
                sent.setdefault(message.notice_id, {})[message.event] = message.state
            return [
                {
                    **services.notice_view(session, n, self.legal_rules, now=now),
                    "webhooks": sent.get(n.id, {}),
                }
                for n in notices
            ]

    def notices_due(
        self, *, within: timedelta | None = None, now: datetime | None = None
    ) -> list[dict[str, object]]:
        """Undecided notices whose decision clock is overdue or due within ``within``, overdue first."""
        with self.db.reading() as session:
            return services.notices_due(session, self.legal_rules, within=within, now=now)

    @staticmethod
    def _flagger_dict(flagger: Flagger) -> dict[str, object]:
        return {
            "name": flagger.name,
            "organisation": flagger.organisation,
            "country": flagger.country,
            "jurisdiction": flagger.jurisdiction,
            "designation": flagger.designation,
            "designated_on": flagger.designated_on.isoformat() if flagger.designated_on else None,
            "designating_authority": flagger.designating_authority,
            "contacts": [c for c in flagger.contacts.splitlines() if c],
            "expertise": flagger.expertise.split(),
            "priority": flagger.priority,
            "state": flagger.state,
            "state_reason": flagger.state_reason,
            "webhook_url": flagger.webhook_url,
            "status_review": flagger.status_review_reason if flagger.status_review_at else None,
            "created_at": flagger.created_at.isoformat(),
        }
