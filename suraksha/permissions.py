"""Console roles and what they may do: a closed vocabulary of ``area:action`` permissions and the one
mapping from roles to permissions that every check goes through (``has_permission``).

The mapping follows the review-console issue ("People and access"):

- Only ``child_safety_reviewer`` and ``lead`` may reveal media from a CSAM bank or queue
  (``media:reveal_csam``): viewing CSAM is limited to the trained, wellness-supported reviewers who need
  it, and each reveal is audited.
- Only ``legal`` may open preserved evidence (``evidence:open``): preservation packages are held for law
  enforcement and their chain of custody must name few people.
- ``auditor`` reads the audit log and nothing else.
- ``legal`` runs the legal desk (``legal:manage``); leads read it (``legal:view``) to see the clocks.
- ``stats:view`` (the accountability statistics: counts, automated share, time to action) is for those
  who answer for the platform and run it: leads, legal and admin. They are counts, never content; the
  commission's answer, which explains named posts, stays with ``legal:view``.
- ``flaggers:view`` (the trusted-flagger registry with each flagger's accuracy and status-review mark)
  is for leads and admins; ``flaggers:manage`` (register, suspend, reinstate) for admins, who run the
  registry (the CLI is where flaggers are registered, as their keys are shown there once).
- ``admin`` manages people, configuration, banks and switches but neither reveals CSAM media nor opens
  evidence nor decides items (least privilege: running the service is not a reason to see what it
  holds, and a compromised admin account must not be a way to the worst material). An administrator who
  also reviews is given both roles, so the grant is explicit and audited.
- ``network:view`` (the account graph: suspected rackets, their accounts and the identifiers and items
  that link them) is for those who investigate and hand rackets to the police: leads and legal.
  Running an investigation (``network:investigate``: opening it, its accounts and notes, holds,
  proposing actions, reports, the referral) is the leads'; legal reads investigations.
- ``flagger`` is the role of a trusted flagger's own staff: it holds ``notices:own`` and nothing else
  (send the organisation's notices and read them: state, clocks, outcome). It goes alone (a console
  user with it has no other role) and the console confines it to the flagger's own pages
  (``suraksha.web.console.viewer``); which flagger is the link an administrator makes
  (``suraksha flaggers add-user``). A user of one organisation must never see another's notices, the
  queues, media or anything else the console holds.
- ``decision:approve`` is the second pair of eyes on consequential decisions; the decision service
  (not this table) also refuses an approval by the person who made the decision.

Roles add up: a person with several roles has every permission of each. Stored role values this version
does not know grant nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum


class Permission(StrEnum):
    """What a console user may do, as ``area:action``. Stored and logged as strings: add values freely,
    never rename one."""

    QUEUE_VIEW = "queue:view"
    ITEM_CLAIM = "item:claim"
    ITEM_DECIDE = "item:decide"
    MEDIA_REVEAL = "media:reveal"
    """Reveal blurred media of items that are not from a CSAM bank or queue."""
    MEDIA_REVEAL_CSAM = "media:reveal_csam"
    """Reveal media from a CSAM bank or queue."""
    DECISION_APPROVE = "decision:approve"
    """Second approval (four eyes) of a consequential decision."""
    REPORT_SUBMIT = "report:submit"
    EVIDENCE_OPEN = "evidence:open"
    BANK_MANAGE = "bank:manage"
    SWITCH_SET = "switch:set"
    USER_MANAGE = "user:manage"
    AUDIT_VIEW = "audit:view"
    EXPORT_CREATE = "export:create"
    CONFIG_CHANGE = "config:change"
    LEGAL_VIEW = "legal:view"
    """Read the legal desk: requests, their scope and clocks (confidential ones included)."""
    LEGAL_MANAGE = "legal:manage"
    """Receive, verify, reject and answer requests from authorities; register authorities."""
    STATS_VIEW = "stats:view"
    """Read the accountability statistics (counts, automated share, time to action) and their CSV."""
    FLAGGERS_VIEW = "flaggers:view"
    """Read the trusted-flagger registry, each flagger's accuracy and its status-review mark."""
    FLAGGERS_MANAGE = "flaggers:manage"
    """Suspend and reinstate trusted flaggers."""
    NETWORK_VIEW = "network:view"
    """Read the account graph: suspected rackets, the accounts in them and the evidence linking them."""
    NETWORK_INVESTIGATE = "network:investigate"
    """Open and run network investigations: accounts, notes, holds, proposed actions, reports, referral."""
    NOTICES_OWN = "notices:own"
    """A trusted flagger's staff: send notices for the flagger the user belongs to and read its own."""


