"""Each regulator's template filled from known records, every cell checked, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from suraksha.content.models import Account, Item, ItemMatch, ItemMedia, ItemRuleHit
from suraksha.db import Database
from suraksha.enforcement.models import Action, Decision
from suraksha.errors import InvalidInput, NotFound
from suraksha.legal.models import LegalRequest
from suraksha.reporting.models import (
    CyberTiplineReport,
    CyberTiplineReportFile,
    IncidentType,
    PoliceReferral,
    ReportState,
)
from suraksha.transparency import measures, templates
from suraksha.transparency.catalogue import (
    DSA_TRANSPARENCY,
    IT_RULES_MONTHLY,
    NCMEC_ANNUAL,
    TEMPLATES,
    check_format,
    get_template,
)
from suraksha.transparency.templates import NOT_COLLECTED, fill, month_period, year_period
from tests.transparency_records import add_appeal, add_flagger, add_notice

NOV = datetime(2026, 11, 1, tzinfo=UTC)
NOW = datetime(2026, 12, 2, tzinfo=UTC)


@dataclass
class Seeder:
    session: object
    account_id: int

    def item(self, name: str, at: datetime, **fields: object) -> Item:
        item = Item(platform_item_id=f"post-{name}", payload_digest="0" * 64, kind="post",
                    account_id=self.account_id, received_at=at, **fields)  # fmt: skip
        self.session.add(item)  # type: ignore[attr-defined]
        self.session.flush()  # type: ignore[attr-defined]
        return item

    def decide(self, item: Item, verdict: str, at: datetime, *, automated: bool, by: str, category: str = "",
               ref: str = "") -> Decision:  # fmt: skip
        decision = Decision(item_id=item.id, verdict=verdict, automated=automated, decided_by=by,
                            decided_by_ref=ref, category=category, created_at=at)  # fmt: skip
        self.session.add(decision)  # type: ignore[attr-defined]
        self.session.flush()  # type: ignore[attr-defined]
        return decision

    def act(
        self, decision: Decision, kind: str, at: datetime, target: str = "item", countries: str = ""
    ) -> None:
        self.session.add(  # type: ignore[attr-defined]
            Action(decision_id=decision.id, item_id=decision.item_id, account_id=self.account_id, kind=kind,
                   target=target, automated=decision.automated, created_at=at, countries=countries)
        )  # fmt: skip

    def media(self, item: Item, n: int) -> list[int]:
        ids = []
        for i in range(n):
            m = ItemMedia(item_id=item.id, position=i, sha256=f"{item.id:02d}{i:062d}", md5="0" * 32)
            self.session.add(m)  # type: ignore[attr-defined]
            self.session.flush()  # type: ignore[attr-defined]
            ids.append(m.id)
        return ids

    def request(self, kind: str, where: str, at: datetime, **times: datetime) -> LegalRequest:
        request = LegalRequest(kind=kind, jurisdiction=where, channel="email", received_at=at,
                               created_by="desk@example.org", **times)  # fmt: skip
        self.session.add(request)  # type: ignore[attr-defined]
        self.session.flush()  # type: ignore[attr-defined]
        return request


def seed(db: Database) -> None:
    """November 2026 on a small platform (each line a record the templates must count or leave out)."""
    d = timedelta(days=1)
    h = timedelta(hours=1)
    with db.session() as session:
        account = Account(platform_account_id="acct-1", handle="@one")
        session.add(account)
        session.flush()
        s = Seeder(session, account.id)
        # A: a banked picture removed and its account suspended by policy at once.
        a = s.item("A", NOV + d)
        a_media = s.media(a, 2)
        session.add(ItemMatch(item_id=a.id, media_id=a_media[0], bank_name="known", bank_category="csam",
                              entry_id=1, signal_type="md5"))  # fmt: skip
        da = s.decide(a, "violation", NOV + d, automated=True, by="policy", category="csam")
        s.act(da, "remove", NOV + d)
        s.act(da, "suspend", NOV + d, target="account")
        # B: a sale post a rule flagged, removed by a reviewer.
        b = s.item("B", NOV + d)
        b_media = s.media(b, 1)
        session.add(ItemRuleHit(item_id=b.id, field="text", start=0, end=4, matched="sale", pack="default",
                                pack_version="1", rule_id="sale", category="sale_solicitation"))  # fmt: skip
        db_ = s.decide(
            b, "violation", NOV + d + h, automated=False, by="reviewer", category="sale_or_solicitation"
        )
        s.act(db_, "remove", NOV + d + h)
        # C: a user's report, withheld in two EU states by a reviewer two hours after it arrived.
        c = s.item("C", NOV + 2 * d, reporter_kind="user")
        dc = s.decide(c, "violation", NOV + 2 * d + 2 * h, automated=False, by="reviewer",
                      category="intimate_imagery")  # fmt: skip
        s.act(dc, "withhold", NOV + 2 * d + 2 * h, countries="DE FR")
        # D: a trusted flagger's report, found clean by policy an hour later.
        dd = s.item("D", NOV + 3 * d, reporter_kind="trusted_flagger")
        s.decide(dd, "clean", NOV + 3 * d + h, automated=True, by="policy")
        # E: October, not counted.
        e = s.item("E", NOV - 5 * d)
        de = s.decide(e, "violation", NOV - 5 * d, automated=True, by="policy", category="csam")
        s.act(de, "remove", NOV - 5 * d)
        # Grievances (IN): one acted on and answered, one about intimate imagery pending; one from the US.
        g1 = s.request("grievance", "IN", NOV, acted_at=NOV + 4 * d, answered_at=NOV + 5 * d)
        s.request("grievance_intimate_imagery", "IN-DL", NOV + 9 * d)
        s.request("grievance", "US", NOV + 9 * d, acted_at=NOV + 9 * d)
        # F: the item the grievance named, removed by the desk.
        f = s.item("F", NOV)
        df = s.decide(
            f, "legal_order", NOV + 4 * d, automated=False, by="legal", ref=f"legal_request:{g1.id}"
        )
        s.act(df, "remove", NOV + 4 * d)
        # Orders: a German removal notice, a French disclosure request, an Indian removal notice.
        s.request("removal_notice", "DE", NOV + d, acknowledged_at=NOV + d + h, acted_at=NOV + d + 3 * h)
        s.request("data_disclosure", "FR", NOV + 2 * d, acknowledged_at=NOV + 2 * d + 2 * h,
                  answered_at=NOV + 4 * d)  # fmt: skip
        s.request("removal_notice", "IN", NOV + 2 * d, acted_at=NOV + 2 * d + h)
        # CyberTipline: two reports finished in November (one escalated), one in 2025.
        r1 = CyberTiplineReport(account_id=account.id, state=ReportState.FINISHED, finished_at=NOV + 6 * d,
                                incident_type=IncidentType.CHILD_PORNOGRAPHY,
                                escalate_reason="risk")  # fmt: skip
        r2 = CyberTiplineReport(account_id=account.id, state=ReportState.FINISHED, finished_at=NOV + 7 * d,
                                incident_type=IncidentType.ONLINE_ENTICEMENT)  # fmt: skip
        r3 = CyberTiplineReport(account_id=account.id, state=ReportState.FINISHED,
                                finished_at=datetime(2025, 6, 1, tzinfo=UTC))  # fmt: skip
        session.add_all([r1, r2, r3])
        session.flush()
        for report, item, media in ((r1, a, a_media[0]), (r1, a, a_media[1]), (r2, b, b_media[0]),
                                    (r3, b, b_media[0])):  # fmt: skip
            session.add(CyberTiplineReportFile(report_id=report.id, item_id=item.id, media_id=media,
                                               sha256="a" * 64))  # fmt: skip
        referral = PoliceReferral(account_id=account.id, jurisdiction="IN", agency="Delhi Police",
                                  created_by="lead", created_at=NOV + 8 * d, sent_at=NOV + 8 * d)  # fmt: skip
        session.add(referral)
        # A trusted flagger's notices: one named B (removed), confirmed in an hour; one named D, not
        # confirmed in three hours; one named nothing that could be found; one still in review; one in
        # October. (D's item row says trusted_flagger: the notices, not the items, are counted.)
        flagger = add_flagger(session, "bal")
        add_notice(session, flagger, NOV + d, outcome="confirmed", after=h, item_id=b.id)
        add_notice(session, flagger, NOV + 3 * d, outcome="not_confirmed", after=3 * h, item_id=dd.id)
        add_notice(session, flagger, NOV + 4 * d, outcome="not_found", after=h)
        add_notice(session, flagger, NOV + 10 * d)
        add_notice(session, flagger, NOV - 2 * d, outcome="confirmed", after=h)
        # Appeals: A's decision reversed in 6 h; C's upheld in 2 days; F's open; E's (lodged in October)
        # upheld on 1 November after 3 days. No restore action is written here: the appeals are counted.
        add_appeal(session, da, NOV + 2 * d, "reversed", after=6 * h)
        add_appeal(session, dc, NOV + 3 * d, "upheld", after=2 * d)
        add_appeal(session, df, NOV + 5 * d, "open")
        add_appeal(session, de, NOV - 3 * d, "upheld", after=3 * d)


def test_it_rules_monthly_report_every_cell(db: Database) -> None:
    seed(db)
    with db.reading() as session:
        filled = fill(IT_RULES_MONTHLY, session, month_period("2026-11"), organisation="Example", now=NOW)
    assert filled.values() == {
        "grievances_received.general": 1,
        "grievances_received.intimate_imagery": 1,
        "grievances_received.total": 2,
        "grievances_actioned.general": 1,
        "grievances_actioned.intimate_imagery": 0,
        "grievances_resolved.general": 1,
        "grievances_resolved.intimate_imagery": 0,
        "grievances_items_removed": 1,
        "user_reports_received.user": 1,
        "user_reports_actioned.user": 1,
        "user_reports_received.trusted_flagger": 4,
        "user_reports_actioned.trusted_flagger": 1,
        "proactive.identified_by_hash": 1,
        "proactive.identified_by_text_rule": 1,
        "proactive.identified_by_classifier": 0,
        "proactive.removed.csam": 1,
        "proactive.removed.intimate_imagery": 0,
        "proactive.removed.sexual_violence": 0,
        "proactive.removed.sale_or_solicitation": 0,
        "proactive.removed.other": 0,
        "proactive.removed.total": 1,
        "proactive.accounts_suspended": 1,
        "law.cybertipline_reports": 2,
        "law.police_referrals_sent": 1,
    }
    rows = list(csv.DictReader(io.StringIO(templates.render_csv(filled).decode())))
    assert [r["cell"] for r in rows] == list(filled.values())
    assert rows[0]["template"] == "it-rules-monthly" and rows[0]["version"] == "2"
    assert templates.render_pdf(filled).startswith(b"%PDF")


def test_dsa_transparency_report_every_cell(db: Database) -> None:
    seed(db)
    with db.reading() as session:
        filled = fill(DSA_TRANSPARENCY, session, month_period("2026-11"), organisation="Example", now=NOW)
    states = {f"orders_act.member_state.{s}": int(s == "DE") for s in measures.EEA_STATES}
    assert filled.values() == {
        "provider_name": "Example",
        "period_start": "2026-11-01",
        "period_end": "2026-11-30",
        "service_name": NOT_COLLECTED,
        "orders_act.received": 1,
        **states,
        "orders_act.by_type_of_illegal_content": NOT_COLLECTED,
        "orders_act.median_time_to_acknowledge_s": 3600.0,
        "orders_act.median_time_to_give_effect_s": 10800.0,
        "orders_info.received": 1,
        "orders_info.median_time_to_acknowledge_s": 7200.0,
        "orders_info.median_time_to_give_effect_s": 172800.0,
        "notices.received": 5,
        "notices.trusted_flaggers": 4,
        "notices.trusted_flaggers_confirmed": 1,
        "notices.trusted_flaggers_median_time_to_decision_s": 7200.0,
        "notices.by_type_of_alleged_illegal_content": NOT_COLLECTED,
        "notices.actioned": 2,
        "notices.median_time_to_decision_s": 3600.0,
        "notices.processed_by_automated_means": NOT_COLLECTED,
        "own_initiative.actions.remove": 3,
        "own_initiative.actions.withhold": 1,
        "own_initiative.actions.restrict": 0,
        "own_initiative.actions.suspend": 1,
        "own_initiative.actions.restore": 0,
        "own_initiative.removed.csam": 1,
        "own_initiative.removed.intimate_imagery": 1,
        "own_initiative.removed.sexual_violence": 0,
        "own_initiative.removed.sale_or_solicitation": 1,
        "own_initiative.removed.other": 1,
        "own_initiative.identified_items": 4,
        "complaints.received": 3,
        "complaints.median_time_s": 172800.0,
        "complaints.decisions_upheld": 2,
        "complaints.decisions_reversed": 1,
        "out_of_court.disputes": NOT_COLLECTED,
        "suspensions.art23_repeat_offenders": 1,
        "suspensions.art23_unfounded_notices": NOT_COLLECTED,
        "automated.decisions": 2,
        "automated.decisions_by_people": 3,
        "automated.removed_items": 1,
        "automated.accuracy_indicator": NOT_COLLECTED,
        "human_resources.moderators": NOT_COLLECTED,
        "recipients.average_monthly_active": NOT_COLLECTED,
    }
    text = templates.render_csv(filled).decode()
    assert "not collected" in text and ",0," in text  # unknown is never zero; zero is zero


def test_ncmec_annual_counts_every_cell(db: Database) -> None:
    seed(db)
    with db.reading() as session:
        filled = fill(NCMEC_ANNUAL, session, year_period(2026), now=NOW)
    expected: dict[str, object] = {"reports_finished": 2, "files_reported": 3, "reports_escalated": 1}
    for incident in IncidentType:
        key = incident.name.lower()
        expected[f"reports.{key}"] = {"child_pornography": 1, "online_enticement": 1}.get(key, 0)
        expected[f"files.{key}"] = {"child_pornography": 2, "online_enticement": 1}.get(key, 0)
    assert filled.values() == expected
    with db.reading() as session:
        earlier = fill(NCMEC_ANNUAL, session, year_period(2025), now=NOW).values()
    assert (earlier["reports_finished"], earlier["files_reported"], earlier["reports.child_pornography"]) == (
        1,
        1,
        1,
    )


def test_an_empty_month_says_zero_and_not_collected_stays_not_collected(db: Database) -> None:
    with db.reading() as session:
        values = fill(DSA_TRANSPARENCY, session, month_period("2030-01"), now=NOW).values()
    assert values["notices.received"] == 0 and values["notices.median_time_to_decision_s"] is None
    assert values["complaints.received"] == 0 and values["complaints.median_time_s"] is None
    assert values["notices.trusted_flaggers_median_time_to_decision_s"] is None
    assert values["out_of_court.disputes"] is NOT_COLLECTED


def test_periods_and_names_are_checked() -> None:
    assert month_period("2026-12").end == datetime(2027, 1, 1, tzinfo=UTC)
    for bad in ("2026-13", "november", "2026"):
        with pytest.raises(InvalidInput, match="not a month"):
            month_period(bad)
    with pytest.raises(InvalidInput, match="calendar year"):
        year_period(25)
    with pytest.raises(InvalidInput, match="after it ends"):
        templates.days_period("2026-02-01", "2026-01-01")
    assert templates.days_period("2026-01-01", "2026-01-31").end == datetime(2026, 2, 1, tzinfo=UTC)
    with pytest.raises(NotFound, match="it-rules-monthly"):
        get_template("it-rules")
    with pytest.raises(InvalidInput, match="csv"):
        check_format(DSA_TRANSPARENCY, ["pdf"])
    assert {t["id"] for t in (x.summary() for x in TEMPLATES.values())} == set(TEMPLATES)
    assert all(c.definition and c.label for t in TEMPLATES.values() for c in t.cells)
