"""The immutable base of the PDQ index: multi-index hashing over ten chunks of 25-26 bits.

Why this shape (measured, see docs/performance.md, "Matching"): split the 256-bit hash into m
disjoint chunks. If two hashes are within distance T and radii r_t satisfy sum(r_t + 1) > T, some
chunk t differs in at most r_t bits (pigeonhole). With ten chunks and T = 31, two chunks are probed
at radius 3 and eight at radius 2. Each chunk has a table: rows sorted by the chunk value, CSR
offsets over the chunk's top `key_bits` bits (2**key_bits buckets), and the next (up to) 8 bits kept
beside each slot as a one-byte fingerprint. A probe enumerates every key within radius r and keeps,
inside each bucket, the fingerprints within the remaining radius; only those slots reach the
random-access 256-bit check. Eight 32-bit chunks (radius 3 each) visit 2.4x more buckets for the same
memory; plain 16 x 16-bit MIH (what FAISS and python-threatexchange use) verifies ~40,000 rows a
query at 10M entries, this ~1,500.

Table 0 owns the row order: hash, id and group arrays are sorted by chunk 0, so table 0 needs no
row numbers. Memory per entry: 32 (hash) + 8 (id) + 2 (group) + 10 (fingerprints) + 9 x 3 (row
numbers; 4 bytes above 2**24 entries) + 4 (id lookup, touched only by add and remove) = 83 bytes,
plus 10 x 2**key_bits x 4 bytes of offsets.

Batches of queries (BATCH_FROM and up) are probed table by table rather than query by query: the
probes of a sub-batch are sorted by table region, so that each region's offsets and fingerprints are
read from memory once and then serve every probe into it from L1 (1.6x the query-at-a-time kernel
at 10M random entries, threshold 31; see `_kernels.mih_search_batch`).

Thresholds above what probing pays for (the cost model below) use a blocked brute-force scan, which
is exact for any threshold.
"""

from __future__ import annotations

import contextlib
import ctypes
import itertools
import math
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from suraksha.errors import InvalidInput
from suraksha.signals.index import _kernels

CHUNK_BITS = (26, 26, 26, 26, 26, 26, 25, 25, 25, 25)
"""Widths of the chunks, in hash bit order (they tile the 256 bits)."""
N_TABLES = len(CHUNK_BITS)
MAX_FP_BITS = 8
MAX_ENTRIES = 2**32 - 1

# Cost model, nanoseconds per query on one core (fitted on a 2-core Xeon; only the ratio between
# probing and scanning matters, it decides the fallback).
_NS_PROBE = 3.0
_NS_BUCKET = 20.0
_NS_SCANNED_SLOT = 0.1
_NS_CANDIDATE = 20.0
_NS_SCANNED_ROW = 1.2

# Probe-major batches (`_kernels.mih_search_batch`): from BATCH_FROM queries on (break-even measured
# between 256 and 512 at 10M entries), in sub-batches of at most MAX_BATCH queries whose probe buffer
# (8 bytes a probe) stays within PROBE_BUDGET probes; regions of the sweep hold REGION_BYTES of
# fingerprints on average.
BATCH_FROM = 512
MIN_BATCH = 64
MAX_BATCH = 4096
PROBE_BUDGET = 1 << 21
REGION_BYTES = 16384

Words = npt.NDArray[np.uint64]
Matches = tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64]]


def row_bytes_for(n: int) -> int:
    """Bytes per stored row number: 3 up to 2**24 entries (saves 7 bytes an entry), else 4."""
    return 3 if n <= 1 << 24 else 4


def default_key_bits(n: int) -> int:
    """Key width for n entries: 18 bits (26-bit chunks = 18-bit key + full 8-bit fingerprint) from
    about a million entries on (measured best at 1M and 10M); fewer for small indexes, whose offsets
    would otherwise outweigh them."""
    return max(4, min(18, max(n, 1).bit_length() - 3))


