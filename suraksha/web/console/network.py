"""The account graph and network investigations in the console: the suspected rackets and the
investigations (``/console/network``), a cluster's page (``/console/network/clusters/{id}``) and an
investigation's page (``/console/investigations/{id}``), each with an interactive graph, and the
investigation's forms.

Reading is ``network:view`` (leads and legal), every read of accounts and evidence audited by the
Platform; changing an investigation is ``network:investigate`` (leads). Approving an action on every
account is the second person's (``decision:approve``, not the proposer) and, like the referral, a grave
step: the password is asked again. Every form carries the CSRF token (``ROUTER_CHECKS``).

The graph is drawn by vis-network, served from the installed ``pyvis`` package's own copy
(``/console/vendor/vis-network/...``: nothing third-party is copied into this repository), with our
glue script ``static/network-graph.js`` (no inline script: the console's CSP allows none)."""

from __future__ import annotations

import importlib.util
import logging
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Form, Query, Request
from starlette.responses import FileResponse, JSONResponse, Response

from suraksha.db.base import utcnow
from suraksha.errors import InvalidInput, NotFound, SurakshaError
from suraksha.network.services import AccountNode, ClusterDetail, Edge
from suraksha.permissions import Permission
from suraksha.web import problems
from suraksha.web.console.pages import render, see_other
from suraksha.web.console.params import PathId
from suraksha.web.console.signin import password_again
from suraksha.web.console.viewer import ROUTER_CHECKS, Viewer, require
from suraksha.web.state import WebState, get_state

log = logging.getLogger(__name__)

router = APIRouter(prefix="/console", dependencies=ROUTER_CHECKS, include_in_schema=False)

VIEW = Permission.NETWORK_VIEW
INVESTIGATE = Permission.NETWORK_INVESTIGATE
TEXT = 4000
GRAPH_EDGES = 5000
VENDOR_FILES = {
    "vis-network.min.js": ("lib/vis-9.1.2/vis-network.min.js", "text/javascript"),
    "vis-network.min.css": ("lib/vis-9.1.2/vis-network.css", "text/css"),
}
"""What the graph page loads from the installed pyvis package (vis-network 9.1.2, its licence in
pyvis's distribution): these two files and nothing else."""
DONE = {
    "opened": "Opened: the cluster's accounts are in it.",
    "added": "Added.",
    "removed": "Removed (it stays listed, with the reason).",
    "noted": "Noted.",
    "preserved": "Every decided item of every account is held in the vault.",
    "proposed": "Proposed: a second person approves it before anything is done.",
    "approved": "Approved and carried out: the actions go to the platform.",
    "rejected": "Rejected: nothing was done.",
    "reported": "Reports prepared as drafts: a second person approves each (Reports).",
    "referred": "The referral package is drafted: the investigation is with the police.",
    "closed": "Closed.",
}


def _vendor_dir() -> Path:
    """The installed pyvis package's folder, found without importing it."""
    spec = importlib.util.find_spec("pyvis")
    if spec is None or not spec.submodule_search_locations:
        raise NotFound("the graph library (the pyvis package) is not installed")
    return Path(next(iter(spec.submodule_search_locations)))


@router.get("/vendor/vis-network/{name}")
def vendor_file(name: str, who: Viewer = require(VIEW)) -> Response:
    """vis-network's script and stylesheet, from the installed package."""
    found = VENDOR_FILES.get(name)
    if found is None:
        raise NotFound(f"no vendor file {name[:60]!r}")
    relative, media_type = found
    return FileResponse(_vendor_dir() / relative, media_type=media_type)


