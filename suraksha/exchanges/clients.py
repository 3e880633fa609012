"""The real clients of the lists upstream (``suraksha.exchanges.ports.ExchangeSource``): they wrap
python-threatexchange's clients (``SignalExchangeAPI.fetch_iter``) and convert with their own
``naive_convert_to_signal_type``; nothing here re-implements a client it has. Where its behaviour is
wrong or unbounded, it is fixed around, here, and said so:

- ``NCMECHashAPI`` formats ``from``/``to`` in the process's local time zone while labelling them UTC
  (``_date_format``): ``_HashSharingClient.get_entries`` formats them in UTC.
- Its HTTP calls wait 60 s each, with retries, and its fetch loop may probe empty time ranges for a
  long time without yielding: every call here is bounded by ``timeout_s`` and refused past the fetch's
  ``deadline`` (``FetchBudgetSpent``), so one fetch can never wedge a worker (HMA issue #2004).
- ``LocalFileSignalExchangeAPI.fetch_iter`` reads the whole file into memory and yields it as one
  update: ``PagedFileExchange`` reads it in pages of ``page_size`` lines from a byte offset (its
  checkpoint), with a bounded line length.

The interface (``ExchangeSource``, ``Page``) is in ``suraksha.exchanges.ports``; the local stand-in
for NCMEC's service is ``suraksha.exchanges.hashsharing_sim`` (served by ``suraksha hashsharing-sim``).
"""

from __future__ import annotations

import time
import typing as t
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import requests
from threatexchange.exchanges import fetch_state as state
from threatexchange.exchanges.clients.ncmec import hash_api
from threatexchange.exchanges.clients.utils.common import TimeoutHTTPAdapter
from threatexchange.exchanges.collab_config import CollaborationConfigBase
from threatexchange.exchanges.impl.file_api import FileCollaborationConfig, LocalFileSignalExchangeAPI
from threatexchange.exchanges.impl.ncmec_api import (
    NCMECCheckpoint,
    NCMECCollabConfig,
    NCMECSignalExchangeAPI,
    _NCMECPagingInfo,
)
from threatexchange.exchanges.impl.static_sample import StaticSampleSignalExchangeAPI
from threatexchange.exchanges.signal_exchange_api import SignalExchangeAPIWithSimpleUpdates
from threatexchange.signal_type.md5 import VideoMD5Signal
from threatexchange.signal_type.pdq.signal import PdqSignal
from threatexchange.signal_type.signal_base import SignalType
from urllib3.util.retry import Retry

from suraksha.errors import ExternalServiceError, InvalidInput
from suraksha.exchanges.ports import FetchBudgetSpent, Page, UpstreamRecord, UpstreamSignal, check_base_url
from suraksha.signals.types import SignalKind, validate_signal

TX_SIGNAL_TYPES: tuple[type[SignalType], ...] = (PdqSignal, VideoMD5Signal)
"""The python-threatexchange signal types we take, and what we call them."""
KIND_OF_TX: dict[str, SignalKind] = {
    PdqSignal.get_name(): SignalKind.PDQ,
    VideoMD5Signal.get_name(): SignalKind.MD5,
}
MAX_FILE_LINE_BYTES = 64 * 1024


def _normalise(tx_type: str, value: str) -> UpstreamSignal | None:
    kind = KIND_OF_TX.get(tx_type)
    if kind is None:
        return None
    try:
        return UpstreamSignal(kind, validate_signal(kind, value))
    except ValueError:
        return None


def _simple_records(
    api_cls: type[SignalExchangeAPIWithSimpleUpdates[t.Any, t.Any, t.Any]],
    collab: CollaborationConfigBase,
    updates: Mapping[tuple[str, str], t.Any],
) -> tuple[list[UpstreamRecord], int]:
    """Records of a snapshot list's page, converted by the client's own ``naive_convert_to_signal_type``
    (which drops types we do not take and values its validator refuses), keyed ``type:value``."""
    converted = api_cls.naive_convert_to_signal_type(list(TX_SIGNAL_TYPES), collab, updates)
    records: dict[str, UpstreamRecord] = {}
    for tx_type, signals in converted.items():
        for value in signals:
            signal = _normalise(tx_type.get_name(), value)
            if signal is not None:
                key = f"{signal.signal_type.value}:{signal.value}"
                records[key] = UpstreamRecord(key, (signal,))
    return list(records.values()), len(updates) - len(records)


# The static sample --------------------------------------------------------------------------------


