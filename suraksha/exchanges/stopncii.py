"""StopNCII.org's hash API, through python-threatexchange's ``StopNCIIAPI`` and
``StopNCIISignalExchangeAPI`` (``suraksha.exchanges.ports.ExchangeSource``), and feedback through
``StopNCIIAPI.submit_feedback``. Loaded only when a fetch or a feedback job needs it.

Credentials (``suraksha.exchanges.credentials``, never the database): ``SUBSCRIPTION_KEY:FETCH_KEY``, or
``SUBSCRIPTION_KEY:FETCH_KEY,FEEDBACK_KEY`` to send feedback (StopNCII gives each endpoint its own
function key, sent as ``x-functions-key``; the subscription key as ``Ocp-Apim-Subscription-Key``).

Where python-threatexchange is fixed around, here:

- ``_get_delta_mapping`` compares a record's ``hashValue`` (not its ``hashStatus``) with
  ``Withdrawn``/``Deleted``, so a hash its subject withdrew is never removed: we read ``hashStatus``.
- Its calls wait 60 s with four retries: ours are bounded by ``exchange_timeout_s``, two retries, and
  refused past the fetch's budget (``FetchBudgetSpent``).
"""

from __future__ import annotations

import time
import typing as t
from collections.abc import Iterator, Mapping
from dataclasses import asdict

import requests
from threatexchange.exchanges import fetch_state as state
from threatexchange.exchanges.clients.stopncii import api
from threatexchange.exchanges.clients.utils.common import TimeoutHTTPAdapter
from threatexchange.exchanges.collab_config import CollaborationConfigBase
from threatexchange.exchanges.impl.stop_ncii_api import (
    StopNCIICheckpoint,
    StopNCIISignalExchangeAPI,
    StopNCIISignalMetadata,
    _type_mapping,
)
from threatexchange.signal_type.signal_base import SignalType
from urllib3.util.retry import Retry

from suraksha.errors import ExternalServiceError
from suraksha.exchanges.clients import TX_SIGNAL_TYPES, _normalise
from suraksha.exchanges.credentials import Credentials
from suraksha.exchanges.feedback import FeedbackVerdict
from suraksha.exchanges.models import ExchangeEntry
from suraksha.exchanges.ports import FetchBudgetSpent, Page, UpstreamRecord, check_base_url
from suraksha.worker.handlers import PermanentFailure

REMOVED = (api.StopNCIICaseStatus.Withdrawn, api.StopNCIICaseStatus.Deleted)
OUR_TYPES = {"pdq": api.StopNCIISignalType.ImagePDQ, "md5": api.StopNCIISignalType.VideoMD5}


def split_keys(credentials: Credentials) -> tuple[str, str, str | None]:
    """(subscription key, fetch function key, feedback function key or None)."""
    fetch_key, _, feedback_key = credentials.password.reveal().partition(",")
    return credentials.user, fetch_key, feedback_key or None


class _BoundedStopNCIIAPI(api.StopNCIIAPI):
    def __init__(
        self, credentials: Credentials, *, base_url: str | None, timeout_s: float, deadline: float
    ) -> None:
        subscription, fetch_key, feedback_key = split_keys(credentials)
        extra = {api.StopNCIIEndpoint.SubmitFeedback: feedback_key} if feedback_key else None
        super().__init__(subscription, fetch_key, extra, base_url_override=base_url)
        self._timeout_s = timeout_s
        self.deadline = deadline

    def _get_session(self, endpoint: api.StopNCIIEndpoint) -> requests.Session:
        function_key = self._function_keys.get(endpoint)
        if not function_key:
            raise PermanentFailure(
                f"no function key for StopNCII's {endpoint.value}: the credentials are "
                "SUBSCRIPTION_KEY:FETCH_KEY,FEEDBACK_KEY"
            )
        session = requests.Session()
        session.headers.update(
            {"x-functions-key": function_key, "Ocp-Apim-Subscription-Key": self._subscription_key}
        )
        retry = Retry(
            total=2,
            status_forcelist=[429, 500, 502, 503, 504],
            allowed_methods=["HEAD", "GET", "OPTIONS"],
            backoff_factor=0.2,
        )
        adapter = TimeoutHTTPAdapter(timeout=self._timeout_s, max_retries=retry)  # type: ignore[no-untyped-call]
        session.mount(self._base_url, adapter)
        return session

    def _get(self, endpoint: api.StopNCIIEndpoint, **params: t.Any) -> t.Any:
        if time.monotonic() > self.deadline:
            raise FetchBudgetSpent
        try:
            return super()._get(endpoint, **params)
        except requests.HTTPError as exc:
            status = exc.response.status_code if exc.response is not None else "?"
            raise ExternalServiceError(f"StopNCII answered HTTP {status} to {endpoint.value}") from None
        except (requests.RequestException, ValueError) as exc:
            raise ExternalServiceError(f"StopNCII could not be read ({type(exc).__name__})") from None

    def _post(self, endpoint: api.StopNCIIEndpoint, *, json: t.Any = None) -> t.Any:
        try:
            return super()._post(endpoint, json=json)
        except requests.HTTPError as exc:
            status = exc.response.status_code if exc.response is not None else "?"
            raise ExternalServiceError(f"StopNCII answered HTTP {status} to {endpoint.value}") from None
        except (requests.RequestException, ValueError) as exc:
            raise ExternalServiceError(f"StopNCII could not be reached ({type(exc).__name__})") from None


