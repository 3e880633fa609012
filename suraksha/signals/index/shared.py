"""One index shared by many processes: snapshot generations plus an append-only change log.

A disabled entry must stop matching in every worker within seconds, without each worker rebuilding
anything. The folder holds:

    CURRENT              JSON: generation, snapshot file, log file (replaced atomically)
    <kind>-<id>.snap     snapshot of the generation (see snapshot.py)
    log-<generation>.log change log since that snapshot: 32-byte header, then 56-byte records
                         (op, group, entry id, 32-byte value, CRC-32), appended under a lock
    .lock                flock(2) held by writers while they append or switch generations

Any process may record changes (`record_add`, `record_remove`): one write(2) of whole records to
the current log, fsynced. Followers (`IndexFollower`) poll at most every `poll_interval` seconds: a
stat of CURRENT and of the log, and a read of the new records only. `publish` writes a new
generation (e.g. after compaction) and carries over the records appended after the position the
published index was built from, so nothing recorded meanwhile is lost; records are idempotent
(adds are upserts), so applying one twice is harmless.

A follower that cannot refresh for `max_staleness` seconds raises IndexNotReady rather than serve a
state that may still match disabled entries.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import struct
import threading
import time
import uuid
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar

import numpy as np
import numpy.typing as npt

from suraksha.errors import Conflict
from suraksha.files import PRIVATE_FILE, create_private, private_dir
from suraksha.signals.index.digest_index import DigestIndex
from suraksha.signals.index.errors import IndexNotReady, SnapshotError
from suraksha.signals.index.hashes import as_group_array, as_hash_array, as_id_array
from suraksha.signals.index.pdq_index import PdqIndex
from suraksha.signals.index.snapshot import SnapshotInfo

ADD = 1
REMOVE = 2
LOG_MAGIC = b"SKLOG\x00\r\n"
LOG_VERSION = 1
_LOG_HEADER = struct.Struct("<8sIIQ8x")
_RECORD = struct.Struct("<BBH4xq32sI4x")
_RECORD_DTYPE = np.dtype(
    [
        ("op", "u1"),
        ("size", "u1"),
        ("group", "<u2"),
        ("pad", "<u4"),
        ("entry_id", "<i8"),
        ("value", "u1", (32,)),
        ("crc", "<u4"),
        ("pad2", "<u4"),
    ]
)
_CRC_BYTES = _RECORD.size - 8


class SharedIndex(Protocol):
    """What a shared folder needs from an index (PdqIndex and DigestIndex both fit)."""

    def add(self, ids: Any, values: Any, groups: Any = 0, /) -> None: ...

    def remove(self, ids: Any, /) -> int: ...

    def save(self, path: str | os.PathLike[str], /, *, compact: bool = False) -> SnapshotInfo: ...


IndexT = TypeVar("IndexT", bound=SharedIndex)


@dataclass(frozen=True, order=True)
class LogPosition:
    """How far a state has applied the changes: the generation, and the byte offset in its log."""

    generation: int
    offset: int


@dataclass(frozen=True)
class _Current:
    generation: int
    snapshot: str
    log: str


class IndexDirectory(Generic[IndexT]):
    """A folder holding one shared index. Use `IndexDirectory.pdq(path)` or `.digests(path, 16)`."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        kind: str,
        value_size: int,
        opener: Callable[[Path, bool], IndexT],
    ) -> None:
        if not 1 <= value_size <= 32:
            raise ValueError(f"a shared index stores values of 1 to 32 bytes, not {value_size}")
        self.path = Path(path)
        self.kind = kind
        self.value_size = value_size
        self._opener = opener

    @classmethod
    def pdq(cls, path: str | os.PathLike[str]) -> IndexDirectory[PdqIndex]:
        return IndexDirectory(
            path, kind="pdq", value_size=32, opener=lambda p, verify: PdqIndex.open(p, verify=verify)
        )

    @classmethod
    def digests(cls, path: str | os.PathLike[str], digest_size: int) -> IndexDirectory[DigestIndex]:
        return IndexDirectory(
            path,
            kind=f"digest{digest_size}",
            value_size=digest_size,
            opener=lambda p, verify: DigestIndex.open(p, verify=verify),
        )

    # -- writers ---------------------------------------------------------------------------------

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        private_dir(self.path)
        fd = os.open(self.path / ".lock", os.O_RDWR | os.O_CREAT, PRIVATE_FILE)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    def publish(self, index: IndexT, *, through: LogPosition | None = None) -> LogPosition:
        """Make `index` the new generation. Returns the position the new state starts at.

        `through`: the log position `index` reflects (take `position()` before reading what the
        index is built from). Records after it are carried into the new log. None: only for the
        first generation of a folder, or to replace the index and drop every pending record.
        """
        private_dir(self.path)
        snapshot_name = f"{self.kind}-{uuid.uuid4().hex}.snap"
        index.save(self.path / snapshot_name)
        try:
            with self._locked():
                current = self._read_current()
                tail = b""
                if current is not None and through is not None:
                    if through.generation != current.generation:
                        raise Conflict(
                            f"shared index {self.path}: generation {current.generation} was published after "
                            f"position {through}; load the index again and retry"
                        )
                    tail = self._read_records_bytes(current, through.offset)
                generation = 1 if current is None else current.generation + 1
                log_name = f"log-{generation:08d}.log"
                header = _LOG_HEADER.pack(LOG_MAGIC, LOG_VERSION, _RECORD.size, generation)
                _write_atomic(self.path / log_name, header + tail)
                state = {
                    "generation": generation,
                    "snapshot": snapshot_name,
                    "log": log_name,
                    "kind": self.kind,
                }
                _write_atomic(self.path / "CURRENT", json.dumps(state).encode())
                self._remove_old_files(keep={snapshot_name, log_name} | _files_of(current))
        except BaseException:
            (self.path / snapshot_name).unlink(missing_ok=True)
            raise
        return LogPosition(generation, _LOG_HEADER.size)

    def record_add(self, ids: Any, values: Any, groups: Any = 0) -> LogPosition:
        """Log added (or replaced) entries; returns the log position just after them."""
        id_array = as_id_array(ids)
        value_array = as_hash_array(values, self.value_size)
        if value_array.shape[0] != id_array.shape[0]:
            raise ValueError(f"{id_array.shape[0]} ids but {value_array.shape[0]} values")
        group_array = as_group_array(groups, id_array.shape[0])
        return self._append(ADD, id_array, value_array, group_array)

    def record_remove(self, ids: Any) -> LogPosition:
        """Log removed (disabled) entries; every follower stops matching them within its poll interval."""
        id_array = as_id_array(ids)
        empty = np.zeros((id_array.shape[0], self.value_size), np.uint8)
        return self._append(REMOVE, id_array, empty, np.zeros(id_array.shape[0], np.uint16))

    def _append(
        self,
        op: int,
        ids: npt.NDArray[np.int64],
        values: npt.NDArray[np.uint8],
        groups: npt.NDArray[np.uint16],
    ) -> LogPosition:
        records = bytearray()
        for entry_id, value, group in zip(ids.tolist(), values, groups.tolist(), strict=True):
            body = _RECORD.pack(op, self.value_size, group, entry_id, value.tobytes(), 0)
            crc = zlib.crc32(body[:_CRC_BYTES])
            records += body[:_CRC_BYTES] + struct.pack("<I4x", crc)
        with self._locked():
            current = self._require_current()
            fd = os.open(self.path / current.log, os.O_WRONLY | os.O_APPEND)
            try:
                view = memoryview(bytes(records))
                while view:
                    written = os.write(fd, view)
                    view = view[written:]
                os.fsync(fd)
                end = os.fstat(fd).st_size
            finally:
                os.close(fd)
        return LogPosition(current.generation, end)

    def compact(self, *, verify: bool = True) -> LogPosition:
        """Load the current state, compact it, and publish it as the next generation."""
        index, position = self.load(verify=verify)
        compact = getattr(index, "compact", None)
        if callable(compact):
            compact()
        return self.publish(index, through=position)

    # -- readers ---------------------------------------------------------------------------------

    def position(self) -> LogPosition:
        current = self._require_current()
        return LogPosition(current.generation, os.stat(self.path / current.log).st_size)

    def load(self, *, verify: bool = True) -> tuple[IndexT, LogPosition]:
        """Open the current snapshot and apply its whole log: a private, writable copy of the state."""
        index, current, offset = self._load(verify)
        return index, LogPosition(current.generation, offset)

    def _load(self, verify: bool) -> tuple[IndexT, _Current, int]:
        for _ in range(3):
            current = self._require_current()
            try:
                index = self._opener(self.path / current.snapshot, verify)
                offset = self._apply_log(index, current, 0)
            except (FileNotFoundError, SnapshotError):
                if self._read_current() != current:
                    continue  # a new generation replaced this one while we read it
                raise
            return index, current, offset
        raise IndexNotReady(f"shared index {self.path} changed generation three times while loading; retry")

    def follower(
        self, *, poll_interval: float = 1.0, max_staleness: float = 10.0, verify: bool = True
    ) -> IndexFollower[IndexT]:
        return IndexFollower(self, poll_interval=poll_interval, max_staleness=max_staleness, verify=verify)

    def _read_current(self) -> _Current | None:
        try:
            data = json.loads((self.path / "CURRENT").read_bytes())
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            raise SnapshotError(f"shared index {self.path}: CURRENT is unreadable ({exc})") from exc
        if data.get("kind") != self.kind:
            raise SnapshotError(
                f"shared index {self.path} holds a {data.get('kind')!r} index, not {self.kind!r}"
            )
        return _Current(int(data["generation"]), str(data["snapshot"]), str(data["log"]))

    def _require_current(self) -> _Current:
        current = self._read_current()
        if current is None:
            raise IndexNotReady(f"shared index {self.path} has no snapshot yet: publish one first")
        return current

    def _read_records_bytes(self, current: _Current, offset: int) -> bytes:
        with open(self.path / current.log, "rb") as f:
            _check_log_header(f.read(_LOG_HEADER.size), current, self.path)
            f.seek(max(offset, _LOG_HEADER.size))
            data = f.read()
        return data[: len(data) - len(data) % _RECORD.size]

    def _apply_log(self, index: IndexT, current: _Current, offset: int) -> int:
        """Apply the complete, intact records after `offset`; returns the offset reached."""
        start = max(offset, _LOG_HEADER.size)
        with open(self.path / current.log, "rb") as f:
            if offset < _LOG_HEADER.size:
                _check_log_header(f.read(_LOG_HEADER.size), current, self.path)
            f.seek(start)
            data = f.read()
        n = len(data) // _RECORD.size
        if n == 0:
            return start
        records = np.frombuffer(data, dtype=_RECORD_DTYPE, count=n)
        good = 0
        for i in range(n):
            raw = data[i * _RECORD.size : i * _RECORD.size + _CRC_BYTES]
            if zlib.crc32(raw) != int(records["crc"][i]):
                break  # a record still being written: read it next time
            good += 1
        records = records[:good]
        i = 0
        while i < good:
            op = int(records["op"][i])
            j = i
            while j < good and int(records["op"][j]) == op:
                j += 1
            batch = records[i:j]
            if op == ADD:
                index.add(
                    batch["entry_id"],
                    np.ascontiguousarray(batch["value"][:, : self.value_size]),
                    batch["group"],
                )
            elif op == REMOVE:
                index.remove(batch["entry_id"])
            else:
                raise SnapshotError(
                    f"shared index {self.path}: unknown change record type {op} in {current.log}"
                )
            i = j
        return start + good * _RECORD.size

    def _remove_old_files(self, keep: set[str]) -> None:
        for entry in self.path.iterdir():
            is_ours = entry.suffix in {".snap", ".log"} and (
                entry.name.startswith("log-") or entry.name.startswith(f"{self.kind}-")
            )
            if is_ours and entry.name not in keep:
                entry.unlink(missing_ok=True)


