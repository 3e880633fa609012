"""Disclosure packages: what an authority is given in answer to a request, drafted by one person and
approved by another before it leaves.

A package is a folder ``<data_dir>/legal/disclosures/<id>/`` (private: 0700, files 0600) holding:
- ``disclosure-<id>.pdf``: per account in scope, who it is on the platform (ids, handle, names, when
  seen, suspension) and, per item, what we hold about it (upload address and port, device, what was
  found, decided and done, its files' hashes); what in the scope was not found, and why; and the
  jurisdiction's custodian certificate to sign (BSA s.63 for India, FRE 902(11)/(14) for the US: the
  same templates as police referrals, ``suraksha.reporting.certificates``);
- ``summary.json``: the same facts, exact;
- ``evidence.zip``: the signed evidence package of what was preserved for the items in scope (vault
  export: media, snapshots, what the platform's enrichment endpoint answered, chain of custody), when
  anything was preserved.

Business rules: only a request the desk verified is answered; the approver is not the person who drafted
it; only an approved package is marked sent, and sending stops the request's answer clock. Drafting,
approving and sending are each audited and listed on the request.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from suraksha import audit
from suraksha.content.models import Account
from suraksha.errors import Conflict, Forbidden, InvalidInput, NotFound
from suraksha.files import private_dir, write_private
from suraksha.legal.actions import items_in_scope
from suraksha.legal.clocks import Step
from suraksha.legal.models import DisclosureState, LegalAudit, LegalDisclosure, LegalRequest, RequestState
from suraksha.legal.services import get_request, mark_done, record_event
from suraksha.permissions import Permission
from suraksha.reporting.certificates import certificate_text
from suraksha.reporting.pdf import Pages
from suraksha.reporting.referrals import ItemFacts, item_facts
from suraksha.vault.models import Preservation
from suraksha.vault.packages import build_package
from suraksha.vault.services import EvidenceActor, EvidenceVault

log = logging.getLogger(__name__)

_MANAGE = Permission.EVIDENCE_OPEN
"""Disclosures hand over evidence: the legal role's permission to open it (the vault's own check)."""
ANSWERABLE = frozenset({RequestState.VERIFIED, RequestState.IN_PROGRESS, RequestState.PARTLY_ANSWERED})


def _iso(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") if value else None


@dataclass(frozen=True)
class AccountFacts:
    platform_account_id: str
    handle: str
    display_name: str
    platform_created_at: str | None
    first_seen_at: str | None
    last_seen_at: str | None
    suspended_at: str | None
    items: list[ItemFacts] = field(default_factory=list)


@dataclass(frozen=True)
class DisclosureSummary:
    request_id: int
    kind: str
    jurisdiction: str
    reference: str
    legal_basis: str
    authority: str
    accounts: list[AccountFacts]
    not_found: list[str]

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def gather(session: Session, request: LegalRequest) -> DisclosureSummary:
    """The facts the package discloses, from the database: every account in scope (named, or posting an
    item named) with the items in scope."""
    items = items_in_scope(session, request)
    by_account: dict[int, list[ItemFacts]] = {}
    for item in items:
        by_account.setdefault(item.account_id, []).append(item_facts(session, item))
    accounts = []
    for account_id, facts in by_account.items():
        account = session.get(Account, account_id)
        if account is None:  # pragma: no cover - foreign key
            continue
        accounts.append(
            AccountFacts(
                platform_account_id=account.platform_account_id,
                handle=account.handle,
                display_name=account.display_name,
                platform_created_at=_iso(account.platform_created_at),
                first_seen_at=_iso(account.first_seen_at),
                last_seen_at=_iso(account.last_seen_at),
                suspended_at=_iso(account.suspended_at),
                items=facts,
            )
        )
    authority = request.authority
    return DisclosureSummary(
        request_id=request.id,
        kind=request.kind,
        jurisdiction=request.jurisdiction,
        reference=request.reference,
        legal_basis=request.legal_basis,
        authority=" ".join(x for x in (authority.officer, authority.rank, authority.agency) if x)
        if authority
        else "",
        accounts=accounts,
        not_found=[f"{s.kind} {s.value}: {s.not_found}" for s in request.scope if s.not_found],
    )


def render_pdf(
    summary: DisclosureSummary,
    *,
    disclosure_id: int,
    organisation: str,
    manifest: str,
    generated_at: datetime,
) -> bytes:
    pdf = Pages(f"Disclosure {disclosure_id}", generated_at)
    heading, line = pdf.heading, pdf.line
    line(f"From: {organisation or 'the platform'}   To: {summary.authority or 'the requesting authority'}")
    line(
        f"In answer to: {summary.kind} {summary.reference} "
        f"({summary.legal_basis or 'legal basis as stated'}), jurisdiction {summary.jurisdiction}. "
        f"Prepared {_iso(generated_at)}."
    )
    line(
        f"Evidence package: manifest SHA-256 {manifest}" if manifest else "Evidence package: none preserved."
    )
    for account in summary.accounts:
        heading(f"Account {account.platform_account_id} ({account.handle or 'no handle'})")
        line(f"Display name: {account.display_name or '-'}")
        line(f"Created on the platform: {account.platform_created_at or 'not known to us'}")
        line(f"First and last seen: {account.first_seen_at} to {account.last_seen_at}")
        line(f"Suspended: {account.suspended_at or 'no'}")
        for facts in account.items:
            pdf.bold(f"Item {facts.item_id} ({facts.kind})")
            line(f"Posted {facts.posted_at or 'unknown'}, received {facts.received_at}")
            if facts.upload_ip:
                line(f"Uploaded from {facts.upload_ip} port {facts.upload_port or 'unknown'}")
            if facts.device_id:
                line(f"Device id {facts.device_id}")
            for text in [*facts.findings, *facts.decisions, *facts.actions, *facts.files]:
                line(f"- {text}")
    if summary.not_found:
        heading("Named in the request but not found")
        for text in summary.not_found:
            line(text)
    title, text = certificate_text(
        summary.jurisdiction[:2],
        organisation=organisation,
        system="Suraksha child-safety operations platform and the host platform's systems",
        referral=f"disclosure {disclosure_id}",
        files=sum(len(f.files) for a in summary.accounts for f in a.items),
        manifest=manifest or "(none)",
        period=f"up to {_iso(generated_at)}",
    )
    pdf.new_page()
    heading(title)
    line(text)
    return pdf.output()


def draft(
    session: Session,
    vault: EvidenceVault,
    request_id: int,
    *,
    actor: EvidenceActor,
    out_dir: Path,
    organisation: str,
    now: datetime,
) -> LegalDisclosure:
    """Build the package for a verified request and record it as drafted (audited)."""
    actor.require(_MANAGE, "draft disclosures")
    request = get_request(session, request_id)
    if RequestState(request.state) not in ANSWERABLE:
        raise Conflict(f"request #{request.id} is {request.state}: only a verified request is answered")
    summary = gather(session, request)
    disclosure = LegalDisclosure(
        request_id=request.id,
        state=DisclosureState.DRAFTED,
        drafted_by=actor.name,
        drafted_at=now,
        accounts=len(summary.accounts),
        items=sum(len(a.items) for a in summary.accounts),
    )
    session.add(disclosure)
    session.flush()
    folder = out_dir / str(disclosure.id)
    private_dir(folder)
    preservations = [
        p.id
        for p in session.scalars(
            select(Preservation).where(
                Preservation.item_id.in_([i.id for i in items_in_scope(session, request)])
            )
        )
    ]
    manifest = ""
    if preservations:
        built = build_package(
            session,
            vault,
            preservations,
            folder / "evidence.zip",
            actor=actor,
            reason=f"disclosure {disclosure.id} for legal request {request.id}",
            purpose=f"legal_request:{request.id}",
        )
        manifest = built.manifest_sha256
    pdf = render_pdf(
        summary, disclosure_id=disclosure.id, organisation=organisation, manifest=manifest, generated_at=now
    )
    write_private(folder / f"disclosure-{disclosure.id}.pdf", pdf)
    write_private(
        folder / "summary.json", json.dumps(summary.as_dict(), indent=2, ensure_ascii=False).encode()
    )
    disclosure.package_path = str(folder)
    disclosure.pdf_sha256 = hashlib.sha256(pdf).hexdigest()
    disclosure.evidence_manifest_sha256 = manifest
    record_event(session, request, now, actor.name, "disclosure_drafted", f"disclosure {disclosure.id}")
    audit.record(
        session,
        actor.name,
        LegalAudit.DISCLOSURE_DRAFT,
        f"legal_disclosure:{disclosure.id}",
        {"request": request.id, "pdf_sha256": disclosure.pdf_sha256, "evidence_manifest_sha256": manifest},
    )
    return disclosure


def record_reply(
    session: Session,
    request_id: int,
    *,
    actor: EvidenceActor,
    now: datetime,
    write: Callable[[Path], str],
    out_dir: Path,
) -> LegalDisclosure:
    """A reply to a commission's notice, drafted (``write`` puts the documents in the folder it is
    given and returns the SHA-256 of the one that is sent), to be approved by a second person and sent
    like a disclosure."""
    actor.require(_MANAGE, "draft replies")
    request = get_request(session, request_id)
    if RequestState(request.state) not in ANSWERABLE:
        raise Conflict(f"request #{request.id} is {request.state}: only a verified request is answered")
    reply = LegalDisclosure(
        request_id=request.id,
        kind="reply",
        state=DisclosureState.DRAFTED,
        drafted_by=actor.name,
        drafted_at=now,
    )
    session.add(reply)
    session.flush()
    folder = out_dir / str(reply.id)
    private_dir(folder)
    reply.pdf_sha256 = write(folder)
    reply.package_path = str(folder)
    record_event(session, request, now, actor.name, "reply_drafted", f"reply {reply.id}")
    audit.record(
        session,
        actor.name,
        LegalAudit.DISCLOSURE_DRAFT,
        f"legal_disclosure:{reply.id}",
        {"request": request.id, "kind": "reply"},
    )
    return reply


def _disclosure(session: Session, disclosure_id: int) -> LegalDisclosure:
    found = session.get(LegalDisclosure, disclosure_id, with_for_update=True)
    if found is None:
        raise NotFound(f"no disclosure #{disclosure_id}")
    return found


def approve(session: Session, disclosure_id: int, *, actor: EvidenceActor, now: datetime) -> LegalDisclosure:
    """The second person: not the one who drafted it."""
    actor.require(_MANAGE, "approve disclosures")
    disclosure = _disclosure(session, disclosure_id)
    if disclosure.state != DisclosureState.DRAFTED:
        raise Conflict(f"disclosure #{disclosure.id} is {disclosure.state}, not awaiting approval")
    if actor.name == disclosure.drafted_by:
        raise Forbidden("the person who drafted a disclosure cannot approve it: a second person must")
    disclosure.state, disclosure.approved_by, disclosure.approved_at = (
        DisclosureState.APPROVED,
        actor.name,
        now,
    )
    request = get_request(session, disclosure.request_id)
    record_event(session, request, now, actor.name, "disclosure_approved", f"disclosure {disclosure.id}")
    audit.record(session, actor.name, LegalAudit.DISCLOSURE_APPROVE, f"legal_disclosure:{disclosure.id}", {})
    return disclosure


def mark_sent(
    session: Session, disclosure_id: int, *, via: str, actor: EvidenceActor, now: datetime
) -> LegalDisclosure:
    """Handed over (``via``: the authority's portal, e-mail, in person): stops the answer clock."""
    actor.require(_MANAGE, "send disclosures")
    disclosure = _disclosure(session, disclosure_id)
    if disclosure.state != DisclosureState.APPROVED:
        raise Conflict(f"disclosure #{disclosure.id} is {disclosure.state}: only an approved one leaves")
    via = via.strip()
    if not via or len(via) > 300:
        raise InvalidInput("say how it was handed over (--via; at most 300 characters)")
    disclosure.state, disclosure.sent_at, disclosure.sent_via = DisclosureState.SENT, now, via
    mark_done(
        session,
        disclosure.request_id,
        Step.ANSWER,
        actor=actor.name,
        now=now,
        note=f"disclosure {disclosure.id}",
    )
    audit.record(
        session, actor.name, LegalAudit.DISCLOSURE_SEND, f"legal_disclosure:{disclosure.id}", {"via": via}
    )
    return disclosure


def disclosures_of(session: Session, request_id: int) -> list[LegalDisclosure]:
    return list(
        session.scalars(
            select(LegalDisclosure)
            .where(LegalDisclosure.request_id == request_id)
            .order_by(LegalDisclosure.id)
        )
    )


def disclosure_dict(d: LegalDisclosure) -> dict[str, object]:
    return {
        "id": d.id,
        "kind": d.kind,
        "request_id": d.request_id,
        "state": d.state,
        "package_path": d.package_path,
        "pdf_sha256": d.pdf_sha256,
        "evidence_manifest_sha256": d.evidence_manifest_sha256,
        "accounts": d.accounts,
        "items": d.items,
        "drafted_by": d.drafted_by,
        "approved_by": d.approved_by,
        "sent_via": d.sent_via,
        "sent_at": _iso(d.sent_at),
    }


PACKAGE_FILES: dict[str, dict[str, tuple[str, str]]] = {
    "disclosure": {
        "pdf": ("disclosure-{id}.pdf", "application/pdf"),
        "summary": ("summary.json", "application/json"),
        "evidence": ("evidence.zip", "application/zip"),
    },
    "reply": {
        "pdf": ("reply.pdf", "application/pdf"),
        "docx": ("reply.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        "answer": ("answer.json", "application/json"),
    },
}
"""The files a package or a reply holds, by the short name a person asks for: nothing else is served."""
FOLDERS = {"disclosure": "disclosures", "reply": "replies"}
"""Where each kind is written under ``<data dir>/legal/`` (``draft`` and ``record_reply``'s ``out_dir``)."""


@dataclass(frozen=True)
class PackageFile:
    path: Path
    filename: str
    media_type: str


def open_file(
    session: Session,
    disclosure_id: int,
    name: str,
    *,
    request_id: int,
    actor: EvidenceActor,
    legal_dir: Path,
    reason: str,
) -> PackageFile:
    """One file of a disclosure package or reply, for a person to download: its path is made from the
    disclosure's kind and id under ``legal_dir`` (never from anything the asker sends), and the opening
    is audited (``evidence:access``) in the caller's transaction.

    A disclosure package holds evidence: only ``evidence:open`` (the legal role) opens it. A reply to a
    commission's notice holds figures and explanations from the records: ``legal:view`` reads it."""
    disclosure = session.get(LegalDisclosure, disclosure_id)
    if disclosure is None or disclosure.request_id != request_id:
        raise NotFound(f"request #{request_id} has no disclosure or reply #{disclosure_id}")
    files = PACKAGE_FILES.get(disclosure.kind, {})
    if name not in files:
        raise NotFound(f"a {disclosure.kind} has no file {name[:20]!r}: ask for one of {', '.join(files)}")
    if disclosure.kind == "reply":
        actor.require(Permission.LEGAL_VIEW, "read replies to notices")
    else:
        actor.require(_MANAGE, "open disclosure packages")
    filename, media_type = files[name]
    filename = filename.format(id=disclosure.id)
    path = legal_dir / FOLDERS[disclosure.kind] / str(disclosure.id) / filename
    if not path.is_file():
        raise NotFound(
            f"{disclosure.kind} #{disclosure.id} has no {filename}"
            + (": nothing in its scope was preserved" if name == "evidence" else "")
        )
    audit.record(
        session,
        actor.name,
        audit.AuditAction.EVIDENCE_ACCESS,
        f"legal_disclosure:{disclosure.id}",
        {"request": request_id, "file": filename, "size": path.stat().st_size, "reason": reason},
    )
    log.info("event=legal.file_opened actor=%s disclosure=%d file=%s", actor.name, disclosure.id, filename)
    return PackageFile(path, f"{disclosure.kind}-{disclosure.id}-{filename}", media_type)
