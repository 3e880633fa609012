"""Kill switches as the web layer applies them: ``read_only`` refuses every write (503, so clients
retry later rather than treat it as their error)."""

from __future__ import annotations

from typing import Any

from fastapi import Depends

from suraksha.admin.models import KillSwitch
from suraksha.admin.services import is_on
from suraksha.errors import NotReady
from suraksha.web.state import WebState, get_state


class ReadOnly(NotReady):
    """The service is in read-only mode (kill switch): writes are refused for now."""


def read_only(state: WebState) -> bool:
    with state.platform.db.reading() as session:
        return is_on(session, KillSwitch.READ_ONLY)


def _writable(state: WebState = Depends(get_state)) -> None:
    if read_only(state):
        raise ReadOnly(
            "the service is read-only (kill switch read_only is on): writes are refused until it is "
            "turned off with `suraksha switch off read_only`"
        )


WRITABLE: Any = Depends(_writable)
