"""Every measure, from known records, on SQLite and PostgreSQL; and the commission's answer drafted
from them (the worked example: the Delhi Commission for Women's five questions of September 2022)."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest
from docx import Document

from suraksha.banks import services as banks
from suraksha.banks.models import BankCategory
from suraksha.content.lookup import UrlPatterns
from suraksha.content.models import Account, Item, ItemMatch, ItemMedia, ItemRuleHit
from suraksha.db import Database
from suraksha.enforcement.models import Action, Decision
from suraksha.enforcement.policy import BUILTIN
from suraksha.errors import InvalidInput
from suraksha.reporting.models import CyberTiplineReport, CyberTiplineReportFile, ReportState
from suraksha.rules.models import PackRef
from suraksha.signals.types import SignalKind
from suraksha.transparency import documents
from suraksha.transparency.answers import COMMISSION_QUESTIONS, compose
from suraksha.transparency.statistics import Period, statistics
from suraksha.transparency.tally import bucket_upper_s, time_bucket

T = datetime(2021, 6, 1, 12, 0, tzinfo=UTC)
PERIOD = Period(datetime(2021, 1, 1, tzinfo=UTC), datetime(2022, 1, 1, tzinfo=UTC))
PATTERNS = UrlPatterns(item="https://example.org/p/{item_id}")


def seed(db: Database) -> None:
    """A: banked picture, removed and suspended automatically at once, reported 2 h later. B: a sale
    post a rule flagged, a reviewer decided an hour later and removed it. C: clean. D: a violation in
    another year (not counted)."""
    with db.session() as session:
        bank = banks.create_bank(session, "known-list", category=BankCategory.CSAM)
        banks.add_entry(session, bank, SignalKind.MD5, "0" * 32)
        account = Account(platform_account_id="acct-1", handle="@seller_one")
        session.add(account)
        session.flush()
        items = {}
        for name, received in (("A", T), ("B", T), ("C", T), ("D", T - timedelta(days=400))):
            items[name] = Item(
                platform_item_id=f"post-{name}", payload_digest="0" * 64, kind="post", account_id=account.id,
                received_at=received,
            )  # fmt: skip
            session.add(items[name])
        session.flush()
        media = ItemMedia(item_id=items["A"].id, position=0, sha256="a" * 64, md5="0" * 32)
        session.add(media)
        session.flush()
        session.add(ItemMatch(item_id=items["A"].id, media_id=media.id, bank_name="known-list",
                              bank_category="csam", entry_id=1, signal_type="md5"))  # fmt: skip
        hit = {"pack": "default", "pack_version": "1", "rule_id": "sale", "category": "solicitation"}
        session.add(ItemRuleHit(item_id=items["B"].id, field="text", start=0, end=4, matched="sale", **hit))

        def decide(
            item: Item, verdict: str, at: datetime, *, automated: bool, by: str = "policy"
        ) -> Decision:
            decision = Decision(
                item_id=item.id, verdict=verdict, automated=automated, decided_by=by, created_at=at
            )
            session.add(decision)
            session.flush()
            return decision

        def act(decision: Decision, kind: str, at: datetime, target: str = "item") -> None:
            ids = {"decision_id": decision.id, "item_id": decision.item_id, "account_id": account.id}
            session.add(Action(**ids, kind=kind, target=target, automated=decision.automated, created_at=at))

        a = decide(items["A"], "violation", T + timedelta(seconds=10), automated=True)
        act(a, "remove", T + timedelta(seconds=10))
        act(a, "suspend", T + timedelta(seconds=10), target="account")
        decide(items["B"], "review", T + timedelta(seconds=5), automated=True)
        b = decide(items["B"], "violation", T + timedelta(hours=1), automated=False, by="reviewer")
        act(b, "remove", T + timedelta(hours=1, minutes=1))
        decide(items["C"], "clean", T + timedelta(seconds=5), automated=True)
        d = decide(items["D"], "violation", T - timedelta(days=400), automated=True)
        act(d, "remove", T - timedelta(days=400))
        report = CyberTiplineReport(account_id=account.id, state=ReportState.FINISHED, ncmec_report_id=4242,
                                    finished_at=T + timedelta(hours=2, seconds=10))  # fmt: skip
        session.add(report)
        session.flush()
        session.add(CyberTiplineReportFile(report_id=report.id, item_id=items["A"].id, media_id=media.id,
                                           decision_id=a.id, sha256="a" * 64))  # fmt: skip


def upper(seconds: float) -> float:
    return bucket_upper_s(time_bucket(seconds))


def test_every_measure_from_known_records(db: Database) -> None:
    seed(db)
    with db.reading() as session:
        s = statistics(session, PERIOD)
    assert s.identified_items == 2
    assert s.identified_by_source == {"hash:csam": 1, "text_rule": 1}
    assert (s.decisions, s.decided_automatically, s.decided_by_people) == (4, 3, 1)
    assert s.actions == {"remove": 2, "restore": 0, "restrict": 0, "suspend": 1, "withhold": 0}
    assert s.actions_automated == 2
    assert (s.cybertipline_reports_finished, s.cybertipline_files_reported) == (1, 1)
    assert s.referrals_sent == 0
    # Percentiles are the upper bounds of the ~1 % buckets the values fall in (10 s -> 10.037 s).
    assert s.receipt_to_detection.count == 2 and s.receipt_to_detection.median_s == upper(10.0)
    assert s.detection_to_action.count == 2 and s.detection_to_action.p99_s == upper(60.0)
    assert s.detection_to_report.count == 1 and s.detection_to_report.median_s == upper(7200.0)
    assert s.receipt_to_detection.median_s == 10.037
    assert s.identified_by_category == {"unspecified": 2} and s.identified_backfilled == 0


def test_a_period_with_nothing_says_zero(db: Database) -> None:
    seed(db)
    with db.reading() as session:
        s = statistics(session, Period(datetime(2030, 1, 1, tzinfo=UTC), datetime(2031, 1, 1, tzinfo=UTC)))
    assert (s.identified_items, s.decisions, s.cybertipline_reports_finished) == (0, 0, 0)
    assert set(s.actions.values()) == {0} and s.detection_to_action.median_s is None


def test_a_period_that_ends_before_it_starts_is_refused() -> None:
    with pytest.raises(InvalidInput, match="starts"):
        Period(datetime(2022, 1, 1, tzinfo=UTC), datetime(2021, 1, 1, tzinfo=UTC))


def test_the_commissions_five_questions_answered_from_the_records(db: Database) -> None:
    seed(db)
    with db.reading() as session:
        named = ["https://example.org/p/post-A", "post-C", "https://example.org/p/missing"]
        packs = [PackRef("default", "1", "f" * 64)]
        now = T + timedelta(days=200)
        answer = compose(
            session, PERIOD, policy=BUILTIN, packs=packs, now=now, items=named, patterns=PATTERNS
        )
    assert [q.question for q in answer.questions] == list(COMMISSION_QUESTIONS)
    steps, police, automated, named, counts = (q.answer for q in answer.questions)
    assert "1 hash lists of known material holding 1 active entries" in steps and "default 1" in steps
    assert "1 CyberTipline reports were finished (1 files)" in police and "median 2.0 h" in police
    assert "3 were made by automated tools and 1 by people" in automated
    assert (
        "removed and reported to NCMEC" in named and "Nothing in it matched" in named and "no item" in named
    )
    assert "2 items identified, 2 removed, 1 accounts suspended" in counts
    pdf = documents.render_pdf(answer, organisation="Example")
    assert pdf.startswith(b"%PDF")
    text = "\n".join(p.text for p in Document(io.BytesIO(documents.render_docx(answer))).paragraphs)
    assert COMMISSION_QUESTIONS[3] in text and "post-A" in text
