"""Network investigations: a lead holds a network of accounts together, and acts on it as one.

Business rules (each tested):
- A lead (``network:investigate``) opens an investigation from a cluster (its accounts as the last run
  found them) or from one account, and adds or removes accounts, always with a reason; a removed
  account stays listed with who removed it and why. Leads and legal (``network:view``) read it; every
  read and every change is audited (``investigation:view``, ``investigation:change``, subject
  ``investigation:ID``) and every change is a line of its timeline.
- Preserving places a vault hold (basis ``network_investigation``, reference ``investigation:ID``) on
  every decided item of every account in it; an item with no decision yet has nothing to hold and is
  counted as skipped. Placing again is idempotent (one hold per preservation and reference).
- An action on every account (``suspend`` the accounts, or ``remove`` their items) is proposed by one
  lead and carried out only when a second person (``decision:approve``, not the proposer) approves
  it: the accounts are those in the investigation when it was proposed. Each account's actions are
  an enforcement decision by a person (``decided_by=reviewer``, the proposer's pseudonym, the
  investigation and the approver in its basis), delivered to the platform like any other.
- CyberTipline reports: the items of its accounts decided as violations go into their accounts'
  reports (one per account, through reporting's ``prepare_report``), each naming the investigation as
  ``groupIdentifier`` and the other accounts as ``associatedAccount``; the reports wait as drafts for a
  second person's approval (``suraksha report approve``), as every report does.
- One police referral for the whole network: a second referral from the same investigation is a
  conflict. Making it hands the investigation to the police (state ``handed_to_police``).
- A closed investigation changes no more (notes, accounts, actions, reports and referral refused).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from suraksha import audit
from suraksha.access.models import ConsoleUser
from suraksha.content.models import Account, Item
from suraksha.db.base import utcnow
from suraksha.enforcement.follow_ups import DecisionFollowUps
from suraksha.enforcement.models import ActionKind, DecidedBy, Decision, Verdict
from suraksha.enforcement.services import add_action
from suraksha.errors import Conflict, Forbidden, InvalidInput, NotFound
from suraksha.network.clusters import GraphOptions
from suraksha.network.models import (
    Investigation,
    InvestigationAccount,
    InvestigationAction,
    InvestigationActionState,
    InvestigationEvent,
    InvestigationState,
    NetworkCluster,
    NetworkKey,
    NetworkLink,
)
from suraksha.network.services import cluster_accounts
from suraksha.permissions import Permission, has_permission
from suraksha.reporting.models import CyberTiplineReport, PoliceReferral
from suraksha.reporting.referrals import create_referral
from suraksha.reporting.services import ReportRequest, prepare_report
from suraksha.vault.models import HoldBasis
from suraksha.vault.services import EvidenceVault

VIEW = "investigation:view"
CHANGE = "investigation:change"
ACTION_KINDS = frozenset({ActionKind.SUSPEND, ActionKind.REMOVE})
"""What an investigation may do to every account: both wait for a second person."""
MAX_TEXT = 4000
MAX_TITLE = 200
MAX_ACCOUNTS = 5000
MAX_ITEMS = 50_000
"""Items an investigation preserves, acts on or reports at once (beyond that: split it)."""


def reference(investigation_id: int) -> str:
    """The hold reference and audit subject of an investigation."""
    return f"investigation:{investigation_id}"


def group_identifier(investigation_id: int) -> str:
    """What the CyberTipline reports call the group (``groupIdentifier``)."""
    return f"suraksha-network-investigation-{investigation_id}"


def actor_of(user: ConsoleUser) -> str:
    return f"user:{user.pseudonym}"


def require(user: ConsoleUser, permission: Permission, doing: str) -> None:
    if user.disabled_at is not None or not has_permission(user.roles.split(), permission):
        raise Forbidden(f"{user.pseudonym} may not {doing}: it needs {permission}")


def _text(name: str, value: str, limit: int = MAX_TEXT, *, required: bool = True) -> str:
    value = (value or "").strip()
    if required and not value:
        raise InvalidInput(f"give a {name}: it is recorded in the investigation's timeline")
    if len(value) > limit:
        raise InvalidInput(f"the {name} is {len(value)} characters, over {limit}")
    return value


def get(session: Session, investigation_id: int, *, lock: bool = False) -> Investigation:
    found = session.get(Investigation, investigation_id, with_for_update=lock)
    if found is None:
        raise NotFound(
            f"investigation {investigation_id} does not exist (`suraksha network investigate list`)"
        )
    return found


def _open(session: Session, investigation_id: int) -> Investigation:
    found = get(session, investigation_id, lock=True)
    if found.state == InvestigationState.CLOSED:
        raise Conflict(f"investigation {investigation_id} is closed: it changes no more")
    return found


def _event(
    session: Session, investigation: Investigation, actor: str, event: str, text: str = "", **details: Any
) -> None:
    now = utcnow()
    session.add(
        InvestigationEvent(
            investigation_id=investigation.id,
            at=now,
            actor=actor,
            kind=event,
            text=text,
            details=json.dumps(details, sort_keys=True, default=str),
        )
    )
    investigation.updated_at = now
    audit.record(session, actor, CHANGE, reference(investigation.id), {"change": event, **details})


def member_ids(session: Session, investigation_id: int) -> list[int]:
    """The accounts in the investigation now (removed ones left out), by id."""
    return list(
        session.scalars(
            select(InvestigationAccount.account_id)
            .where(
                InvestigationAccount.investigation_id == investigation_id,
                InvestigationAccount.removed_at.is_(None),
            )
            .order_by(InvestigationAccount.account_id)
        )
    )


def _add(
    session: Session, investigation: Investigation, account_ids: Sequence[int], reason: str, actor: str
) -> list[int]:
    ids = list(dict.fromkeys(int(a) for a in account_ids))
    if not ids:
        raise InvalidInput("name at least one account to add")
    known = set(session.scalars(select(Account.id).where(Account.id.in_(ids))))
    missing = [a for a in ids if a not in known]
    if missing:
        raise NotFound(f"accounts {missing[:10]} do not exist: nothing was added")
    current = {
        row.account_id: row
        for row in session.scalars(
            select(InvestigationAccount).where(
                InvestigationAccount.investigation_id == investigation.id,
                InvestigationAccount.account_id.in_(ids),
            )
        )
    }
    if len(member_ids(session, investigation.id)) + len(ids) > MAX_ACCOUNTS:
        raise InvalidInput(f"an investigation holds at most {MAX_ACCOUNTS} accounts: split it")
    added = []
    now = utcnow()
    for account_id in ids:
        row = current.get(account_id)
        if row is None:
            session.add(
                InvestigationAccount(
                    investigation_id=investigation.id,
                    account_id=account_id,
                    added_by=actor,
                    added_at=now,
                    reason=reason,
                )
            )
        elif row.removed_at is not None:
            row.removed_at, row.removed_by, row.removed_reason = None, None, ""
            row.added_by, row.added_at, row.reason = actor, now, reason
        else:
            continue
        added.append(account_id)
    session.flush()
    return added


def open_investigation(
    session: Session,
    *,
    title: str,
    user: ConsoleUser,
    cluster_id: int | None = None,
    account_id: int | None = None,
) -> Investigation:
    """Open an investigation of a cluster's accounts or of one account."""
    require(user, Permission.NETWORK_INVESTIGATE, "open an investigation")
    if (cluster_id is None) == (account_id is None):
        raise InvalidInput("open an investigation from a cluster or from an account (exactly one of them)")
    title = _text("title", title, MAX_TITLE)
    actor = actor_of(user)
    if cluster_id is not None:
        cluster = session.get(NetworkCluster, cluster_id)
        if cluster is None:
            raise NotFound(f"network cluster {cluster_id} does not exist (`suraksha network clusters`)")
        ids = sorted(cluster_accounts(session, cluster_id))
        if not ids:
            raise InvalidInput(
                f"cluster {cluster_id} has no accounts (it was dissolved): open it from an account"
            )
        source, why = (
            f"cluster:{cluster_id}",
            f"in cluster {cluster_id} (score {cluster.score:.1f}) when opened",
        )
    else:
        assert account_id is not None
        if session.get(Account, account_id) is None:
            raise NotFound(f"account {account_id} does not exist")
        ids, source, why = [account_id], f"account:{account_id}", "the account it was opened from"
    now = utcnow()
    investigation = Investigation(
        title=title, source=source, cluster_id=cluster_id, opened_by=actor, opened_at=now, updated_at=now
    )
    session.add(investigation)
    session.flush()
    _add(session, investigation, ids, why, actor)
    _event(
        session, investigation, actor, "opened", f"Opened from {source}: {len(ids)} accounts", source=source
    )
    return investigation


