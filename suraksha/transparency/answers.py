"""The answers a commission asks for, composed from the system's own records and configuration.

The worked example is the Delhi Commission for Women's summons of September 2022, whose five questions
are the default ones (``COMMISSION_QUESTIONS``): what steps prevent such content; what system reports it
to the police at once; whether automated tools identify and delete it; why the flagged posts were
neither deleted nor reported; how many such posts were identified, deleted and reported over the period.
Each answer is drafted from data, never written by hand: the banks and rule packs in force (generated
from configuration), the statistics of the period (``suraksha.transparency.statistics``), and for every
post or URL the notice names, what was found, decided, done and reported, when and by whom. The legal
team edits the draft (the DOCX) and a second person approves it before it leaves.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from suraksha.admin.services import all_switches
from suraksha.banks.models import BankKind
from suraksha.banks.services import bank_stats, list_banks
from suraksha.content.lookup import UrlPatterns, find_item
from suraksha.content.models import Account, ItemMatch, ItemRuleHit
from suraksha.enforcement.models import Action, Decision
from suraksha.enforcement.policy import Policy
from suraksha.errors import Conflict, NotFound
from suraksha.reporting.models import CyberTiplineReport, CyberTiplineReportFile, PoliceReferral, ReportState
from suraksha.rules.models import PackRef
from suraksha.transparency.series import Granularity, series
from suraksha.transparency.statistics import Period, Spread, Statistics

COMMISSION_QUESTIONS = (
    "What steps does the platform take to prevent child sexual abuse material from being posted?",
    "What system does the platform have to report such content to the police at once?",
    "Do automated tools (AI/ML) identify such content and delete it?",
    "Why were the posts named in this notice neither deleted nor reported?",
    "How many such posts were identified, deleted and reported over the period?",
)


@dataclass(frozen=True)
class ItemExplanation:
    named_as: str
    found: bool
    why_not_found: str = ""
    platform_item_id: str = ""
    account: str = ""
    received_at: str = ""
    findings: list[str] = field(default_factory=list)
    decisions: list[str] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)
    reports: list[str] = field(default_factory=list)
    conclusion: str = ""


@dataclass(frozen=True)
class Safeguards:
    banks: list[dict[str, object]]
    rule_packs: list[dict[str, str]]
    policy_version: str
    automatic_outcomes: list[str]
    switches: dict[str, bool]


@dataclass(frozen=True)
class QuestionAnswer:
    number: int
    question: str
    answer: str


@dataclass(frozen=True)
class Answer:
    period_start: str
    period_end: str
    generated_at: str
    safeguards: Safeguards
    statistics: Statistics
    items: list[ItemExplanation]
    questions: list[QuestionAnswer]

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def last_day(period: Period) -> date:
    """The period's last day, as a person names it: the period is half-open, so a period to
    2022-09-21 00:00 ends on 2022-09-20."""
    return (period.end - timedelta(microseconds=1)).date()


def _iso(value: datetime | None) -> str:
    return value.isoformat(timespec="seconds") if value else ""


def safeguards(session: Session, policy: Policy, packs: Sequence[PackRef], now: datetime) -> Safeguards:
    """What is in force now, from configuration: banks with their sizes, rule packs with their versions,
    what the policy does automatically, the kill switches."""
    banks = []
    for bank in list_banks(session):
        stats = bank_stats(session, bank, now)
        banks.append(
            {
                "name": bank.name,
                "category": bank.category,
                "kind": bank.kind,
                "enabled": bank.enabled,
                "entries": stats.total,
                "active_entries": stats.active,
                "by_signal_type": stats.by_signal_type,
            }
        )
    automatic = [
        f"a match in a {category} bank: {', '.join(o.actions) or 'no action'}"
        + (" (automatically)" if o.automated else " (after a person reviews it)")
        for category, o in policy.bank_categories.items()
        if o.actions
    ]
    return Safeguards(
        banks=banks,
        rule_packs=[{"name": p.name, "version": p.version, "sha256": p.sha256} for p in packs],
        policy_version=policy.version,
        automatic_outcomes=automatic,
        switches={s.value: bool(state and state.enabled) for s, state in all_switches(session).items()},
    )


def explain(session: Session, named_as: str, patterns: UrlPatterns | None) -> ItemExplanation:
    """For one post or URL a notice names: what was found, decided, done and reported, when and by whom,
    and in a sentence why it was (or was not) removed and reported."""
    try:
        item = find_item(session, named_as, patterns)
    except (NotFound, Conflict) as exc:
        return ItemExplanation(named_as=named_as, found=False, why_not_found=str(exc))
    account = session.get(Account, item.account_id)
    matches = session.scalars(select(ItemMatch).where(ItemMatch.item_id == item.id)).all()
    hits = session.scalars(select(ItemRuleHit).where(ItemRuleHit.item_id == item.id)).all()
    findings = [
        f"hash match in bank {m.bank_name} ({m.bank_category}, {m.signal_type}"
        + (f", distance {m.distance}" if m.distance is not None else "")
        + (", suppressed by an allow list" if m.suppressed else "")
        + ")"
        for m in matches
    ] + [f"text rule {h.pack} {h.pack_version}/{h.rule_id} ({h.category}) in {h.field}" for h in hits]
    decisions = session.scalars(
        select(Decision).where(Decision.item_id == item.id).order_by(Decision.id)
    ).all()
    actions = session.scalars(select(Action).where(Action.item_id == item.id).order_by(Action.id)).all()
    reports = session.execute(
        select(CyberTiplineReport.ncmec_report_id, CyberTiplineReport.state, CyberTiplineReport.finished_at)
        .join(CyberTiplineReportFile, CyberTiplineReportFile.report_id == CyberTiplineReport.id)
        .where(CyberTiplineReportFile.item_id == item.id)
        .distinct()
    ).all()
    referrals = session.scalars(
        select(PoliceReferral).where(PoliceReferral.account_id == item.account_id)
    ).all()
    removed = any(a.kind == "remove" for a in actions)
    reported = any(r.state == ReportState.FINISHED for r in reports)
    if removed and reported:
        conclusion = "It was removed and reported to NCMEC's CyberTipline."
    elif removed:
        conclusion = "It was removed; no CyberTipline report about it was finished."
    elif not decisions:
        conclusion = "It has not been decided yet: it is waiting to be processed."
    elif not findings:
        conclusion = "Nothing in it matched a hash list or a rule, and no person found a violation in it."
    else:
        last = decisions[-1]
        conclusion = f"It was found but not removed: the last decision was '{last.verdict}' ({last.reason})."
    return ItemExplanation(
        named_as=named_as,
        found=True,
        platform_item_id=item.platform_item_id,
        account=f"{account.platform_account_id} ({account.handle})" if account else "",
        received_at=_iso(item.received_at),
        findings=findings,
        decisions=[
            f"{_iso(d.created_at)}: {d.verdict}{' (' + d.category + ')' if d.category else ''} by "
            f"{_decider(d)}"
            for d in decisions
        ],
        actions=[f"{_iso(a.created_at)}: {a.kind} {a.target} ({a.state})" for a in actions],
        reports=[_report_line(r.ncmec_report_id, r.state, r.finished_at) for r in reports]
        + [f"police referral {r.id} to {r.agency}: {r.state}" for r in referrals],
        conclusion=conclusion,
    )


def _decider(decision: Decision) -> str:
    if decision.automated:
        return f"automated policy {decision.decided_by_ref}".strip()
    return f"{decision.decided_by} {decision.decided_by_ref}".strip()


def _report_line(number: int | None, state: str, finished: datetime | None) -> str:
    return f"CyberTipline report {number or '(not yet sent)'}: {state}, finished {_iso(finished) or '-'}"


def _hours(spread: Spread) -> str:
    if not spread.count or spread.median_s is None:
        return "no such case in the period"
    return (
        f"median {spread.median_s / 3600:.1f} h, 90th percentile {(spread.p90_s or 0) / 3600:.1f} h, "
        f"99th percentile {(spread.p99_s or 0) / 3600:.1f} h, over {spread.count} items"
    )


def compose(
    session: Session,
    period: Period,
    *,
    policy: Policy,
    packs: Sequence[PackRef],
    now: datetime,
    items: Sequence[str] = (),
    patterns: UrlPatterns | None = None,
    questions: Sequence[str] = COMMISSION_QUESTIONS,
) -> Answer:
    """The answer to a commission's questions for ``period``: each drafted from the records."""
    guards = safeguards(session, policy, packs, now)
    stats = series(session, period, Granularity.TOTAL)[0].statistics  # closed days from the rollup
    explained = [explain(session, ref, patterns) for ref in items]
    block = [b for b in guards.banks if b["kind"] == BankKind.BLOCK and b["enabled"]]
    entries = sum(int(str(b["active_entries"])) for b in block)
    drafts = [
        (
            "Every upload is hashed (PDQ, vPDQ, MD5, SHA-256) and matched against "
            f"{len(block)} hash lists of known material holding {entries} active entries ("
            + ", ".join(f"{b['name']}: {b['active_entries']} ({b['category']})" for b in block)
            + "), and its text against rule packs "
            + ", ".join(f"{p['name']} {p['version']}" for p in guards.rule_packs)
            + f" (sale solicitation, payment handles, contact links). Under policy {guards.policy_version}, "
            + "; ".join(guards.automatic_outcomes)
            + ". Uploads can be checked before they are published (POST /api/v1/check). Media that cannot be "
            "checked is never treated as clean: it goes to a person."
        ),
        (
            "Matched child sexual abuse material is reported to NCMEC's CyberTipline (which routes reports "
            "about India to the NCRB), after a second person confirms the report; police referrals go to the "
            f"police of the account's jurisdiction. In the period {stats.cybertipline_reports_finished} "
            f"CyberTipline reports were finished ({stats.cybertipline_files_reported} files) and "
            f"{stats.referrals_sent} police referrals sent. From detection to a finished report: "
            f"{_hours(stats.detection_to_report)}."
        ),
        (
            f"Yes. Of {stats.decisions} decisions in the period, {stats.decided_automatically} were made by "
            f"automated tools and {stats.decided_by_people} by people. Items identified by source: "
            + (", ".join(f"{k}: {v}" for k, v in stats.identified_by_source.items()) or "none")
            + f". {stats.actions_automated} of the platform actions were taken automatically. From detection "
            f"to action: {_hours(stats.detection_to_action)}."
        ),
        (
            " ".join(f"{e.named_as}: {e.conclusion if e.found else e.why_not_found}" for e in explained)
            or "The notice names no post; name them (URL or post id) for a per-post explanation."
        ),
        (
            f"From {period.start.date()} to {last_day(period)}: {stats.identified_items} items identified, "
            f"{stats.actions.get('remove', 0)} removed, "
            f"{stats.actions.get('suspend', 0)} accounts suspended, "
            f"{stats.actions.get('withhold', 0)} withheld in named countries, "
            f"{stats.cybertipline_reports_finished} CyberTipline reports finished with "
            f"{stats.cybertipline_files_reported} files, {stats.referrals_sent} police referrals sent."
        ),
    ]
    answered = [
        QuestionAnswer(n + 1, q, drafts[n] if n < len(drafts) else "To be answered by the legal team.")
        for n, q in enumerate(questions)
    ]
    return Answer(
        period_start=period.start.isoformat(),
        period_end=period.end.isoformat(),
        generated_at=now.isoformat(timespec="seconds"),
        safeguards=guards,
        statistics=stats,
        items=explained,
        questions=answered,
    )
