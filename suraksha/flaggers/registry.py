"""The flagger registry: register a flagger with its own API key and webhook secret, change it, replace
its key or secret, suspend and reinstate it, and clear its status-review mark.

Business rules:
- A flagger is registered by an administrator with its own API key (role ``flagger`` only) and a
  webhook secret, both shown once; the secret is kept sealed under the vault's key (it must be read
  back to sign). A DSA Art. 22 designation names its date and its designating authority.
- Its jurisdiction must have ``grievance`` clocks in the jurisdiction files (its notices run on them).
- A suspended flagger's notices are refused (``suraksha.flaggers.services``); it still reads those it
  sent before. Every change is audited (contacts never go into the append-only log).
"""

from __future__ import annotations

import base64
import hashlib
import logging
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from suraksha import audit
from suraksha.access.models import ApiKey, ApiScope
from suraksha.access.services import create_api_key, revoke_api_key
from suraksha.db.base import utcnow
from suraksha.errors import Conflict, Forbidden, InvalidInput, NotFound
from suraksha.flaggers.models import Designation, Flagger, FlaggerAudit, FlaggerState
from suraksha.flaggers.schemas import NoticeCategory
from suraksha.legal.clocks import JurisdictionRules, RequestKind
from suraksha.vault.crypto import EnvelopeCipher

log = logging.getLogger(__name__)

_NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,59}")


@dataclass(frozen=True)
class NewFlagger:
    name: str
    organisation: str
    country: str
    designation: Designation | str
    jurisdiction: str = "IN"
    designated_on: date | None = None
    designating_authority: str = ""
    contacts: Sequence[str] = ()
    expertise: Sequence[str] = ()
    priority: int = 60
    webhook_url: str | None = None
    webhook_allow_private_network: bool = False


@dataclass(frozen=True)
class Registered:
    flagger: Flagger
    api_key: str
    """Shown once."""
    webhook_secret: str
    """Shown once: the flagger checks our webhooks' signatures with it (docs/webhooks.md)."""


def _check_new(new: NewFlagger, rules: JurisdictionRules) -> list[str]:
    problems = []
    if not _NAME.fullmatch(new.name):
        problems.append(f"name {new.name!r} must be 1-60 lower-case letters, digits or '-'")
    if not new.organisation.strip() or len(new.organisation) > 300:
        problems.append("organisation must be 1-300 characters")
    if not re.fullmatch(r"[A-Z]{2}", new.country):
        problems.append(f"country {new.country!r} must be an ISO 3166-1 alpha-2 code such as IN")
    if new.designation not in {d.value for d in Designation}:
        problems.append(
            f"designation {new.designation!r} is not one of {', '.join(d.value for d in Designation)}"
        )
    if new.designation == Designation.DSA_ART22 and (
        new.designated_on is None or not new.designating_authority
    ):
        problems.append("a DSA Art. 22 designation needs its date and its designating authority")
    if not re.fullmatch(r"[A-Z]{2}(-[A-Z0-9]{1,3})?", new.jurisdiction) or not rules.knows(
        new.jurisdiction, RequestKind.GRIEVANCE
    ):
        problems.append(
            f"jurisdiction {new.jurisdiction!r} has no grievance clocks in the jurisdiction files (notices "
            "run on them): use one that has (IN), or add them (legal_jurisdiction_paths)"
        )
    unknown = sorted(set(new.expertise) - {c.value for c in NoticeCategory})
    if unknown:
        problems.append(f"expertise {unknown} is not among {', '.join(c.value for c in NoticeCategory)}")
    if not 0 <= new.priority <= 100:
        problems.append("priority must be between 0 and 100")
    if new.webhook_url is not None and (
        not new.webhook_url.startswith(("https://", "http://")) or len(new.webhook_url) > 2000
    ):
        problems.append("webhook_url must be an http(s) URL of at most 2000 characters")
    if any("\n" in c or len(c) > 300 for c in new.contacts):
        problems.append("each contact is one line of at most 300 characters")
    return problems


