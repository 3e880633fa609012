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
- Speed (a first sync of a list of millions): ``NCMECHashAPI`` opens a new HTTP session (and
  connection) for every call, and parses each entries page through its ``_XMLWrapper`` (a Python
  object and a ``findall`` per field): ``_HashSharingClient`` keeps one session for the fetch and
  reads entries pages straight off the parsed tree into the client's own ``GetEntriesResponse``/
  ``NCMECEntryUpdate`` (a page holding feedback is parsed by the client's own code); ``NcmecSource``
  converts with the
  client's own fingerprint-to-signal-type mapping (``_get_conversion``, what
  ``naive_convert_to_signal_type`` uses) once per page instead of calling that function per entry,
  and runs ``fetch_iter`` on a thread a few pages ahead of the pages being written, so fetching and
  parsing overlap the database writes. ``fetch_iter``'s paging and checkpoints are its own.

The interface (``ExchangeSource``, ``Page``) is in ``suraksha.exchanges.ports``; the local stand-in
for NCMEC's service is ``suraksha.exchanges.hashsharing_sim`` (served by ``suraksha hashsharing-sim``).
"""

from __future__ import annotations

import queue
import threading
import time
import typing as t
import xml.etree.ElementTree as ET
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
    _get_conversion,
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
_CONVERSION = _get_conversion(TX_SIGNAL_TYPES)
"""NCMEC's (entry type, fingerprint name) -> signal type, python-threatexchange's own."""
_KIND_OF_CONVERSION: dict[tuple[hash_api.NCMECEntryType, str], str] = {
    key: tx_type.get_name() for key, tx_type in _CONVERSION.items()
}
"""The same, to the signal type's name (``get_name`` runs regular expressions: once, not per entry)."""


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


_PAGE_AHEAD = 3
"""Pages ``NcmecSource`` fetches and parses ahead of the page being written."""


