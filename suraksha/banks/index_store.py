"""Published generations of the banks' match index: what lets a worker start (or swap to a compacted
index) by mapping files instead of reading every entry from the database.

A folder (setting ``index_dir``) holds:

    CURRENT                  JSON {"generation": NAME}, replaced atomically
    gen-<position>-<id>/     one generation:
        manifest.json        format, feed position, checked_at, quality floor, entry counts
        pdq.snap frames.snap md5.snap sha256.snap   index snapshots (signals/index/snapshot.py)
        videos.npz           vPDQ entries: entry id, bank id, frame count, frame ids (no pickle)

A generation is the whole index at one position of the bank change feed: a process opens it
(memory-mapped: every process on the machine shares the same pages, so a hundred workers cost one
copy and starting them is no "sync storm" on the database) and then applies the feed from that
position, as it always does. Publishing writes a new folder and then flips CURRENT; the previous
generation is kept for processes still mapping it and older ones are removed (a mapped file stays
readable after unlink on POSIX).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from suraksha.files import PRIVATE_DIR, PRIVATE_FILE, create_private, private_dir
from suraksha.signals.index import DigestIndex, PdqIndex, SnapshotError

FORMAT = 1
KEEP_GENERATIONS = 2


@dataclass(frozen=True)
class Generation:
    """One published generation, as its manifest describes it."""

    path: Path
    name: str
    position: int
    checked_at: datetime
    quality_floor: int
    entries: int

    def file(self, name: str) -> Path:
        return self.path / name


@dataclass
class VideoTable:
    """The vPDQ entries of a generation: frame ids of entry i are frame_ids[start_i : start_i + count_i]."""

    entry_ids: npt.NDArray[np.int64]
    bank_ids: npt.NDArray[np.int64]
    frame_counts: npt.NDArray[np.int64]
    frame_ids: npt.NDArray[np.int64]

    def rows(self) -> Iterator[tuple[int, int, npt.NDArray[np.int64]]]:
        starts = np.concatenate([[0], np.cumsum(self.frame_counts)]).astype(np.int64)
        for i, (entry_id, bank_id) in enumerate(
            zip(self.entry_ids.tolist(), self.bank_ids.tolist(), strict=True)
        ):
            yield entry_id, bank_id, self.frame_ids[starts[i] : starts[i + 1]]


@dataclass
class LoadedGeneration:
    generation: Generation
    pdq: PdqIndex
    frames: PdqIndex
    md5: DigestIndex
    sha256: DigestIndex
    videos: VideoTable


@contextlib.contextmanager
def publisher_lock(folder: Path, *, wait: bool) -> Iterator[bool]:
    """An flock on the folder: one publisher at a time. Yields False at once when another process
    holds it and ``wait`` is false."""
    private_dir(folder)
    fd = os.open(folder / ".publish.lock", os.O_RDWR | os.O_CREAT, PRIVATE_FILE)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)


def write_generation(
    folder: Path,
    *,
    position: int,
    checked_at: datetime,
    quality_floor: int,
    pdq: PdqIndex,
    frames: PdqIndex,
    md5: DigestIndex,
    sha256: DigestIndex,
    videos: VideoTable,
) -> Generation:
    """Write a new generation and make it CURRENT. The caller holds ``publisher_lock`` and keeps the
    indexes from changing while they are written (they are then all at ``position``)."""
    name = f"gen-{position:012d}-{time.time_ns():016x}"  # sorts by position, then age
    tmp = folder / f".{name}.tmp"
    private_dir(folder)
    tmp.mkdir(mode=PRIVATE_DIR)
    os.chmod(tmp, PRIVATE_DIR)  # hash lists are confidential: the index folder is private like the rest
    try:
        pdq.save(tmp / "pdq.snap")
        frames.save(tmp / "frames.snap")
        md5.save(tmp / "md5.snap")
        sha256.save(tmp / "sha256.snap")
        with create_private(tmp / "videos.npz") as f:
            np.savez(
                f,
                entry_ids=videos.entry_ids,
                bank_ids=videos.bank_ids,
                frame_counts=videos.frame_counts,
                frame_ids=videos.frame_ids,
            )
        entries = len(pdq) + len(md5) + len(sha256) + int(videos.entry_ids.shape[0])
        manifest = {
            "format": FORMAT,
            "position": position,
            "checked_at": checked_at.isoformat(),
            "quality_floor": quality_floor,
            "entries": entries,
        }
        _write_atomic(tmp / "manifest.json", json.dumps(manifest).encode())
        os.replace(tmp, folder / name)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _write_atomic(folder / "CURRENT", json.dumps({"generation": name}).encode())
    _remove_old(folder, keep=name)
    return Generation(folder / name, name, position, checked_at, quality_floor, entries)


def current_generation(folder: Path) -> Generation | None:
    """The CURRENT generation's manifest, or None when nothing was published. Raises SnapshotError
    when CURRENT or the manifest is unreadable."""
    pointer = folder / "CURRENT"
    if not pointer.exists():
        return None
    try:
        name = str(json.loads(pointer.read_text())["generation"])
        path = folder / name
        manifest: dict[str, Any] = json.loads((path / "manifest.json").read_text())
        if manifest.get("format") != FORMAT:
            raise SnapshotError(
                f"index generation {path} has format {manifest.get('format')}, this version reads "
                f"{FORMAT}: publish a new one with `suraksha index publish`"
            )
        return Generation(
            path,
            name,
            int(manifest["position"]),
            datetime.fromisoformat(manifest["checked_at"]),
            int(manifest["quality_floor"]),
            int(manifest["entries"]),
        )
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise SnapshotError(f"the published index in {folder} is unreadable ({exc})") from exc


def open_generation(generation: Generation, *, verify: bool = True) -> LoadedGeneration:
    """Map a generation's snapshots (nothing rebuilt). Raises SnapshotError when a file is damaged."""
    try:
        with np.load(generation.file("videos.npz"), allow_pickle=False) as data:
            videos = VideoTable(
                np.asarray(data["entry_ids"], np.int64),
                np.asarray(data["bank_ids"], np.int64),
                np.asarray(data["frame_counts"], np.int64),
                np.asarray(data["frame_ids"], np.int64),
            )
        if int(videos.frame_counts.sum()) != videos.frame_ids.shape[0]:
            raise ValueError("video frame counts do not add up to the frame ids")
    except (OSError, ValueError, KeyError) as exc:
        raise SnapshotError(f"index generation {generation.path} has a damaged videos.npz ({exc})") from exc
    return LoadedGeneration(
        generation,
        PdqIndex.open(generation.file("pdq.snap"), verify=verify),
        PdqIndex.open(generation.file("frames.snap"), verify=verify),
        DigestIndex.open(generation.file("md5.snap"), verify=verify),
        DigestIndex.open(generation.file("sha256.snap"), verify=verify),
        videos,
    )


def _remove_old(folder: Path, *, keep: str) -> None:
    generations = sorted(p for p in folder.glob("gen-*") if p.is_dir())
    survivors = {keep, *(p.name for p in generations[-KEEP_GENERATIONS:])}
    for path in generations:
        if path.name not in survivors:
            shutil.rmtree(path, ignore_errors=True)


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    with create_private(tmp) as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    with contextlib.suppress(OSError):
        fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