@dataclass(frozen=True)
class ChunkLayout:
    """Where each table's chunk lies in the hash, and how it splits into key and fingerprint."""

    start: npt.NDArray[np.int64]
    bits: npt.NDArray[np.int64]
    fp_bits: npt.NDArray[np.int64]
    fp_shift: npt.NDArray[np.int64]
    """Low bits of the chunk below the fingerprint: not indexed (checked by the full comparison)."""

    @classmethod
    def of(cls, key_bits: int, widths: tuple[int, ...] = CHUNK_BITS) -> ChunkLayout:
        bits = np.array(widths, dtype=np.int64)
        if int(bits.sum()) != 256 or key_bits >= int(bits.min()):
            raise InvalidInput(f"chunks {widths} do not tile 256 bits with {key_bits}-bit keys")
        start = np.concatenate([[0], np.cumsum(bits)[:-1]]).astype(np.int64)
        fp_bits = np.minimum(MAX_FP_BITS, bits - key_bits)
        return cls(start, bits, fp_bits, bits - key_bits - fp_bits)

    def table(self, t: int) -> tuple[int, int, int, int]:
        """(chunk start, chunk bits, fingerprint bits, fingerprint shift) of table t."""
        return int(self.start[t]), int(self.bits[t]), int(self.fp_bits[t]), int(self.fp_shift[t])


@lru_cache(maxsize=64)
def flip_masks(key_bits: int, max_weight: int) -> tuple[npt.NDArray[np.uint32], npt.NDArray[np.int64]]:
    """Every key_bits-bit mask of weight <= max_weight, by weight; starts[w] indexes weight w."""
    masks: list[int] = []
    starts = [0]
    for weight in range(min(max_weight, key_bits) + 1):
        for bits in itertools.combinations(range(key_bits), weight):
            masks.append(sum(1 << b for b in bits))
        starts.append(len(masks))
    return np.array(masks, dtype=np.uint32), np.array(starts, dtype=np.int64)


@dataclass(frozen=True)
class SearchPlan:
    scan: bool
    order: npt.NDArray[np.int64]
    radii: npt.NDArray[np.int64]
    masks: npt.NDArray[np.uint32]
    mask_starts: npt.NDArray[np.int64]
    probe_ns: float
    scan_ns: float


def _empty_matches() -> Matches:
    empty = np.zeros(0, dtype=np.int64)
    return empty, empty.copy(), empty.copy()