class Role(StrEnum):
    ADMIN = "admin"
    LEAD = "lead"
    REVIEWER = "reviewer"
    CHILD_SAFETY_REVIEWER = "child_safety_reviewer"
    LEGAL = "legal"
    AUDITOR = "auditor"
    FLAGGER = "flagger"
    """A trusted flagger's staff (goes alone; linked to one flagger by ``suraksha flaggers add-user``)."""


P = Permission

_REVIEWER = frozenset({P.QUEUE_VIEW, P.ITEM_CLAIM, P.ITEM_DECIDE, P.MEDIA_REVEAL})
_CHILD_SAFETY_REVIEWER = _REVIEWER | {P.MEDIA_REVEAL_CSAM}

ROLE_PERMISSIONS: Mapping[Role, frozenset[Permission]] = {
    Role.REVIEWER: _REVIEWER,
    Role.CHILD_SAFETY_REVIEWER: _CHILD_SAFETY_REVIEWER,
    Role.LEAD: _CHILD_SAFETY_REVIEWER
    | {
        P.DECISION_APPROVE,
        P.REPORT_SUBMIT,
        P.BANK_MANAGE,
        P.SWITCH_SET,
        P.AUDIT_VIEW,
        P.EXPORT_CREATE,
        P.LEGAL_VIEW,
        P.STATS_VIEW,
        P.FLAGGERS_VIEW,
        P.NETWORK_VIEW,
        P.NETWORK_INVESTIGATE,
    },
    Role.LEGAL: frozenset(
        {
            P.QUEUE_VIEW,
            P.EVIDENCE_OPEN,
            P.REPORT_SUBMIT,
            P.AUDIT_VIEW,
            P.EXPORT_CREATE,
            P.LEGAL_VIEW,
            P.LEGAL_MANAGE,
            P.STATS_VIEW,
            P.NETWORK_VIEW,
        }
    ),
    Role.AUDITOR: frozenset({P.AUDIT_VIEW}),
    Role.FLAGGER: frozenset({P.NOTICES_OWN}),
    Role.ADMIN: frozenset(
        {
            P.QUEUE_VIEW,
            P.USER_MANAGE,
            P.CONFIG_CHANGE,
            P.BANK_MANAGE,
            P.SWITCH_SET,
            P.AUDIT_VIEW,
            P.STATS_VIEW,
            P.FLAGGERS_VIEW,
            P.FLAGGERS_MANAGE,
        }
    ),
}
"""Every role's permissions (see the module docstring for why)."""


def parse_roles(values: Iterable[str]) -> frozenset[Role]:
    """Known roles among ``values`` (e.g. a stored space-separated list, split); unknown ones are dropped
    so that a value written by a newer version grants nothing here."""
    known = {r.value for r in Role}
    return frozenset(Role(v) for v in values if v in known)


def permissions_of(roles: Iterable[Role | str]) -> frozenset[Permission]:
    """The union of the roles' permissions."""
    granted: set[Permission] = set()
    for role in parse_roles(str(r) for r in roles):
        granted |= ROLE_PERMISSIONS[role]
    return frozenset(granted)


def has_permission(roles: Iterable[Role | str], permission: Permission) -> bool:
    return permission in permissions_of(roles)
