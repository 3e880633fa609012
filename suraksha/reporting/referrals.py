"""Police referrals (India: POCSO Rules r.11, IT Rules 3(1)(j)): a package for the police of the
account's jurisdiction, and its tracking (drafted -> sent -> acknowledged with the case number or FIR).

The package is a folder ``<data_dir>/referrals/<id>/`` holding:
- ``referral-<id>.pdf``: the summary (accounts, items, what was found, when, by what means, what was
  done), the CyberTipline reportIds, the evidence package's manifest hash, and the jurisdiction's
  custodian certificate to sign (``suraksha.reporting.certificates``);
- ``summary.json``: the same facts, exact (the PDF's core fonts cannot show every script);
- the signed evidence package (``suraksha vault export``), copied in when given.

``ReferralSummary`` is read from the database by ``gather_referral``; ``render_referral_pdf`` is pure.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import zipfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from suraksha import audit
from suraksha.content.models import Account, Item, ItemMatch, ItemRuleHit
from suraksha.db.base import utcnow
from suraksha.enforcement.models import Action, Decision
from suraksha.errors import Conflict, InvalidInput, NotFound
from suraksha.files import create_private, private_dir, write_private
from suraksha.reporting.certificates import certificate_text
from suraksha.reporting.models import CyberTiplineReport, PoliceReferral, ReferralState, ReportState
from suraksha.reporting.pdf import Pages
from suraksha.reporting.services import account_name

MAX_ITEMS = 500
EVIDENCE_MANIFEST = "manifest.json"


class ReferralAudit:
    CREATED = "referral:created"
    SENT = "referral:sent"
    ACKNOWLEDGED = "referral:acknowledged"


@dataclass(frozen=True)
class ItemFacts:
    item_id: str
    kind: str
    posted_at: str | None
    received_at: str
    upload_ip: str | None
    upload_port: int | None
    device_id: str | None
    findings: list[str]
    decisions: list[str]
    actions: list[str]
    files: list[str]


@dataclass(frozen=True)
class ReferralSummary:
    account_id: str
    handle: str
    display_name: str
    suspended_at: str | None
    items: list[ItemFacts]
    cybertipline_reports: list[str]
    first_at: str
    last_at: str

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") if value else None


def gather_referral(session: Session, account_id: int) -> ReferralSummary:
    """What the police need to know about one account, from the database: every decided item with
    what was found in it (bank matches, rule hits), how it was decided (automated policy or which
    reviewer) and when, what was done (actions), its files' hashes, and the finished CyberTipline
    reports about the account."""
    account = session.get(Account, account_id)
    if account is None:
        raise NotFound(f"account {account_id} does not exist")
    decided = (
        select(Decision.item_id).join(Item, Item.id == Decision.item_id).where(Item.account_id == account_id)
    )
    items = list(
        session.scalars(select(Item).where(Item.id.in_(decided)).order_by(Item.id).limit(MAX_ITEMS + 1))
    )
    if not items:
        raise InvalidInput(f"account {account_id} has no decided items: there is nothing to refer")
    if len(items) > MAX_ITEMS:
        raise InvalidInput(f"account {account_id} has over {MAX_ITEMS} decided items: refer them in parts")
    facts = [item_facts(session, item) for item in items]
    reports = session.scalars(
        select(CyberTiplineReport)
        .where(CyberTiplineReport.account_id == account_id, CyberTiplineReport.state == ReportState.FINISHED)
        .order_by(CyberTiplineReport.id)
    )
    times = [i.posted_at or i.received_at for i in items]
    return ReferralSummary(
        account_id=account.platform_account_id,
        handle=account.handle,
        display_name=account.display_name,
        suspended_at=_iso(account.suspended_at),
        items=facts,
        cybertipline_reports=[f"{r.ncmec_report_id} (finished {_iso(r.finished_at)})" for r in reports],
        first_at=_iso(min(times)) or "",
        last_at=_iso(max(times)) or "",
    )


def item_facts(session: Session, item: Item) -> ItemFacts:
    """One item as the police see it: what was found in it, how it was decided, what was done, its files."""
    matches = session.scalars(
        select(ItemMatch).where(ItemMatch.item_id == item.id, ItemMatch.suppressed.is_(False))
    )
    hits = session.scalars(select(ItemRuleHit).where(ItemRuleHit.item_id == item.id))
    findings = [
        f"hash match: bank {m.bank_name} ({m.bank_category}), {m.signal_type}"
        + (f" distance {m.distance}" if m.distance is not None else "")
        for m in matches
    ] + [f"text rule: {h.pack} {h.pack_version} / {h.rule_id} ({h.category}) in {h.field}" for h in hits]
    decisions = session.scalars(select(Decision).where(Decision.item_id == item.id).order_by(Decision.id))
    decision_lines, action_lines = [], []
    for d in decisions:
        by = "automated policy" if d.automated else "reviewer"
        category = d.category or "no category"
        decision_lines.append(
            f"{_iso(d.created_at)}: {d.verdict} ({category}) by {by} {d.decided_by_ref}".strip()
        )
        for a in session.scalars(select(Action).where(Action.decision_id == d.id).order_by(Action.id)):
            when = _iso(a.delivered_at) or _iso(a.created_at)
            action_lines.append(f"{a.kind} {a.target} ({a.state}, {when})")
    return ItemFacts(
        item_id=item.platform_item_id,
        kind=item.kind,
        posted_at=_iso(item.posted_at),
        received_at=_iso(item.received_at) or "",
        upload_ip=item.upload_ip,
        upload_port=item.upload_port,
        device_id=item.device_id,
        findings=findings,
        decisions=decision_lines,
        actions=action_lines,
        files=[f"sha256 {m.sha256} md5 {m.md5}" for m in item.media if m.sha256],
    )


# -- the PDF --------------------------------------------------------------------------------------------


def render_referral_pdf(
    summary: ReferralSummary,
    *,
    referral_id: int,
    jurisdiction: str,
    agency: str,
    organisation: str,
    evidence_manifest_sha256: str,
    generated_at: datetime,
    linked: Sequence[ReferralSummary] = (),
    network: Sequence[str] = (),
) -> bytes:
    """The referral's PDF. With ``linked`` (a network referral): the other accounts of the network, each
    with its items, and ``network`` (lines saying what links them) after the first account's."""
    pdf = Pages(f"Police referral {referral_id}", generated_at, shown=f"Referral {referral_id} to {agency}")
    heading, line = pdf.heading, pdf.line
    sender = organisation or "the platform"
    line(f"From: {sender}   Jurisdiction: {jurisdiction}   Prepared: {_iso(generated_at)}")
    heading("Summary")
    line(
        f"Account {summary.account_id} (handle {summary.handle!r}, display name {summary.display_name!r}) "
        f"posted {len(summary.items)} item(s) between {summary.first_at} and {summary.last_at} that were "
        "found to contain child sexual abuse material or related harm, as set out below."
    )
    line(f"Account suspended: {summary.suspended_at or 'no'}")
    heading("CyberTipline reports (NCMEC)")
    line("; ".join(summary.cybertipline_reports) or "none")
    heading("Evidence package")
    line(
        f"Signed evidence package, manifest SHA-256 {evidence_manifest_sha256}"
        if evidence_manifest_sha256
        else "No evidence package attached yet (export one with `suraksha vault export`)."
    )
    heading("Items")
    _items(pdf, summary)
    if linked or network:
        heading(f"The network: {len(linked) + 1} accounts referred together")
        for text in network:
            line(text)
        for other in linked:
            heading(f"Account {other.account_id}")
            line(
                f"Handle {other.handle!r}, display name {other.display_name!r}: {len(other.items)} item(s) "
                f"between {other.first_at} and {other.last_at}. Suspended: {other.suspended_at or 'no'}. "
                f"CyberTipline reports: {'; '.join(other.cybertipline_reports) or 'none'}"
            )
            _items(pdf, other)
    everyone = [summary, *linked]
    files = sum(len(f.files) for one in everyone for f in one.items)
    title, text = certificate_text(
        jurisdiction,
        organisation=organisation,
        system="Suraksha child-safety operations platform and the host platform's systems",
        referral=str(referral_id),
        files=files,
        manifest=evidence_manifest_sha256,
        period=f"{min(o.first_at for o in everyone)} to {max(o.last_at for o in everyone)}",
    )
    pdf.new_page()
    heading(title)
    line(text)
    return pdf.output()


