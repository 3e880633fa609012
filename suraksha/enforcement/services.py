"""Recording decisions and their actions, idempotently; the pull feed of actions.

An item is decided once: ``record_decision`` moves the item from ``queued`` with a guarded update, so
a job that runs twice (a worker killed after its commit) finds the item already decided and writes
nothing. Actions are unique per (decision, kind, target) and their deliveries per (action,
endpoint), with a delivery id fixed at creation: a retried delivery carries the same id.

Every platform action goes out the same way, whoever decided it (policy or a person): ``add_action``
always queues its ``action.deliver`` job, and the job resolves the configured webhook endpoints when
it runs (``deliveries_for``). No caller passes endpoints, so none can forget them.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterable, Sequence
from typing import cast

from sqlalchemy import Table, insert, select, update
from sqlalchemy.orm import Session

from suraksha.content.models import Account, Item, ItemState
from suraksha.db.base import utcnow
from suraksha.enforcement.follow_ups import DecisionFollowUps
from suraksha.enforcement.models import (
    Action,
    ActionKind,
    ActionState,
    ActionTarget,
    DecidedBy,
    Decision,
    Delivery,
)
from suraksha.enforcement.policy import Plan, needs_review
from suraksha.enforcement.user_notices import record_action_notice
from suraksha.errors import InvalidInput
from suraksha.outbound.webhooks import WebhookDelivery
from suraksha.worker.queue import enqueue

log = logging.getLogger(__name__)

DELIVER = "action.deliver"
INTERNAL_KINDS = frozenset({ActionKind.PRESERVE, ActionKind.REPORT})
TARGETS = {ActionKind.SUSPEND: ActionTarget.ACCOUNT}
_ITEMS = cast(Table, Item.__table__)
_DECISIONS = cast(Table, Decision.__table__)


def claim_for_decision(session: Session, item_id: int) -> bool:
    """Move a queued item to decided; False when another run already did (then write nothing). An ORM
    statement: the item, if the session holds it, shows its new state."""
    moved = session.execute(
        update(Item)
        .where(Item.id == item_id, Item.state == ItemState.QUEUED)
        .values(state=ItemState.DECIDED, updated_at=utcnow())
    )
    return bool(moved.rowcount)  # type: ignore[attr-defined]


def claim_many_for_decision(session: Session, item_ids: Sequence[int]) -> set[int]:
    """``claim_for_decision`` for several items with one statement: the ids this run claimed. A Core
    statement: read the items into the session after it, not before."""
    if not item_ids:
        return set()
    claimed = session.connection().execute(
        update(_ITEMS)
        .where(_ITEMS.c.id.in_(list(item_ids)), _ITEMS.c.state == ItemState.QUEUED)
        .values(state=ItemState.DECIDED, updated_at=utcnow())
        .returning(_ITEMS.c.id)
    )
    return {int(item_id) for item_id in claimed.scalars()}


def settles_alone(plan: Plan) -> bool:
    """A plan that calls for no action and no person (a clean item, mostly): its decision is the
    whole of its effect, which ``record_plain_decisions`` writes for many items at once."""
    return not plan.actions and not needs_review(plan.verdict, plan.actions)


def record_plain_decisions(session: Session, plans: Sequence[tuple[int, Plan]]) -> None:
    """``record_decision`` for items whose plans ``settle_alone``, ``(item id, plan)`` each, with one
    statement. The caller has claimed the items in the same transaction."""
    if not plans:
        return
    now = utcnow()
    rows = []
    for item_id, plan in plans:
        if not settles_alone(plan):
            raise InvalidInput(f"the decision on item {item_id} calls for actions or review")
        rows.append({**_decision_values(item_id, plan), "created_at": now})
        _log_decision(item_id, plan)
    session.connection().execute(insert(_DECISIONS), rows)


def _decision_values(item_id: int, plan: Plan) -> dict[str, object]:
    return {
        "item_id": item_id,
        "verdict": plan.verdict,
        "category": plan.category,
        "automated": plan.automated,
        "decided_by": DecidedBy.POLICY,
        "decided_by_ref": f"policy {plan.policy_version}",
        "basis": json.dumps(plan.basis, sort_keys=True),
        "reason": plan.reason,
        "priority": plan.priority,
    }


def _log_decision(item_id: int, plan: Plan) -> None:
    log.info(
        "event=decision item=%d verdict=%s category=%s automated=%s actions=%s",
        item_id,
        plan.verdict,
        plan.category,
        plan.automated,
        ",".join(plan.actions),
    )


def record_decision(session: Session, item: Item, plan: Plan, *, follow_ups: DecisionFollowUps) -> Decision:
    """Write the decision and the actions it calls for; queue the delivery of each platform action.
    The caller has claimed the item (``claim_for_decision``) in the same transaction. ``follow_ups``
    are the ports into review and the vault (``suraksha.enforcement.follow_ups``)."""
    decision = Decision(**_decision_values(item.id, plan))
    session.add(decision)
    session.flush()
    for kind in plan.actions:
        add_action(
            session,
            decision,
            item,
            kind,
            automated=plan.automated,
            countries=plan.countries,
            follow_ups=follow_ups,
        )
    if plan.actions:
        item.state = ItemState.ACTIONED
    # The arrow to review: a decision that needs a person (review, not_checked, or an automated
    # report to confirm) opens the item's review case in this transaction, through review's port.
    follow_ups.open_case(session, item, decision, plan.actions)
    _log_decision(item.id, plan)
    return decision


def add_action(
    session: Session,
    decision: Decision,
    item: Item,
    kind: ActionKind,
    *,
    automated: bool,
    countries: Sequence[str] = (),
    target: ActionTarget | None = None,
    follow_ups: DecisionFollowUps | None = None,
) -> Action:
    """Record one action of a decision (idempotent per decision, kind and target), queue its delivery
    to the platform (``action.deliver``, keyed by the action), and apply its effect on our own rows (a
    suspension marks the account; restoring the account lifts it). ``target`` overrides the kind's
    usual one: only ``restore`` may name the account (lifting a suspension). A ``preserve`` action
    needs ``follow_ups``: the vault's port (``record_decision`` passes it)."""
    if kind == ActionKind.PRESERVE and follow_ups is None:
        raise InvalidInput(
            "a preserve action needs the vault's port (follow_ups): record it with record_decision"
        )
    if target is not None and target != TARGETS.get(kind, ActionTarget.ITEM) and kind != ActionKind.RESTORE:
        raise InvalidInput(f"a {kind} action cannot target the {target}")
    target = target or TARGETS.get(kind, ActionTarget.ITEM)
    existing = session.scalar(
        select(Action).where(Action.decision_id == decision.id, Action.kind == kind, Action.target == target)
    )
    if existing is not None:
        return existing
    internal = kind in INTERNAL_KINDS
    listed = " ".join(countries) if kind == ActionKind.WITHHOLD else ""
    in_force = None if internal else action_in_force(session, kind, target, item, listed)
    if in_force is not None:
        # Never the same action twice: a reviewer confirming an automated removal records it for
        # their decision, and the platform is not asked to remove the item again.
        action = Action(
            decision_id=decision.id,
            item_id=item.id,
            account_id=item.account_id,
            kind=kind,
            target=target,
            countries=listed,
            automated=automated,
            state=ActionState.ALREADY_TAKEN,
            state_reason=f"already in force: action {in_force.id} ({in_force.state})",
        )
        session.add(action)
        session.flush()
        log.info("event=action.already_taken action=%d in_force=%d kind=%s", action.id, in_force.id, kind)
        return action
    action = Action(
        decision_id=decision.id,
        item_id=item.id,
        account_id=item.account_id,
        kind=kind,
        target=target,
        countries=listed,
        automated=automated,
        state=ActionState.INTERNAL if internal else ActionState.PENDING,
    )
    session.add(action)
    session.flush()
    if kind == ActionKind.PRESERVE and follow_ups is not None:
        # The arrow to the vault: a pending preservation and its job, in this transaction.
        follow_ups.request_preservation(session, decision)
    if kind == ActionKind.SUSPEND:
        account = session.get(Account, item.account_id)
        if account is not None and account.suspended_at is None:
            account.suspended_at = utcnow()
    if kind == ActionKind.RESTORE and target == ActionTarget.ACCOUNT:
        account = session.get(Account, item.account_id)
        if account is not None:
            account.suspended_at = None
    if not internal:
        enqueue(session, DELIVER, {"action": action.id}, key=f"{DELIVER}:{action.id}")
        # The user is owed a statement of reasons for a restriction (suraksha.enforcement.user_notices).
        record_action_notice(session, action, decision)
    return action