def graph_json(accounts: Sequence[AccountNode], edges: Sequence[Edge]) -> dict[str, Any]:
    """The graph as the page's script draws it: nodes, and edges with each shared key's kind and
    time span (the filters), weight and evidence (the tooltip)."""
    return {
        "nodes": [
            {
                "id": a.id,
                "label": a.handle or a.platform_account_id,
                "platform_account_id": a.platform_account_id,
                "suspended": a.suspended_at is not None,
            }
            for a in accounts
        ],
        "edges": [
            {
                "from": e.a,
                "to": e.b,
                "weight": round(e.weight, 3),
                "trustworthy": e.trustworthy,
                "keys": [
                    {
                        "kind": k.kind,
                        "value": k.value[:120],
                        "accounts": k.accounts,
                        "weight": round(k.weight, 3),
                        "note": k.note,
                        "first": min(k.a.first_seen_at, k.b.first_seen_at).isoformat(),
                        "last": max(k.a.last_seen_at, k.b.last_seen_at).isoformat(),
                    }
                    for k in e.keys
                ],
            }
            for e in edges
        ],
    }


@router.get("/network")
def network_page(
    request: Request,
    every: bool = Query(False, alias="all"),
    app: WebState = Depends(get_state),
    who: Viewer = require(VIEW),
) -> Response:
    """Suspected rackets, highest score first (counts and factors only), and the investigations."""
    context = {
        "clusters": app.platform.network_clusters(suspected_only=not every, limit=100),
        "every": every,
        "investigations": app.platform.investigations(user_id=who.user_id),
    }
    return render(request, "console/network.html", who, context)


@router.get("/network/clusters/{cluster_id}")
def cluster_page(
    request: Request,
    cluster_id: PathId,
    app: WebState = Depends(get_state),
    who: Viewer = require(VIEW),
) -> Response:
    detail = app.platform.network_cluster_detail(cluster_id, actor=who.actor, limit=GRAPH_EDGES)
    return _cluster(request, who, detail)


def _cluster(
    request: Request, who: Viewer, detail: ClusterDetail, *, error: str = "", status: int = 200
) -> Response:
    context = {
        "detail": detail,
        "names": {a.id: a for a in detail.accounts},
        "kinds": _kinds(detail.edges),
        "error": error,
    }
    return render(request, "console/network_cluster.html", who, context, status_code=status)


@router.get("/network/clusters/{cluster_id}/graph.json")
def cluster_graph(
    cluster_id: PathId, app: WebState = Depends(get_state), who: Viewer = require(VIEW)
) -> Response:
    detail = app.platform.network_cluster_detail(cluster_id, actor=who.actor, limit=GRAPH_EDGES)
    return JSONResponse(graph_json(detail.accounts, detail.edges))


@router.post("/network/clusters/{cluster_id}/investigate")
def open_from_cluster(
    request: Request,
    cluster_id: PathId,
    title: str = Form(..., max_length=200),
    app: WebState = Depends(get_state),
    who: Viewer = require(INVESTIGATE),
) -> Response:
    try:
        opened = app.platform.investigation_open(user_id=who.user_id, title=title, cluster_id=cluster_id)
    except SurakshaError as exc:
        detail = app.platform.network_cluster_detail(cluster_id, actor=who.actor, limit=GRAPH_EDGES)
        return _cluster(request, who, detail, error=str(exc), status=problems.status_of(exc))
    return see_other(f"/console/investigations/{opened['id']}?done=opened")


def _kinds(edges: Sequence[Edge]) -> list[str]:
    return sorted({k.kind for e in edges for k in e.keys})


@router.get("/investigations/{investigation_id}")
def investigation_page(
    request: Request,
    investigation_id: PathId,
    done: str = Query("", max_length=20),
    app: WebState = Depends(get_state),
    who: Viewer = require(VIEW),
) -> Response:
    return _page(request, app, who, investigation_id, done=done)


def _page(
    request: Request,
    app: WebState,
    who: Viewer,
    investigation_id: int,
    *,
    error: str = "",
    status: int = 200,
    done: str = "",
) -> Response:
    found = app.platform.investigation(investigation_id, user_id=who.user_id, limit=GRAPH_EDGES)
    names = {a.id: a for a in found.accounts}
    context = {
        "d": found,
        "i": found.investigation,
        "names": names,
        "kinds": _kinds(found.edges),
        "error": error,
        "done": DONE.get(done, ""),
        "pending": [a for a in found.actions if a["state"] == "pending"],
    }
    return render(request, "console/investigation.html", who, context, status_code=status)


