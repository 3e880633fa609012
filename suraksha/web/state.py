"""What one web app holds for its lifetime: the platform, the match index it serves from, the media
fetcher and the metrics. Routes get it with ``Depends(get_state)``."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from fastapi import Request
from sqlalchemy import text

from suraksha.access.services import ApiCaller
from suraksha.app import Platform
from suraksha.banks.index import BankIndex
from suraksha.intake.batching import SubmissionWriter
from suraksha.outbound.fetch import FetchPolicy, MediaFetcher
from suraksha.web.metrics import WebMetrics
from suraksha.web.recent import Recent
from suraksha.web.urls import parse_public_base_url

log = logging.getLogger(__name__)

FOLLOW_INTERVAL_S = 1.0
RETRY_MAX_S = 30.0


@dataclass(frozen=True)
class Readiness:
    index_loaded: bool
    index_current: bool
    database: bool
    database_error: str | None = None

    @property
    def ready(self) -> bool:
        return self.index_loaded and self.index_current and self.database

    def as_dict(self) -> dict[str, object]:
        return {
            "ready": self.ready,
            "index_loaded": self.index_loaded,
            "index_current": self.index_current,
            "database": self.database,
        }


class WebState:
    def __init__(self, platform: Platform, *, fetcher: MediaFetcher | None = None) -> None:
        self.platform = platform
        self.settings = platform.settings
        self.index: BankIndex = platform.bank_index()
        self.fetcher = fetcher or MediaFetcher(FetchPolicy.from_settings(platform.settings))
        self.public_base_url = parse_public_base_url(platform.settings.public_base_url)
        """Where clients reach the service ("": hand out relative URLs; ``suraksha.web.urls``)."""
        self.metrics = WebMetrics()
        self.submissions = SubmissionWriter(
            platform.db, platform.media_store, max_media_bytes=int(platform.settings.media_max_bytes)
        )
        """Writes submitted items in shared transactions (``suraksha.intake.batching``)."""
        ttl = float(platform.settings.web_auth_cache_s)
        self.callers: Recent[str, ApiCaller] = Recent(ttl)
        """Successful API-key checks by the key's digest (``suraksha.web.recent``)."""
        self.switches: Recent[str, bool] = Recent(ttl)
        """Kill-switch states by name (``suraksha.web.recent``)."""
        self._stop = threading.Event()
        self._loader: threading.Thread | None = None

    # -- the match index ---------------------------------------------------------------------------

    def start_index(self) -> None:
        """Load the index in the background (the process answers /healthz, and 503 on /readyz and on
        every lookup, meanwhile), then follow the change feed. A failed load is retried with backoff."""
        if self._loader is not None:
            return
        self._loader = threading.Thread(target=self._load_until_done, name="web-index-loader", daemon=True)
        self._loader.start()

    def load_index(self) -> None:
        """Load the index now, in this thread, and follow the feed from here on."""
        self.index.load()
        self.index.follow(FOLLOW_INTERVAL_S)

    def _load_until_done(self) -> None:
        delay = 0.5
        while not self._stop.is_set():
            try:
                self.load_index()
                return
            except Exception:  # the database may not be up yet; /readyz says not ready meanwhile
                log.exception("event=web.index_load_failed retry_in_s=%.1f", delay)
                self._stop.wait(delay)
                delay = min(delay * 2, RETRY_MAX_S)

    # -- readiness -----------------------------------------------------------------------------------

    def check_database(self) -> str | None:
        """None when the database answers a trivial query, else what went wrong (without the URL)."""
        try:
            with self.platform.db.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception as exc:
            return type(exc).__name__
        return None

    def readiness(self, database_error: str | None) -> Readiness:
        return Readiness(
            index_loaded=self.index.loaded,
            index_current=self.index.ready,
            database=database_error is None,
            database_error=database_error,
        )

    def close(self) -> None:
        self.submissions.close()
        self._stop.set()
        if self._loader is not None:  # a load under way finishes first, then its follower is stopped
            self._loader.join(timeout=30)
        self.index.close()


async def get_state(request: Request) -> WebState:
    # async: no I/O, so it runs on the event loop instead of taking a trip through the thread pool.
    state: WebState = request.app.state.suraksha
    return state
