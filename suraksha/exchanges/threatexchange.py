"""Meta's ThreatExchange (``/threat_updates`` of a privacy group), through python-threatexchange's
``ThreatExchangeAPI`` and ``FBThreatExchangeSignalExchangeAPI`` (``suraksha.exchanges.ports.ExchangeSource``).
Loaded only when a fetch needs it.

Credentials (``suraksha.exchanges.credentials``): ``APP_ID:APP_SECRET``, sent as the app access token
``APP_ID|APP_SECRET`` (``FBThreatExchangeCredentials``' format, the ``:`` because our credentials are
``user:password``).

Where python-threatexchange is fixed around, here:

- ``ThreatExchangeAPI.get_json_from_url`` calls ``requests.get`` without its session (its own comment:
  "Typo?"), so no timeout and no retry: a call could wait for ever. Ours uses a session bounded by
  ``exchange_timeout_s``, two retries, and refuses to start past the fetch's budget.
- The access token travels in the URL: an error here never carries the URL or the exception's text.
- ``fetch_iter`` asserts that every page holds updates (``assert batch, "empty update?"``), so a group
  with nothing new since the checkpoint fails: ours skips an empty page (same loop otherwise).
"""

from __future__ import annotations

import time
import typing as t
from collections.abc import Iterator, Mapping
from dataclasses import asdict

import requests
from threatexchange.exchanges.clients.fb_threatexchange.api import ThreatExchangeAPI
from threatexchange.exchanges.clients.fb_threatexchange.threat_updates import ThreatUpdateJSON
from threatexchange.exchanges.clients.utils.common import TimeoutHTTPAdapter
from threatexchange.exchanges.impl.fb_threatexchange_api import (
    FBThreatExchangeCheckpoint,
    FBThreatExchangeCollabConfig,
    FBThreatExchangeIndicatorRecord,
    FBThreatExchangeSignalExchangeAPI,
)
from urllib3.util.retry import Retry

from suraksha.errors import ExternalServiceError
from suraksha.exchanges.clients import TX_SIGNAL_TYPES, _normalise
from suraksha.exchanges.credentials import Credentials
from suraksha.exchanges.ports import FetchBudgetSpent, Page, UpstreamRecord, check_base_url

TE_TYPES = {"HASH_PDQ": "pdq", "HASH_VIDEO_MD5": "video_md5", "HASH_MD5": "video_md5"}
"""ThreatExchange's indicator types of the signals we take (python-threatexchange's names), for
removals, which carry no tags to convert by."""


class _BoundedThreatExchangeAPI(ThreatExchangeAPI):
    def __init__(
        self, credentials: Credentials, *, base_url: str | None, timeout_s: float, deadline: float
    ) -> None:
        super().__init__(f"{credentials.user}|{credentials.password.reveal()}", endpoint_override=base_url)
        self._timeout_s = timeout_s
        self.deadline = deadline

    def get_json_from_url(
        self, url: str, params: Mapping[str, t.Any] | None = None, *, json_obj_hook: t.Any = None
    ) -> t.Any:
        if time.monotonic() > self.deadline:
            raise FetchBudgetSpent
        retry = Retry(
            total=2,
            status_forcelist=[429, 500, 502, 503, 504],
            allowed_methods=["HEAD", "GET", "OPTIONS"],
            backoff_factor=0.2,
        )
        with requests.Session() as session:
            session.mount(self._base_url, TimeoutHTTPAdapter(timeout=self._timeout_s, max_retries=retry))  # type: ignore[no-untyped-call]
            try:
                response = session.get(url, params=dict(params or {}))
                response.raise_for_status()
                return response.json(object_hook=json_obj_hook)
            except requests.HTTPError as exc:
                status = exc.response.status_code if exc.response is not None else "?"
                raise ExternalServiceError(
                    f"ThreatExchange answered HTTP {status} to threat_updates"
                ) from None
            except (requests.RequestException, ValueError) as exc:
                raise ExternalServiceError(
                    f"ThreatExchange could not be read ({type(exc).__name__})"
                ) from None

    def _get_session(self) -> requests.Session:
        """The session the client posts reactions with: bounded by ``exchange_timeout_s``, not retried
        (a POST)."""
        session = requests.Session()
        session.mount(self._base_url, TimeoutHTTPAdapter(timeout=self._timeout_s, max_retries=0))  # type: ignore[no-untyped-call]
        return session


REACTIONS = {"seen": "SAW_THIS_TOO", "true_positive": "HELPFUL", "false_positive": "NOT_HELPFUL"}
"""Our feedback verdicts -> ThreatExchange's reactions (``ThreatExchangeAPI.react_matched_threat_descriptor``,
``react_upvote_threat_descriptor``, ``react_downvote_threat_descriptor``)."""


