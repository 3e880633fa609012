"""An answer as documents: a PDF to send and a DOCX the legal team edits (both from the same answer),
with the per-post explanations and the period's figures as annexures."""

from __future__ import annotations

import io
from datetime import datetime

from docx import Document

from suraksha.reporting.pdf import Pages
from suraksha.transparency.answers import Answer, ItemExplanation, last_day
from suraksha.transparency.statistics import Period, Spread

TITLE = "Reply to the notice"


def _spread(spread: Spread) -> str:
    if not spread.count or spread.median_s is None or spread.p90_s is None or spread.p99_s is None:
        return "no such case"
    median, p90, p99 = f"{spread.median_s:.0f}", f"{spread.p90_s:.0f}", f"{spread.p99_s:.0f}"
    return f"median {median} s, p90 {p90} s, p99 {p99} s ({spread.count} items)"


def _from(answer: Answer, organisation: str) -> str:
    asked = Period(datetime.fromisoformat(answer.period_start), datetime.fromisoformat(answer.period_end))
    period = f"{asked.start.date()} to {last_day(asked)}"
    return f"From: {organisation or 'the platform'}. Period: {period}."


def _drafted(answer: Answer) -> str:
    return f"Drafted from the platform's records on {answer.generated_at}. DRAFT until approved."


def _bank(bank: dict[str, object]) -> str:
    counts = f"{bank['active_entries']} active of {bank['entries']}"
    return f"{bank['name']} ({bank['kind']}, {bank['category']}): {counts}"


def _post(item: ItemExplanation) -> str:
    return f"Post {item.platform_item_id} by {item.account}, received {item.received_at}"


def figures(answer: Answer) -> list[tuple[str, str]]:
    """The period's figures as (name, value) lines: Annexure A, and the console's answer page."""
    s = answer.statistics
    rows = [
        ("Items identified", str(s.identified_items)),
        *((f"  identified by {k}", str(v)) for k, v in s.identified_by_source.items()),
        (
            "Decisions",
            f"{s.decisions} ({s.decided_automatically} automated, {s.decided_by_people} by people)",
        ),
        *((f"Actions: {k}", str(v)) for k, v in s.actions.items()),
        (
            "CyberTipline reports finished",
            f"{s.cybertipline_reports_finished} ({s.cybertipline_files_reported} files)",
        ),
        ("Police referrals sent", str(s.referrals_sent)),
    ]
    for name, spread in (
        ("Receipt to detection", s.receipt_to_detection),
        ("Detection to action", s.detection_to_action),
        ("Detection to report", s.detection_to_report),
    ):
        rows.append((name, _spread(spread)))
    return rows


def render_pdf(answer: Answer, *, heading: str = TITLE, organisation: str = "") -> bytes:
    pdf = Pages(heading, datetime.fromisoformat(answer.generated_at))
    title, line = pdf.heading, pdf.line
    line(_from(answer, organisation))
    line(_drafted(answer))
    for qa in answer.questions:
        title(f"{qa.number}. {qa.question}")
        line(qa.answer)
    pdf.new_page()
    title("Annexure A: figures for the period")
    for name, value in figures(answer):
        line(f"{name}: {value}")
    title("Annexure B: hash lists and rules in force")
    for bank in answer.safeguards.banks:
        line(_bank(bank))
    for pack in answer.safeguards.rule_packs:
        line(f"rule pack {pack['name']} {pack['version']} (sha256 {pack['sha256'][:16]}...)")
    if answer.items:
        title("Annexure C: each post named")
        for item in answer.items:
            pdf.bold(item.named_as)
            if not item.found:
                line(f"Not found: {item.why_not_found}")
                continue
            line(_post(item))
            for text in [*item.findings, *item.decisions, *item.actions, *item.reports]:
                line(f"- {text}")
            line(item.conclusion)
    return pdf.output()


def render_docx(answer: Answer, *, heading: str = TITLE, organisation: str = "") -> bytes:
    document = Document()
    document.add_heading(heading, level=0)
    document.add_paragraph(_from(answer, organisation))
    document.add_paragraph(_drafted(answer))
    for qa in answer.questions:
        document.add_heading(f"{qa.number}. {qa.question}", level=2)
        document.add_paragraph(qa.answer)
    document.add_page_break()  # type: ignore[no-untyped-call]
    document.add_heading("Annexure A: figures for the period", level=1)
    table = document.add_table(rows=0, cols=2)
    for name, value in figures(answer):
        cells = table.add_row().cells
        cells[0].text, cells[1].text = name, value
    document.add_heading("Annexure B: hash lists and rules in force", level=1)
    for bank in answer.safeguards.banks:
        document.add_paragraph(_bank(bank), style="List Bullet")
    for pack in answer.safeguards.rule_packs:
        document.add_paragraph(f"rule pack {pack['name']} {pack['version']}", style="List Bullet")
    if answer.items:
        document.add_heading("Annexure C: each post named", level=1)
        for item in answer.items:
            document.add_heading(item.named_as, level=3)
            if not item.found:
                document.add_paragraph(f"Not found: {item.why_not_found}")
                continue
            document.add_paragraph(
                f"Post {item.platform_item_id} by {item.account}, received {item.received_at}"
            )
            for text in [*item.findings, *item.decisions, *item.actions, *item.reports]:
                document.add_paragraph(text, style="List Bullet")
            document.add_paragraph(item.conclusion)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()