def register(
    session: Session, new: NewFlagger, rules: JurisdictionRules, cipher: EnvelopeCipher, *, by: str
) -> Registered:
    """Register a flagger, its API key and its webhook secret (audited, one transaction)."""
    new = NewFlagger(
        **{
            **new.__dict__,
            "name": new.name.strip().lower(),
            "country": new.country.strip().upper(),
            "jurisdiction": new.jurisdiction.strip().upper(),
            "contacts": [c.strip() for c in new.contacts if c.strip()],
            "expertise": sorted({e.strip().lower() for e in new.expertise if e.strip()}),
            "webhook_url": (new.webhook_url or "").strip() or None,
        }
    )
    problems = _check_new(new, rules)
    if problems:
        raise InvalidInput("; ".join(problems))
    if session.scalar(select(Flagger.id).where(Flagger.name == new.name)) is not None:
        raise Conflict(f"a flagger named {new.name!r} exists already: `suraksha flaggers show {new.name}`")
    key, plaintext = create_api_key(
        session, f"flagger-{new.name}", [ApiScope.FLAGGER], note=new.organisation[:200], by=by
    )
    secret = secrets.token_urlsafe(32)
    flagger = Flagger(
        name=new.name,
        organisation=new.organisation.strip(),
        country=new.country,
        jurisdiction=new.jurisdiction,
        designation=str(new.designation),
        designated_on=new.designated_on,
        designating_authority=new.designating_authority.strip(),
        contacts="\n".join(new.contacts),
        expertise=" ".join(new.expertise),
        priority=new.priority,
        state=FlaggerState.ACTIVE,
        state_reason="",
        api_key_id=key.id,
        webhook_url=new.webhook_url,
        webhook_secret=seal_secret(cipher, secret),
        webhook_allow_private_network=new.webhook_allow_private_network,
        status_review_reason="",
        created_at=utcnow(),
    )
    session.add(flagger)
    session.flush()
    audit.record(
        session,
        by,
        FlaggerAudit.REGISTER,
        f"flagger:{flagger.name}",
        {"designation": flagger.designation, "priority": flagger.priority, "api_key": key.prefix},
    )
    log.info("event=flaggers.register flagger=%s designation=%s", flagger.name, flagger.designation)
    return Registered(flagger, plaintext, secret)


def seal_secret(cipher: EnvelopeCipher, secret: str) -> str:
    data = secret.encode()
    digest = hashlib.sha256(data).hexdigest()
    return f"{digest}:{base64.b64encode(cipher.seal(data, digest)).decode()}"


def open_secret(cipher: EnvelopeCipher, stored: str) -> str:
    digest, _, sealed = stored.partition(":")
    return cipher.open(base64.b64decode(sealed), digest).decode()


def get_flagger(session: Session, name: str) -> Flagger:
    found = session.scalar(select(Flagger).where(Flagger.name == name.strip().lower()))
    if found is None:
        raise NotFound(f"no flagger named {name[:100]!r}: `suraksha flaggers list` shows them")
    return found


def list_flaggers(session: Session) -> list[Flagger]:
    return list(session.scalars(select(Flagger).order_by(Flagger.name)))


def flagger_of_key(session: Session, key_prefix: str) -> Flagger:
    """The flagger an API key belongs to; Forbidden for a key that is not a flagger's."""
    found = session.scalar(
        select(Flagger).join(ApiKey, ApiKey.id == Flagger.api_key_id).where(ApiKey.prefix == key_prefix)
    )
    if found is None:
        raise Forbidden("this API key belongs to no registered flagger: `suraksha flaggers add` makes one")
    return found


@dataclass(frozen=True)
class FlaggerChanges:
    """What an administrator changes on a registered flagger (None: unchanged)."""

    priority: int | None = None
    webhook_url: str | None = None
    """An http(s) URL, or "" to remove the webhook (the flagger then reads the status route)."""
    contacts: Sequence[str] | None = None
    expertise: Sequence[str] | None = None
    designation: Designation | str | None = None
    designated_on: date | None = None
    designating_authority: str | None = None


