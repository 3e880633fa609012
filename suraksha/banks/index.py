"""The banks' match index: PDQ, vPDQ frames, MD5 and SHA-256 over every active entry, kept current by
following the bank change feed (``BankChange``).

Every entry whose own state is active is indexed, with its bank as the group; which banks take part
(enabled ones, the ones asked for, allow lists always) and at what PDQ threshold is decided per query,
so enabling a bank or changing its threshold costs a reload of a few bank rows, not of its entries.

Changes are applied by state, not by replaying operations: for every entry the feed names, the index
reads the entry's current row and adds, replaces or removes it. Applying a change twice is harmless,
which is what lets ``load`` read the feed position before the entries without a gap.

Not ready is never "no match": ``match`` raises ``IndexNotReady`` before ``load`` and, when a staleness
bound is set, once the last successful refresh is older than it.

With an ``index_dir``, a process starts from the published generation (``index_store``: memory-mapped
snapshots at a feed position) and applies the feed from there, instead of reading every entry; the
process that finds the index in need of compaction (and wins the folder's lock) publishes a compacted
generation, and every follower swaps to it, mapped: the pages are shared, so no process ever holds
a private second copy and no worker rebuilds from the database.
"""

from __future__ import annotations

import logging
import os
import random
import threading
import time
from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import Session

from suraksha.banks import index_store
from suraksha.banks.matching import ROTATION_NAMES, BankRef, MatchHit, MatchOutcome, apply_allow_lists
from suraksha.banks.models import Bank, BankChange, BankChangeKind, BankEntry, BankKind
from suraksha.db.base import utcnow
from suraksha.db.engine import Database
from suraksha.errors import InvalidInput, NotFound
from suraksha.signals.file_signals import FileSignals
from suraksha.signals.index import DigestIndex, IndexNotReady, PdqIndex, SnapshotError
from suraksha.signals.pdq import pdq_dihedral
from suraksha.signals.types import SignalKind
from suraksha.signals.vpdq import VPDQ_DISTANCE_THRESHOLD, parse_vpdq, usable_frame_hashes

log = logging.getLogger(__name__)

MAX_BANK_ID = 0xFFFF  # bank ids are the indexes' 16-bit group ids
FEED_BATCH = 50_000
ID_CHUNK = 900  # under SQLite's bound-parameter limit


def _entry_active(now: datetime) -> ColumnElement[bool]:
    return BankEntry.enabled.is_(True) | (
        BankEntry.disabled_until.is_not(None) & (BankEntry.disabled_until <= now)
    )


@dataclass
class _Video:
    bank_id: int
    frame_ids: npt.NDArray[np.int64]
    """One id per unique usable frame hash of the entry (the vPDQ denominator for target %)."""