class IndexFollower(Generic[IndexT]):
    """A process's read view of a shared index, kept fresh by polling (at most every poll_interval).

    `follower.index` refreshes when a poll is due and returns the index, or raises IndexNotReady when
    nothing has been loaded yet or no refresh has succeeded for max_staleness seconds.
    """

    def __init__(
        self,
        directory: IndexDirectory[IndexT],
        *,
        poll_interval: float = 1.0,
        max_staleness: float = 10.0,
        verify: bool = True,
    ) -> None:
        self.directory = directory
        self.poll_interval = poll_interval
        self.max_staleness = max_staleness
        self.verify = verify
        self._index: IndexT | None = None
        self._current: _Current | None = None
        self._offset = 0
        self._current_stat: tuple[int, int, int] | None = None
        self._last_poll = -float("inf")
        self._last_success = -float("inf")
        self._error: str | None = None
        self._lock = threading.Lock()

    @property
    def position(self) -> LogPosition | None:
        return None if self._current is None else LogPosition(self._current.generation, self._offset)

    @property
    def index(self) -> IndexT:
        now = time.monotonic()
        if now - self._last_poll >= self.poll_interval:
            with contextlib.suppress(Exception):  # recorded in self._error; staleness decides below
                self.refresh()
        index = self._index
        reason = f": {self._error}" if self._error else ""
        if index is None:
            raise IndexNotReady(f"shared index {self.directory.path} is not loaded yet{reason}")
        if time.monotonic() - self._last_success > self.max_staleness:
            raise IndexNotReady(
                f"shared index {self.directory.path} has not been refreshed for more than "
                f"{self.max_staleness:g} s{reason}"
            )
        return index

    def refresh(self) -> bool:
        """Poll now; returns True when the state changed. Another thread's refresh in progress wins."""
        if not self._lock.acquire(blocking=False):
            return False
        try:
            self._last_poll = time.monotonic()
            changed = self._refresh_locked()
            self._last_success = time.monotonic()
            self._error = None
            return changed
        except Exception as exc:
            self._error = f"{exc.__class__.__name__}: {exc}"
            raise
        finally:
            self._lock.release()

    def _refresh_locked(self) -> bool:
        directory = self.directory
        try:
            st = os.stat(directory.path / "CURRENT")
        except FileNotFoundError as exc:
            raise IndexNotReady(f"shared index {directory.path} has no snapshot yet") from exc
        signature = (st.st_ino, st.st_size, st.st_mtime_ns)
        if signature != self._current_stat:
            if directory._require_current() != self._current:
                self._index, self._current, self._offset = directory._load(self.verify)
                # if CURRENT moved on while loading, the stale signature makes the next poll reload
                self._current_stat = signature
                return True
            self._current_stat = signature
        current, index = self._current, self._index
        if current is None or index is None:
            raise IndexNotReady(f"shared index {directory.path} is not loaded yet")
        size = os.stat(directory.path / current.log).st_size
        if size - self._offset < _RECORD.size:
            return False
        offset = directory._apply_log(index, current, self._offset)
        changed = offset != self._offset
        self._offset = offset
        return changed


def _check_log_header(header: bytes, current: _Current, folder: Path) -> None:
    if len(header) < _LOG_HEADER.size:
        raise SnapshotError(f"shared index {folder}: change log {current.log} is truncated")
    magic, version, record_size, generation = _LOG_HEADER.unpack(header)
    if magic != LOG_MAGIC or version != LOG_VERSION or record_size != _RECORD.size:
        raise SnapshotError(f"shared index {folder}: {current.log} is not a change log this version reads")
    if generation != current.generation:
        raise SnapshotError(f"shared index {folder}: {current.log} belongs to generation {generation}")


def _files_of(current: _Current | None) -> set[str]:
    return set() if current is None else {current.snapshot, current.log}


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        with create_private(tmp) as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