def update(
    session: Session, name: str, changes: FlaggerChanges, rules: JurisdictionRules, *, by: str
) -> Flagger:
    """Change a flagger's registration, checked as at registration; audited with what changed."""
    flagger = get_flagger(session, name)
    proposed = NewFlagger(
        name=flagger.name,
        organisation=flagger.organisation,
        country=flagger.country,
        jurisdiction=flagger.jurisdiction,
        designation=changes.designation if changes.designation is not None else flagger.designation,
        designated_on=changes.designated_on if changes.designated_on is not None else flagger.designated_on,
        designating_authority=(
            changes.designating_authority.strip()
            if changes.designating_authority is not None
            else flagger.designating_authority
        ),
        contacts=[c.strip() for c in changes.contacts if c.strip()]
        if changes.contacts is not None
        else flagger.contacts.splitlines(),
        expertise=sorted({e.strip().lower() for e in changes.expertise if e.strip()})
        if changes.expertise is not None
        else flagger.expertise.split(),
        priority=changes.priority if changes.priority is not None else flagger.priority,
        webhook_url=(changes.webhook_url.strip() or None)
        if changes.webhook_url is not None
        else flagger.webhook_url,
    )
    problems = _check_new(proposed, rules)
    if problems:
        raise InvalidInput("; ".join(problems))
    after = {
        "designation": str(proposed.designation),
        "designated_on": proposed.designated_on,
        "designating_authority": proposed.designating_authority,
        "contacts": "\n".join(proposed.contacts),
        "expertise": " ".join(proposed.expertise),
        "priority": proposed.priority,
        "webhook_url": proposed.webhook_url,
    }
    changed = {k: v for k, v in after.items() if getattr(flagger, k) != v}
    if not changed:
        raise InvalidInput("nothing to change: give what changes (--priority, --webhook-url, ...)")
    for key, value in changed.items():
        setattr(flagger, key, value)
    shown = {k: (v.isoformat() if isinstance(v, date) else v) for k, v in changed.items() if k != "contacts"}
    if "contacts" in changed:
        shown["contacts"] = "changed"  # people's addresses stay out of the append-only audit log
    audit.record(session, by, FlaggerAudit.UPDATE, f"flagger:{flagger.name}", shown)
    return flagger


def new_key(session: Session, name: str, *, by: str) -> str:
    """A new API key for the flagger (a lost or leaked one): the old key is revoked in the same
    transaction. Returns the new key, shown once."""
    flagger = get_flagger(session, name)
    old = session.get(ApiKey, flagger.api_key_id)
    if old is not None and old.revoked_at is None:
        revoke_api_key(session, old.name, by=by)
    for n in range(2, 1000):
        candidate = f"flagger-{flagger.name}-{n}"
        if session.scalar(select(ApiKey.id).where(ApiKey.name == candidate)) is None:
            break
    key, plaintext = create_api_key(
        session, candidate, [ApiScope.FLAGGER], note=flagger.organisation[:200], by=by
    )
    flagger.api_key_id = key.id
    audit.record(session, by, FlaggerAudit.NEW_KEY, f"flagger:{flagger.name}", {"api_key": key.prefix})
    return plaintext


def new_secret(session: Session, name: str, cipher: EnvelopeCipher, *, by: str) -> str:
    """A new webhook secret (shown once); webhooks not yet delivered are signed with it from now on."""
    flagger = get_flagger(session, name)
    secret = secrets.token_urlsafe(32)
    flagger.webhook_secret = seal_secret(cipher, secret)
    audit.record(session, by, FlaggerAudit.NEW_KEY, f"flagger:{flagger.name}", {"webhook_secret": "replaced"})
    return secret


def set_state(
    session: Session, name: str, state: FlaggerState, *, reason: str, by: str, now: datetime | None = None
) -> Flagger:
    """Suspend or reinstate a flagger (audited, with its reason)."""
    reason = reason.strip()
    if not reason or len(reason) > 2000:
        raise InvalidInput("say why (a reason of 1-2000 characters): the flagger is owed it")
    flagger = get_flagger(session, name)
    if flagger.state == state:
        raise Conflict(f"flagger {flagger.name!r} is {state} already")
    flagger.state, flagger.state_reason, flagger.state_changed_at = state, reason, now or utcnow()
    action = FlaggerAudit.SUSPEND if state == FlaggerState.SUSPENDED else FlaggerAudit.REINSTATE
    audit.record(session, by, action, f"flagger:{flagger.name}", {"reason": reason})
    return flagger


def clear_status_review(session: Session, name: str, *, note: str, by: str) -> Flagger:
    """A lead has reviewed the flagger's status after its accuracy mark: the mark goes (audited)."""
    flagger = get_flagger(session, name)
    if flagger.status_review_at is None:
        raise Conflict(f"flagger {flagger.name!r} is not marked for a status review")
    flagger.status_review_at, flagger.status_review_reason = None, ""
    audit.record(
        session, by, FlaggerAudit.STATUS_REVIEW_CLEARED, f"flagger:{flagger.name}", {"note": note[:2000]}
    )
    return flagger