class BankIndex:
    def __init__(
        self,
        db: Database,
        *,
        quality_floor: int = 50,
        banks: Collection[str] | None = None,
        stale_after_s: float | None = None,
        index_dir: str | os.PathLike[str] | None = None,
    ) -> None:
        self.db = db
        self.quality_floor = quality_floor
        self.bank_names = frozenset(banks) if banks else None
        self.stale_after_s = stale_after_s
        self.index_dir = Path(index_dir) if index_dir is not None else None
        self._lock = threading.RLock()
        self._changes = threading.Lock()
        """Held while the feed is applied or a generation written or swapped in: one at a time."""
        self._loaded = False
        self._position = 0
        self._checked_at: datetime | None = None
        self._refreshed_at = 0.0
        self._generation: str | None = None
        self._banks: dict[int, BankRef] = {}
        self._pdq = PdqIndex.build(np.zeros(0, np.int64), np.zeros((0, 32), np.uint8))
        self._md5 = DigestIndex.build(np.zeros(0, np.int64), np.zeros((0, 16), np.uint8), digest_size=16)
        self._sha256 = DigestIndex.build(np.zeros(0, np.int64), np.zeros((0, 32), np.uint8), digest_size=32)
        self._frames = PdqIndex.build(np.zeros(0, np.int64), np.zeros((0, 32), np.uint8))
        self._videos: dict[int, _Video] = {}
        self._frame_entry: dict[int, int] = {}
        self._next_frame_id = 1
        self._follower: threading.Thread | None = None
        self._stop = threading.Event()

    # -- lifecycle -------------------------------------------------------------------------------

    @property
    def ready(self) -> bool:
        if not self._loaded:
            return False
        if self.stale_after_s is None:
            return True
        return time.monotonic() - self._refreshed_at <= self.stale_after_s

    @property
    def position(self) -> int:
        """The last change-feed id applied."""
        return self._position

    @property
    def generation(self) -> str | None:
        """The published generation this index started from or last swapped to (None: built here)."""
        return self._generation

    @property
    def entry_count(self) -> int:
        with self._lock:
            return len(self._pdq) + len(self._md5) + len(self._sha256) + len(self._videos)

    @property
    def loaded(self) -> bool:
        """Loaded at least once; it may have gone stale since (``ready`` says whether it may answer)."""
        return self._loaded

    def entry_counts(self) -> dict[str, int]:
        """Entries indexed per signal type (vPDQ: videos, not frames)."""
        with self._lock:
            return {
                SignalKind.PDQ.value: len(self._pdq),
                SignalKind.VPDQ.value: len(self._videos),
                SignalKind.MD5.value: len(self._md5),
                SignalKind.SHA256.value: len(self._sha256),
            }

    @property
    def needs_compaction(self) -> bool:
        with self._lock:
            return any(index.needs_compaction for index in (self._pdq, self._frames, self._md5, self._sha256))

    def feed_head(self) -> int:
        """The newest change-feed id in the database."""
        with self.db.reading() as session:
            return int(session.scalar(select(func.coalesce(func.max(BankChange.id), 0))) or 0)

    def load(self) -> BankIndex:
        """Load the index: from the published generation when there is a usable one (then catch up
        from the feed), else from the database. Ready once this returns."""
        warm_kernels()
        if self.index_dir is not None and self._load_generation():
            return self
        return self._load_from_database()

    def _load_from_database(self) -> BankIndex:
        """Build every index from the database. The feed position is read first: a change committed
        while the entries are read is applied again by the next refresh, which is harmless."""
        started = time.perf_counter()
        with self.db.reading() as session:
            position = session.scalar(select(func.coalesce(func.max(BankChange.id), 0))) or 0
            now = utcnow()
            banks = self._read_banks(session)
            rows = session.execute(
                select(BankEntry.id, BankEntry.bank_id, BankEntry.signal_type, BankEntry.value).where(
                    _entry_active(now)
                )
            ).all()
        by_type: dict[str, list[Any]] = defaultdict(list)
        for row in rows:
            by_type[row.signal_type].append(row)
        with self._changes, self._lock:
            self._banks = banks
            self._pdq = _build_pdq(by_type[SignalKind.PDQ])
            self._md5 = _build_digest(by_type[SignalKind.MD5], 16)
            self._sha256 = _build_digest(by_type[SignalKind.SHA256], 32)
            self._frames = PdqIndex.build(np.zeros(0, np.int64), np.zeros((0, 32), np.uint8))
            self._videos, self._frame_entry, self._next_frame_id = {}, {}, 1
            for row in by_type[SignalKind.VPDQ]:
                self._add_video(row.id, row.bank_id, row.value)
            self._position, self._checked_at = int(position), now
            self._generation = None
            self._loaded = True
            self._refreshed_at = time.monotonic()
        self._check_bank_names()
        log.info(
            "event=index.load source=database entries=%d position=%d seconds=%.3f",
            len(rows),
            position,
            time.perf_counter() - started,
        )
        return self

    def _load_generation(self) -> bool:
        """Start from the published generation; False (and a logged reason) when there is none or it
        cannot be used, so the caller builds from the database instead."""
        assert self.index_dir is not None
        started = time.perf_counter()
        try:
            generation = index_store.current_generation(self.index_dir)
            if generation is None:
                return False
            with self.db.session() as session:
                banks = self._read_banks(session)
            if not self._usable(generation, self.feed_head()):
                return False
            loaded = index_store.open_generation(generation)
        except SnapshotError as exc:
            log.warning("event=index.generation_unusable dir=%s reason=%r", self.index_dir, str(exc))
            return False
        with self._changes, self._lock:
            self._banks = banks
            self._install(loaded)
            self._loaded = True
        self.refresh()
        self._check_bank_names()
        log.info(
            "event=index.load source=generation generation=%s entries=%d position=%d seconds=%.3f",
            generation.name,
            generation.entries,
            self._position,
            time.perf_counter() - started,
        )
        return True

    def _usable(self, generation: index_store.Generation, head: int) -> bool:
        if generation.quality_floor != self.quality_floor:
            log.warning(
                "event=index.generation_unusable generation=%s reason=quality_floor published=%d ours=%d",
                generation.name,
                generation.quality_floor,
                self.quality_floor,
            )
            return False
        if generation.position > head:
            # the database is older than the generation (restored from a backup, or another one)
            log.warning(
                "event=index.generation_unusable generation=%s reason=ahead_of_feed position=%d head=%d",
                generation.name,
                generation.position,
                head,
            )
            return False
        return True

    def _install(self, loaded: index_store.LoadedGeneration) -> None:
        """Replace every index with a generation's (caller holds both locks)."""
        generation = loaded.generation
        self._pdq, self._frames = loaded.pdq, loaded.frames
        self._md5, self._sha256 = loaded.md5, loaded.sha256
        self._videos, self._frame_entry = {}, {}
        next_frame = 1
        for entry_id, bank_id, frame_ids in loaded.videos.rows():
            self._videos[entry_id] = _Video(bank_id, frame_ids)
            self._frame_entry.update(dict.fromkeys(frame_ids.tolist(), entry_id))
            if len(frame_ids):
                next_frame = max(next_frame, int(frame_ids.max()) + 1)
        self._next_frame_id = next_frame
        self._position, self._checked_at = generation.position, generation.checked_at
        self._generation = generation.name
        self._refreshed_at = time.monotonic()

    def publish(self, *, compact: bool = True, wait: bool = True) -> index_store.Generation | None:
        """Compact (unless told not to) and publish this index as the folder's new generation.
        Returns None when ``wait`` is false and another process is publishing."""
        if self.index_dir is None:
            raise InvalidInput("no index folder is set (setting index_dir): nowhere to publish")
        if not self._loaded:
            raise IndexNotReady("the match index is not loaded: nothing to publish")
        with index_store.publisher_lock(self.index_dir, wait=wait) as locked:
            if not locked:
                return None
            if compact:  # aside, while matching goes on; changes applied meanwhile are kept
                for index in (self._pdq, self._frames, self._md5, self._sha256):
                    index.compact()
            with self._changes:  # the feed is not applied while the files are written
                started = time.perf_counter()
                assert self._checked_at is not None
                generation = index_store.write_generation(
                    self.index_dir,
                    position=self._position,
                    checked_at=self._checked_at,
                    quality_floor=self.quality_floor,
                    pdq=self._pdq,
                    frames=self._frames,
                    md5=self._md5,
                    sha256=self._sha256,
                    videos=self._video_table(),
                )
                self._generation = generation.name
        log.info(
            "event=index.publish generation=%s entries=%d position=%d seconds=%.3f",
            generation.name,
            generation.entries,
            generation.position,
            time.perf_counter() - started,
        )
        return generation

    def adopt_current(self) -> bool:
        """Swap to the folder's CURRENT generation if it is newer than ours: map it, apply the feed
        from its position, then replace ours. True when swapped."""
        if self.index_dir is None or not self._loaded:
            return False
        generation = index_store.current_generation(self.index_dir)
        if generation is None or generation.name == self._generation:
            return False
        if not self._usable(generation, self.feed_head()):
            return False
        loaded = index_store.open_generation(generation)
        with self._changes:
            with self._lock:
                banks = self._banks
            shadow = BankIndex(self.db, quality_floor=self.quality_floor, banks=self.bank_names)
            shadow._banks = banks
            shadow._install(loaded)
            shadow._loaded = True
            shadow._apply_feed()
            with self._lock:
                self._banks = shadow._banks
                self._pdq, self._frames = shadow._pdq, shadow._frames
                self._md5, self._sha256 = shadow._md5, shadow._sha256
                self._videos, self._frame_entry = shadow._videos, shadow._frame_entry
                self._next_frame_id = shadow._next_frame_id
                self._position, self._checked_at = shadow._position, shadow._checked_at
                self._generation = generation.name
                self._refreshed_at = time.monotonic()
        log.info("event=index.swap generation=%s position=%d", generation.name, self._position)
        return True

    def _video_table(self) -> index_store.VideoTable:
        with self._lock:
            videos = list(self._videos.items())
        frame_lists = [video.frame_ids for _, video in videos]
        return index_store.VideoTable(
            np.array([entry_id for entry_id, _ in videos], np.int64),
            np.array([video.bank_id for _, video in videos], np.int64),
            np.array([len(f) for f in frame_lists], np.int64),
            np.concatenate(frame_lists).astype(np.int64) if frame_lists else np.zeros(0, np.int64),
        )

    def refresh(self) -> int:
        """Apply every change since the last one applied; bring back entries whose timed disable ran
        out. Returns the number of entries re-read."""
        if not self._loaded:
            raise IndexNotReady("the match index is not loaded yet")
        with self._changes:
            return self._apply_feed()

    def _apply_feed(self) -> int:
        touched = 0
        while True:
            with self.db.reading() as session:
                now = utcnow()
                changes = session.execute(
                    select(BankChange.id, BankChange.kind, BankChange.entry_id, BankChange.bank_id)
                    .where(BankChange.id > self._position)
                    .order_by(BankChange.id)
                    .limit(FEED_BATCH)
                ).all()
                entry_ids = {c.entry_id for c in changes if c.entry_id is not None}
                assert self._checked_at is not None
                returned = session.scalars(came_back(self._checked_at, now)).all()
                entry_ids.update(returned)
                # A bank created after the load is new to us: its first entries bring its row along.
                banks = (
                    self._read_banks(session)
                    if any(
                        c.kind == BankChangeKind.BANK_CHANGED or c.bank_id not in self._banks for c in changes
                    )
                    else None
                )
                current = _read_entries(session, sorted(entry_ids), now)
            with self._lock:
                if banks is not None:
                    self._banks = banks
                self._apply(sorted(entry_ids), current)
                if changes:
                    self._position = int(changes[-1].id)
                self._checked_at = now
                self._refreshed_at = time.monotonic()
            touched += len(entry_ids)
            if len(changes) < FEED_BATCH:
                return touched

    @property
    def following(self) -> bool:
        """A follower thread applies the change feed (``follow``)."""
        return self._follower is not None

    def follow(self, interval_s: float = 1.0, *, generation_check_s: float = 10.0) -> None:
        """In a background thread until ``close``: apply the feed every ``interval_s``; with an index
        folder, every ``generation_check_s`` (jittered, so workers do not move in step) swap to a
        newer published generation, and publish a compacted one when this index needs it and no
        other process is publishing."""
        if self._follower is not None:
            return

        def loop() -> None:
            next_check = time.monotonic() + generation_check_s * random.uniform(0.5, 1.5)  # noqa: S311 (jitter)
            while not self._stop.wait(interval_s):
                try:
                    self.refresh()
                    if self.index_dir is not None and time.monotonic() >= next_check:
                        next_check = time.monotonic() + generation_check_s * random.uniform(0.5, 1.5)  # noqa: S311 (jitter)
                        if not self.adopt_current() and self.needs_compaction:
                            self.publish(wait=False)
                except Exception:  # keep following; staleness makes the failure visible
                    log.exception("event=index.refresh_failed")

        follower = threading.Thread(target=loop, name="bank-index-follower", daemon=True)
        follower.start()
        self._follower = follower  # only once started: ``close`` may run at any moment

    def close(self) -> None:
        self._stop.set()
        if self._follower is not None:
            self._follower.join(timeout=5)

    # -- matching --------------------------------------------------------------------------------

    def match(
        self, signals: FileSignals, *, rotations: bool = False, banks: Collection[str] | None = None
    ) -> MatchOutcome:
        """The block hits of one file, allow lists applied: the same answer as ``BruteForceMatcher``."""
        if not self.ready:
            raise IndexNotReady(
                "the match index is not loaded"
                if not self._loaded
                else f"the match index is stale: no refresh in the last {self.stale_after_s:g} s"
            )
        with self._lock:
            refs = self._selected(banks)
            groups = set(refs)
            raw: list[MatchHit] = []
            for kind, value, index in (
                (SignalKind.MD5, signals.md5, self._md5),
                (SignalKind.SHA256, signals.sha256, self._sha256),
            ):
                if value is not None and groups:
                    for digest_match in index.lookup_one(bytes.fromhex(value), groups=groups):
                        ref = refs[digest_match.group]
                        raw.append(
                            MatchHit(
                                ref.name,
                                ref.kind,
                                ref.category,
                                digest_match.entry_id,
                                kind.value,
                                distance=0,
                            )
                        )
            if signals.pdq is not None and signals.pdq.quality >= self.quality_floor and groups:
                variants = list(pdq_dihedral(signals.pdq)) if rotations else [signals.pdq]
                query = np.frombuffer(b"".join(v.value for v in variants), np.uint8).reshape(1, -1, 32)
                thresholds = {bank_id: ref.pdq_threshold for bank_id, ref in refs.items()}
                for pdq_match in self._pdq.query(query, threshold=thresholds).for_query(0):
                    ref = refs[pdq_match.group]
                    rotation = ROTATION_NAMES[pdq_match.variant or 0] if rotations else None
                    raw.append(
                        MatchHit(
                            ref.name,
                            ref.kind,
                            ref.category,
                            pdq_match.entry_id,
                            SignalKind.PDQ.value,
                            distance=pdq_match.distance,
                            rotation=rotation,
                        )
                    )
            if signals.vpdq and groups:
                raw.extend(self._match_video(signals, refs))
        return apply_allow_lists(raw)

    def _match_video(self, signals: FileSignals, refs: dict[int, BankRef]) -> list[MatchHit]:
        query = usable_frame_hashes(signals.vpdq, self.quality_floor)
        if len(query) == 0 or not self._videos:
            return []
        # A frame matches at distance strictly under 31, as the reference vpdq library counts it.
        threshold = dict.fromkeys(refs, VPDQ_DISTANCE_THRESHOLD - 1)
        found = self._frames.query(query, threshold=threshold)
        query_hits: dict[int, set[int]] = defaultdict(set)
        frame_hits: dict[int, set[int]] = defaultdict(set)
        for q, frame_id in zip(found.query_index.tolist(), found.entry_id.tolist(), strict=True):
            entry_id = self._frame_entry[frame_id]
            query_hits[entry_id].add(q)
            frame_hits[entry_id].add(frame_id)
        hits = []
        for entry_id in sorted(query_hits):
            video = self._videos[entry_id]
            ref = refs[video.bank_id]
            query_percent = 100.0 * len(query_hits[entry_id]) / len(query)
            target_percent = 100.0 * len(frame_hits[entry_id]) / len(video.frame_ids)
            if query_percent >= ref.vpdq_query_percent and target_percent >= ref.vpdq_target_percent:
                hits.append(
                    MatchHit(
                        ref.name,
                        ref.kind,
                        ref.category,
                        entry_id,
                        SignalKind.VPDQ.value,
                        query_match_percent=round(query_percent, 2),
                        target_match_percent=round(target_percent, 2),
                    )
                )
        return hits

    def _selected(self, banks: Collection[str] | None) -> dict[int, BankRef]:
        names = frozenset(banks) if banks else self.bank_names
        return {
            bank_id: ref
            for bank_id, ref in self._banks.items()
            if ref.enabled and (names is None or ref.name in names or ref.kind == BankKind.ALLOW)
        }

    # -- changes ---------------------------------------------------------------------------------

    def _apply(self, entry_ids: Sequence[int], current: dict[int, Any]) -> None:
        """Make the index agree with the entries' current rows (absent: gone or inactive). Caller
        holds the lock."""
        if not entry_ids:
            return
        ids = np.array(entry_ids, np.int64)
        self._pdq.remove(ids)
        self._md5.remove(ids)
        self._sha256.remove(ids)
        for entry_id in entry_ids:
            self._remove_video(entry_id)
        by_type: dict[str, list[Any]] = defaultdict(list)
        for entry_id in entry_ids:
            row = current.get(entry_id)
            if row is not None:
                by_type[row.signal_type].append(row)
        for kind, index in (
            (SignalKind.PDQ, self._pdq),
            (SignalKind.MD5, self._md5),
            (SignalKind.SHA256, self._sha256),
        ):
            rows = by_type[kind]
            if rows:
                index.add(
                    [r.id for r in rows], [bytes.fromhex(r.value) for r in rows], [r.bank_id for r in rows]
                )
        for row in by_type[SignalKind.VPDQ]:
            self._add_video(row.id, row.bank_id, row.value)

    def _add_video(self, entry_id: int, bank_id: int, value: str) -> None:
        hashes = usable_frame_hashes(parse_vpdq(value), self.quality_floor)
        frame_ids = np.arange(self._next_frame_id, self._next_frame_id + len(hashes), dtype=np.int64)
        self._next_frame_id += len(hashes)
        if len(hashes):
            self._frames.add(frame_ids, hashes, np.full(len(hashes), bank_id, np.uint16))
        self._videos[entry_id] = _Video(bank_id, frame_ids)
        self._frame_entry.update(dict.fromkeys(frame_ids.tolist(), entry_id))

    def _remove_video(self, entry_id: int) -> None:
        video = self._videos.pop(entry_id, None)
        if video is None:
            return
        if len(video.frame_ids):
            self._frames.remove(video.frame_ids)
        for frame_id in video.frame_ids.tolist():
            self._frame_entry.pop(frame_id, None)

    @staticmethod
    def _read_banks(session: Session) -> dict[int, BankRef]:
        banks = {}
        for bank in session.scalars(select(Bank)):
            if bank.id > MAX_BANK_ID:
                raise InvalidInput(
                    f"bank {bank.name} has id {bank.id}: the match index takes ids up to 65535"
                )
            banks[bank.id] = BankRef.of(bank)
        return banks

    def _check_bank_names(self) -> None:
        if self.bank_names:
            missing = self.bank_names - {ref.name for ref in self._banks.values()}
            if missing:
                raise NotFound(
                    f"no bank named {', '.join(sorted(missing))}; `suraksha bank list` shows the banks"
                )


