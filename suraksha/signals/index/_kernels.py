"""Numba kernels behind the PDQ match index.

numba compiles these functions from their bytecode, so their Python annotations are `Any`: the
types that matter are the numpy dtypes the callers in `mih.py` and `pdq_index.py` pass (documented
per function). Index variables are int64 on purpose: numba turns mixed uint64/int64 arithmetic
into float64.

Layout the kernels share (see `mih.py`): a hash is 4 little-endian uint64 words (bit i of the hash
is bit i % 64 of word i // 64); table t indexes the chunk of `chunk_bits[t]` bits from
`chunk_start[t]`, split into a key (its top `key_bits`), a fingerprint (the next `fp_bits`, at
most 8) and `fp_shift` low bits that are not indexed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

import numba
import numpy as np
from llvmlite import ir  # type: ignore[import-untyped]
from numba.core import cgutils
from numba.extending import intrinsic

_F = TypeVar("_F", bound=Callable[..., Any])

PREFETCH_DISTANCE = 16
"""Candidates whose row number or hash is requested ahead of its use."""

_WINDOW_FROM = 64
"""Buckets longer than this (a cache line of fingerprints) look for an exact fingerprint in a window
around its interpolated spot; shorter ones are compared whole."""
_HALF_WINDOW = 8
_WINDOW = 16
"""Fingerprints compared at once by the batch sweep (a vector register's worth)."""

_RADIX_BITS = 16

_QUERY_BITS = 24
"""The batch kernel keeps a candidate as slot (or row) << _QUERY_BITS | query within its sub-batch."""
_QUERY_MASK = (1 << _QUERY_BITS) - 1


def _kernel(fn: _F) -> _F:
    return cast(_F, numba.njit(cache=True, nogil=True)(fn))


def _helper(fn: _F) -> _F:
    """A small kernel meant to be inlined into the others."""
    return cast(_F, numba.njit(cache=True, nogil=True, inline="always")(fn))


def _intrinsic(fn: Callable[..., Any]) -> Callable[..., Any]:
    """An LLVM-level helper callable from kernels (its Python signature drops `typingctx`)."""
    return cast(Callable[..., Any], intrinsic(fn))


_cgutils: Any = cgutils


def _popcount(typingctx: Any, x: Any) -> Any:
    """popcount(x): population count of an integer, as int64 (LLVM ctpop, vectorises)."""
    sig = numba.types.int64(x)

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        (value,) = args
        fn = builder.module.declare_intrinsic("llvm.ctpop", [value.type])
        result = builder.call(fn, [value])
        if value.type.width < 64:
            result = builder.zext(result, ir.IntType(64))
        return result

    return sig, codegen


popcount = _intrinsic(_popcount)


def _prefetcher(locality: int) -> Callable[..., Any]:
    def _prefetch(typingctx: Any, array: Any, index: Any) -> Any:
        sig = numba.types.void(array, index)

        def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
            array_type = signature.args[0]
            array_value = context.make_array(array_type)(context, builder, args[0])
            pointer = _cgutils.get_item_pointer(
                context, builder, array_type, array_value, [args[1]], wraparound=False
            )
            i32 = ir.IntType(32)
            byte_pointer = builder.bitcast(pointer, ir.IntType(8).as_pointer())
            fnty = ir.FunctionType(ir.VoidType(), [byte_pointer.type, i32, i32, i32])
            fn = _cgutils.get_or_insert_function(builder.module, fnty, "llvm.prefetch.p0")
            # read, the given temporal locality, data cache
            builder.call(fn, [byte_pointer, i32(0), i32(locality), i32(1)])
            return context.get_dummy_value()

        return sig, codegen

    return _intrinsic(_prefetch)


prefetch = _prefetcher(3)
"""prefetch(array, index): start loading 1-D `array[index]` into every cache level (prefetcht0)."""
prefetch_l2 = _prefetcher(2)
"""Same into L2 and below only (prefetcht1): used for long batches of requests, where filling L1
would only evict lines still to be read (measured 10% faster than prefetcht0 at 10M entries)."""


@_helper
def chunk_of(words: Any, row: Any, start: Any, width: Any) -> Any:
    """Bits [start, start + width) (width <= 32) of row `row` of (n, 4) uint64 words, as int64."""
    word = start >> 6
    offset = start & 63
    value = words[row, word] >> np.uint64(offset)
    if offset + width > 64:
        value |= words[row, word + 1] << np.uint64(64 - offset)
    return np.int64(value & np.uint64((1 << width) - 1))


@_kernel
def sort_table(
    hashes: Any,
    chunk_start: Any,
    chunk_bits: Any,
    key_bits: Any,
    fp_bits: Any,
    fp_shift: Any,
    row_bytes: Any,
    offsets: Any,
    fps: Any,
    positions: Any,
) -> None:
    """Fill one table: rows sorted by (key, fingerprint) of their chunk, stably.

    Writes offsets (uint32[2**key_bits + 1]), fps (uint8[n]) and positions (uint8[n * row_bytes],
    the little-endian row of each slot). LSD radix sort of (value << 32 | row) pairs on 16-bit
    digits (measured faster than 11-bit digits at 10M), one read for every pass's histogram.
    """
    n = hashes.shape[0]
    pairs = np.empty(n, np.uint64)
    for i in range(n):
        value = np.uint64(chunk_of(hashes, i, chunk_start, chunk_bits) >> fp_shift)
        pairs[i] = (value << np.uint64(32)) | np.uint64(i)
    spare = np.empty_like(pairs)
    digit_mask = np.uint64((1 << _RADIX_BITS) - 1)
    n_passes = (key_bits + fp_bits + _RADIX_BITS - 1) // _RADIX_BITS
    counts = np.zeros((n_passes, 1 << _RADIX_BITS), np.int64)
    for i in range(n):
        value = pairs[i] >> np.uint64(32)
        for p in range(n_passes):
            counts[p, (value >> np.uint64(p * _RADIX_BITS)) & digit_mask] += 1
    for p in range(n_passes):
        if counts[p].max() == n:
            continue
        total = 0
        for d in range(1 << _RADIX_BITS):
            c = counts[p, d]
            counts[p, d] = total
            total += c
        digit_shift = np.uint64(32 + p * _RADIX_BITS)
        for i in range(n):
            pair = pairs[i]
            d = (pair >> digit_shift) & digit_mask
            slot = counts[p, d]
            spare[slot] = pair
            counts[p, d] = slot + 1
        pairs, spare = spare, pairs
    fp_mask = np.uint64((1 << fp_bits) - 1)
    key_counts = np.zeros(offsets.shape[0], np.int64)
    for i in range(n):
        value = pairs[i] >> np.uint64(32)
        row = pairs[i] & np.uint64(0xFFFFFFFF)
        fps[i] = value & fp_mask
        key_counts[np.int64(value >> np.uint64(fp_bits)) + 1] += 1
        for b in range(row_bytes):
            positions[i * row_bytes + b] = (row >> np.uint64(8 * b)) & np.uint64(0xFF)
    total = 0
    for k in range(offsets.shape[0]):
        total += key_counts[k]
        offsets[k] = total


@_kernel
def gather(values: Any, order: Any) -> Any:
    """values[order] for a 1-D array (numpy's fancy indexing is 3x slower on uint32 indices)."""
    out = np.empty(order.shape[0], values.dtype)
    for i in range(order.shape[0]):
        out[i] = values[order[i]]
    return out


@_kernel
def gather_rows(hashes: Any, order: Any) -> Any:
    """hashes[order] for (n, 4) uint64 rows, prefetching ahead (random reads of a large array)."""
    n = order.shape[0]
    out = np.empty((n, 4), np.uint64)
    flat = hashes.reshape(-1)
    for i in range(n):
        if i + 32 < n:
            prefetch(flat, np.int64(order[i + 32]) * 4)
        row = order[i]
        for w in range(4):
            out[i, w] = hashes[row, w]
    return out


@_helper
def read_row(data: Any, slot: Any, row_bytes: Any) -> Any:
    """Row number stored little-endian in row_bytes (3 or 4) bytes at data[slot * row_bytes]."""
    at = slot * row_bytes
    row = np.int64(data[at]) | (np.int64(data[at + 1]) << 8) | (np.int64(data[at + 2]) << 16)
    if row_bytes == 4:
        row |= np.int64(data[at + 3]) << 24
    return row


@_kernel
def rows_of_ids(ids: Any, id_base: Any, id_rows: Any, row_bytes: Any, wanted: Any) -> Any:
    """Row of each wanted id (int64), -1 when absent: binary search of id_base + ids[id_rows[...]]."""
    n = ids.shape[0]
    out = np.full(wanted.shape[0], -1, np.int64)
    for i in range(wanted.shape[0]):
        x = wanted[i] - id_base
        lo = 0
        hi = n
        while lo < hi:
            mid = (lo + hi) >> 1
            if np.int64(ids[read_row(id_rows, mid, row_bytes)]) < x:
                lo = mid + 1
            else:
                hi = mid
        if lo < n:
            row = read_row(id_rows, lo, row_bytes)
            if np.int64(ids[row]) == x:
                out[i] = row
    return out


@_kernel
def _grow(array: Any, size: Any) -> Any:
    out = np.empty(max(size, 2 * array.shape[0]), array.dtype)
    out[: array.shape[0]] = array
    return out


@_kernel
def mih_search(
    hashes: Any,
    groups: Any,
    dead: Any,
    offsets: Any,
    fps: Any,
    positions: Any,
    row_bytes: Any,
    key_bits: Any,
    chunk_start: Any,
    chunk_bits: Any,
    fp_bits: Any,
    fp_shift: Any,
    order: Any,
    radii: Any,
    masks: Any,
    mask_starts: Any,
    queries: Any,
    thresholds: Any,
    max_threshold: Any,
) -> Any:
    """Every (query, row, distance) with distance <= thresholds[groups[row]] among live rows.

    hashes uint64[n, 4] in table-0 order; groups uint16[n]; dead uint8 bitmap over rows; per table
    t of m: offsets uint32[m, 2**key_bits + 1], fps uint8[m, n], positions uint8[m - 1, n * row_bytes]
    (row of each slot of tables 1.., little-endian; table 0's slots are rows), and int64[m] arrays
    chunk_start, chunk_bits, fp_bits, fp_shift; order int64[m] (probe order); radii int64[m] (-1:
    not probed); masks uint32 (key flips by weight, see mask_starts); queries uint64[q, 4];
    thresholds int64[g] (-1: group not matched).

    Exactness: the caller picks radii with sum(radius + 1) > max_threshold over probed tables, so a
    row within max_threshold has some probed table whose chunk (key + fingerprint bits) is within
    that table's radius (pigeonhole). Table t enumerates every key within radius r and keeps the
    slots whose fingerprint is within the remaining radius: exactly the rows whose masked chunk is
    within r. A row is reported only from the first table (in probe order) that finds it.
    """
    n_tables = offsets.shape[0]
    n_probes = 0
    for t in range(n_tables):
        if radii[t] >= 0:
            n_probes += mask_starts[min(radii[t], key_bits) + 1]
    starts = np.empty(n_probes, np.int64)
    ends = np.empty(n_probes, np.int64)
    rems = np.empty(n_probes, np.int64)
    tables = np.empty(n_probes, np.int64)
    flat_offsets = offsets.reshape(-1)
    offsets_stride = offsets.shape[1]
    flat_fps = fps.reshape(-1)
    fps_stride = fps.shape[1]
    cand = np.empty(4096, np.int64)
    cand_table = np.empty(4096, np.int64)
    out_query = np.empty(1024, np.int64)
    out_row = np.empty(1024, np.int64)
    out_distance = np.empty(1024, np.int64)
    n_out = 0
    qchunk = np.empty(n_tables, np.int64)
    flat_hashes = hashes.reshape(-1)
    pd = PREFETCH_DISTANCE
    for qi in range(queries.shape[0]):
        for t in range(n_tables):
            qchunk[t] = chunk_of(queries, qi, chunk_start[t], chunk_bits[t])
        # Three passes over every bucket of every table, so that the cache misses of all tables
        # overlap instead of one table's at a time (measured ~10% at 10M entries): the keys, with
        # their offsets requested; the bucket bounds, with their fingerprints requested; the scan.
        n_buckets = 0
        for j in range(n_tables):
            t = order[j]
            r = radii[t]
            if r < 0:
                continue
            qkey = qchunk[t] >> (fp_bits[t] + fp_shift[t])
            for w in range(min(r, key_bits) + 1):
                for mi in range(mask_starts[w], mask_starts[w + 1]):
                    key = qkey ^ np.int64(masks[mi])
                    starts[n_buckets] = key
                    tables[n_buckets] = j
                    rems[n_buckets] = r - w
                    prefetch_l2(flat_offsets, t * offsets_stride + key)
                    n_buckets += 1
        for b in range(n_buckets):
            t = order[tables[b]]
            key = starts[b]
            st = np.int64(offsets[t, key])
            en = np.int64(offsets[t, key + 1])
            starts[b] = st
            ends[b] = en
            if st < en:
                prefetch_l2(flat_fps, t * fps_stride + st)
                prefetch_l2(flat_fps, t * fps_stride + en - 1)
        n_cand = 0
        for b in range(n_buckets):
            st = starts[b]
            en = ends[b]
            if st == en:
                continue
            j = tables[b]
            t = order[j]
            rem = rems[b]
            f_bits = fp_bits[t]
            qfp = np.uint8((qchunk[t] >> fp_shift[t]) & ((1 << f_bits) - 1))
            table_fps = fps[t]
            lo = st
            hi = en
            hit = False
            if rem >= f_bits:
                hit = True
            elif rem == 0:
                if en - st > _WINDOW_FROM:
                    # fingerprints are sorted within a bucket and near uniform: look around the
                    # interpolated position, fall back to binary search when the window does not
                    # bracket the fingerprint
                    guess = st + (((en - st) * np.int64(qfp)) >> f_bits)
                    lo = max(st, guess - _HALF_WINDOW)
                    hi = min(en, lo + 2 * _HALF_WINDOW)
                    lo = max(st, hi - 2 * _HALF_WINDOW)
                    if not ((lo == st or table_fps[lo] < qfp) and (hi == en or table_fps[hi - 1] > qfp)):
                        a = st
                        z = en
                        while a < z:
                            mid = (a + z) >> 1
                            if table_fps[mid] < qfp:
                                a = mid + 1
                            else:
                                z = mid
                        lo = a
                        hi = a
                        while hi < en and table_fps[hi] == qfp:
                            hi += 1
                window = table_fps[lo:hi]
                for k in range(window.shape[0]):
                    hit |= window[k] == qfp
            else:
                window = table_fps[st:en]
                for k in range(window.shape[0]):
                    hit |= popcount(window[k] ^ qfp) <= rem
            if not hit:
                continue
            # grow here, never inside the loops: a possible reallocation in the hot loop stops
            # LLVM from keeping it tight (measured 2.4x slower)
            if n_cand + (hi - lo) > cand.shape[0]:
                cand = _grow(cand, n_cand + (hi - lo))
                cand_table = _grow(cand_table, n_cand + (hi - lo))
            for k in range(lo, hi):
                if popcount(table_fps[k] ^ qfp) <= rem:
                    cand[n_cand] = k
                    cand_table[n_cand] = j
                    n_cand += 1
        # slots to rows, then rows to verdicts: two tight loops whose random reads are requested
        # ahead, instead of one branchy loop that waits on each (measured 3x on candidates)
        flat_positions = positions.reshape(-1)
        slot_stride = positions.shape[1] if positions.shape[0] else 0
        for i in range(n_cand):
            if i + pd < n_cand:
                t_ahead = order[cand_table[i + pd]]
                if t_ahead > 0:
                    prefetch(flat_positions, (t_ahead - 1) * slot_stride + cand[i + pd] * row_bytes)
            t = order[cand_table[i]]
            if t > 0:
                cand[i] = read_row(positions[t - 1], cand[i], row_bytes)
        q0 = queries[qi, 0]
        q1 = queries[qi, 1]
        q2 = queries[qi, 2]
        q3 = queries[qi, 3]
        if n_out + n_cand > out_query.shape[0]:
            out_query = _grow(out_query, n_out + n_cand)
            out_row = _grow(out_row, n_out + n_cand)
            out_distance = _grow(out_distance, n_out + n_cand)
        for i in range(min(pd, n_cand)):
            prefetch(flat_hashes, cand[i] * 4)
        for i in range(n_cand):
            if i + pd < n_cand:
                prefetch(flat_hashes, cand[i + pd] * 4)
            row = cand[i]
            d = (
                popcount(hashes[row, 0] ^ q0)
                + popcount(hashes[row, 1] ^ q1)
                + popcount(hashes[row, 2] ^ q2)
                + popcount(hashes[row, 3] ^ q3)
            )
            if d > max_threshold:
                continue
            g = np.int64(groups[row])
            if g >= thresholds.shape[0] or d > thresholds[g]:
                continue
            if (dead[row >> 3] >> (row & 7)) & 1:
                continue
            duplicate = False
            for j2 in range(cand_table[i]):
                t2 = order[j2]
                if radii[t2] < 0:
                    continue
                c = chunk_of(hashes, row, chunk_start[t2], chunk_bits[t2])
                if popcount((c ^ qchunk[t2]) >> fp_shift[t2]) <= radii[t2]:
                    duplicate = True
                    break
            if duplicate:
                continue
            out_query[n_out] = qi
            out_row[n_out] = row
            out_distance[n_out] = d
            n_out += 1
    return out_query[:n_out], out_row[:n_out], out_distance[:n_out]


@_kernel
def scan_search(
    hashes: Any, groups: Any, dead: Any, queries: Any, thresholds: Any, max_threshold: Any
) -> Any:
    """Brute force: every (query, row, distance) with distance <= thresholds[groups[row]].

    Same arguments as `mih_search`; rows are scanned in cache-sized blocks so a batch of queries
    reads the hash array once per block, not once per query.
    """
    n = hashes.shape[0]
    block = 2048
    distance = np.empty(block, np.int64)
    out_query = np.empty(1024, np.int64)
    out_row = np.empty(1024, np.int64)
    out_distance = np.empty(1024, np.int64)
    n_out = 0
    for b0 in range(0, n, block):
        b1 = min(n, b0 + block)
        rows = hashes[b0:b1]
        for qi in range(queries.shape[0]):
            q0 = queries[qi, 0]
            q1 = queries[qi, 1]
            q2 = queries[qi, 2]
            q3 = queries[qi, 3]
            hit = False
            for k in range(b1 - b0):
                d = (
                    popcount(rows[k, 0] ^ q0)
                    + popcount(rows[k, 1] ^ q1)
                    + popcount(rows[k, 2] ^ q2)
                    + popcount(rows[k, 3] ^ q3)
                )
                distance[k] = d
                hit |= d <= max_threshold
            if not hit:
                continue
            if n_out + (b1 - b0) > out_query.shape[0]:
                out_query = _grow(out_query, n_out + (b1 - b0))
                out_row = _grow(out_row, n_out + (b1 - b0))
                out_distance = _grow(out_distance, n_out + (b1 - b0))
            for k in range(b1 - b0):
                d = distance[k]
                if d > max_threshold:
                    continue
                row = b0 + k
                g = np.int64(groups[row])
                if g >= thresholds.shape[0] or d > thresholds[g]:
                    continue
                if (dead[row >> 3] >> (row & 7)) & 1:
                    continue
                out_query[n_out] = qi
                out_row[n_out] = row
                out_distance[n_out] = d
                n_out += 1
    return out_query[:n_out], out_row[:n_out], out_distance[:n_out]


@_kernel
def mih_search_batch(
    hashes: Any,
    groups: Any,
    dead: Any,
    offsets: Any,
    fps: Any,
    positions: Any,
    row_bytes: Any,
    key_bits: Any,
    chunk_start: Any,
    chunk_bits: Any,
    fp_bits: Any,
    fp_shift: Any,
    order: Any,
    radii: Any,
    masks: Any,
    mask_starts: Any,
    queries: Any,
    thresholds: Any,
    max_threshold: Any,
    batch: Any,
    region_bits: Any,
) -> Any:
    """`mih_search` for many queries at once, probe-major: same arguments and the same result as a
    set (in another order), plus `batch` (queries per sub-batch, at most 2**24) and `region_bits`
    (log2 of the buckets in a table region, whose fingerprints should fit in L1).

    Per sub-batch and table, every (key, query, remaining radius) probe is generated and counting-
    sorted by the key's region (its top key_bits - region_bits bits), so the table is swept in key
    order: each region's offsets and fingerprints come from memory once and serve every probe into
    it from cache, instead of one cache miss per probe. The probe is then the one of `mih_search`
    (same slots kept), and so is the check of a candidate, the dedupe rule included: a row is
    reported only by the first table in probe order whose radius covers it.
    """
    n_tables = offsets.shape[0]
    n_queries = queries.shape[0]
    max_r = 0
    for t in range(n_tables):
        max_r = max(max_r, radii[t])
    max_masks = mask_starts[min(max_r, key_bits) + 1]
    batch = max(1, min(batch, n_queries, _QUERY_MASK + 1))
    probes = np.empty(batch * max_masks, np.uint64)
    shift = min(region_bits, key_bits)
    n_regions = np.int64(1) << (key_bits - shift)
    counts = np.zeros(n_regions + 1, np.int64)
    qchunk = np.empty((n_tables, batch), np.int64)
    qkey = np.empty(batch, np.int64)
    qfp = np.empty(batch, np.uint8)
    cand = np.empty(1 << 16, np.int64)
    out_query = np.empty(1024, np.int64)
    out_row = np.empty(1024, np.int64)
    out_distance = np.empty(1024, np.int64)
    n_out = 0
    flat_hashes = hashes.reshape(-1)
    flat_positions = positions.reshape(-1)
    slot_stride = positions.shape[1] if positions.shape[0] else 0
    pd = PREFETCH_DISTANCE
    for b0 in range(0, n_queries, batch):
        nb = min(n_queries, b0 + batch) - b0
        for t in range(n_tables):
            for qi in range(nb):
                qchunk[t, qi] = chunk_of(queries, b0 + qi, chunk_start[t], chunk_bits[t])
        for j in range(n_tables):
            t = order[j]
            r = radii[t]
            if r < 0:
                continue
            f_bits = fp_bits[t]
            f_shift = fp_shift[t]
            w_max = min(r, key_bits)
            n_masks = mask_starts[w_max + 1]
            for qi in range(nb):
                qkey[qi] = qchunk[t, qi] >> (f_bits + f_shift)
                qfp[qi] = np.uint8((qchunk[t, qi] >> f_shift) & ((1 << f_bits) - 1))
            # counting sort of the probes by region
            counts[:] = 0
            for qi in range(nb):
                q_region = qkey[qi] >> shift
                for mi in range(n_masks):
                    counts[(q_region ^ (np.int64(masks[mi]) >> shift)) + 1] += 1
            for region in range(n_regions):
                counts[region + 1] += counts[region]
            for qi in range(nb):
                key0 = qkey[qi]
                for w in range(w_max + 1):
                    probe_tag = np.uint64((qi << 8) | (r - w))
                    for mi in range(mask_starts[w], mask_starts[w + 1]):
                        key = key0 ^ np.int64(masks[mi])
                        region = key >> shift
                        at = counts[region]
                        counts[region] = at + 1
                        probes[at] = (np.uint64(key) << np.uint64(40)) | probe_tag
            table_fps = fps[t]
            table_offsets = offsets[t]
            n_cand = 0
            p_end = 0
            for region in range(n_regions):
                p_start = p_end
                p_end = counts[region]
                # request the next region's fingerprints while this one's probes run: they are
                # read in no particular order, and a data-dependent branch on each would otherwise
                # wait for every cache miss in turn (the offsets are requested two regions ahead)
                if region + 2 < n_regions:
                    for k in range((region + 2) << shift, (region + 3) << shift, 16):
                        prefetch_l2(table_offsets, k)
                if region + 1 < n_regions and counts[region + 1] > p_end:
                    s0 = np.int64(table_offsets[(region + 1) << shift])
                    s1 = np.int64(table_offsets[(region + 2) << shift])
                    for k in range(s0 & ~63, s1, 64):
                        prefetch_l2(table_fps, k)
                for p in range(p_start, p_end):
                    probe = probes[p]
                    key = np.int64(probe >> np.uint64(40))
                    st = np.int64(table_offsets[key])
                    en = np.int64(table_offsets[key + 1])
                    if st == en:
                        continue
                    tag = np.int64((probe >> np.uint64(8)) & np.uint64(0xFFFFFFFF))
                    rem = np.int64(probe & np.uint64(0xFF))
                    fp = qfp[tag]
                    # grow here, never inside the loops (see mih_search)
                    if n_cand + (en - st) > cand.shape[0]:
                        cand = _grow(cand, n_cand + (en - st))
                    if rem == 0 and en - st >= _WINDOW:
                        # fingerprints are sorted within a bucket and near uniform: compare a fixed
                        # window around the interpolated spot (one vector compare) when it brackets
                        # the fingerprint, else binary search
                        guess = st + (((en - st) * np.int64(fp)) >> f_bits)
                        lo = min(max(st, guess - _WINDOW // 2), en - _WINDOW)
                        if (lo == st or table_fps[lo] < fp) and (
                            lo + _WINDOW == en or table_fps[lo + _WINDOW - 1] > fp
                        ):
                            hit = False
                            for k in range(_WINDOW):
                                hit |= table_fps[lo + k] == fp
                            if hit:
                                for k in range(_WINDOW):
                                    cand[n_cand] = ((lo + k) << _QUERY_BITS) | tag
                                    n_cand += table_fps[lo + k] == fp
                        else:
                            a = st
                            z = en
                            while a < z:
                                mid = (a + z) >> 1
                                if table_fps[mid] < fp:
                                    a = mid + 1
                                else:
                                    z = mid
                            while a < en and table_fps[a] == fp:
                                cand[n_cand] = (a << _QUERY_BITS) | tag
                                n_cand += 1
                                a += 1
                    elif rem < f_bits:
                        # short bucket, or a fingerprint radius: every slot, without branches
                        for k in range(st, en):
                            cand[n_cand] = (k << _QUERY_BITS) | tag
                            n_cand += popcount(table_fps[k] ^ fp) <= rem
                    else:
                        for k in range(st, en):
                            cand[n_cand] = (k << _QUERY_BITS) | tag
                            n_cand += 1
            # slots to rows (read in about slot order), kept beside the query
            if t > 0:
                base = (t - 1) * slot_stride
                for i in range(n_cand):
                    if i + pd < n_cand:
                        prefetch(flat_positions, base + (cand[i + pd] >> _QUERY_BITS) * row_bytes)
                    row = read_row(positions[t - 1], cand[i] >> _QUERY_BITS, row_bytes)
                    cand[i] = (row << _QUERY_BITS) | (cand[i] & _QUERY_MASK)
            if n_out + n_cand > out_query.shape[0]:
                out_query = _grow(out_query, n_out + n_cand)
                out_row = _grow(out_row, n_out + n_cand)
                out_distance = _grow(out_distance, n_out + n_cand)
            for i in range(min(pd, n_cand)):
                prefetch(flat_hashes, (cand[i] >> _QUERY_BITS) * 4)
            for i in range(n_cand):
                if i + pd < n_cand:
                    prefetch(flat_hashes, (cand[i + pd] >> _QUERY_BITS) * 4)
                row = cand[i] >> _QUERY_BITS
                in_batch = cand[i] & _QUERY_MASK
                q = b0 + in_batch
                d = (
                    popcount(hashes[row, 0] ^ queries[q, 0])
                    + popcount(hashes[row, 1] ^ queries[q, 1])
                    + popcount(hashes[row, 2] ^ queries[q, 2])
                    + popcount(hashes[row, 3] ^ queries[q, 3])
                )
                if d > max_threshold:
                    continue
                g = np.int64(groups[row])
                if g >= thresholds.shape[0] or d > thresholds[g]:
                    continue
                if (dead[row >> 3] >> (row & 7)) & 1:
                    continue
                duplicate = False
                for j2 in range(j):
                    t2 = order[j2]
                    if radii[t2] < 0:
                        continue
                    c = chunk_of(hashes, row, chunk_start[t2], chunk_bits[t2])
                    if popcount((c ^ qchunk[t2, in_batch]) >> fp_shift[t2]) <= radii[t2]:
                        duplicate = True
                        break
                if duplicate:
                    continue
                out_query[n_out] = q
                out_row[n_out] = row
                out_distance[n_out] = d
                n_out += 1
    return out_query[:n_out], out_row[:n_out], out_distance[:n_out]