def _items(pdf: Pages, summary: ReferralSummary) -> None:
    line = pdf.line
    for facts in summary.items:
        pdf.bold(f"Item {facts.item_id} ({facts.kind})")
        line(f"Posted {facts.posted_at or 'unknown'}, received {facts.received_at}")
        if facts.upload_ip:
            line(f"Uploaded from {facts.upload_ip} port {facts.upload_port or 'unknown'}")
        if facts.device_id:
            line(f"Device id {facts.device_id}")
        for text in facts.findings:
            line(f"Found: {text}")
        for text in facts.decisions:
            line(f"Decided: {text}")
        for text in facts.actions:
            line(f"Action: {text}")
        for text in facts.files:
            line(f"File: {text}")
        pdf.gap()


# -- the referral ---------------------------------------------------------------------------------------


def _manifest_sha256(package: Path) -> str:
    try:
        with zipfile.ZipFile(package) as archive:
            info = archive.getinfo(EVIDENCE_MANIFEST)
            if info.file_size > 16 * 1024 * 1024:
                raise InvalidInput(f"{package}: its manifest is implausibly large")
            return hashlib.sha256(archive.read(info)).hexdigest()
    except (zipfile.BadZipFile, KeyError, OSError) as exc:
        raise InvalidInput(
            f"{package} is not an evidence package (`suraksha vault export` makes one): {exc}"
        ) from None