def add_accounts(
    session: Session, investigation_id: int, account_ids: Sequence[int], *, reason: str, user: ConsoleUser
) -> list[int]:
    """Add accounts (with the reason); answers those newly added."""
    require(user, Permission.NETWORK_INVESTIGATE, "change an investigation")
    reason = _text("reason", reason)
    investigation = _open(session, investigation_id)
    added = _add(session, investigation, account_ids, reason, actor_of(user))
    if added:
        _event(session, investigation, actor_of(user), "accounts_added", reason, accounts=added)
    return added


def remove_account(
    session: Session, investigation_id: int, account_id: int, *, reason: str, user: ConsoleUser
) -> None:
    require(user, Permission.NETWORK_INVESTIGATE, "change an investigation")
    reason = _text("reason", reason)
    investigation = _open(session, investigation_id)
    row = session.scalar(
        select(InvestigationAccount).where(
            InvestigationAccount.investigation_id == investigation_id,
            InvestigationAccount.account_id == account_id,
            InvestigationAccount.removed_at.is_(None),
        )
    )
    if row is None:
        raise NotFound(f"account {account_id} is not in investigation {investigation_id}")
    row.removed_at, row.removed_by, row.removed_reason = utcnow(), actor_of(user), reason
    _event(session, investigation, actor_of(user), "account_removed", reason, accounts=[account_id])