class _StopNCIIExchange(StopNCIISignalExchangeAPI):
    """``fetch_iter`` as python-threatexchange's, with withdrawn hashes as removals (module docstring)."""

    def fetch_iter(
        self,
        _supported_signal_types: t.Sequence[type[SignalType]],
        checkpoint: StopNCIICheckpoint | None,
    ) -> Iterator[state.FetchDelta[tuple[str, str], StopNCIISignalMetadata, StopNCIICheckpoint]]:
        start = checkpoint.update_time if checkpoint is not None else api.StopNCIIAPI.DEFAULT_START_TIME
        for result in self.api.fetch_hashes_iter(start_timestamp=start):
            updates: dict[tuple[str, str], StopNCIISignalMetadata | None] = {}
            for record in result.hashRecords:
                type_str = _type_mapping().get(record.signalType)
                if type_str:
                    removed = record.hashStatus in REMOVED
                    updates[type_str, record.hashValue] = (
                        None if removed else StopNCIISignalMetadata(record.CSPFeedbacks)
                    )
            yield state.FetchDelta(
                updates,  # None: removed, as FetchDelta means it
                StopNCIICheckpoint.from_stopncii_fetch(result),
            )


def _client(
    settings: Mapping[str, t.Any], credentials: Credentials, timeout_s: float, budget_s: float
) -> _BoundedStopNCIIAPI:
    url = settings.get("url")
    return _BoundedStopNCIIAPI(
        credentials,
        base_url=check_base_url(str(url)) if url else None,
        timeout_s=timeout_s,
        deadline=time.monotonic() + budget_s,
    )


class StopNCIISource:
    """Incremental by StopNCII's ``nextSetTimestamp`` (the client's checkpoint, stored as JSON)."""

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
        self._collab = CollaborationConfigBase(name=name, api="stopncii", enabled=True)
        self._api = _StopNCIIExchange(self._collab, _client(settings, credentials, timeout_s, budget_s))

    def pages(self, checkpoint: Mapping[str, t.Any] | None) -> Iterator[Page]:
        start = StopNCIICheckpoint(**checkpoint) if checkpoint else None
        for delta in self._api.fetch_iter(list(TX_SIGNAL_TYPES), start):
            records: list[UpstreamRecord] = []
            rejected = 0
            for (tx_type, value), meta in delta.updates.items():
                signal = _normalise(tx_type, value)
                if signal is None:
                    rejected += tx_type in {s.get_name() for s in TX_SIGNAL_TYPES}
                    continue
                key = f"{signal.signal_type.value}:{signal.value}"
                if meta is None:
                    records.append(UpstreamRecord(key, ()))
                else:
                    records.append(UpstreamRecord(key, (signal,), {"feedbacks": len(meta.feedbacks)}))
            yield Page(records, asdict(delta.checkpoint), rejected=rejected)


def send_stopncii_feedback(
    settings: Mapping[str, t.Any],
    record: ExchangeEntry,
    verdict: FeedbackVerdict,
    credentials: Credentials,
    *,
    timeout_s: float,
) -> None:
    kind, _, value = record.upstream_key.partition(":")
    signal_type = OUR_TYPES.get(kind)
    if signal_type is None or not value:
        raise PermanentFailure(f"record {record.upstream_key!r} is not a StopNCII hash we can rate")
    value_ = api.StopNCIICSPFeedbackValue
    feedback = {
        FeedbackVerdict.SEEN: value_.PendingReview,
        FeedbackVerdict.TRUE_POSITIVE: value_.Blocked,
        FeedbackVerdict.FALSE_POSITIVE: value_.NotBlocked,
    }[verdict]
    _client(settings, credentials, timeout_s, 4 * timeout_s).submit_feedback(signal_type, value, feedback)
