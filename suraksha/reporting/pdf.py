"""A4 PDF documents from plain text, as the police and commissions receive them: referrals,
disclosures, replies. The core fonts hold Latin-1 only, so every document also has an exact JSON twin
beside it (other characters show as '?' in the PDF)."""

from __future__ import annotations

from datetime import datetime

from fpdf import FPDF


def latin1(text: str) -> str:
    return text.encode("latin-1", "replace").decode("latin-1")


class Pages:
    """One document: a title, headings and lines of text, page breaks."""

    def __init__(self, title: str, created: datetime, *, shown: str | None = None) -> None:
        self._pdf = FPDF(format="A4")
        self._pdf.set_title(latin1(title))
        self._pdf.set_creator("Suraksha")
        self._pdf.set_creation_date(created)
        self._pdf.set_auto_page_break(auto=True, margin=15)
        self._pdf.add_page()
        self._width = self._pdf.epw
        self._write(shown or title, "B", 16, 10)

    def _write(self, text: str, style: str, size: int, height: int) -> None:
        self._pdf.set_font("Helvetica", style, size)
        self._pdf.multi_cell(self._width, height, latin1(text), new_x="LMARGIN", new_y="NEXT")
        self._pdf.set_font("Helvetica", "", 10)

    def heading(self, text: str) -> None:
        self._write(text, "B", 13, 8)

    def bold(self, text: str) -> None:
        self._write(text, "B", 10, 5)

    def line(self, text: str) -> None:
        self._write(text, "", 10, 5)

    def gap(self) -> None:
        self._pdf.ln(2)

    def new_page(self) -> None:
        self._pdf.add_page()

    def output(self) -> bytes:
        return bytes(self._pdf.output())
