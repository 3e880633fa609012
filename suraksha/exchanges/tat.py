"""Tech Against Terrorism's hash list, through python-threatexchange's ``TATHashListAPI`` and
``TATSignalExchangeAPI`` (``suraksha.exchanges.ports.ExchangeSource``). Its client takes no feedback.
Loaded only when a fetch needs it.

Credentials (``suraksha.exchanges.credentials``): ``username:password`` (``TATCredentials``' format).

Where python-threatexchange is fixed around, here:

- ``TATHashListAPI`` has its base URL as a class constant and mounts its timeouts on it: ours takes the
  exchange's ``url`` (the stand-in), and its calls are bounded by ``exchange_timeout_s`` with two
  retries and refused past the fetch's budget (``FetchBudgetSpent``), where it waits 60 s, four times.
- ``fetch_hashes`` signs in again (``POST token-auth/tcap/``) for every page: ours signs in once a fetch.
"""

from __future__ import annotations

import time
import typing as t
from collections.abc import Generator, Iterator, Mapping
from contextlib import contextmanager

import requests
from threatexchange.exchanges.clients.techagainstterrorism import api
from threatexchange.exchanges.clients.utils.common import TimeoutHTTPAdapter
from threatexchange.exchanges.collab_config import CollaborationConfigWithDefaults
from threatexchange.exchanges.impl.techagainstterrorism_api import TATCheckpoint, TATSignalExchangeAPI
from urllib3.util.retry import Retry

from suraksha.errors import ExternalServiceError
from suraksha.exchanges.clients import TX_SIGNAL_TYPES, _normalise
from suraksha.exchanges.credentials import Credentials
from suraksha.exchanges.ports import FetchBudgetSpent, Page, UpstreamRecord, check_base_url


class _BoundedTATAPI(api.TATHashListAPI):
    def __init__(
        self, credentials: Credentials, *, base_url: str | None, timeout_s: float, deadline: float
    ) -> None:
        super().__init__(credentials.user, credentials.password.reveal())
        if base_url:
            self.BASE_URL = base_url.rstrip("/") + "/"  # type: ignore[misc]
        self._timeout_s = timeout_s
        self.deadline = deadline
        self._token: str | None = None

    @contextmanager
    def _get_session(self, auth_token: str | None = None) -> Generator[requests.Session]:
        if time.monotonic() > self.deadline:
            raise FetchBudgetSpent
        session = requests.Session()
        retry = Retry(
            total=2,
            status_forcelist=[429, 500, 502, 503, 504],
            allowed_methods=["HEAD", "GET", "OPTIONS"],
            backoff_factor=0.2,
        )
        adapter = TimeoutHTTPAdapter(timeout=self._timeout_s, max_retries=retry)  # type: ignore[no-untyped-call]
        session.mount(self.BASE_URL, adapter)
        if auth_token:
            session.headers.update({"Authorization": f"Bearer {auth_token}"})
        try:
            yield session
        finally:
            session.close()

    def get_auth_token(self, username: str, password: str) -> str | None:
        if self._token is None:
            self._token = super().get_auth_token(username, password)
        return self._token

    def fetch_hashes(
        self, next_page: str | None = None, order: str = "asc", after: str = ""
    ) -> api.TATHashListResponse:
        try:
            return super().fetch_hashes(next_page, order, after)
        except FetchBudgetSpent:
            raise
        except requests.HTTPError as exc:
            status = exc.response.status_code if exc.response is not None else "?"
            raise ExternalServiceError(f"Tech Against Terrorism answered HTTP {status}") from None
        except Exception as exc:  # the client's own (KeyError on a short answer, ...); never the password
            raise ExternalServiceError(
                f"Tech Against Terrorism's hash list could not be read ({type(exc).__name__})"
            ) from None


class _TATExchange(TATSignalExchangeAPI):
    def __init__(self, client: _BoundedTATAPI) -> None:
        super().__init__(client.username, client.password)
        self._client = client

    def get_client(self) -> api.TATHashListAPI:
        return self._client


class TATSource:
    """Incremental from TAT's ``checkpoint`` (``timestamp,id`` of the last record read), deletions as
    records flagged ``deleted``."""

    snapshot = False

    def __init__(
        self,
        name: str,
        settings: Mapping[str, t.Any],
        credentials: Credentials,
        *,
        timeout_s: float,
        budget_s: float,
    ) -> None:
        self._collab = CollaborationConfigWithDefaults(name=name, api="tat", enabled=True)
        url = settings.get("url")
        client = _BoundedTATAPI(
            credentials,
            base_url=check_base_url(str(url)) if url else None,
            timeout_s=timeout_s,
            deadline=time.monotonic() + budget_s,
        )
        self._api = _TATExchange(client)

    def pages(self, checkpoint: Mapping[str, t.Any] | None) -> Iterator[Page]:
        start = TATCheckpoint(**checkpoint) if checkpoint else None
        for delta in self._api.fetch_iter(list(TX_SIGNAL_TYPES), start):
            records: list[UpstreamRecord] = []
            rejected = 0
            for (tx_type, value), meta in delta.updates.items():
                signal = _normalise(tx_type, value)
                if signal is None:
                    rejected += 1
                    continue
                key = f"{signal.signal_type.value}:{signal.value}"
                records.append(UpstreamRecord(key, () if meta is None else (signal,)))
            checkpoint_json = {"checkpoint": delta.checkpoint.checkpoint} if delta.checkpoint else None
            yield Page(records, checkpoint_json, rejected=rejected)