def add_note(session: Session, investigation_id: int, text: str, *, user: ConsoleUser) -> None:
    require(user, Permission.NETWORK_INVESTIGATE, "write in an investigation")
    text = _text("note", text)
    _event(session, _open(session, investigation_id), actor_of(user), "note", text)


def close(session: Session, investigation_id: int, *, reason: str, user: ConsoleUser) -> Investigation:
    """Close it (with the reason). Its holds stay until they expire or legal releases them."""
    require(user, Permission.NETWORK_INVESTIGATE, "close an investigation")
    reason = _text("reason", reason)
    investigation = _open(session, investigation_id)
    investigation.state, investigation.closed_at = InvestigationState.CLOSED, utcnow()
    _event(session, investigation, actor_of(user), "closed", reason)
    return investigation


def _items(session: Session, account_ids: Sequence[int]) -> list[Item]:
    if not account_ids:
        return []
    items = list(
        session.scalars(
            select(Item).where(Item.account_id.in_(list(account_ids))).order_by(Item.id).limit(MAX_ITEMS + 1)
        )
    )
    if len(items) > MAX_ITEMS:
        raise InvalidInput(f"the investigation's accounts hold over {MAX_ITEMS} items: split it")
    return items


def latest_decisions(session: Session, item_ids: Sequence[int]) -> dict[int, Decision]:
    """Each item's latest decision."""
    latest: dict[int, Decision] = {}
    for start in range(0, len(item_ids), 1000):
        for decision in session.scalars(
            select(Decision).where(Decision.item_id.in_(item_ids[start : start + 1000])).order_by(Decision.id)
        ):
            latest[decision.item_id] = decision
    return latest