def _timestamp(text: str | None) -> int:
    return int(
        datetime.strptime(hash_api.nullthrows(text), "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp()
    )


def parse_entries_page(content: bytes, fallback_max_time: int) -> hash_api.GetEntriesResponse:
    """An entries page as ``GetEntriesResponse.from_xml`` reads it (same objects, same fields), read
    straight off the parsed tree (module docstring). A page holding feedback goes through the client's
    own parser. Parsed with the standard library's parser, as the client's own ``_get`` does (lxml's
    element proxies made reading the fields slower)."""
    root = ET.fromstring(content)  # noqa: S314 - what python-threatexchange parses these pages with
    namespace, _, _ = root.tag[1:].partition("}") if root.tag.startswith("{") else ("", "", "")
    prefix = f"{{{namespace}}}" if namespace else ""
    if root.find(f".//{prefix}feedback") is not None:
        for el in root.iter():
            el.tag = el.tag.partition("}")[2] or el.tag
        return hash_api.GetEntriesResponse.from_xml(hash_api._XMLWrapper(root), fallback_max_time)
    cut = len(prefix)
    id_tag, member_tag, prints_tag = prefix + "id", prefix + "member", prefix + "fingerprints"
    classification_tag = prefix + "classification"
    entry_types = {t.value: t for t in hash_api.NCMECEntryType}
    updates: list[hash_api.NCMECEntryUpdate] = []
    max_ts = 0
    for block in ("images", "videos"):
        element = root.find(prefix + block)
        if element is None or not len(element):
            continue
        max_ts = max(max_ts, _timestamp(element.get("maxTimestamp")))
        for node in element:
            kind = node.tag[cut:].lower()
            deleted = kind.startswith("deleted")
            member = node.find(member_tag)
            prints = node.find(prints_tag)
            entry_type = entry_types.get(kind[len("deleted") :] if deleted else kind)
            updates.append(
                hash_api.NCMECEntryUpdate(
                    id=hash_api.nullthrows(node.findtext(id_tag)),
                    member_id=int(hash_api.nullthrows(None if member is None else member.get("id"))),
                    entry_type=hash_api.nullthrows(entry_type),
                    deleted=deleted,
                    classification=node.findtext(classification_tag),
                    fingerprints={}
                    if prints is None
                    else {x.tag[cut:]: x.text for x in prints if x.text is not None},
                    feedback={},
                )
            )
    next_ = root.findtext(f"{prefix}paging/{prefix}next") or ""
    return hash_api.GetEntriesResponse(updates, max_ts or fallback_max_time, next_)


class _KeptSession(requests.Session):
    """A session that outlives the client's ``with session:`` blocks: one connection for a fetch."""

    def __exit__(self, *args: object) -> None:
        return None


class _HashSharingClient(hash_api.NCMECHashAPI):
    """python-threatexchange's NCMEC client with a base URL of our choosing, bounded calls, UTC dates,
    one kept session and entries pages parsed with lxml (module docstring)."""

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
        self._session: _KeptSession | None = None

    def _get_session(self) -> requests.Session:
        if self._session is None:
            session = _KeptSession()
            session.auth = (self.username, self.password)
            retry = Retry(
                total=2,
                status_forcelist=[429, 500, 502, 503, 504],
                allowed_methods=["HEAD", "GET", "OPTIONS"],
                backoff_factor=0.2,
            )
            adapter = TimeoutHTTPAdapter(timeout=self._timeout_s, max_retries=retry)  # type: ignore[no-untyped-call]
            session.mount(self._base_url, adapter)
            self._session = session
        return self._session

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None

    def _bounded(self, call: t.Callable[[], t.Any], endpoint: hash_api.NCMECEndpoint) -> t.Any:
        if time.monotonic() > self.deadline:
            raise FetchBudgetSpent
        try:
            return call()
        except requests.HTTPError as exc:
            status = exc.response.status_code if exc.response is not None else "?"
            raise ExternalServiceError(
                f"NCMEC hash sharing answered HTTP {status} to {endpoint.value}"
            ) from None
        except requests.RequestException as exc:
            raise ExternalServiceError(
                f"NCMEC hash sharing could not be reached ({type(exc).__name__})"
            ) from None

    def _get(
        self, endpoint: hash_api.NCMECEndpoint, *, path: str = "", next_: str = "", **params: t.Any
    ) -> t.Any:
        return self._bounded(
            lambda: super(_HashSharingClient, self)._get(endpoint, path=path, next_=next_, **params), endpoint
        )

    def _get_raw(self, endpoint: hash_api.NCMECEndpoint, *, next_: str, params: dict[str, str]) -> bytes:
        """The body of a GET, as the client's ``_get`` builds its URL (a ``next`` URL followed as given)."""
        url = "/".join((self._base_url, self.VERSION, endpoint.value))
        if next_:
            url, params = self._base_url + next_, {}

        def call() -> bytes:
            response = self._get_session().get(url, params=params)
            response.raise_for_status()
            return response.content

        content: bytes = self._bounded(call, endpoint)
        return content

    def get_entries(
        self, *, start_timestamp: int = 0, end_timestamp: int = 0, next_: str = ""
    ) -> hash_api.GetEntriesResponse:
        end_timestamp = end_timestamp or int(time.time())
        params = {"from": _utc(start_timestamp), "to": _utc(end_timestamp)}
        content = self._get_raw(hash_api.NCMECEndpoint.entries, next_=next_, params=params)
        try:
            return parse_entries_page(content, int(time.time()))
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
        pages: queue.Queue[tuple[Page | None, BaseException | None]] = queue.Queue(_PAGE_AHEAD)
        stop = threading.Event()

        def put(item: tuple[Page | None, BaseException | None]) -> bool:
            while not stop.is_set():
                try:
                    pages.put(item, timeout=0.2)
                    return True
                except queue.Full:
                    continue
            return False

        def produce() -> None:
            try:
                api = _BoundedNcmecExchange(self._collab, self._client)
                for delta in api.fetch_iter(list(TX_SIGNAL_TYPES), start):
                    if not put((self._page(delta), None)):
                        return
                put((None, None))
            except BaseException as exc:  # handed to the consumer, raised there
                put((None, exc))
            finally:
                self._client.close()

        producer = threading.Thread(target=produce, name="ncmec-fetch-ahead", daemon=True)
        producer.start()
        try:
            while True:
                page, error = pages.get()
                if error is not None:
                    raise error
                if page is None:
                    return
                yield page
        finally:
            stop.set()
            producer.join(timeout=self._client._timeout_s + 5)

    def _page(self, delta: state.FetchDelta[str, hash_api.NCMECEntryUpdate, NCMECCheckpoint]) -> Page:
        """A delta as a page: each entry converted by the client's own mapping (module docstring)."""
        only = self._collab.only_esp_ids
        records = []
        rejected = 0
        for key, entry in delta.updates.items():
            if entry is None or entry.deleted:
                records.append(UpstreamRecord(str(key), ()))
                continue
            signals = []
            if not only or entry.member_id in only:
                for fingerprint, value in entry.fingerprints.items():
                    tx_name = _KIND_OF_CONVERSION.get((entry.entry_type, fingerprint))
                    if tx_name is None:
                        continue
                    signal = _normalise(tx_name, value)
                    if signal is None:
                        rejected += 1
                    else:
                        signals.append(signal)
            detail = {"member": entry.member_id, "classification": entry.classification or ""}
            records.append(UpstreamRecord(str(key), tuple(signals), detail))
        return Page(records, asdict(delta.checkpoint), rejected=rejected)
