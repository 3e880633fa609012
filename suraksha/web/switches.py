"""Kill switches as the web layer applies them: ``read_only`` refuses every write (503, so clients
retry later rather than treat it as their error). A web process reads the switch at most every
``web_auth_cache_s`` seconds (``suraksha.web.recent``): turned on, it takes effect within that time."""

from __future__ import annotations

from typing import Any

from fastapi import Depends
from starlette.concurrency import run_in_threadpool

from suraksha.admin.models import KillSwitch
from suraksha.admin.services import is_on
from suraksha.errors import NotReady
from suraksha.web.state import WebState, get_state


class ReadOnly(NotReady):
    """The service is in read-only mode (kill switch): writes are refused for now."""


def read_only(state: WebState) -> bool:
    """Whether the read_only kill switch is on (read at most every ``web_auth_cache_s`` seconds)."""
    on = state.switches.get(KillSwitch.READ_ONLY)
    if on is None:
        with state.platform.db.reading() as session:
            on = is_on(session, KillSwitch.READ_ONLY)
        state.switches.put(KillSwitch.READ_ONLY, on)
    return on


async def _writable(state: WebState = Depends(get_state)) -> None:
    on = state.switches.get(KillSwitch.READ_ONLY)
    if on is None:  # a database read: off the event loop
        on = await run_in_threadpool(read_only, state)
    if on:
        raise ReadOnly(
            "the service is read-only (kill switch read_only is on): writes are refused until it is "
            "turned off with `suraksha switch off read_only`"
        )


WRITABLE: Any = Depends(_writable)