def send_threatexchange_feedback(
    settings: Mapping[str, t.Any],
    descriptors: t.Sequence[int],
    verdict: str,
    credentials: Credentials,
    *,
    timeout_s: float,
) -> None:
    """React to each descriptor of the record (the privacy group's opinions on the indicator, stored
    with the record when it was fetched) through the client's ``react_to_threat_descriptor``. Its
    ``_postThreatDescriptor`` raises on nothing (an error comes back as JSON), so the answer is read:
    anything but ``{"success": true}`` is a failure, without the URL (it carries the token)."""
    url = settings.get("url")
    client = _BoundedThreatExchangeAPI(
        credentials,
        base_url=check_base_url(str(url)) if url else None,
        timeout_s=timeout_s,
        deadline=time.monotonic() + 4 * timeout_s,
    )
    for descriptor in descriptors:
        try:
            _, _, answer = client.react_to_threat_descriptor(descriptor, REACTIONS[verdict])  # type: ignore[no-untyped-call]
        except (requests.RequestException, ValueError) as exc:
            raise ExternalServiceError(
                f"ThreatExchange could not take the reaction ({type(exc).__name__})"
            ) from None
        if not isinstance(answer, dict) or answer.get("success") is not True:
            error = answer.get("error", {}) if isinstance(answer, dict) else {}
            message = error.get("message", "no success") if isinstance(error, dict) else "no success"
            raise ExternalServiceError(
                f"ThreatExchange refused the reaction on descriptor {descriptor}: {message}"[:300]
            )


class _ThreatExchange(FBThreatExchangeSignalExchangeAPI):
    def fetch_iter(  # type: ignore[override]
        self,
        _supported_signal_types: t.Sequence[t.Any],
        checkpoint: FBThreatExchangeCheckpoint | None,
    ) -> Iterator[
        tuple[dict[tuple[str, str], FBThreatExchangeIndicatorRecord | None], FBThreatExchangeCheckpoint]
    ]:
        start_time = None if checkpoint is None else checkpoint.update_time
        cursor = self.client.get_threat_updates(
            self.collab.privacy_group,
            start_time=start_time,
            page_size=100,
            fields=ThreatUpdateJSON.te_threat_updates_fields(),
            decode_fn=ThreatUpdateJSON,
        )
        highest_time = start_time or 0
        for batch in cursor:
            if not batch:
                continue
            highest_time = max(highest_time, *(update.time for update in batch))
            updates = {
                (u.threat_type, u.indicator): FBThreatExchangeIndicatorRecord.from_threatexchange_json(
                    self.client.app_id, u
                )
                for u in batch
            }
            yield updates, FBThreatExchangeCheckpoint(highest_time)


class ThreatExchangeSource:
    """Incremental from the highest ``last_updated`` read (the client's checkpoint, as JSON);
    ``should_delete`` updates are removals."""

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
        self._collab = FBThreatExchangeCollabConfig(
            name=name, enabled=True, privacy_group=int(settings["privacy_group"])
        )
        url = settings.get("url")
        client = _BoundedThreatExchangeAPI(
            credentials,
            base_url=check_base_url(str(url)) if url else None,
            timeout_s=timeout_s,
            deadline=time.monotonic() + budget_s,
        )
        self._api = _ThreatExchange(client, self._collab)

    def pages(self, checkpoint: Mapping[str, t.Any] | None) -> Iterator[Page]:
        start = FBThreatExchangeCheckpoint(**checkpoint) if checkpoint else None
        for updates, next_checkpoint in self._api.fetch_iter(list(TX_SIGNAL_TYPES), start):
            converted = FBThreatExchangeSignalExchangeAPI.naive_convert_to_signal_type(
                list(TX_SIGNAL_TYPES), self._collab, updates
            )
            records: dict[str, UpstreamRecord] = {}
            rejected = 0
            for tx_type, signals in converted.items():
                for value, metadata in signals.items():
                    signal = _normalise(tx_type.get_name(), value)
                    if signal is None:
                        rejected += 1
                        continue
                    key = f"{signal.signal_type.value}:{signal.value}"
                    descriptors = sorted(
                        {
                            o.descriptor_id
                            for o in metadata.opinions
                            if o.descriptor_id and o.descriptor_id > 0
                        }
                    )
                    detail = {"descriptors": descriptors} if descriptors else {}
                    records[key] = UpstreamRecord(key, (signal,), detail)
            for (te_type, value), record in updates.items():
                ours = TE_TYPES.get(te_type)
                signal = _normalise(ours, value) if ours and record is None else None
                if signal is not None:
                    key = f"{signal.signal_type.value}:{signal.value}"
                    records.setdefault(key, UpstreamRecord(key, ()))
            yield Page(list(records.values()), asdict(next_checkpoint), rejected=rejected)
