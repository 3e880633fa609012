"""Rendering console pages: one Jinja2 environment (autoescaped), the navigation each user sees, and
the HTML answers for errors under ``/console`` (the API keeps its JSON problem documents)."""

from __future__ import annotations

import logging
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
    NavLink("/console/queues", "Queues", Permission.QUEUE_VIEW),
    NavLink("/console/approvals", "Approvals", Permission.DECISION_APPROVE),
    NavLink("/console/reports", "Reports", Permission.REPORT_SUBMIT),
    NavLink("/console/banks", "Banks", Permission.BANK_MANAGE),
    NavLink("/console/debugger", "Match debugger", Permission.BANK_MANAGE),
    NavLink("/console/switches", "Kill switches", Permission.SWITCH_SET),
    NavLink("/console/audit", "Audit log", Permission.AUDIT_VIEW),
)
"""The navigation; a user sees the links their permissions open (each page checks again)."""


def _when(value: datetime | None) -> str:
    if value is None:
        return "-"
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _age(value: datetime | None, now: datetime | None = None) -> str:
    """How long ago, for SLA clocks: ``3d 4h``, ``2h 05m``, ``7m``."""
    if value is None:
        return "-"
    seconds = max(0, int(((now or datetime.now(UTC)) - value).total_seconds()))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes:02d}m"
    return f"{minutes}m"


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
    env.globals["version"] = __version__
    env.globals["csrf_field"] = CSRF_FIELD
    return env


templates = Jinja2Templates(env=_environment())


def nav_for(viewer: Viewer | None) -> list[NavLink]:
    if viewer is None:
        return []
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
