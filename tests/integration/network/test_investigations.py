"""Network investigations end to end on a real database: opened from a planted racket's cluster, its
accounts changed with reasons, evidence held, every account suspended only with a second person's
approval, CyberTipline reports that link the accounts and validate against NCMEC's XSD, one police
referral for the whole network, and a signed export that fails verification once a byte changes."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from suraksha import audit
from suraksha.access.users import create_user
from suraksha.app import Platform
from suraksha.content.models import Account, Item
from suraksha.enforcement.models import Action, ActionKind, DecidedBy, Decision, Verdict
from suraksha.errors import Conflict, Forbidden, InvalidInput
from suraksha.network import export
from suraksha.network.models import InvestigationState, NetworkCluster
from suraksha.network.services import cluster_accounts, recluster
from suraksha.reporting.contents import Reporter
from suraksha.reporting.models import CyberTiplineReport, ReportState
from suraksha.reporting.services import ReportOptions, approve_report, load_report_content
from suraksha.reporting.xml import CyberTiplineSchema, report_xml
from suraksha.settings import Settings
from suraksha.testing.database import truncate_all
from suraksha.vault import crypto
from suraksha.vault.models import PreservationHold
from tests.integration.network.conftest import T0, NetworkWorld

PASSWORD = "four unrelated words here"
RACKET = 6
OPTIONS = ReportOptions(
    reporter=Reporter(email="trust-safety@example.org", first_name="Trust", last_name="Safety"),
    platform="Demo Platform",
    bundle_window_s=0,
)


@dataclass
class Desk:
    platform: Platform
    world: NetworkWorld
    lead: int
    second_lead: int
    legal: int
    reviewer: int
    cluster_id: int
    racket: list[int]


@pytest.fixture
def desk(database_url: str, tmp_path: Path) -> Iterator[Desk]:
    platform = Platform(
        Settings.load(
            {
                "database_url": database_url,
                "data_dir": str(tmp_path / "data"),
                "index_dir": str(tmp_path / "index"),
                "vault_signing_key": crypto.generate_signing_key_text(),
            }
        )
    )
    world = NetworkWorld(platform.db)
    for n in range(RACKET):
        world.item(
            f"racket-{n}",
            ids=(("upi_id", f"till{n % 2}@okaxis"), ("telegram", "t.me/racketshop")),
            files=(f"stock-{n % 3}.jpg",),
            at=T0 + timedelta(hours=n),
        )
    world.item("bystander", files=("holiday.jpg",))
    with platform.db.session() as session:
        for item in session.scalars(select(Item)):
            session.add(
                Decision(
                    item_id=item.id,
                    verdict=Verdict.VIOLATION
                    if item.account_id != world.accounts["bystander"]
                    else Verdict.CLEAN,
                    category="csam",
                    automated=True,
                    decided_by=DecidedBy.POLICY,
                    decided_by_ref="bank:known-bad",
                )
            )
        people = {
            name: create_user(session, f"{name}@example.org", roles, PASSWORD, by="test").id
            for name, roles in {
                "lead": ["lead"],
                "second": ["lead"],
                "legal": ["legal"],
                "reviewer": ["reviewer"],
            }.items()
        }
    recluster(world.db, world.options)
    with platform.db.reading() as session:
        cluster = session.scalars(select(NetworkCluster).order_by(NetworkCluster.accounts.desc())).first()
        assert cluster is not None
        members = sorted(cluster_accounts(session, cluster.id))
    yield Desk(
        platform,
        world,
        people["lead"],
        people["second"],
        people["legal"],
        people["reviewer"],
        cluster.id,
        members,
    )
    if platform.db.dialect == "postgresql":
        truncate_all(platform.db)
    platform.close()


def _open(desk: Desk) -> int:
    opened = desk.platform.investigation_open(
        user_id=desk.lead, title="Till racket", cluster_id=desk.cluster_id
    )
    return int(opened["id"])


def test_a_lead_opens_it_from_a_cluster_and_changes_its_accounts_with_reasons(desk: Desk) -> None:
    p = desk.platform
    assert sorted(desk.racket) == sorted(desk.world.accounts[f"racket-{n}"] for n in range(RACKET))
    with pytest.raises(Forbidden):
        p.investigation_open(user_id=desk.reviewer, title="x", cluster_id=desk.cluster_id)
    with pytest.raises(Forbidden):
        p.investigation_open(user_id=desk.legal, title="x", cluster_id=desk.cluster_id)
    investigation_id = _open(desk)
    bystander = desk.world.accounts["bystander"]
    with pytest.raises(InvalidInput):
        p.investigation_add(investigation_id, [bystander], reason="  ", user_id=desk.lead)
    assert p.investigation_add(
        investigation_id, [bystander], reason="paid the till once", user_id=desk.lead
    ) == [bystander]
    p.investigation_remove(investigation_id, bystander, reason="a customer, not a seller", user_id=desk.lead)
    p.investigation_note(investigation_id, "Telegram channel named in every post", user_id=desk.lead)
    with pytest.raises(Forbidden):
        p.investigation_note(investigation_id, "legal reads only", user_id=desk.legal)

    shown = p.investigation(investigation_id, user_id=desk.legal)  # legal reads it
    assert [a.id for a in shown.accounts] == desk.racket
    removed = [m for m in shown.members if m["account_id"] == bystander]
    assert removed[0]["removed_reason"] == "a customer, not a seller"
    assert any(e.trustworthy for e in shown.edges)
    kinds = {i["kind"] for i in shown.identifiers}
    assert {"upi_id", "telegram", "media"} <= kinds
    events = [t["kind"] for t in shown.timeline if t["kind"] != "item"]
    assert events == ["opened", "accounts_added", "account_removed", "note"]
    assert sum(1 for t in shown.timeline if t["kind"] == "item") == RACKET
    with pytest.raises(Forbidden):
        p.investigation(investigation_id, user_id=desk.reviewer)
    with p.db.reading() as session:
        rows = session.scalars(
            select(audit.AuditEvent).where(audit.AuditEvent.subject == f"investigation:{investigation_id}")
        ).all()
    assert [r.action for r in rows].count("investigation:view") == 1
    assert [r.action for r in rows].count("investigation:change") == 4


def test_suspending_every_account_needs_a_second_person(desk: Desk) -> None:
    p = desk.platform
    investigation_id = _open(desk)
    with pytest.raises(InvalidInput):
        p.investigation_propose(investigation_id, "ban", reason="x", user_id=desk.lead)
    proposed = p.investigation_propose(investigation_id, "suspend", reason="selling CSAM", user_id=desk.lead)
    assert proposed["state"] == "pending" and proposed["accounts"] == RACKET
    with p.db.reading() as session:
        assert session.scalar(select(Action.id).where(Action.kind == ActionKind.SUSPEND)) is None
    with pytest.raises(Forbidden):  # not by the one who proposed it
        p.investigation_approve(int(proposed["id"]), user_id=desk.lead)
    with pytest.raises(Forbidden):  # legal does not approve decisions
        p.investigation_approve(int(proposed["id"]), user_id=desk.legal)
    done = p.investigation_approve(int(proposed["id"]), user_id=desk.second_lead, note="seen the evidence")
    assert done["state"] == "approved" and done["actions"] == RACKET
    with p.db.reading() as session:
        suspensions = session.scalars(select(Action).where(Action.kind == ActionKind.SUSPEND)).all()
        assert sorted(a.account_id for a in suspensions) == desk.racket
        assert all(not a.automated for a in suspensions)
        suspended = session.scalars(select(Account).where(Account.id.in_(desk.racket))).all()
        assert all(a.suspended_at is not None for a in suspended)
    with pytest.raises(Conflict):
        p.investigation_approve(int(proposed["id"]), user_id=desk.second_lead)


def test_preserving_holds_every_decided_item_of_every_account(desk: Desk) -> None:
    p = desk.platform
    investigation_id = _open(desk)
    first = p.investigation_preserve(investigation_id, user_id=desk.lead)
    assert first.items == RACKET and first.holds == RACKET and first.skipped == 0
    again = p.investigation_preserve(investigation_id, user_id=desk.lead)  # idempotent
    assert again.holds == RACKET
    with p.db.reading() as session:
        holds = session.scalars(
            select(PreservationHold).where(PreservationHold.reference == f"investigation:{investigation_id}")
        ).all()
    assert len(holds) == RACKET
    assert {h.basis for h in holds} == {"network_investigation"}
    with pytest.raises(Forbidden):
        p.investigation_preserve(investigation_id, user_id=desk.legal)


def test_reports_link_the_accounts_and_validate_against_the_xsd(desk: Desk, testdata: Path) -> None:
    p = desk.platform
    investigation_id = _open(desk)
    prior_account = desk.racket[1]
    with p.db.session() as session:  # an earlier finished report about one of the accounts
        session.add(
            CyberTiplineReport(
                account_id=prior_account, state=ReportState.FINISHED, version=1, ncmec_report_id=4242
            )
        )
    reports = p.investigation_report(investigation_id, user_id=desk.lead)
    assert len(reports) == RACKET
    assert {r["state"] for r in reports} == {"draft"}
    schema = CyberTiplineSchema.from_path(testdata / "ncmec" / "cyber_tipline.xsd")
    with p.db.session() as session:
        report = session.scalars(
            select(CyberTiplineReport).where(
                CyberTiplineReport.account_id == desk.racket[0], CyberTiplineReport.state == ReportState.DRAFT
            )
        ).one()
        document = report_xml(load_report_content(session, report.id, OPTIONS))
        with pytest.raises(Forbidden):  # the one who prepared it does not approve it
            approve_report(session, report.id, actor="user:" + _pseudonym(p, desk.lead))
    schema.validate(document, root="report")
    text = document.decode()
    assert f"<groupIdentifier>suraksha-network-investigation-{investigation_id}</groupIdentifier>" in text
    assert text.count('<associatedAccount type="Linked">') == RACKET - 1
    assert "<priorCTReport>4242</priorCTReport>" in text
    with pytest.raises(Forbidden):
        p.investigation_report(investigation_id, user_id=desk.reviewer)


def _pseudonym(p: Platform, user_id: int) -> str:
    from suraksha.access.models import ConsoleUser

    with p.db.reading() as session:
        user = session.get(ConsoleUser, user_id)
        assert user is not None
        return user.pseudonym


def test_one_police_referral_for_the_whole_network(desk: Desk) -> None:
    p = desk.platform
    investigation_id = _open(desk)
    referral = p.investigation_refer(
        investigation_id, user_id=desk.lead, jurisdiction="IN", agency="Cyber Cell"
    )
    folder = Path(str(referral["package_path"]))
    summary = json.loads((folder / "summary.json").read_text())
    assert len(summary["linked_accounts"]) == RACKET - 1
    assert any("upi_id till" in line for line in summary["network"])
    assert list(folder.glob("investigation-*.zip"))
    assert (folder / f"referral-{referral['id']}.pdf").read_bytes().startswith(b"%PDF")
    with pytest.raises(Conflict):
        p.investigation_refer(investigation_id, user_id=desk.lead, jurisdiction="IN", agency="Cyber Cell")
    shown = p.investigation(investigation_id, user_id=desk.lead)
    assert shown.investigation["state"] == InvestigationState.HANDED_TO_POLICE
    assert shown.investigation["referral_id"] == referral["id"]
    p.investigation_close(investigation_id, reason="handed over", user_id=desk.lead)
    with pytest.raises(Conflict):
        p.investigation_note(investigation_id, "after closing", user_id=desk.lead)
    exports = sorted((p.settings.data_path / "network-exports").iterdir())
    desk.world.item("newcomer")  # nothing decided about it yet: nothing to refer
    fresh = p.investigation_open(
        user_id=desk.lead, title="newcomer", account_id=desk.world.accounts["newcomer"]
    )
    with pytest.raises(InvalidInput):
        p.investigation_refer(int(fresh["id"]), user_id=desk.lead, jurisdiction="IN", agency="Cyber Cell")
    assert sorted((p.settings.data_path / "network-exports").iterdir()) == exports  # no export left behind


def test_the_export_verifies_and_a_changed_byte_fails_it(desk: Desk, tmp_path: Path) -> None:
    p = desk.platform
    investigation_id = _open(desk)
    out = tmp_path / "exports" / "network.zip"
    built = p.investigation_export(investigation_id, out, user_id=desk.legal, reason="for the analysts")
    assert built["files"] == len(export.FILES)
    key = crypto.verify_key_text(crypto.signing_key_from_text(str(p.settings.vault_signing_key.reveal())))  # type: ignore[union-attr]
    check = p.network_verify_export(out, key)
    assert check.ok, check.problems
    with zipfile.ZipFile(out) as archive:
        names = archive.namelist()
        edges = archive.read("edges.csv").decode()
        graphml = archive.read("network.graphml").decode()
        document = json.loads(archive.read("network.json"))
    assert names[:2] == ["manifest.json", "manifest.sig"] and set(export.FILES) <= set(names)
    assert "upi_id" in edges and "till0@okaxis" in edges
    assert graphml.count("<node ") == RACKET and "<edge " in graphml
    assert document["investigation"]["id"] == investigation_id

    data = bytearray(out.read_bytes())
    at = bytes(data).index(b"till0@okaxis")
    data[at] = ord("T")
    tampered = tmp_path / "tampered.zip"
    tampered.write_bytes(bytes(data))
    bad = p.network_verify_export(tampered, key)
    assert not bad.ok and bad.problems
    with pytest.raises(Forbidden):
        p.investigation_export(investigation_id, out, user_id=desk.reviewer, reason="x")
    with p.db.reading() as session:
        exported = session.scalars(
            select(audit.AuditEvent).where(audit.AuditEvent.action == "network:export")
        ).all()
    assert len(exported) == 1