def came_back(after: datetime, now: datetime) -> Select[int]:
    """The entries whose timed disable ran out in (after, now]: a seek of the partial index
    ``ix_bank_entries_disabled_until`` (a follower asks every second)."""
    return select(BankEntry.id).where(
        BankEntry.enabled.is_(False),
        BankEntry.disabled_until > after,
        BankEntry.disabled_until <= now,
    )


def _read_entries(session: Session, entry_ids: Sequence[int], now: datetime) -> dict[int, Any]:
    found: dict[int, Any] = {}
    for start in range(0, len(entry_ids), ID_CHUNK):
        chunk = entry_ids[start : start + ID_CHUNK]
        rows = session.execute(
            select(BankEntry.id, BankEntry.bank_id, BankEntry.signal_type, BankEntry.value).where(
                BankEntry.id.in_(chunk), _entry_active(now)
            )
        )
        found.update((row.id, row) for row in rows)
    return found


_warm_lock = threading.Lock()
_warmed: list[bool] = []


def warm_kernels() -> None:
    """Compile the match kernels (or load them from numba's cache), once per process, before an index
    says it is ready. Otherwise a process's first query compiles them while holding the index's lock:
    the follower cannot refresh meanwhile, and on a loaded machine a fresh install's first scan went
    past the staleness limit and answered "stale" (30 s of compiling). On a small index of random
    bits: one query, eight variants, a batch as long as a video's frames, the delta's scan, digests."""
    with _warm_lock:
        if _warmed:
            return
        rng = np.random.default_rng(0)
        hashes = rng.integers(0, 256, (600, 32), dtype=np.uint8)
        ids = np.arange(1, 601, dtype=np.int64)
        groups = np.ones(600, np.uint16)
        pdq = PdqIndex.build(ids, hashes, groups)
        pdq.add(np.array([1000], np.int64), hashes[:1], np.ones(1, np.uint16))
        threshold = {1: 31}
        pdq.query(hashes[:1].reshape(1, 1, 32), threshold=threshold)
        pdq.query(hashes[:8].reshape(1, 8, 32), threshold=threshold)
        pdq.query(hashes[:520], threshold=threshold)
        digests = DigestIndex.build(ids, hashes[:, :16], groups, digest_size=16)
        digests.lookup_one(bytes(hashes[0, :16]), groups={1})
        _warmed.append(True)


def _build_pdq(rows: Iterable[Any]) -> PdqIndex:
    rows = list(rows)
    ids = np.fromiter((r.id for r in rows), np.int64, len(rows))
    hashes = np.frombuffer(b"".join(bytes.fromhex(r.value) for r in rows), np.uint8).reshape(-1, 32)
    groups = np.fromiter((r.bank_id for r in rows), np.uint16, len(rows))
    return PdqIndex.build(ids, hashes, groups)


def _build_digest(rows: Iterable[Any], size: int) -> DigestIndex:
    rows = list(rows)
    ids = np.fromiter((r.id for r in rows), np.int64, len(rows))
    digests = np.frombuffer(b"".join(bytes.fromhex(r.value) for r in rows), np.uint8).reshape(-1, size)
    groups = np.fromiter((r.bank_id for r in rows), np.uint16, len(rows))
    return DigestIndex.build(ids, digests, groups, digest_size=size)