def create_referral(
    session: Session,
    account_id: int,
    *,
    jurisdiction: str,
    agency: str,
    actor: str,
    out_dir: Path,
    organisation: str = "",
    evidence_package: Path | None = None,
    linked_account_ids: Sequence[int] = (),
    network: Sequence[str] = (),
    attachments: Sequence[Path] = (),
) -> PoliceReferral:
    """Build the referral package for an account and record it as drafted (audited).

    A network referral (one for a whole network of accounts, from an investigation) names the other
    accounts in ``linked_account_ids`` (those with decided items are set out like the first; the
    others are listed), says what links them in ``network``, and copies ``attachments`` (the network
    export) into the package beside the evidence package."""
    jurisdiction = jurisdiction.strip().upper()
    if not (len(jurisdiction) == 2 and jurisdiction.isalpha()):
        raise InvalidInput(f"jurisdiction {jurisdiction!r} must be a two-letter country code such as IN")
    if not agency.strip() or len(agency) > 300:
        raise InvalidInput("name the police agency the referral is for (at most 300 characters)")
    summary = gather_referral(session, account_id)
    linked: list[ReferralSummary] = []
    undecided: list[str] = []
    for other in dict.fromkeys(a for a in linked_account_ids if a != account_id):
        try:
            linked.append(gather_referral(session, other))
        except InvalidInput:
            found = session.get(Account, other)
            undecided.append(account_name(found))
    if undecided:
        network = [*network, f"Linked accounts with no decided item: {', '.join(undecided)}"]
    manifest = _manifest_sha256(evidence_package) if evidence_package is not None else ""
    reports = [r.split(" ")[0] for one in [summary, *linked] for r in one.cybertipline_reports]
    referral = PoliceReferral(
        account_id=account_id,
        jurisdiction=jurisdiction,
        agency=agency.strip(),
        state=ReferralState.DRAFTED,
        ncmec_report_ids=" ".join(reports)[:400],
        evidence_manifest_sha256=manifest,
        created_by=actor,
    )
    session.add(referral)
    session.flush()
    folder = out_dir / str(referral.id)
    private_dir(folder)  # personal data and evidence: 0700, files 0600, whatever the umask
    pdf = render_referral_pdf(
        summary,
        referral_id=referral.id,
        jurisdiction=jurisdiction,
        agency=referral.agency,
        organisation=organisation,
        evidence_manifest_sha256=manifest,
        generated_at=utcnow(),
        linked=linked,
        network=network,
    )
    write_private(folder / f"referral-{referral.id}.pdf", pdf)
    facts: dict[str, object] = summary.as_dict()
    if linked or network:
        facts = {**facts, "linked_accounts": [o.as_dict() for o in linked], "network": list(network)}
    write_private(folder / "summary.json", json.dumps(facts, indent=2, ensure_ascii=False).encode())
    for attached in [*([evidence_package] if evidence_package is not None else []), *attachments]:
        copy = create_private(folder / attached.name, exclusive=False)
        with open(attached, "rb") as source, copy:
            shutil.copyfileobj(source, copy)
    referral.package_path = str(folder)
    referral.pdf_sha256 = hashlib.sha256(pdf).hexdigest()
    audit.record(
        session,
        actor,
        ReferralAudit.CREATED,
        f"referral:{referral.id}",
        {
            "account": account_id,
            "jurisdiction": jurisdiction,
            "agency": referral.agency[:100],
            "pdf_sha256": referral.pdf_sha256,
            "evidence_manifest_sha256": manifest,
            "ncmec_report_ids": reports[:20],
            "linked_accounts": len(linked),
        },
    )
    return referral


