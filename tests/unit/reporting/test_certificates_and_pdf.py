"""Custodian certificates per jurisdiction and the referral PDF (pure: a summary in, PDF bytes out)."""

from __future__ import annotations

import re
import zlib
from datetime import UTC, datetime

from suraksha.reporting.certificates import certificate_text
from suraksha.reporting.referrals import ItemFacts, ReferralSummary, render_referral_pdf


def _text_of(pdf: bytes) -> str:
    """The page text of an fpdf2 PDF (its content streams, inflated)."""
    chunks = []
    for stream in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S):
        try:
            chunks.append(zlib.decompress(stream).decode("latin-1"))
        except zlib.error:
            continue
    return "".join(chunks)


def test_each_jurisdiction_gets_its_certificate() -> None:
    facts = {"organisation": "Demo Co", "system": "S", "referral": "7", "files": 3, "manifest": "ab" * 32}
    title, text = certificate_text("in", period="p", **facts)  # type: ignore[arg-type]
    assert "Bharatiya Sakshya Adhiniyam" in title and "Section 63" in title
    assert "ab" * 32 in text and "3 file(s)" in text and "Demo Co" in text
    title, _ = certificate_text("US", period="p", **facts)  # type: ignore[arg-type]
    assert "902(11)" in title
    title, text = certificate_text("FR", period="p", **{**facts, "manifest": ""})  # type: ignore[arg-type]
    assert title == "Declaration of the records custodian" and "(none attached)" in text


def test_referral_pdf_carries_the_facts_and_the_certificate() -> None:
    summary = ReferralSummary(
        account_id="acct-1",
        handle="ravi_\u0930\u0935\u093f",
        display_name="Ravi",
        suspended_at="2026-11-24T09:00:00+00:00",
        items=[
            ItemFacts(
                item_id="post-1",
                kind="post",
                posted_at="2026-11-24T08:00:00+00:00",
                received_at="2026-11-24T08:00:01+00:00",
                upload_ip="203.0.113.9",
                upload_port=40001,
                device_id="dev-1",
                findings=["hash match: bank demo (csam), pdq distance 4"],
                decisions=["2026-11-24T08:00:02+00:00: violation (csam) by automated policy policy 1"],
                actions=["remove item (delivered, 2026-11-24T08:00:03+00:00)"],
                files=["sha256 " + "a" * 64 + " md5 " + "b" * 32],
            )
        ],
        cybertipline_reports=["100001 (finished 2026-11-24T10:00:00+00:00)"],
        first_at="2026-11-24T08:00:00+00:00",
        last_at="2026-11-24T08:00:00+00:00",
    )
    pdf = render_referral_pdf(
        summary,
        referral_id=3,
        jurisdiction="IN",
        agency="Cyber Crime Police Station",
        organisation="Demo Co",
        evidence_manifest_sha256="c" * 64,
        generated_at=datetime(2026, 11, 24, 12, tzinfo=UTC),
    )
    assert pdf.startswith(b"%PDF-")
    text = _text_of(pdf)
    for expected in (
        "Referral 3 to Cyber Crime Police Station",
        "203.0.113.9",
        "100001",
        "c" * 64,
        "Section 63",
    ):
        assert expected in text, expected
    assert "ravi_???" in text  # the core fonts cannot show Devanagari; summary.json keeps it exact
