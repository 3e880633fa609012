"""Where the console's dashboard meets the review area (``suraksha.review.dashboard``): queue sizes
with the oldest item, the approval backlog, and exposure (the viewer's own; everyone's for leads)."""

from __future__ import annotations

from typing import Any

from suraksha.permissions import Permission
from suraksha.review import dashboard as review_dashboard
from suraksha.web.console.viewer import Viewer


def dashboard(figures: review_dashboard.Dashboard, viewer: Viewer) -> dict[str, Any]:
    """The review figures as the console's dashboard shows them (exposure by reviewer for leads)."""
    by_queue: dict[str, dict[str, Any]] = {}
    for q in figures.queues:
        row = by_queue.setdefault(
            q.category or "uncategorised",
            {"name": q.category or "uncategorised", "category": q.category, "size": 0, "oldest": None},
        )
        row["size"] += q.count
        if q.oldest_detected_at is not None and (
            row["oldest"] is None or q.oldest_detected_at < row["oldest"]
        ):
            row["oldest"] = q.oldest_detected_at
    own = [e for e in figures.exposure if e.user_id == viewer.user_id]
    return {
        "queues": list(by_queue.values()),
        "awaiting_approval": figures.awaiting_approval,
        "exposure": sum(e.reveals for e in own),
        "exposure_note": ", ".join(
            f"{e.category or 'uncategorised'}: {e.reveals}"
            + (f" of {e.budget}" if e.budget is not None else "")
            for e in own
        )
        or "no reveals today",
        "exposure_by_reviewer": [
            {"pseudonym": e.pseudonym, "category": e.category, "reveals": e.reveals, "budget": e.budget}
            for e in figures.exposure
        ]
        if viewer.can(Permission.DECISION_APPROVE)
        else [],
    }