REVERSED_BY_RESTORE = frozenset(
    {ActionKind.REMOVE, ActionKind.RESTRICT, ActionKind.WITHHOLD, ActionKind.SUSPEND}
)


def action_in_force(
    session: Session, kind: ActionKind, target: ActionTarget, item: Item, countries: str = ""
) -> Action | None:
    """The earlier action of this kind on this target that still stands, if any: sent (or to be
    sent) and not failed, with no ``restore`` of the same target after it. The target is the item,
    or the account for account actions (a suspension for one item stands for all the account's).
    A withhold stands only for the same countries. ``restore`` itself is never "in force": a person
    may always ask for it. Rule: the platform is never asked twice for what it has already done."""
    if kind not in REVERSED_BY_RESTORE:
        return None
    on_target = (
        Action.account_id == item.account_id if target == ActionTarget.ACCOUNT else Action.item_id == item.id
    )
    latest = session.scalars(
        select(Action)
        .where(
            on_target,
            Action.target == target,
            Action.kind.in_([kind, ActionKind.RESTORE]),
            Action.state.in_([ActionState.PENDING, ActionState.DELIVERED, ActionState.DONE]),
        )
        .order_by(Action.id.desc())
    )
    for action in latest:
        if action.kind == ActionKind.RESTORE:
            return None
        if action.countries.split() == countries.split() or kind != ActionKind.WITHHOLD:
            return action
    return None