@dataclass(frozen=True, eq=False)
class MihTables:
    hashes: Words
    """(n, 4) uint64, rows in table-0 order."""
    ids: npt.NDArray[np.uint32] | npt.NDArray[np.int64]
    """Entry id of each row, minus id_base: uint32 when the ids span less than 2**32, else int64."""
    groups: npt.NDArray[np.uint8] | npt.NDArray[np.uint16]
    """Group of each row: uint8 when every group is below 256."""
    offsets: npt.NDArray[np.uint32]
    """(m, 2**key_bits + 1): slots of key k in table t are offsets[t, k] : offsets[t, k + 1]."""
    fps: npt.NDArray[np.uint8]
    """(m, n): fingerprint of each slot, sorted within a bucket."""
    positions: npt.NDArray[np.uint8]
    """(m - 1, n * row_bytes): row of each slot of tables 1.., little-endian, 3 or 4 bytes each."""
    id_rows: npt.NDArray[np.uint8]
    """Rows in entry-id order, row_bytes each (binary search through `ids`: the id lookup of add
    and remove; a memory-mapped snapshot pages it in only when entries change)."""
    key_bits: int
    row_bytes: int
    id_base: int
    table_cost: tuple[float, ...]
    """Per table: mean number of rows sharing a random row's bucket (skewed data has more)."""
    _plans: dict[int, SearchPlan] = field(default_factory=dict, repr=False)

    @property
    def n(self) -> int:
        return int(self.ids.shape[0])

    @cached_property
    def layout(self) -> ChunkLayout:
        return ChunkLayout.of(self.key_bits)

    @property
    def nbytes(self) -> int:
        return sum(int(a.nbytes) for a in self.arrays().values())

    @classmethod
    def build(
        cls,
        ids: npt.NDArray[np.int64],
        hashes: Words,
        groups: npt.NDArray[np.uint16],
        *,
        key_bits: int | None = None,
        row_bytes: int | None = None,
    ) -> MihTables:
        """Build from unique ids, (n, 4) uint64 hashes and uint16 groups (all the same length n)."""
        n = int(ids.shape[0])
        if hashes.shape != (n, 4) or groups.shape != (n,):
            raise InvalidInput(
                f"ids, hashes and groups differ in length: {n}, {hashes.shape}, {groups.shape}"
            )
        if n > MAX_ENTRIES:
            raise InvalidInput(f"a PDQ index holds at most {MAX_ENTRIES} entries, not {n}")
        k = default_key_bits(n) if key_bits is None else key_bits
        if not 1 <= k <= 24:
            raise InvalidInput(f"key_bits must be between 1 and 24, not {k}")
        layout = ChunkLayout.of(k)
        hashes = np.ascontiguousarray(hashes, dtype=np.uint64)
        # id lookup (for add/remove): the rows in id order; ids given in order need no sort
        by_id = np.argsort(ids) if n > 1 and not bool(np.all(ids[1:] > ids[:-1])) else None
        if by_id is not None:
            id_sorted = ids[by_id]
            repeated = id_sorted[1:][id_sorted[1:] == id_sorted[:-1]]
            del id_sorted
            if repeated.size:
                raise InvalidInput(
                    f"entry id {int(repeated[0])} is given twice; ids in an index must be unique"
                )
        row_bytes = row_bytes_for(n) if row_bytes is None else row_bytes
        if row_bytes not in (3, 4) or n > 1 << (8 * row_bytes):
            raise InvalidInput(f"row_bytes must be 3 (up to 2**24 entries) or 4, not {row_bytes}")
        offsets = np.empty((N_TABLES, (1 << k) + 1), dtype=np.uint32)
        fps = np.empty((N_TABLES, n), dtype=np.uint8)
        positions = np.empty((N_TABLES - 1, n * row_bytes), dtype=np.uint8)
        # table 0 decides the row order: its slots are the rows
        order0 = np.empty(n, dtype=np.uint32)
        start, bits, fp_bits, fp_shift = layout.table(0)
        _kernels.sort_table(
            hashes, start, bits, k, fp_bits, fp_shift, 4, offsets[0], fps[0], order0.view(np.uint8)
        )
        row_of_input = np.empty(n, dtype=np.uint32)
        row_of_input[order0] = np.arange(n, dtype=np.uint32)
        id_order = row_of_input if by_id is None else row_of_input[by_id]
        id_rows = id_order.view(np.uint8).reshape(n, 4)[:, :row_bytes].reshape(-1).copy()
        del row_of_input, by_id, id_order
        hashes = _kernels.gather_rows(hashes, order0)
        stored_ids, id_base = _compact_ids(ids)
        stored_ids = _kernels.gather(stored_ids, order0)
        narrow = n == 0 or int(groups.max()) < 256
        stored_groups = _kernels.gather(groups.astype(np.uint8 if narrow else np.uint16), order0)
        del order0
        for t in range(1, N_TABLES):
            start, bits, fp_bits, fp_shift = layout.table(t)
            _kernels.sort_table(
                hashes, start, bits, k, fp_bits, fp_shift, row_bytes, offsets[t], fps[t], positions[t - 1]
            )
        _release_free_memory()
        return cls(
            hashes=hashes,
            ids=stored_ids,
            groups=stored_groups,
            offsets=offsets,
            fps=fps,
            positions=positions,
            id_rows=id_rows,
            key_bits=k,
            row_bytes=row_bytes,
            id_base=id_base,
            table_cost=_table_costs(offsets, n),
        )

    @classmethod
    def empty(cls) -> MihTables:
        return cls.build(np.zeros(0, np.int64), np.zeros((0, 4), np.uint64), np.zeros(0, np.uint16))

    def arrays(self) -> dict[str, npt.NDArray[Any]]:
        return {
            "hashes": self.hashes,
            "ids": self.ids,
            "groups": self.groups,
            "offsets": self.offsets,
            "fps": self.fps,
            "positions": self.positions,
            "id_rows": self.id_rows,
        }

    def params(self) -> dict[str, Any]:
        return {
            "key_bits": self.key_bits,
            "row_bytes": self.row_bytes,
            "id_base": self.id_base,
            "chunk_bits": list(CHUNK_BITS),
            "table_cost": list(self.table_cost),
        }

    @classmethod
    def from_arrays(cls, arrays: dict[str, npt.NDArray[Any]], params: dict[str, Any]) -> MihTables:
        """Wrap stored arrays (memory-mapped or not) after checking that they fit together."""
        k = int(params["key_bits"])
        row_bytes = int(params["row_bytes"])
        if tuple(params["chunk_bits"]) != CHUNK_BITS:
            raise ValueError(f"chunk layout {params['chunk_bits']} is not this version's {list(CHUNK_BITS)}")
        n = int(arrays["ids"].shape[0])
        expected: dict[str, tuple[tuple[int, ...], tuple[type[np.generic], ...]]] = {
            "hashes": ((n, 4), (np.uint64,)),
            "ids": ((n,), (np.uint32, np.int64)),
            "groups": ((n,), (np.uint8, np.uint16)),
            "offsets": ((N_TABLES, (1 << k) + 1), (np.uint32,)),
            "fps": ((N_TABLES, n), (np.uint8,)),
            "positions": ((N_TABLES - 1, n * row_bytes), (np.uint8,)),
            "id_rows": ((n * row_bytes,), (np.uint8,)),
        }
        for name, (shape, dtypes) in expected.items():
            array = arrays.get(name)
            if array is None or array.shape != shape or array.dtype not in dtypes:
                got = "missing" if array is None else f"{array.dtype} {array.shape}"
                raise ValueError(f"array {name!r} is {got}, expected {np.dtype(dtypes[0])} {shape}")
        if n and not bool(np.all(arrays["offsets"][:, -1] == n)):
            raise ValueError("offsets do not end at the entry count")
        return cls(
            hashes=arrays["hashes"],
            ids=arrays["ids"],
            groups=arrays["groups"],
            offsets=arrays["offsets"],
            fps=arrays["fps"],
            positions=arrays["positions"],
            id_rows=arrays["id_rows"],
            key_bits=k,
            row_bytes=row_bytes,
            id_base=int(params["id_base"]),
            table_cost=tuple(float(c) for c in params["table_cost"]),
        )

    def rows_of(self, ids: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        """Row of each id, -1 where the id is not in this base."""
        rows: npt.NDArray[np.int64] = _kernels.rows_of_ids(
            self.ids, self.id_base, self.id_rows, self.row_bytes, ids
        )
        return rows

    def entry_ids(self, rows: npt.NDArray[np.int64] | npt.NDArray[np.bool_] | slice) -> npt.NDArray[np.int64]:
        """Entry ids of the given rows (indices, a mask, or a slice)."""
        return self.ids[rows].astype(np.int64) + self.id_base

    def group_ids(
        self, rows: npt.NDArray[np.int64] | npt.NDArray[np.bool_] | slice
    ) -> npt.NDArray[np.uint16]:
        return self.groups[rows].astype(np.uint16)

    def plan(self, max_threshold: int) -> SearchPlan:
        plan = self._plans.get(max_threshold)
        if plan is None:
            plan = _make_plan(self.n, self.key_bits, self.layout, self.table_cost, max_threshold)
            self._plans[max_threshold] = plan
        return plan

    def search(
        self,
        queries: Words,
        thresholds: npt.NDArray[np.int64],
        max_threshold: int,
        dead: npt.NDArray[np.uint8],
        *,
        method: Literal["auto", "probe", "scan"] = "auto",
    ) -> Matches:
        """(query, row, distance) for live rows within thresholds[group of row].

        `method` forces probing or scanning (both exact; "auto" follows the cost model).
        """
        if self.n == 0 or queries.shape[0] == 0 or max_threshold < 0:
            return _empty_matches()
        plan = self.plan(max_threshold)
        if method == "probe" and plan.scan:
            masks, starts = flip_masks(self.key_bits, int(plan.radii.max()))
            plan = SearchPlan(False, plan.order, plan.radii, masks, starts, plan.probe_ns, plan.scan_ns)
        if method == "scan" or plan.scan:
            result = _kernels.scan_search(self.hashes, self.groups, dead, queries, thresholds, max_threshold)
        else:
            layout = self.layout
            batch = _probe_batch(plan, int(queries.shape[0]))
            kernel = _kernels.mih_search if batch == 0 else _kernels.mih_search_batch
            extra = () if batch == 0 else (batch, _region_bits(self.n, self.key_bits))
            result = kernel(
                self.hashes,
                self.groups,
                dead,
                self.offsets,
                self.fps,
                self.positions,
                self.row_bytes,
                self.key_bits,
                layout.start,
                layout.bits,
                layout.fp_bits,
                layout.fp_shift,
                plan.order,
                plan.radii,
                plan.masks,
                plan.mask_starts,
                queries,
                thresholds,
                max_threshold,
                *extra,
            )
        query, row, distance = result[0], result[1], result[2]
        if query.shape[0] > 1:
            # one order whichever kernel ran: by query, then row
            by = np.lexsort((row, query))
            query, row, distance = query[by], row[by], distance[by]
        return query, row, distance


def _probe_batch(plan: SearchPlan, n_queries: int) -> int:
    """Queries per sub-batch of the probe-major kernel, or 0 for the query-at-a-time one: batches
    from BATCH_FROM queries on, as many queries as keep the probe buffer within PROBE_BUDGET."""
    if n_queries < BATCH_FROM:
        return 0
    keys = int(plan.mask_starts[-1])
    batch = min(MAX_BATCH, PROBE_BUDGET // max(keys, 1))
    return batch if batch >= MIN_BATCH else 0


def _region_bits(n: int, key_bits: int) -> int:
    """log2 of the buckets in a region of the probe-major sweep: as many as keep a region's
    fingerprints within REGION_BYTES (L1-sized) at this index's mean bucket length."""
    mean_bucket = max(n, 1) / 2.0**key_bits
    return max(0, min(key_bits, int(math.log2(max(REGION_BYTES / mean_bucket, 1.0)))))


def _release_free_memory() -> None:
    """Hand the build's freed scratch memory back to the OS (glibc keeps ~50 MB of it at 10M)."""
    with contextlib.suppress(OSError, AttributeError):  # not glibc: nothing to do
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def _compact_ids(ids: npt.NDArray[np.int64]) -> tuple[npt.NDArray[np.uint32] | npt.NDArray[np.int64], int]:
    """(stored ids, base): ids as uint32 offsets from the smallest when they span less than 2**32
    (database ids do: 40 MB saved at 10M entries), else unchanged."""
    if ids.shape[0] and int(ids.max()) - int(ids.min()) < 1 << 32:
        base = int(ids.min())
        return (ids - base).astype(np.uint32), base
    return np.ascontiguousarray(ids, dtype=np.int64), 0


def _table_costs(offsets: npt.NDArray[np.uint32], n: int) -> tuple[float, ...]:
    if n == 0:
        return (0.0,) * N_TABLES
    sizes = np.diff(offsets.astype(np.int64), axis=1).astype(np.float64)
    return tuple(float(c) for c in (sizes**2).sum(axis=1) / n)


def _ball(bits: int, radius: int) -> float:
    return float(sum(math.comb(bits, w) for w in range(min(radius, bits) + 1)))


def _make_plan(
    n: int, key_bits: int, layout: ChunkLayout, table_cost: tuple[float, ...], max_threshold: int
) -> SearchPlan:
    """Radii for max_threshold (sum(radius + 1) > max_threshold), probe order, and the cost model's
    choice between probing and scanning."""
    units = max_threshold + 1
    # tables that take a larger radius first: wide chunks (fewer false candidates), then even buckets
    preferred = np.lexsort((np.array(table_cost), -layout.bits)).astype(np.int64)
    radii = np.full(N_TABLES, -1, dtype=np.int64)
    if units <= N_TABLES:
        radii[preferred[:units]] = 0
    else:
        radii[:] = units // N_TABLES - 1
        radii[preferred[: units % N_TABLES]] += 1
    probe_ns = 0.0
    for t in range(N_TABLES):
        r = int(radii[t])
        if r < 0:
            continue
        bucket = max(table_cost[t], n / 2.0**key_bits)
        fp_bits = int(layout.fp_bits[t])
        candidates = 0.0
        for w in range(min(r, key_bits) + 1):
            keys = math.comb(key_bits, w)
            rem = r - w
            probe_ns += keys * (_NS_PROBE + _NS_BUCKET + (0.0 if rem == 0 else bucket * _NS_SCANNED_SLOT))
            candidates += keys * bucket * _ball(fp_bits, rem) / 2.0**fp_bits
        probe_ns += candidates * _NS_CANDIDATE
    scan_ns = n * _NS_SCANNED_ROW
    scan = probe_ns > scan_ns
    masks, starts = flip_masks(key_bits, 0 if scan else int(radii.max()))
    order = np.argsort(-radii, kind="stable").astype(np.int64)
    return SearchPlan(scan, order, radii, masks, starts, probe_ns, scan_ns)
