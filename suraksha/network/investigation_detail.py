"""Reading a network investigation: everything it holds (accounts, the evidence among them, shared
identifiers, items, timeline, actions, holds, reports), the list of investigations, and the actions
waiting for a second person. Reads are audited by the caller (``record_view``)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from suraksha import audit
from suraksha.access.models import ConsoleUser
from suraksha.content.models import Item
from suraksha.network.clusters import GraphOptions
from suraksha.network.investigations import (
    VIEW,
    get,
    group_identifier,
    latest_decisions,
    reference,
    shared_identifiers,
)
from suraksha.network.models import (
    Investigation,
    InvestigationAccount,
    InvestigationAction,
    InvestigationActionState,
    InvestigationEvent,
)
from suraksha.network.services import AccountNode, Edge, account_nodes, edges_among
from suraksha.reporting.models import CyberTiplineReport
from suraksha.vault.models import PreservationHold


def holds(session: Session, investigation_id: int) -> list[PreservationHold]:
    return list(
        session.scalars(
            select(PreservationHold)
            .where(PreservationHold.reference == reference(investigation_id))
            .order_by(PreservationHold.id)
        )
    )


def waiting_for(session: Session, user: ConsoleUser, *, limit: int = 100) -> list[dict[str, Any]]:
    """Proposed actions a second person may approve: every pending one not proposed by ``user``."""
    rows = session.execute(
        select(InvestigationAction, Investigation.title)
        .join(Investigation, Investigation.id == InvestigationAction.investigation_id)
        .where(
            InvestigationAction.state == InvestigationActionState.PENDING,
            InvestigationAction.proposer_id != user.id,
        )
        .order_by(InvestigationAction.id)
        .limit(limit)
    ).all()
    return [{**action_dict(a), "investigation_id": a.investigation_id, "title": title} for a, title in rows]


def actions(session: Session, investigation_id: int) -> list[InvestigationAction]:
    return list(
        session.scalars(
            select(InvestigationAction)
            .where(InvestigationAction.investigation_id == investigation_id)
            .order_by(InvestigationAction.id)
        )
    )


def reports_of(session: Session, investigation_id: int) -> list[CyberTiplineReport]:
    return list(
        session.scalars(
            select(CyberTiplineReport)
            .where(CyberTiplineReport.group_identifier == group_identifier(investigation_id))
            .order_by(CyberTiplineReport.id)
        )
    )


@dataclass(frozen=True)
class InvestigationDetail:
    investigation: dict[str, Any]
    members: list[dict[str, Any]]
    """Every account ever in it: when, by whom and why added, and removed."""
    accounts: list[AccountNode]
    """The accounts in it now."""
    edges: list[Edge]
    identifiers: list[dict[str, Any]]
    items: list[dict[str, Any]]
    timeline: list[dict[str, Any]]
    actions: list[dict[str, Any]]
    holds: int
    reports: list[dict[str, Any]]

    def as_dict(self) -> dict[str, Any]:
        return {
            "investigation": self.investigation,
            "members": self.members,
            "accounts": [a.as_dict() for a in self.accounts],
            "edges": [e.as_dict() for e in self.edges],
            "identifiers": self.identifiers,
            "items": self.items,
            "timeline": self.timeline,
            "actions": self.actions,
            "holds": self.holds,
            "reports": self.reports,
        }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def investigation_dict(row: Investigation, accounts: int | None = None) -> dict[str, Any]:
    return {
        "id": row.id,
        "title": row.title,
        "state": row.state,
        "source": row.source,
        "cluster_id": row.cluster_id,
        "opened_by": row.opened_by,
        "opened_at": _iso(row.opened_at),
        "updated_at": _iso(row.updated_at),
        "closed_at": _iso(row.closed_at),
        "referral_id": row.referral_id,
        "group_identifier": group_identifier(row.id),
        "accounts": accounts,
    }


def action_dict(row: InvestigationAction) -> dict[str, Any]:
    return {
        "id": row.id,
        "kind": row.kind,
        "reason": row.reason,
        "accounts": len(row.account_ids.split()),
        "state": row.state,
        "proposed_by": row.proposed_by,
        "proposed_at": _iso(row.proposed_at),
        "approver": row.approver_ref,
        "decided_at": _iso(row.decided_at),
        "note": row.note,
        "actions": row.actions,
    }


def list_investigations(session: Session, *, limit: int = 100) -> list[dict[str, Any]]:
    rows = list(session.scalars(select(Investigation).order_by(Investigation.id.desc()).limit(limit)))
    counts = dict(
        session.execute(
            select(InvestigationAccount.investigation_id, func.count())
            .where(InvestigationAccount.removed_at.is_(None))
            .group_by(InvestigationAccount.investigation_id)
        ).all()
    )
    return [investigation_dict(r, counts.get(r.id, 0)) for r in rows]


def detail(
    session: Session,
    investigation_id: int,
    options: GraphOptions,
    *,
    limit: int = 5000,
    item_limit: int = 500,
) -> InvestigationDetail:
    """Everything the investigation holds: accounts, evidence among them, identifiers, items, timeline."""
    row = get(session, investigation_id)
    members = list(
        session.scalars(
            select(InvestigationAccount)
            .where(InvestigationAccount.investigation_id == investigation_id)
            .order_by(InvestigationAccount.id)
        )
    )
    ids = [m.account_id for m in members if m.removed_at is None]
    items = (
        list(
            session.scalars(
                select(Item)
                .where(Item.account_id.in_(ids))
                .order_by(Item.received_at, Item.id)
                .limit(item_limit)
            )
        )
        if ids
        else []
    )
    decided = latest_decisions(session, [i.id for i in items])
    item_rows = [
        {
            "id": i.id,
            "platform_item_id": i.platform_item_id,
            "account_id": i.account_id,
            "kind": i.kind,
            "state": i.state,
            "at": _iso(i.posted_at or i.received_at),
            "verdict": decided[i.id].verdict if i.id in decided else None,
        }
        for i in items
    ]
    events = list(
        session.scalars(
            select(InvestigationEvent)
            .where(InvestigationEvent.investigation_id == investigation_id)
            .order_by(InvestigationEvent.at, InvestigationEvent.id)
        )
    )
    timeline = [
        {"at": _iso(e.at), "kind": e.kind, "actor": e.actor, "text": e.text, "details": json.loads(e.details)}
        for e in events
    ] + [
        {
            "at": r["at"],
            "kind": "item",
            "actor": f"account:{r['account_id']}",
            "text": f"item {r['platform_item_id']} ({r['kind']})"
            + (f", decided {r['verdict']}" if r["verdict"] else ""),
            "details": {"item": r["id"]},
        }
        for r in item_rows
    ]
    timeline.sort(key=lambda t: str(t["at"]))
    return InvestigationDetail(
        investigation=investigation_dict(row, len(ids)),
        members=[
            {
                "account_id": m.account_id,
                "added_by": m.added_by,
                "added_at": _iso(m.added_at),
                "reason": m.reason,
                "removed_by": m.removed_by,
                "removed_at": _iso(m.removed_at),
                "removed_reason": m.removed_reason,
            }
            for m in members
        ],
        accounts=account_nodes(session, ids),
        edges=edges_among(session, ids, options, limit=limit),
        identifiers=shared_identifiers(session, ids, options),
        items=item_rows,
        timeline=timeline,
        actions=[action_dict(a) for a in actions(session, investigation_id)],
        holds=len(holds(session, investigation_id)),
        reports=[
            {"id": r.id, "account_id": r.account_id, "state": r.state, "ncmec_report_id": r.ncmec_report_id}
            for r in reports_of(session, investigation_id)
        ],
    )


def record_view(session: Session, investigation_id: int, actor: str, what: str = "detail") -> None:
    audit.record(session, actor, VIEW, reference(investigation_id), {"read": what})