def mark_sent(session: Session, referral_id: int, *, via: str, actor: str) -> PoliceReferral:
    """Record that the package was handed over (``via``: portal, e-mail, in person...)."""
    referral = _referral(session, referral_id)
    if referral.state != ReferralState.DRAFTED:
        raise Conflict(f"referral {referral_id} is already {referral.state}")
    if not via.strip():
        raise InvalidInput("say how the referral was sent (portal, e-mail address, in person)")
    referral.state, referral.sent_at, referral.sent_via = ReferralState.SENT, utcnow(), via.strip()[:300]
    audit.record(session, actor, ReferralAudit.SENT, f"referral:{referral.id}", {"via": referral.sent_via})
    return referral


def mark_acknowledged(session: Session, referral_id: int, *, case_number: str, actor: str) -> PoliceReferral:
    """Record the police's acknowledgement with their case number or FIR number."""
    referral = _referral(session, referral_id)
    if referral.state != ReferralState.SENT:
        raise Conflict(f"referral {referral_id} is {referral.state}: record it as sent first")
    if not case_number.strip():
        raise InvalidInput("give the police case number or FIR number they acknowledged with")
    referral.state, referral.acknowledged_at = ReferralState.ACKNOWLEDGED, utcnow()
    referral.case_number = case_number.strip()[:200]
    audit.record(
        session,
        actor,
        ReferralAudit.ACKNOWLEDGED,
        f"referral:{referral.id}",
        {"case_number": referral.case_number},
    )
    return referral


def _referral(session: Session, referral_id: int) -> PoliceReferral:
    referral = session.get(PoliceReferral, referral_id, with_for_update=True)
    if referral is None:
        raise NotFound(f"referral {referral_id} does not exist (`suraksha report referral-list`)")
    return referral


def referral_dict(referral: PoliceReferral) -> dict[str, object]:
    session = object_session(referral)
    account = session.get(Account, referral.account_id) if session is not None else None
    return {
        "id": referral.id,
        "account_id": referral.account_id,
        "account": account_name(account),
        "jurisdiction": referral.jurisdiction,
        "agency": referral.agency,
        "state": referral.state,
        "ncmec_report_ids": referral.ncmec_report_ids.split(),
        "evidence_manifest_sha256": referral.evidence_manifest_sha256,
        "package_path": referral.package_path,
        "pdf_sha256": referral.pdf_sha256,
        "created_at": referral.created_at,
        "sent_at": referral.sent_at,
        "sent_via": referral.sent_via,
        "acknowledged_at": referral.acknowledged_at,
        "case_number": referral.case_number,
    }
