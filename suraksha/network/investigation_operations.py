"""The Platform's network-investigation operations (a mixin of ``suraksha.app.Platform``): the CLI and
the console call these. Each names the person by console user id: their roles are read afresh in
the operation's transaction, so a role taken away or an account disabled takes effect at once."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy.orm import Session

from suraksha.access.models import ConsoleUser
from suraksha.db.base import utcnow
from suraksha.enforcement.follow_ups import DecisionFollowUps
from suraksha.errors import Conflict, Forbidden
from suraksha.network import export, investigation_detail, investigations
from suraksha.network.investigation_detail import InvestigationDetail
from suraksha.network.investigations import Preserved
from suraksha.network.services import NetworkOptions
from suraksha.permissions import Permission
from suraksha.reporting.referrals import referral_dict
from suraksha.reporting.services import report_dict
from suraksha.settings import Settings
from suraksha.vault.packages import PackageCheck

if TYPE_CHECKING:
    from suraksha.db.engine import Database
    from suraksha.vault.services import EvidenceVault

T = TypeVar("T")


class InvestigationOperations:
    settings: Settings
    if TYPE_CHECKING:

        @property
        def db(self) -> Database: ...

        @property
        def network_options(self) -> NetworkOptions: ...

        @property
        def vault(self) -> EvidenceVault: ...

        @property
        def investigation_follow_ups(self) -> DecisionFollowUps: ...

    def _as(self, user_id: int, change: Callable[[Session, ConsoleUser], T]) -> T:
        with self.db.session() as session:
            user = session.get(ConsoleUser, user_id)
            if user is None or user.disabled_at is not None:
                raise Forbidden(f"console user {user_id} does not exist or is disabled")
            return change(session, user)

    def investigation_open(
        self, *, user_id: int, title: str, cluster_id: int | None = None, account_id: int | None = None
    ) -> dict[str, Any]:
        """Open an investigation from a cluster or an account (a lead)."""

        def run(session: Session, user: ConsoleUser) -> dict[str, Any]:
            row = investigations.open_investigation(
                session, title=title, user=user, cluster_id=cluster_id, account_id=account_id
            )
            return investigation_detail.investigation_dict(
                row, len(investigations.member_ids(session, row.id))
            )

        return self._as(user_id, run)

    def investigations(self, *, user_id: int, limit: int = 100) -> list[dict[str, Any]]:
        """Investigations, newest first (titles and counts; leads and legal)."""

        def run(session: Session, user: ConsoleUser) -> list[dict[str, Any]]:
            investigations.require(user, Permission.NETWORK_VIEW, "read investigations")
            return investigation_detail.list_investigations(session, limit=limit)

        return self._as(user_id, run)

    def investigation(self, investigation_id: int, *, user_id: int, limit: int = 5000) -> InvestigationDetail:
        """Everything an investigation holds (audited: ``investigation:view``)."""

        def run(session: Session, user: ConsoleUser) -> InvestigationDetail:
            investigations.require(user, Permission.NETWORK_VIEW, "read an investigation")
            found = investigation_detail.detail(
                session, investigation_id, self.network_options.graph, limit=limit
            )
            investigation_detail.record_view(session, investigation_id, investigations.actor_of(user))
            return found

        return self._as(user_id, run)

    def investigation_add(
        self, investigation_id: int, account_ids: Sequence[int], *, reason: str, user_id: int
    ) -> list[int]:
        return self._as(
            user_id,
            lambda s, u: investigations.add_accounts(s, investigation_id, account_ids, reason=reason, user=u),
        )

    def investigation_remove(
        self, investigation_id: int, account_id: int, *, reason: str, user_id: int
    ) -> None:
        self._as(
            user_id,
            lambda s, u: investigations.remove_account(
                s, investigation_id, account_id, reason=reason, user=u
            ),
        )

    def investigation_note(self, investigation_id: int, text: str, *, user_id: int) -> None:
        self._as(user_id, lambda s, u: investigations.add_note(s, investigation_id, text, user=u))

    def investigation_close(self, investigation_id: int, *, reason: str, user_id: int) -> dict[str, Any]:
        return self._as(
            user_id,
            lambda s, u: investigation_detail.investigation_dict(
                investigations.close(s, investigation_id, reason=reason, user=u)
            ),
        )

    def investigation_preserve(self, investigation_id: int, *, user_id: int) -> Preserved:
        """Vault holds on every decided item of every account in it."""
        return self._as(
            user_id, lambda s, u: investigations.preserve(s, self.vault, investigation_id, user=u)
        )

    def investigation_propose(
        self, investigation_id: int, kind: str, *, reason: str, user_id: int
    ) -> dict[str, Any]:
        """Propose suspending every account (or removing their items): waits for a second person."""
        return self._as(
            user_id,
            lambda s, u: investigation_detail.action_dict(
                investigations.propose_action(s, investigation_id, kind, reason=reason, user=u)
            ),
        )

    def investigation_approve(self, action_id: int, *, user_id: int, note: str = "") -> dict[str, Any]:
        """The second person approves a proposed action: it is carried out."""
        return self._as(
            user_id,
            lambda s, u: investigation_detail.action_dict(
                investigations.approve_action(
                    s, action_id, approver=u, note=note, follow_ups=self.investigation_follow_ups
                )
            ),
        )

    def investigation_actions_waiting(self, *, user_id: int) -> list[dict[str, Any]]:
        """Actions on investigations' accounts waiting for a second person (not this one's own)."""

        def run(session: Session, user: ConsoleUser) -> list[dict[str, Any]]:
            investigations.require(user, Permission.DECISION_APPROVE, "see what waits for approval")
            return investigation_detail.waiting_for(session, user)

        return self._as(user_id, run)

    def investigation_reject(self, action_id: int, *, user_id: int, note: str) -> dict[str, Any]:
        return self._as(
            user_id,
            lambda s, u: investigation_detail.action_dict(
                investigations.reject_action(s, action_id, approver=u, note=note)
            ),
        )

    def investigation_report(self, investigation_id: int, *, user_id: int) -> list[dict[str, object]]:
        """Prepare the linked CyberTipline reports (drafts, approved by a second person)."""
        return self._as(
            user_id,
            lambda s, u: [
                report_dict(r)
                for r in investigations.report(
                    s, investigation_id, user=u, bundle_window_s=self.settings.report_bundle_window_s
                )
            ],
        )

    def investigation_export(
        self, investigation_id: int, out: Path, *, user_id: int, reason: str
    ) -> dict[str, object]:
        """The signed CSV, GraphML and JSON package for police analysts (audited)."""
        return self._as(user_id, lambda s, u: self._export(s, u, investigation_id, out, reason))

    def _export(
        self, session: Session, user: ConsoleUser, investigation_id: int, out: Path, reason: str
    ) -> dict[str, object]:
        investigations.require(user, Permission.NETWORK_VIEW, "export an investigation")
        investigations.require(user, Permission.EXPORT_CREATE, "export an investigation")
        why = investigations._text("reason", reason, 1000)
        found = investigation_detail.detail(
            session, investigation_id, self.network_options.graph, limit=1_000_000
        )
        built = export.build_export(
            session,
            found.as_dict(),
            found.accounts,
            found.edges,
            out,
            signing_key=self.settings.vault_signing_key,
            actor=investigations.actor_of(user),
            reason=why,
        )
        return built.as_dict()

    def investigation_refer(
        self,
        investigation_id: int,
        *,
        user_id: int,
        jurisdiction: str,
        agency: str,
        evidence_package: Path | None = None,
    ) -> dict[str, object]:
        """The one police referral for the whole network, with the signed network export inside (both in
        one transaction: a refused referral leaves no export behind)."""
        stamp = utcnow().strftime("%Y%m%dT%H%M%SZ")
        package = (
            self.settings.data_path / "network-exports" / f"investigation-{investigation_id}-{stamp}.zip"
        )

        def run(session: Session, user: ConsoleUser) -> dict[str, object]:
            investigations.require(
                user, Permission.NETWORK_INVESTIGATE, "refer an investigation to the police"
            )
            found = investigations.get(session, investigation_id, lock=True)
            if found.referral_id is not None:
                raise Conflict(
                    f"investigation {investigation_id} was referred already (referral {found.referral_id}): "
                    "one referral is made for the whole network"
                )
            try:
                self._export(session, user, investigation_id, package, "attached to the police referral")
                referral = investigations.refer(
                    session,
                    investigation_id,
                    user=user,
                    jurisdiction=jurisdiction,
                    agency=agency,
                    out_dir=self.settings.data_path / "referrals",
                    options=self.network_options.graph,
                    organisation=self.settings.platform_name,
                    evidence_package=evidence_package,
                    attachments=[package],
                )
            except BaseException:
                package.unlink(missing_ok=True)
                raise
            return referral_dict(referral)

        return self._as(user_id, run)

    @staticmethod
    def network_verify_export(path: Path, public_key: str) -> PackageCheck:
        """Check a network export offline (no database) against the exporter's verify key."""
        from suraksha.vault import crypto  # noqa: PLC0415

        return export.verify_export(path, crypto.verify_key_from_text(public_key))
