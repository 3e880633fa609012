"""Known decision, action and report records for the statistics pages' tests (functional, browser and
screenshots), written straight to the tables the statistics count. Benign: posts and accounts are
made up, and nothing holds media.

``seed_quarter``: the first quarter of 2021, with every measure known (tests check them cell by cell):

- 2021-01-10 12:00, post A, matched in a csam bank: decided automatically 10 s after receipt, removed
  and its account suspended at once, reported to the CyberTipline 2 h later (one file).
- 2021-01-20 09:00, post B, a text rule hit: queued for review automatically 5 s after receipt, found
  a violation by a reviewer 1 h after receipt, removed a minute later.
- February: nothing at all.
- 2021-03-05 08:00, post C: decided clean automatically 5 s after receipt.

``seed_history``: a year of made-up activity (for the screenshots), different every month.
"""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from suraksha.access.models import ApiKey
from suraksha.appeals.models import Appeal
from suraksha.banks import services as banks
from suraksha.banks.models import BankCategory
from suraksha.content.models import Account, Item, ItemMatch, ItemMedia, ItemRuleHit
from suraksha.db import Database
from suraksha.enforcement.models import Action, Decision
from suraksha.flaggers.models import Flagger, Notice, NoticeTarget
from suraksha.reporting.models import CyberTiplineReport, CyberTiplineReportFile, ReportState
from suraksha.signals.types import SignalKind

A_AT = datetime(2021, 1, 10, 12, 0, tzinfo=UTC)
B_AT = datetime(2021, 1, 20, 9, 0, tzinfo=UTC)
C_AT = datetime(2021, 3, 5, 8, 0, tzinfo=UTC)


class Writer:
    """Records for one made-up account."""

    def __init__(self, session: Session, tag: str) -> None:
        self.session = session
        self.tag = tag
        self.account = Account(platform_account_id=f"acct-{tag}", handle=f"@{tag}")
        session.add(self.account)
        session.flush()
        self.count = 0

    def item(self, received: datetime) -> Item:
        self.count += 1
        item = Item(
            platform_item_id=f"post-{self.tag}-{self.count}",
            payload_digest="0" * 64,
            kind="post",
            account_id=self.account.id,
            received_at=received,
        )
        self.session.add(item)
        self.session.flush()
        return item

    def matched(self, item: Item, bank: str, category: str) -> ItemMedia:
        media = ItemMedia(item_id=item.id, position=0, sha256=f"{item.id:064x}", md5="0" * 32)
        self.session.add(media)
        self.session.flush()
        self.session.add(
            ItemMatch(
                item_id=item.id,
                media_id=media.id,
                bank_name=bank,
                bank_category=category,
                entry_id=1,
                signal_type="md5",
            )
        )
        return media

    def rule_hit(self, item: Item) -> None:
        self.session.add(
            ItemRuleHit(
                item_id=item.id,
                field="text",
                start=0,
                end=4,
                matched="sale",
                pack="default",
                pack_version="1",
                rule_id="sale",
                category="solicitation",
            )
        )

    def decide(
        self, item: Item, verdict: str, at: datetime, *, automated: bool, by: str = "policy"
    ) -> Decision:
        decision = Decision(
            item_id=item.id, verdict=verdict, automated=automated, decided_by=by, created_at=at
        )
        self.session.add(decision)
        self.session.flush()
        return decision

    def act(self, decision: Decision, kind: str, at: datetime, target: str = "item") -> None:
        self.session.add(
            Action(
                decision_id=decision.id,
                item_id=decision.item_id,
                account_id=self.account.id,
                kind=kind,
                target=target,
                automated=decision.automated,
                created_at=at,
            )
        )

    def report(self, decision: Decision, media: ItemMedia, finished: datetime, number: int) -> None:
        report = CyberTiplineReport(
            account_id=self.account.id,
            state=ReportState.FINISHED,
            ncmec_report_id=number,
            finished_at=finished,
        )
        self.session.add(report)
        self.session.flush()
        self.session.add(
            CyberTiplineReportFile(
                report_id=report.id,
                item_id=decision.item_id,
                media_id=media.id,
                decision_id=decision.id,
                sha256=media.sha256 or "",
            )
        )


