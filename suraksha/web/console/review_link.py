"""Where the console meets the review area (``suraksha.review``): figures for the dashboard. Until the
review area is installed, the console shows what intake and enforcement know."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from suraksha.web.console.viewer import Viewer


def dashboard(session: Session, viewer: Viewer, now: datetime) -> dict[str, Any] | None:
    """The review area's dashboard figures (queue sizes, oldest item, exposure), or None."""
    del session, viewer, now
    return None