@dataclass(frozen=True)
class Preserved:
    items: int
    holds: int
    skipped: int
    """Items with no decision yet: nothing to hold (their decision comes first)."""

    def as_dict(self) -> dict[str, int]:
        return {"items": self.items, "holds": self.holds, "skipped": self.skipped}


def preserve(
    session: Session, vault: EvidenceVault, investigation_id: int, *, user: ConsoleUser
) -> Preserved:
    """Hold the evidence of every decided item of every account in the investigation."""
    require(user, Permission.NETWORK_INVESTIGATE, "preserve an investigation's evidence")
    investigation = _open(session, investigation_id)
    items = _items(session, member_ids(session, investigation_id))
    decided = latest_decisions(session, [i.id for i in items])
    held = [i.id for i in items if i.id in decided]
    if not held:
        raise InvalidInput(
            f"investigation {investigation_id} has no decided item to preserve "
            f"({len(items)} items, none decided yet)"
        )
    holds = vault.place_hold(
        session,
        basis=HoldBasis.NETWORK_INVESTIGATION,
        reference=reference(investigation_id),
        actor=actor_of(user),
        item_ids=held,
    )
    result = Preserved(len(held), len(holds), len(items) - len(held))
    until = max(h.expires_at for h in holds)
    _event(
        session,
        investigation,
        actor_of(user),
        "preserved",
        f"{len(held)} items held to {until:%Y-%m-%d} ({result.skipped} not decided yet)",
        **result.as_dict(),
    )
    return result


def propose_action(
    session: Session, investigation_id: int, kind: ActionKind | str, *, reason: str, user: ConsoleUser
) -> InvestigationAction:
    """Propose an action on every account now in the investigation; nothing is done until a second
    person approves it (``approve_action``)."""
    require(user, Permission.NETWORK_INVESTIGATE, "propose an action on an investigation's accounts")
    try:
        kind = ActionKind(kind)
    except ValueError:
        raise InvalidInput(f"action {kind!r} is not one of: {', '.join(sorted(ACTION_KINDS))}") from None
    if kind not in ACTION_KINDS:
        raise InvalidInput(
            f"an investigation may {' or '.join(sorted(ACTION_KINDS))} its accounts, not {kind}"
        )
    reason = _text("reason", reason)
    investigation = _open(session, investigation_id)
    ids = member_ids(session, investigation_id)
    if not ids:
        raise InvalidInput(f"investigation {investigation_id} has no accounts to act on")
    action = InvestigationAction(
        investigation_id=investigation_id,
        kind=kind,
        reason=reason,
        account_ids=" ".join(str(a) for a in ids),
        proposed_by=actor_of(user),
        proposer_id=user.id,
        proposed_at=utcnow(),
    )
    session.add(action)
    session.flush()
    _event(
        session,
        investigation,
        actor_of(user),
        "action_proposed",
        f"{kind} {len(ids)} accounts, waiting for a second person: {reason}",
        action=action.id,
        kind=str(kind),
        accounts=len(ids),
    )
    return action


def _pending(session: Session, action_id: int, approver: ConsoleUser) -> InvestigationAction:
    require(approver, Permission.DECISION_APPROVE, "approve an investigation's action")
    action = session.get(InvestigationAction, action_id, with_for_update=True)
    if action is None:
        raise NotFound(f"investigation action {action_id} does not exist")
    if action.state != InvestigationActionState.PENDING:
        raise Conflict(f"investigation action {action_id} is {action.state}: nothing to decide")
    if action.proposer_id == approver.id:
        raise Forbidden(
            "four eyes: an investigation's action is approved by a second person, not by the one who "
            "proposed it"
        )
    return action