class StaticSampleSource:
    """python-threatexchange's example signals, as one page (``StaticSampleSignalExchangeAPI``)."""

    snapshot = True

    def __init__(self, name: str) -> None:
        self._collab = CollaborationConfigBase(name=name, api="sample", enabled=True)

    def pages(self, checkpoint: Mapping[str, t.Any] | None) -> Iterator[Page]:
        api = StaticSampleSignalExchangeAPI.for_collab(self._collab)
        for delta in api.fetch_iter(list(TX_SIGNAL_TYPES), None):
            records, rejected = _simple_records(StaticSampleSignalExchangeAPI, self._collab, delta.updates)
            yield Page(records, None, end_of_pass=True, rejected=rejected)


# A local file -------------------------------------------------------------------------------------


@dataclass
class FileOffsetCheckpoint(state.FetchCheckpointBase):
    """How far into the file the pass has got (bytes)."""

    offset: int = 0
    done: bool = False


class PagedFileExchange(LocalFileSignalExchangeAPI):
    """``LocalFileSignalExchangeAPI`` read in pages from a byte offset (module docstring): same file
    format (``TYPE VALUE`` per line, or ``VALUE`` with the config's ``signal_type``)."""

    page_size: int = 1000

    def fetch_iter(  # type: ignore[override]
        self,
        _supported_signal_types: t.Sequence[type[SignalType]],
        checkpoint: FileOffsetCheckpoint | None,
    ) -> Iterator[state.FetchDelta[tuple[str, str], state.FetchedSignalMetadata, FileOffsetCheckpoint]]:
        path = Path(self.collab.filename)
        if not path.is_file():
            raise ExternalServiceError(f"the exchange's file {str(path)!r} does not exist or is not a file")
        offset = checkpoint.offset if checkpoint is not None and not checkpoint.done else 0
        with path.open("rb") as f:
            f.seek(offset)
            while True:
                updates: dict[tuple[str, str], state.FetchedSignalMetadata | None] = {}
                lines = 0
                at_end = False
                while lines < self.page_size:
                    raw = f.readline(MAX_FILE_LINE_BYTES + 1)
                    if not raw:
                        at_end = True
                        break
                    if len(raw) > MAX_FILE_LINE_BYTES:
                        raise ExternalServiceError(
                            f"line at byte {offset} of {str(path)!r} is longer than "
                            f"{MAX_FILE_LINE_BYTES} bytes"
                        )
                    offset += len(raw)
                    lines += 1
                    line = raw.decode("utf-8", errors="replace").strip()
                    signal_type = self.collab.signal_type
                    signal = line
                    if signal_type is None:
                        signal_type, _, signal = line.partition(" ")
                    if signal_type and signal.strip():
                        updates[signal_type, signal.strip()] = state.FetchedSignalMetadata()
                yield state.FetchDelta(updates, FileOffsetCheckpoint(offset, at_end))
                if at_end:
                    return


class FileSource:
    snapshot = True

    def __init__(self, name: str, path: str, signal_type: str | None, *, page_size: int = 1000) -> None:
        self._collab = FileCollaborationConfig(name=name, filename=path, signal_type=signal_type)
        self._api = PagedFileExchange(self._collab)
        self._api.page_size = page_size

    def pages(self, checkpoint: Mapping[str, t.Any] | None) -> Iterator[Page]:
        start = FileOffsetCheckpoint(**checkpoint) if checkpoint else None
        for delta in self._api.fetch_iter(list(TX_SIGNAL_TYPES), start):
            records, rejected = _simple_records(PagedFileExchange, self._collab, delta.updates)
            done = delta.checkpoint.done
            yield Page(
                records, None if done else asdict(delta.checkpoint), end_of_pass=done, rejected=rejected
            )


# NCMEC's hash sharing -----------------------------------------------------------------------------