@router.get("/investigations/{investigation_id}/graph.json")
def investigation_graph(
    investigation_id: PathId, app: WebState = Depends(get_state), who: Viewer = require(VIEW)
) -> Response:
    found = app.platform.investigation(investigation_id, user_id=who.user_id, limit=GRAPH_EDGES)
    return JSONResponse(graph_json(found.accounts, found.edges))


def _acted(
    request: Request,
    app: WebState,
    who: Viewer,
    investigation_id: int,
    change: Callable[[], object],
    done: str,
) -> Response:
    """Run one of the Platform's investigation operations; a refusal re-renders the page saying why
    (its transaction rolled back: nothing changed)."""
    try:
        change()
    except SurakshaError as exc:
        status = problems.status_of(exc)
        log.info("event=console.investigation_refused investigation=%d step=%s", investigation_id, done)
        return _page(request, app, who, investigation_id, error=str(exc), status=status)
    return see_other(f"/console/investigations/{investigation_id}?done={done}")


_IDS = re.compile(r"[\s,]+")


def _account_ids(text: str) -> list[int]:
    parts = [p.lstrip("#") for p in _IDS.split(text.strip()) if p]
    if not parts or not all(p.isdigit() for p in parts):
        raise InvalidInput("give accounts by Suraksha id (#12 or 12), separated by spaces or commas")
    return [int(p) for p in parts]


@router.post("/investigations/{investigation_id}/accounts")
def add_accounts(
    request: Request,
    investigation_id: PathId,
    accounts: str = Form(..., max_length=TEXT),
    reason: str = Form(..., max_length=TEXT),
    app: WebState = Depends(get_state),
    who: Viewer = require(INVESTIGATE),
) -> Response:
    return _acted(
        request,
        app,
        who,
        investigation_id,
        lambda: app.platform.investigation_add(
            investigation_id, _account_ids(accounts), reason=reason, user_id=who.user_id
        ),
        "added",
    )


@router.post("/investigations/{investigation_id}/accounts/{account_id}/remove")
def remove_account(
    request: Request,
    investigation_id: PathId,
    account_id: PathId,
    reason: str = Form(..., max_length=TEXT),
    app: WebState = Depends(get_state),
    who: Viewer = require(INVESTIGATE),
) -> Response:
    return _acted(
        request,
        app,
        who,
        investigation_id,
        lambda: app.platform.investigation_remove(
            investigation_id, account_id, reason=reason, user_id=who.user_id
        ),
        "removed",
    )


@router.post("/investigations/{investigation_id}/note")
def note(
    request: Request,
    investigation_id: PathId,
    text: str = Form(..., max_length=TEXT),
    app: WebState = Depends(get_state),
    who: Viewer = require(INVESTIGATE),
) -> Response:
    return _acted(
        request,
        app,
        who,
        investigation_id,
        lambda: app.platform.investigation_note(investigation_id, text, user_id=who.user_id),
        "noted",
    )


@router.post("/investigations/{investigation_id}/preserve")
def preserve(
    request: Request,
    investigation_id: PathId,
    app: WebState = Depends(get_state),
    who: Viewer = require(INVESTIGATE),
) -> Response:
    return _acted(
        request,
        app,
        who,
        investigation_id,
        lambda: app.platform.investigation_preserve(investigation_id, user_id=who.user_id),
        "preserved",
    )


@router.post("/investigations/{investigation_id}/act")
def act(
    request: Request,
    investigation_id: PathId,
    kind: str = Form(..., max_length=20),
    reason: str = Form(..., max_length=TEXT),
    app: WebState = Depends(get_state),
    who: Viewer = require(INVESTIGATE),
) -> Response:
    return _acted(
        request,
        app,
        who,
        investigation_id,
        lambda: app.platform.investigation_propose(
            investigation_id, kind, reason=reason, user_id=who.user_id
        ),
        "proposed",
    )


