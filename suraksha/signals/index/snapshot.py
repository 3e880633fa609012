"""On-disk snapshots of an index: a small header, then raw little-endian arrays, memory-mappable.

Layout (format version 1):

    0   magic            8 bytes  b"SKIDX\\x00\\r\\n" (the CR LF catches text-mode copies)
    8   format version   uint32 LE
    12  header length    uint32 LE
    16  header CRC-32    uint32 LE
    20  reserved         uint32 LE (0)
    24  header           UTF-8 JSON: kind, params, arrays {name: dtype, shape, offset, nbytes, crc32},
                         file_size, snapshot_id, created
    ..  arrays           each at a 64-byte aligned offset

No pickle: reading a snapshot runs no code from it. Opening maps the file read-only (`numpy.memmap`),
so processes that open the same snapshot share its pages, and nothing is rebuilt. Writing goes to a
temporary file in the same folder, is fsynced, then renamed over the target (atomic on POSIX).
"""

from __future__ import annotations

import json
import os
import struct
import time
import uuid
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from suraksha.files import create_private
from suraksha.signals.index.errors import SnapshotError, SnapshotVersionError

MAGIC = b"SKIDX\x00\r\n"
FORMAT_VERSION = 1
_PREFIX = struct.Struct("<8sIIII")
_ALIGN = 64
_CHUNK = 64 * 1024 * 1024


@dataclass(frozen=True)
class SnapshotInfo:
    path: Path
    kind: str
    snapshot_id: str
    created: float
    file_size: int
    params: dict[str, Any]


@dataclass(frozen=True)
class Snapshot:
    info: SnapshotInfo
    arrays: dict[str, npt.NDArray[Any]]


def _crc32(array: npt.NDArray[Any]) -> int:
    data = memoryview(np.ascontiguousarray(array).reshape(-1).view(np.uint8).data)
    crc = 0
    for start in range(0, len(data), _CHUNK):
        crc = zlib.crc32(data[start : start + _CHUNK], crc)
    return crc


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_snapshot(
    path: str | os.PathLike[str],
    kind: str,
    params: Mapping[str, Any],
    arrays: Mapping[str, npt.NDArray[Any]],
) -> SnapshotInfo:
    """Write arrays atomically to `path`; a reader sees the old file or the whole new one."""
    target = Path(path)
    stored = {name: np.ascontiguousarray(a, dtype=a.dtype.newbyteorder("<")) for name, a in arrays.items()}
    table: dict[str, dict[str, Any]] = {}
    offset = 0
    for name, array in stored.items():
        table[name] = {
            "dtype": array.dtype.str,
            "shape": list(array.shape),
            "offset": offset,
            "nbytes": int(array.nbytes),
            "crc32": _crc32(array),
        }
        offset += -(-int(array.nbytes) // _ALIGN) * _ALIGN
    info: dict[str, Any] = {
        "kind": kind,
        "snapshot_id": uuid.uuid4().hex,
        "created": time.time(),
        "params": dict(params),
        "arrays": table,
    }
    # array offsets are relative to the data start, which depends on the header length
    body = json.dumps(info, sort_keys=True).encode()
    data_start = -(-(_PREFIX.size + len(body) + 128) // _ALIGN) * _ALIGN
    info["data_start"] = data_start
    info["file_size"] = data_start + offset
    header = json.dumps(info, sort_keys=True).encode()
    if _PREFIX.size + len(header) > data_start:
        raise AssertionError("snapshot header outgrew its reserved space")
    tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
    try:
        with create_private(tmp) as f:
            f.write(_PREFIX.pack(MAGIC, FORMAT_VERSION, len(header), zlib.crc32(header), 0))
            f.write(header)
            f.write(b"\0" * (data_start - _PREFIX.size - len(header)))
            for name, array in stored.items():
                f.write(array.reshape(-1).view(np.uint8).data)
                f.write(b"\0" * (-int(array.nbytes) % _ALIGN))
                del name
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(target.parent)
    return SnapshotInfo(
        target, kind, str(info["snapshot_id"]), float(info["created"]), int(info["file_size"]), dict(params)
    )


def read_snapshot(path: str | os.PathLike[str], *, kind: str, verify: bool = True) -> Snapshot:
    """Map a snapshot read-only. `verify` checks every array's CRC-32 (reads the whole file once).

    Raises SnapshotError (SnapshotVersionError for another format version) saying what is wrong.
    """
    source = Path(path)
    fix = f"rebuild it (or restore a good copy) at {source}"
    try:
        with open(source, "rb") as f:
            prefix = f.read(_PREFIX.size)
            if len(prefix) < _PREFIX.size:
                raise SnapshotError(f"index snapshot {source} is truncated ({len(prefix)} bytes); {fix}")
            magic, version, header_length, header_crc, _ = _PREFIX.unpack(prefix)
            if magic != MAGIC:
                raise SnapshotError(f"{source} is not a Suraksha index snapshot (bad magic bytes); {fix}")
            if version != FORMAT_VERSION:
                raise SnapshotVersionError(
                    f"index snapshot {source} has format version {version}; this Suraksha reads version "
                    f"{FORMAT_VERSION}; {fix}"
                )
            header = f.read(header_length)
            file_size = os.fstat(f.fileno()).st_size
    except FileNotFoundError as exc:
        raise SnapshotError(f"index snapshot {source} does not exist; build one first") from exc
    except OSError as exc:
        raise SnapshotError(f"index snapshot {source} cannot be read: {exc}") from exc
    if len(header) != header_length or zlib.crc32(header) != header_crc:
        raise SnapshotError(f"index snapshot {source} has a damaged header (checksum mismatch); {fix}")
    try:
        info = json.loads(header)
        data_start = int(info["data_start"])
        expected_size = int(info["file_size"])
        table: dict[str, dict[str, Any]] = info["arrays"]
    except (ValueError, KeyError, TypeError) as exc:
        raise SnapshotError(f"index snapshot {source} has an unreadable header ({exc}); {fix}") from exc
    if info.get("kind") != kind:
        raise SnapshotError(f"{source} holds a {info.get('kind')!r} index, not a {kind!r} index")
    if file_size != expected_size:
        raise SnapshotError(
            f"index snapshot {source} is {file_size} bytes, its header says {expected_size}: "
            f"truncated or appended to; {fix}"
        )
    whole = np.memmap(source, dtype=np.uint8, mode="r")
    arrays: dict[str, npt.NDArray[Any]] = {}
    for name, spec in table.items():
        start = data_start + int(spec["offset"])
        dtype = np.dtype(spec["dtype"])
        shape = tuple(int(s) for s in spec["shape"])
        nbytes = int(spec["nbytes"])
        if start + nbytes > file_size or nbytes != dtype.itemsize * int(np.prod(shape, dtype=np.int64)):
            raise SnapshotError(f"index snapshot {source}: array {name!r} does not fit the file; {fix}")
        array = whole[start : start + nbytes].view(dtype).reshape(shape)
        if verify and _crc32(array) != int(spec["crc32"]):
            raise SnapshotError(
                f"index snapshot {source}: array {name!r} is corrupted (checksum mismatch); {fix}"
            )
        arrays[name] = array
    snapshot_info = SnapshotInfo(
        source, kind, str(info["snapshot_id"]), float(info["created"]), file_size, dict(info["params"])
    )
    return Snapshot(snapshot_info, arrays)