def actions_in_force(session: Session, item: Item) -> list[Action]:
    """Every platform action on ``item`` and its account that still stands (``action_in_force``),
    oldest first: what a person deciding the item need not ask for again."""
    found: dict[int, Action] = {}
    for kind in sorted(REVERSED_BY_RESTORE):
        target = TARGETS.get(kind, ActionTarget.ITEM)
        if kind == ActionKind.WITHHOLD:
            candidates = session.scalars(
                select(Action.countries).where(Action.item_id == item.id, Action.kind == kind).distinct()
            )
            for listed in candidates:
                action = action_in_force(session, kind, target, item, listed)
                if action is not None:
                    found[action.id] = action
            continue
        action = action_in_force(session, kind, target, item)
        if action is not None:
            found[action.id] = action
    return [found[k] for k in sorted(found)]


def deliveries_for(session: Session, action: Action, endpoints: Iterable[str]) -> list[Delivery]:
    """The action's delivery to each named endpoint, made on first need: its delivery id and body (what
    is signed) are fixed then, so every later attempt sends the same bytes under the same id."""
    existing = {
        d.endpoint: d for d in session.scalars(select(Delivery).where(Delivery.action_id == action.id))
    }
    rows = []
    for endpoint in endpoints:
        row = existing.get(endpoint)
        if row is None:
            item = session.get(Item, action.item_id)
            account = session.get(Account, action.account_id)
            data = action_payload(
                action, item.platform_item_id if item else "", account.platform_account_id if account else ""
            )
            signed = WebhookDelivery.create(f"action.{action.kind}", data, delivery_id=uuid.uuid4().hex)
            row = Delivery(
                delivery_id=signed.delivery_id,
                action_id=action.id,
                endpoint=endpoint,
                body=signed.body.decode(),
            )
            session.add(row)
            session.flush()
        rows.append(row)
    return rows


def action_payload(action: Action, platform_item_id: str, platform_account_id: str) -> dict[str, object]:
    """What the platform is told about an action (webhook body and pull feed alike)."""
    return {
        "action_id": action.id,
        "kind": action.kind,
        "target": action.target,
        "item_id": platform_item_id,
        "account_id": platform_account_id,
        "countries": action.countries.split(),
        "automated": action.automated,
        "decision_id": action.decision_id,
    }


def action_feed(session: Session, *, after: int = 0, limit: int = 100) -> list[Action]:
    """Actions for the platform (not internal ones) with id > ``after``, oldest first: the pull feed.
    The cursor is the last id seen."""
    return list(
        session.scalars(
            select(Action)
            .where(Action.id > after, Action.state.notin_([ActionState.INTERNAL, ActionState.ALREADY_TAKEN]))
            .order_by(Action.id)
            .limit(max(1, min(limit, 1000)))
        )
    )