@router.post("/investigations/{investigation_id}/actions/{action_id}/approve")
def approve(
    request: Request,
    investigation_id: PathId,
    action_id: PathId,
    note: str = Form("", max_length=TEXT),
    password: str = Form("", max_length=1000),
    app: WebState = Depends(get_state),
    who: Viewer = require(Permission.DECISION_APPROVE),
) -> Response:
    """The second person approves (a grave step: the password again)."""
    refused = password_again(request, app, who, password)
    if refused:
        return _page(request, app, who, investigation_id, error=refused, status=403)
    return _acted(
        request,
        app,
        who,
        investigation_id,
        lambda: app.platform.investigation_approve(action_id, user_id=who.user_id, note=note),
        "approved",
    )


@router.post("/investigations/{investigation_id}/actions/{action_id}/reject")
def reject(
    request: Request,
    investigation_id: PathId,
    action_id: PathId,
    note: str = Form(..., max_length=TEXT),
    app: WebState = Depends(get_state),
    who: Viewer = require(Permission.DECISION_APPROVE),
) -> Response:
    return _acted(
        request,
        app,
        who,
        investigation_id,
        lambda: app.platform.investigation_reject(action_id, user_id=who.user_id, note=note),
        "rejected",
    )


@router.post("/investigations/{investigation_id}/report")
def report(
    request: Request,
    investigation_id: PathId,
    app: WebState = Depends(get_state),
    who: Viewer = require(INVESTIGATE),
) -> Response:
    return _acted(
        request,
        app,
        who,
        investigation_id,
        lambda: app.platform.investigation_report(investigation_id, user_id=who.user_id),
        "reported",
    )


@router.post("/investigations/{investigation_id}/refer")
def refer(
    request: Request,
    investigation_id: PathId,
    jurisdiction: str = Form(..., max_length=10),
    agency: str = Form(..., max_length=300),
    password: str = Form("", max_length=1000),
    app: WebState = Depends(get_state),
    who: Viewer = require(INVESTIGATE),
) -> Response:
    """The one police referral (a grave step: the password again)."""
    refused = password_again(request, app, who, password)
    if refused:
        return _page(request, app, who, investigation_id, error=refused, status=403)
    return _acted(
        request,
        app,
        who,
        investigation_id,
        lambda: app.platform.investigation_refer(
            investigation_id, user_id=who.user_id, jurisdiction=jurisdiction, agency=agency
        ),
        "referred",
    )


@router.post("/investigations/{investigation_id}/export")
def export_package(
    request: Request,
    investigation_id: PathId,
    reason: str = Form(..., max_length=1000),
    app: WebState = Depends(get_state),
    who: Viewer = require(Permission.EXPORT_CREATE),
) -> Response:
    """The signed CSV, GraphML and JSON package, downloaded (and kept under the data folder)."""
    stamp = utcnow().strftime("%Y%m%dT%H%M%SZ")
    name = f"investigation-{investigation_id}-{stamp}.zip"
    target = app.settings.data_path / "network-exports" / name
    try:
        app.platform.investigation_export(investigation_id, target, user_id=who.user_id, reason=reason)
    except SurakshaError as exc:
        return _page(request, app, who, investigation_id, error=str(exc), status=problems.status_of(exc))
    return FileResponse(target, media_type="application/zip", filename=name)


@router.post("/investigations/{investigation_id}/close")
def close(
    request: Request,
    investigation_id: PathId,
    reason: str = Form(..., max_length=TEXT),
    app: WebState = Depends(get_state),
    who: Viewer = require(INVESTIGATE),
) -> Response:
    return _acted(
        request,
        app,
        who,
        investigation_id,
        lambda: app.platform.investigation_close(investigation_id, reason=reason, user_id=who.user_id),
        "closed",
    )
