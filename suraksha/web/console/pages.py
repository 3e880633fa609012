"""Rendering console pages: one Jinja2 environment (autoescaped), the navigation each user sees, and
the HTML answers for errors under ``/console`` (the API keeps its JSON problem documents)."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.responses import RedirectResponse, Response

from suraksha import __version__
from suraksha.permissions import Permission
from suraksha.web.console.security import CSRF_FIELD
from suraksha.web.console.viewer import Viewer

log = logging.getLogger(__name__)

WEB_DIR = Path(__file__).resolve().parent.parent
TEMPLATES_DIR = WEB_DIR / "templates"
STATIC_DIR = WEB_DIR / "static"


@dataclass(frozen=True)
class NavLink:
    path: str
    label: str
    permission: Permission | None


NAV: tuple[NavLink, ...] = (
    NavLink("/console/", "Dashboard", None),
    NavLink("/console/flagger/notices", "Our notices", Permission.NOTICES_OWN),
    NavLink("/console/queues", "Queues", Permission.QUEUE_VIEW),
    NavLink("/console/approvals", "Approvals", Permission.DECISION_APPROVE),
    NavLink("/console/appeals", "Appeals", Permission.QUEUE_VIEW),
    NavLink("/console/reports", "Reports", Permission.REPORT_SUBMIT),
    NavLink("/console/legal", "Legal desk", Permission.LEGAL_VIEW),
    NavLink("/console/network", "Network", Permission.NETWORK_VIEW),
    NavLink("/console/stats", "Statistics", Permission.STATS_VIEW),
    NavLink("/console/answer", "Answer", Permission.LEGAL_VIEW),
    NavLink("/console/flaggers", "Flaggers", Permission.FLAGGERS_VIEW),
    NavLink("/console/banks", "Banks", Permission.BANK_MANAGE),
    NavLink("/console/exchanges", "Exchanges", Permission.BANK_MANAGE),
    NavLink("/console/debugger", "Match debugger", Permission.BANK_MANAGE),
    NavLink("/console/switches", "Kill switches", Permission.SWITCH_SET),
    NavLink("/console/audit", "Audit log", Permission.AUDIT_VIEW),
)
"""The navigation; a user sees the links their permissions open (each page checks again)."""


def _when(value: datetime | str | None) -> str:
    """A time in UTC to the second; an ISO string (as JSON details keep times) is read first."""
    if value is None or value == "":
        return "-"
    moment = value
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return value
    assert isinstance(moment, datetime)
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _age(value: datetime | None, now: datetime | None = None) -> str:
    """How long ago, for SLA clocks: ``3d 4h``, ``2h 05m``, ``7m``."""
    if value is None:
        return "-"
    return _span(int(((now or datetime.now(UTC)) - value).total_seconds()))


def _left(due: datetime | None, now: datetime | None = None) -> str:
    """Time left until ``due``: ``2h 05m left``, or ``overdue by 3d 4h``."""
    if due is None:
        return "-"
    seconds = int((due - (now or datetime.now(UTC))).total_seconds())
    return f"{_span(seconds)} left" if seconds >= 0 else f"overdue by {_span(-seconds)}"


def _span(seconds: int) -> str:
    seconds = max(0, seconds)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes:02d}m"
    return f"{minutes}m"


def label(value: object) -> str:
    """A stored name as a person reads it: ``pause_delivery`` as ``pause delivery``, ``auth:sign_in``
    as ``auth: sign in`` (the stored value stays in the data; only the page shows words)."""
    text = str(value if value is not None else "")
    return text.replace("_", " ").replace(":", ": ") if text else "-"


def pairs(value: object) -> list[tuple[str, str]]:
    """Details as ``key: value`` pairs a person reads: a JSON object (or a dict) as its sorted items,
    nested objects flattened (``changes › threshold: 31``), lists joined; anything else as one pair
    with an empty key. Never Python's or JSON's own notation."""
    parsed: object = value
    if isinstance(value, str):
        try:
            parsed = json.loads(value)
        except ValueError:
            return [("", value)] if value else []
    if isinstance(parsed, dict):
        out: list[tuple[str, str]] = []
        for key, item in sorted(parsed.items()):
            if isinstance(item, dict) and item:
                out.extend((f"{label(key)} › {k}" if k else label(key), v) for k, v in pairs(item))
            else:
                out.append((label(key), _plain(item)))
        return out
    if parsed in (None, "", [], {}):
        return []
    return [("", _plain(parsed))]


def _plain(value: object) -> str:
    """One value in words: a list joined with commas (objects in it as ``key: value``), ``yes``/``no``
    for booleans, ``-`` for nothing."""
    if value is None or value in ("", [], {}):
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict):
        return ", ".join(f"{k}: {v}" if k else v for k, v in pairs(value))
    if isinstance(value, list):
        return "; ".join(_plain(v) for v in value)
    text = str(value)
    if ISO_TIME.fullmatch(text):
        return _when(text)
    if SNAKE_NAME.fullmatch(text):
        return label(text)
    return text


ISO_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)")
SNAKE_NAME = re.compile(r"[a-z]+(?:_[a-z]+)+")
"""A stored name (``sale_or_solicitation``): shown in words."""


DIGEST = re.compile(r"(?:[a-z0-9]+:)?[0-9a-fA-F]{32,}")


def is_digest(value: object) -> bool:
    """A hash or key too long for a table cell (hex, 32 characters or more, maybe ``sha256:``-prefixed):
    pages show its start and the whole on demand."""
    return isinstance(value, str) and DIGEST.fullmatch(value) is not None


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=select_autoescape(("html", "xml"), default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["when"] = _when
    env.filters["age"] = _age
    env.filters["left"] = _left
    env.filters["label"] = label
    env.filters["pairs"] = pairs
    env.tests["digest"] = is_digest
    env.globals["version"] = __version__
    env.globals["csrf_field"] = CSRF_FIELD
    return env


templates = Jinja2Templates(env=_environment())


def nav_for(viewer: Viewer | None) -> list[NavLink]:
    if viewer is None:
        return []
    if viewer.can(Permission.NOTICES_OWN):  # a trusted flagger's staff: their notices, nothing else
        return [link for link in NAV if link.permission == Permission.NOTICES_OWN]
    return [link for link in NAV if link.permission is None or viewer.can(link.permission)]


def render(
    request: Request,
    name: str,
    viewer: Viewer | None,
    context: Mapping[str, Any] | None = None,
    *,
    status_code: int = 200,
    csrf_token: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """A page (or an htmx fragment: templates under ``console/fragments/``)."""
    full = {
        "viewer": viewer,
        "nav": nav_for(viewer),
        "csrf_token": csrf_token if csrf_token is not None else (viewer.csrf_token if viewer else ""),
        "path": request.url.path,
        "now": datetime.now(UTC),
        "Permission": Permission,
        **(context or {}),
    }
    return templates.TemplateResponse(
        request, name, full, status_code=status_code, headers=dict(headers or {})
    )


def see_other(location: str) -> RedirectResponse:
    """After a form POST: go to a page with GET (so a reload does not send the form again)."""
    return RedirectResponse(location, status_code=303)


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"