def approve_action(
    session: Session,
    action_id: int,
    *,
    approver: ConsoleUser,
    note: str = "",
    follow_ups: DecisionFollowUps,
) -> InvestigationAction:
    """The second person approves: the action is carried out on every account it named."""
    action = _pending(session, action_id, approver)
    investigation = _open(session, action.investigation_id)
    note = _text("note", note, required=False)
    kind = ActionKind(action.kind)
    ids = [int(a) for a in action.account_ids.split()]
    items = _items(session, ids)
    by_account: dict[int, list[Item]] = {}
    for item in items:
        by_account.setdefault(item.account_id, []).append(item)
    basis = json.dumps(
        [
            {
                "investigation": investigation.id,
                "investigation_action": action.id,
                "proposed_by": action.proposed_by,
                "approved_by": actor_of(approver),
            }
        ],
        sort_keys=True,
    )
    written = 0
    for account_id in ids:
        own = by_account.get(account_id, [])
        # A suspension is the account's: recorded on its latest item. A removal takes every item.
        targets = own[-1:] if kind is ActionKind.SUSPEND else own
        for item in targets:
            decision = Decision(
                item_id=item.id,
                verdict=Verdict.VIOLATION,
                category="network",
                automated=False,
                decided_by=DecidedBy.REVIEWER,
                decided_by_ref=action.proposed_by.removeprefix("user:"),
                basis=basis,
                reason=f"network investigation {investigation.id}: {action.reason}"[:MAX_TEXT],
            )
            session.add(decision)
            session.flush()
            add_action(session, decision, item, kind, automated=False, follow_ups=follow_ups)
            written += 1
    now = utcnow()
    action.state, action.approver_ref, action.approver_id = (
        InvestigationActionState.APPROVED,
        actor_of(approver),
        approver.id,
    )
    action.decided_at, action.note, action.actions = now, note, written
    _event(
        session,
        investigation,
        actor_of(approver),
        "action_approved",
        f"{kind} approved and carried out: {written} actions on {len(ids)} accounts"
        + (f" ({note})" if note else ""),
        action=action.id,
        actions=written,
    )
    return action


def reject_action(
    session: Session, action_id: int, *, approver: ConsoleUser, note: str
) -> InvestigationAction:
    action = _pending(session, action_id, approver)
    note = _text("note", note)
    investigation = get(session, action.investigation_id)
    action.state, action.approver_ref, action.approver_id = (
        InvestigationActionState.REJECTED,
        actor_of(approver),
        approver.id,
    )
    action.decided_at, action.note = utcnow(), note
    _event(session, investigation, actor_of(approver), "action_rejected", note, action=action.id)
    return action


def report(
    session: Session, investigation_id: int, *, user: ConsoleUser, bundle_window_s: float = 0.0
) -> list[CyberTiplineReport]:
    """Prepare the CyberTipline reports of the network: the items of its accounts decided as violations
    go into their accounts' reports, linked by ``groupIdentifier`` and ``associatedAccount``; each waits
    for a second person's approval."""
    require(user, Permission.REPORT_SUBMIT, "report an investigation's accounts")
    require(user, Permission.NETWORK_INVESTIGATE, "report an investigation's accounts")
    investigation = _open(session, investigation_id)
    ids = member_ids(session, investigation_id)
    items = _items(session, ids)
    decided = latest_decisions(session, [i.id for i in items])
    violations = [d.id for d in decided.values() if d.verdict == Verdict.VIOLATION]
    if not violations:
        raise InvalidInput(
            f"no item of investigation {investigation_id}'s accounts is decided as a violation: "
            "there is nothing to report yet"
        )
    request = ReportRequest(
        decision_ids=tuple(violations),
        group_identifier=group_identifier(investigation_id),
        associated_account_ids=tuple(ids),
        additional_info=(
            f"The reported account is one of {len(ids)} accounts that share payment handles, contacts, "
            f"files or devices, investigated together as {group_identifier(investigation_id)}."
        ),
    )
    reports = prepare_report(session, request, actor=actor_of(user), bundle_window_s=bundle_window_s)
    _event(
        session,
        investigation,
        actor_of(user),
        "reported",
        f"{len(reports)} CyberTipline reports prepared (drafts: a second person approves each)",
        reports=[r.id for r in reports],
    )
    return reports