def _utc(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class _HashSharingClient(hash_api.NCMECHashAPI):
    """python-threatexchange's NCMEC client with a base URL of our choosing, bounded calls, and UTC
    dates (module docstring)."""

    def __init__(
        self,
        username: str,
        password: str,
        environment: hash_api.NCMECEnvironment,
        *,
        base_url: str | None,
        timeout_s: float,
        deadline: float,
    ) -> None:
        super().__init__(username, password, environment)
        if base_url:
            self._base_url = base_url
        self._timeout_s = timeout_s
        self.deadline = deadline

    def _get_session(self) -> requests.Session:
        session = requests.Session()
        session.auth = (self.username, self.password)
        retry = Retry(
            total=2,
            status_forcelist=[429, 500, 502, 503, 504],
            allowed_methods=["HEAD", "GET", "OPTIONS"],
            backoff_factor=0.2,
        )
        adapter = TimeoutHTTPAdapter(timeout=self._timeout_s, max_retries=retry)  # type: ignore[no-untyped-call]
        session.mount(self._base_url, adapter)
        return session

    def _get(
        self, endpoint: hash_api.NCMECEndpoint, *, path: str = "", next_: str = "", **params: t.Any
    ) -> t.Any:
        if time.monotonic() > self.deadline:
            raise FetchBudgetSpent
        try:
            return super()._get(endpoint, path=path, next_=next_, **params)
        except requests.HTTPError as exc:
            status = exc.response.status_code if exc.response is not None else "?"
            raise ExternalServiceError(
                f"NCMEC hash sharing answered HTTP {status} to {endpoint.value}"
            ) from None
        except requests.RequestException as exc:
            raise ExternalServiceError(
                f"NCMEC hash sharing could not be reached ({type(exc).__name__})"
            ) from None

    def get_entries(
        self, *, start_timestamp: int = 0, end_timestamp: int = 0, next_: str = ""
    ) -> hash_api.GetEntriesResponse:
        end_timestamp = end_timestamp or int(time.time())
        params = {"from": _utc(start_timestamp), "to": _utc(end_timestamp)}
        response = self._get(hash_api.NCMECEndpoint.entries, next_=next_, **params)
        try:
            return hash_api.GetEntriesResponse.from_xml(hash_api._XMLWrapper(response), int(time.time()))
        except Exception:
            raise ExternalServiceError(
                "NCMEC hash sharing sent an entries page that does not parse"
            ) from None


class _BoundedNcmecExchange(NCMECSignalExchangeAPI):
    def __init__(self, collab: NCMECCollabConfig, client: _HashSharingClient) -> None:
        super().__init__(collab, client.username, client.password)
        self._client = client

    def get_client(self, environment: hash_api.NCMECEnvironment) -> hash_api.NCMECHashAPI:
        return self._client


def _environment(name: str) -> hash_api.NCMECEnvironment:
    try:
        return hash_api.NCMECEnvironment[name]
    except KeyError:
        choices = ", ".join(e.name for e in hash_api.NCMECEnvironment)
        raise InvalidInput(f"NCMEC environment {name!r} is not one of {choices}") from None


def ncmec_checkpoint(data: Mapping[str, t.Any] | None) -> NCMECCheckpoint | None:
    if not data:
        return None
    paging = data.get("paging_info")
    return NCMECCheckpoint(
        int(data["get_entries_max_ts"]), _NCMECPagingInfo(**paging) if isinstance(paging, dict) else None
    )


class NcmecSource:
    """NCMEC's hash sharing through ``NCMECSignalExchangeAPI.fetch_iter``: incremental by time range,
    paged, deletions as tombstones; the client's checkpoint stored as JSON."""

    snapshot = False

    def __init__(
        self,
        name: str,
        settings: Mapping[str, t.Any],
        credentials: tuple[str, str],
        *,
        timeout_s: float,
        budget_s: float,
    ) -> None:
        environment = _environment(str(settings.get("environment") or "Industry"))
        self._collab = NCMECCollabConfig(
            name=name, environment=environment, only_esp_ids=set(settings.get("only_esp_ids") or ())
        )
        url = settings.get("url")
        self._client = _HashSharingClient(
            credentials[0],
            credentials[1],
            environment,
            base_url=check_base_url(str(url)) if url else None,
            timeout_s=timeout_s,
            deadline=time.monotonic() + budget_s,
        )

    def pages(self, checkpoint: Mapping[str, t.Any] | None) -> Iterator[Page]:
        start = ncmec_checkpoint(checkpoint)
        if start is not None and start.paging_info:
            # fetch_iter asserts that a stored paging URL's range ended before its own end (now - 5 s):
            # a fetch resumed within seconds of the one it follows waits for that, within its budget.
            wait = start.paging_info.paging_end_ts - (time.time() - 5) + 1
            if wait > 0:
                if time.monotonic() + wait > self._client.deadline:
                    raise FetchBudgetSpent
                time.sleep(wait)
        api = _BoundedNcmecExchange(self._collab, self._client)
        for delta in api.fetch_iter(list(TX_SIGNAL_TYPES), start):
            records = []
            rejected = 0
            for key, entry in delta.updates.items():
                if entry is None or entry.deleted:
                    records.append(UpstreamRecord(str(key), ()))
                    continue
                converted = NCMECSignalExchangeAPI.naive_convert_to_signal_type(
                    list(TX_SIGNAL_TYPES), self._collab, {key: entry}
                )
                signals = []
                for tx_type, values in converted.items():
                    for value in values:
                        signal = _normalise(tx_type.get_name(), value)
                        if signal is None:
                            rejected += 1
                        else:
                            signals.append(signal)
                detail = {"member": entry.member_id, "classification": entry.classification or ""}
                records.append(UpstreamRecord(str(key), tuple(signals), detail))
            yield Page(records, asdict(delta.checkpoint), rejected=rejected)
