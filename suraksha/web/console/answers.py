"""The commission's five questions in the console: a period (from, to: UTC days, both included) and the
posts or URLs a notice names, answered from the records by the same code as ``suraksha answer``
(``Platform.answer``), shown on the page, and downloaded as the PDF (to send) or the DOCX (to edit).

Open to ``legal:view`` (legal and leads), as the command is. A document is made when it is asked for,
by a form POST (CSRF-checked), and each one is an export in the audit log (``export:create``, naming the
document's SHA-256, the period and how many posts it explains); showing the answer on the page writes
nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from fastapi import APIRouter, Depends, Form, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from suraksha.errors import InvalidInput
from suraksha.permissions import Permission
from suraksha.transparency.answers import Answer
from suraksha.transparency.documents import figures
from suraksha.web.console.pages import render
from suraksha.web.console.stats import parse_day
from suraksha.web.console.viewer import ROUTER_CHECKS, Viewer, require
from suraksha.web.state import WebState, get_state

router = APIRouter(prefix="/console", dependencies=ROUTER_CHECKS, include_in_schema=False)

MAX_POSTS = 20
MAX_POSTS_CHARS = 8000
MEDIA_TYPES = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}


@dataclass(frozen=True)
class Asked:
    first: date
    last: date
    posts: list[str]

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first, time(), tzinfo=UTC)

    @property
    def end(self) -> datetime:
        return datetime.combine(self.last + timedelta(days=1), time(), tzinfo=UTC)  # the last day included


def parse_posts(raw: str) -> list[str]:
    """The posts or URLs named, one a line (blank lines skipped, each once, in order)."""
    if len(raw) > MAX_POSTS_CHARS:
        raise InvalidInput(f"the posts named are over {MAX_POSTS_CHARS} characters: name fewer at a time")
    posts = list(dict.fromkeys(line.strip() for line in raw.splitlines() if line.strip()))
    if len(posts) > MAX_POSTS:
        raise InvalidInput(f"{len(posts)} posts named: at most {MAX_POSTS} at a time")
    return posts


def parse_asked(first: str, last: str, posts: str) -> Asked:
    first_day, last_day = parse_day(first, "from"), parse_day(last, "to")
    if last_day < first_day:
        raise InvalidInput(f"the period ends ({last_day}) before it starts ({first_day}): swap the dates")
    return Asked(first_day, last_day, parse_posts(posts))


def _context(asked: Asked | None, answer: Answer | None, error: str, form: dict[str, str]) -> dict[str, Any]:
    return {
        "answer": answer,
        "figures": figures(answer) if answer else [],
        "error": error,
        "form": form,
        "max_posts": MAX_POSTS,
        "asked": asked,
    }


@router.get("/answer")
async def answer_page(
    request: Request,
    first: str | None = Query(None, alias="from", max_length=10),
    last: str | None = Query(None, alias="to", max_length=10),
    posts: str = Query("", max_length=MAX_POSTS_CHARS + 1),
    state: WebState = Depends(get_state),
    who: Viewer = require(Permission.LEGAL_VIEW),
) -> Response:
    """The form; with a period, the answer to each question, the figures, what is in force, and each
    named post explained."""
    form = {"from": first or "", "to": last or "", "posts": posts}
    if not first and not last:
        return render(request, "console/answer.html", who, _context(None, None, "", form))
    try:
        asked = parse_asked(first or "", last or "", posts)
    except InvalidInput as exc:
        context = _context(None, None, str(exc), form)
        return render(request, "console/answer.html", who, context, status_code=400)
    answer = await run_in_threadpool(lambda: state.platform.answer(asked.start, asked.end, items=asked.posts))
    return render(request, "console/answer.html", who, _context(asked, answer, "", form))


@router.post("/answer/document")
async def answer_document(
    first: str = Form(..., alias="from", max_length=10),
    last: str = Form(..., alias="to", max_length=10),
    posts: str = Form("", max_length=MAX_POSTS_CHARS + 1),
    kind: str = Form(..., pattern="^(pdf|docx)$"),
    state: WebState = Depends(get_state),
    who: Viewer = require(Permission.LEGAL_VIEW),
) -> Response:
    """The answer as a PDF or DOCX, made now from the records and audited as an export."""
    asked = parse_asked(first, last, posts)

    def make() -> bytes:
        answer = state.platform.answer(asked.start, asked.end, items=asked.posts)
        return state.platform.export_answer(answer, kind, actor=who.actor)

    data = await run_in_threadpool(make)
    name = f"reply-{asked.first}-to-{asked.last}.{kind}"
    headers = {"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store, private"}
    return Response(data, media_type=MEDIA_TYPES[kind], headers=headers)