def seed_quarter(db: Database, tag: str = "q1") -> None:
    """The first quarter of 2021 (the module docstring)."""
    with db.session() as session:
        bank = banks.create_bank(session, f"known-{tag}", category=BankCategory.CSAM)
        banks.add_entry(session, bank, SignalKind.MD5, "0" * 32)
        w = Writer(session, tag)
        a = w.item(A_AT)
        media = w.matched(a, f"known-{tag}", "csam")
        decided = w.decide(a, "violation", A_AT + timedelta(seconds=10), automated=True)
        w.act(decided, "remove", A_AT + timedelta(seconds=10))
        w.act(decided, "suspend", A_AT + timedelta(seconds=10), target="account")
        w.report(decided, media, A_AT + timedelta(hours=2, seconds=10), 4242)
        b = w.item(B_AT)
        w.rule_hit(b)
        w.decide(b, "review", B_AT + timedelta(seconds=5), automated=True)
        found = w.decide(b, "violation", B_AT + timedelta(hours=1), automated=False, by="reviewer")
        w.act(found, "remove", B_AT + timedelta(hours=1, minutes=1))
        c = w.item(C_AT)
        w.decide(c, "clean", C_AT + timedelta(seconds=5), automated=True)


def seed_history(db: Database, first_month: datetime, months: int = 12, tag: str = "history") -> None:
    """``months`` of made-up activity from ``first_month``: each month some posts matched in a list
    (removed at once, most reported within hours), some flagged by a rule (a reviewer decides within
    hours), and many clean ones; the share decided by people and the times vary month to month."""
    rng = random.Random(15)
    with db.session() as session:
        bank = banks.create_bank(session, f"known-{tag}", category=BankCategory.CSAM)
        banks.add_entry(session, bank, SignalKind.MD5, "0" * 32)
        w = Writer(session, tag)
        number = 9000
        for m in range(months):
            month = first_month.month - 1 + m
            start = first_month.replace(year=first_month.year + month // 12, month=month % 12 + 1, day=1)
            for _ in range(rng.randint(4, 14)):  # matched in a list
                at = start + timedelta(days=rng.randint(0, 26), hours=rng.randint(0, 23))
                item = w.item(at)
                media = w.matched(item, f"known-{tag}", "csam")
                decided = w.decide(
                    item, "violation", at + timedelta(seconds=rng.randint(2, 40)), automated=True
                )
                w.act(decided, "remove", decided.created_at + timedelta(seconds=rng.randint(0, 20)))
                if rng.random() < 0.8:
                    number += 1
                    w.report(decided, media, decided.created_at + timedelta(hours=rng.uniform(1, 30)), number)
            for _ in range(rng.randint(2, 9)):  # a rule hit, decided by a reviewer
                at = start + timedelta(days=rng.randint(0, 26), hours=rng.randint(0, 23))
                item = w.item(at)
                w.rule_hit(item)
                w.decide(item, "review", at + timedelta(seconds=3), automated=True)
                decided_at = at + timedelta(hours=rng.uniform(0.5, 10 + m))
                found = w.decide(item, "violation", decided_at, automated=False, by="reviewer")
                w.act(found, "remove", decided_at + timedelta(minutes=rng.randint(1, 90)))
                if rng.random() < 0.5:
                    w.act(found, "suspend", decided_at + timedelta(minutes=5), target="account")
            for _ in range(rng.randint(10, 30)):  # clean
                at = start + timedelta(days=rng.randint(0, 26), hours=rng.randint(0, 23))
                w.decide(w.item(at), "clean", at + timedelta(seconds=2), automated=True)


# -- trusted flaggers' notices and appeals -----------------------------------------------------------


def add_flagger(session: Session, name: str, *, status_review: bool = False) -> Flagger:
    key = ApiKey(name=f"flagger-{name}", prefix=name[:16], secret_hash="0" * 64, scopes="flagger")
    session.add(key)
    session.flush()
    flagger = Flagger(
        name=name,
        organisation=f"{name} (made up)",
        country="IN",
        jurisdiction="IN",
        designation="statutory",
        api_key_id=key.id,
        status_review_at=datetime(2020, 1, 1, tzinfo=UTC) if status_review else None,
    )
    session.add(flagger)
    session.flush()
    return flagger


def add_notice(
    session: Session,
    flagger: Flagger,
    received: datetime,
    *,
    outcome: str | None = None,
    after: timedelta | None = None,
    item_id: int | None = None,
) -> Notice:
    """A notice received at ``received``; with ``outcome``, settled ``after`` it (else in review)."""
    notice = Notice(
        flagger_id=flagger.id,
        reference=f"{flagger.name}-{received.isoformat()}",
        digest="0" * 64,
        category="csam",
        explanation="made up",
        clock_kind="grievance",
        jurisdiction="IN",
        state="decided" if outcome else "in_review",
        outcome=outcome,
        received_at=received,
        acknowledged_at=received,
        decided_at=received + after if outcome and after is not None else None,
    )
    session.add(notice)
    session.flush()
    if item_id is not None:
        session.add(
            NoticeTarget(notice_id=notice.id, position=0, kind="platform_id", value=str(item_id),
                         state="decided", item_id=item_id)
        )  # fmt: skip
    return notice


def add_appeal(
    session: Session, decision: Decision, lodged: datetime, state: str, *, after: timedelta | None = None
) -> Appeal:
    """An appeal of ``decision`` lodged at ``lodged``, in ``state``, decided ``after`` it (upheld or
    reversed)."""
    appeal = Appeal(
        external_id=f"appeal-{decision.id}",
        request_digest="0" * 64,
        decision_id=decision.id,
        item_id=decision.item_id,
        account_id=session.get(Item, decision.item_id).account_id,  # type: ignore[union-attr]
        jurisdiction="IN",
        received_at=lodged,
        due_at=lodged + timedelta(days=15),
        state=state,
        lodged_by="platform",
        decided_at=lodged + after if after is not None else None,
    )
    session.add(appeal)
    session.flush()
    return appeal


H = timedelta(hours=1)
D = timedelta(days=1)


def seed_notices_appeals(db: Database, month: datetime, tag: str = "na") -> None:
    """Trusted flaggers' notices and appeals around the calendar month that starts at ``month`` (known
    figures, checked cell by cell by the tests):

    Notices received in the month: 5 (alpha-ngo 3, beta-hotline 2, gamma-trust none); decided 3 (alpha
    confirmed in 1 h, not confirmed in 3 h; beta confirmed in 5 h), one not found (alpha), one in
    review (beta): confirmed 2, accuracy 2/3, median 3 h. alpha: 3, 2 decided, 1 confirmed, 1 not
    found, 50 %, median 2 h; beta: 2, 1, 1, 0, 100 %, 5 h, marked for a status review. A notice of the
    month before (alpha, confirmed) is not counted. alpha's first notice names the post that is
    removed in the month.

    Appeals: lodged in the month 4 (one reversed after 2 h, one upheld after a day, one open, one
    waiting for a second person); decided in the month 3 (those two, and one lodged the month before
    and upheld four days later, on the month's second day): upheld 2, reversed 1, median a day.
    Reversal rates: policy ``policy 3`` 3 appealed, 1 reversed; tool hash_bank 2/1, text_rule 1/0;
    bank:known-na 2/1; rule:default/sale 1/0.
    """
    with db.session() as session:
        w = Writer(session, tag)
        bank = [{"bank": f"known-{tag}"}]
        rule = [{"pack": "default", "rule": "sale"}]

        def policy(item: Item, at: datetime, basis: object) -> Decision:
            decision = w.decide(item, "violation", at, automated=True)
            decision.decided_by_ref, decision.basis = "policy 3", json.dumps(basis)
            return decision

        alpha, beta = (
            add_flagger(session, f"alpha-{tag}"),
            add_flagger(session, f"beta-{tag}", status_review=True),
        )
        add_flagger(session, f"gamma-{tag}")
        named = w.item(month + D)
        removed = w.decide(named, "violation", month + D + H, automated=False, by="reviewer")
        w.act(removed, "remove", month + D + H)
        add_notice(session, alpha, month + D, outcome="confirmed", after=H, item_id=named.id)
        add_notice(session, alpha, month + 2 * D, outcome="not_confirmed", after=3 * H)
        add_notice(session, alpha, month + 3 * D, outcome="not_found", after=H / 6)
        add_notice(session, alpha, month - 5 * D, outcome="confirmed", after=H)
        add_notice(session, beta, month + 4 * D, outcome="confirmed", after=5 * H)
        add_notice(session, beta, month + 5 * D)

        d1 = policy(w.item(month - 10 * D), month - 10 * D, bank)
        d2 = policy(w.item(month - 10 * D), month - 10 * D, rule)
        d3 = w.decide(w.item(month - 10 * D), "violation", month - 10 * D, automated=False, by="reviewer")
        d4 = policy(w.item(month - 10 * D), month - 10 * D, bank)
        d5 = w.decide(w.item(month - 10 * D), "violation", month - 10 * D, automated=False, by="reviewer")
        add_appeal(session, d1, month + D, "reversed", after=2 * H)
        add_appeal(session, d2, month + 2 * D, "upheld", after=D)
        add_appeal(session, d3, month + 6 * D, "open")
        add_appeal(session, d4, month - 3 * D, "upheld", after=4 * D)
        add_appeal(session, d5, month + 7 * D, "awaiting_approval")