def network_lines(session: Session, ids: Sequence[int], options: GraphOptions, limit: int = 200) -> list[str]:
    """What links the accounts, in words: the identifiers and files most of them share."""
    lines = []
    for row in shared_identifiers(session, ids, options)[:limit]:
        lines.append(f"{row['kind']} {row['value']}: carried by {row['in_investigation']} of these accounts")
    return lines


def refer(
    session: Session,
    investigation_id: int,
    *,
    user: ConsoleUser,
    jurisdiction: str,
    agency: str,
    out_dir: Path,
    options: GraphOptions,
    organisation: str = "",
    evidence_package: Path | None = None,
    attachments: Sequence[Path] = (),
) -> PoliceReferral:
    """The one police referral for the whole network; hands the investigation to the police."""
    require(user, Permission.NETWORK_INVESTIGATE, "refer an investigation to the police")
    investigation = _open(session, investigation_id)
    if investigation.referral_id is not None:
        raise Conflict(
            f"investigation {investigation_id} was referred already (referral {investigation.referral_id}): "
            "one referral is made for the whole network"
        )
    ids = member_ids(session, investigation_id)
    decided = (
        set(
            session.scalars(
                select(Item.account_id)
                .join(Decision, Decision.item_id == Item.id)
                .where(Item.account_id.in_(ids))
            )
        )
        if ids
        else set()
    )
    if not decided:
        raise InvalidInput(
            f"no account of investigation {investigation_id} has a decided item: nothing to refer"
        )
    first = min(decided)
    referral = create_referral(
        session,
        first,
        jurisdiction=jurisdiction,
        agency=agency,
        actor=actor_of(user),
        out_dir=out_dir,
        organisation=organisation,
        evidence_package=evidence_package,
        linked_account_ids=[a for a in ids if a != first],
        network=[
            f"Network investigation {investigation.id} ({investigation.title}): {len(ids)} accounts.",
            *network_lines(session, ids, options),
        ],
        attachments=attachments,
    )
    investigation.referral_id = referral.id
    investigation.state = InvestigationState.HANDED_TO_POLICE
    _event(
        session,
        investigation,
        actor_of(user),
        "referred",
        f"One police referral ({referral.id}) to {referral.agency} ({referral.jurisdiction}) "
        f"for {len(ids)} accounts",
        referral=referral.id,
    )
    return referral


# -- what links them -------------------------------------------------------------------------------


def shared_identifiers(session: Session, ids: Sequence[int], options: GraphOptions) -> list[dict[str, Any]]:
    """The keys (identifiers, files, addresses, devices) carried by two or more of the accounts, most
    shared first, with how many accounts carry each everywhere and whether it is a hub (not evidence)."""
    if not ids:
        return []
    rows = session.execute(
        select(NetworkKey.id, NetworkKey.kind, NetworkKey.value, NetworkKey.accounts, func.count())
        .join(NetworkLink, NetworkLink.key_id == NetworkKey.id)
        .where(NetworkLink.account_id.in_(list(ids)))
        .group_by(NetworkKey.id, NetworkKey.kind, NetworkKey.value, NetworkKey.accounts)
        .having(func.count() >= 2)
    ).all()
    found = []
    for key_id, kind, value, accounts, inside in rows:
        weight, note = options.key_weight(kind, accounts)
        found.append(
            {
                "key_id": key_id,
                "kind": kind,
                "value": value,
                "in_investigation": inside,
                "accounts": accounts,
                "weight": round(weight, 4),
                "note": note,
            }
        )
    return sorted(found, key=lambda r: (-r["in_investigation"], -r["weight"], r["kind"], r["value"]))
