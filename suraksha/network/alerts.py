"""Ban evasion: an account outside a suspected racket takes up one of its payment handles or re-uploads
its media (a new link of an ``EVASION_KINDS`` key that a member of the racket carries). The alert is
written once per racket and account, and the item that made the link enters review (a case with the
source ``ban_evasion``) with the racket named in the case's note, so the reviewer sees it with the
item; ``NetworkAlert.case_id`` ties the case to the racket for the pages above review.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from suraksha.content.models import Account, Item
from suraksha.db.inserts import upsert_insert
from suraksha.network.clusters import EVASION_KINDS
from suraksha.network.graph import NewLink
from suraksha.network.models import (
    AlertKind,
    NetworkAlert,
    NetworkCluster,
    NetworkClusterMember,
    NetworkKey,
    NetworkLink,
)
from suraksha.review.cases import open_case
from suraksha.review.models import CaseSource

log = logging.getLogger(__name__)

ALERT_PRIORITY = 80
"""Review priority of a ban-evasion case (banked CSAM is 100, trusted flaggers 60)."""

_ALERTS = NetworkAlert.__table__


_LINKS = NetworkLink.__table__
_MEMBERS = NetworkClusterMember.__table__
_CLUSTERS = NetworkCluster.__table__
_HOLDERS = (
    select(_LINKS.c.key_id, _LINKS.c.account_id, _CLUSTERS.c.id, _CLUSTERS.c.accounts, _CLUSTERS.c.score)
    .join(_MEMBERS, _MEMBERS.c.account_id == _LINKS.c.account_id)
    .join(_CLUSTERS, _CLUSTERS.c.id == _MEMBERS.c.cluster_id)
    .where(
        _LINKS.c.key_id.in_(bindparam("keys", expanding=True)),
        _CLUSTERS.c.suspected.is_(True),
        _CLUSTERS.c.dissolved_at.is_(None),
    )
)
"""Which suspected rackets carry these keys, through which accounts (built once: it runs per item)."""


def check_evasion(session: Session, new_links: Sequence[NewLink]) -> list[NetworkAlert]:
    """Alerts (and review cases) for the ``new_links`` that join an account to a suspected racket it is
    not a member of; one query for the batch. Answers the alerts written now."""
    candidates = [link for link in new_links if link.kind in EVASION_KINDS]
    if not candidates:
        return []
    # one query for the batch: which suspected rackets carry these keys (through another account)
    holders: dict[int, set[tuple[int, int, float]]] = {}  # key -> rackets carrying it
    member_of: dict[int, set[int]] = {}  # account -> its racket (the new links' own accounts among them)
    for key_id, account_id, cluster_id, accounts, score in session.connection().execute(
        _HOLDERS, {"keys": sorted({link.key_id for link in candidates})}
    ):
        holders.setdefault(key_id, set()).add((cluster_id, accounts, score))
        member_of.setdefault(account_id, set()).add(cluster_id)
    written: list[NetworkAlert] = []
    for link in candidates:
        for cluster_id, accounts, score in sorted(holders.get(link.key_id, set())):
            if cluster_id in member_of.get(link.account_id, set()):
                continue
            alert = _alert(session, cluster_id, link, accounts, score)
            if alert is not None:
                written.append(alert)
    return written


def _alert(
    session: Session, cluster_id: int, link: NewLink, accounts: int, score: float
) -> NetworkAlert | None:
    inserted = session.execute(
        upsert_insert(session, NetworkAlert)
        .values(
            kind=AlertKind.BAN_EVASION.value,
            cluster_id=cluster_id,
            account_id=link.account_id,
            item_id=link.item_id,
            key_id=link.key_id,
        )
        .on_conflict_do_nothing(index_elements=[_ALERTS.c.kind, _ALERTS.c.cluster_id, _ALERTS.c.account_id])
        .returning(_ALERTS.c.id)
    ).scalar_one_or_none()
    if inserted is None:  # this account already raised an alert for this racket
        return None
    alert = session.get(NetworkAlert, inserted)
    item = session.get(Item, link.item_id)
    key = session.get(NetworkKey, link.key_id)
    account = session.get(Account, link.account_id)
    assert alert is not None
    assert item is not None
    assert key is not None
    assert account is not None
    case = open_case(session, item, source=CaseSource.BAN_EVASION, priority=ALERT_PRIORITY)
    note = (
        f"ban evasion: account {account.handle or account.platform_account_id} took up {key.kind} "
        f"{key.value[:120]!r} of suspected racket {cluster_id} ({accounts} accounts, score {score:.1f})"
    )
    if note not in case.escalation_note:
        case.escalation_note = (case.escalation_note + "\n" + note).strip()[:4000]
    alert.case_id = case.id
    log.info(
        "event=network.ban_evasion cluster=%d account=%d item=%d key=%d case=%d",
        cluster_id,
        link.account_id,
        link.item_id,
        link.key_id,
        case.id,
    )
    return alert
