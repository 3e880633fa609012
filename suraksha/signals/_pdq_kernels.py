"""Numba kernels behind ``suraksha.signals.pdq``. Private: call them through ``pdq.py``.

Two ways to get the 64x64 downsample that PDQ hashes:

- ``gather64_*``: each of the 64x64 samples that the reference keeps after its two Jarosz box-filter
  passes and decimation is a fixed weighted sum over a small window of pixels (the filter is linear and
  separable), so only the pixels inside those windows are read: a vertical weighted sum of whole rows,
  then a horizontal weighted sum. Weights come from ``pdq._axis_weights``. The accumulator type is the
  weights' type: float64 for exact mode, float32 for fast mode; ``gather64_rgb``'s vertical pass sums
  whole-number weights (``pdq._whole_weights``) in float32 without rounding where it can.
- ``reference_*``: the C++ reference's own arithmetic (float32 running sums, divide by the current window
  size, four phases per box), bit for bit. Slower (it touches every pixel four times, and the row passes
  are a serial chain); exact mode uses it for small images and when the fast result sits too close to a
  decision boundary (see ``pdq._needs_reference``).

Then ``dct_and_quality`` (float32, in the reference's summation order, so that the same 64x64 buffer
gives the same 16x16 coefficients) and ``bits_from_dct``.

No ``fastmath`` anywhere: reassociation or fused multiply-adds would change the float32 results that
exact mode must reproduce.
"""

from __future__ import annotations

import numpy as np
from numba import njit

# ---------------------------------------------------------------------------------------------------
# Weighted gather (the fast path of both modes)


@njit(cache=True, nogil=True)
def axis_weights(n, starts, lengths, weights):  # type: ignore[no-untyped-def]
    """Fill the (starts, lengths, weights) of ``pdq._axis_weights`` for dimension ``n``.

    Box pass output o averages inputs ``lo(o) .. hi(o)`` (``box1DFloat``'s four phases reduce to
    this: windows shrink at the edges and divide by their current size). Sample i is the second pass's
    output at the decimation index ``s = int((i + 0.5) * n / 64)``, i.e. the mean over o in
    ``lo(s) .. hi(s)`` of the first pass's outputs, so pixel x gets ``sum of 1 / (n1(o) * n2(s))``
    over the first-pass windows that hold it. ``weights`` must come in zeroed, (64, >= 2 * window).
    """
    window = (n + 127) // 128
    half = (window + 2) // 2
    for i in range(64):
        s = int(((i + 0.5) * n) / 64)
        lo_s = max(0, s - window + half)
        hi_s = min(n - 1, s + half - 1)
        start = max(0, lo_s - window + half)
        starts[i] = start
        lengths[i] = min(n - 1, hi_s + half - 1) - start + 1
        for o in range(lo_s, hi_s + 1):
            lo_o = max(0, o - window + half)
            hi_o = min(n - 1, o + half - 1)
            share = 1.0 / ((hi_o - lo_o + 1) * (hi_s - lo_s + 1))
            for x in range(lo_o, hi_o + 1):
                weights[i, x - start] += share


@njit(cache=True, nogil=True)
def gather64_rgb(rgb, rs, rl, rw, rc, rscale, cs, cl, cw, out):  # type: ignore[no-untyped-def]
    """out[i, j] = sum over the (rl[i] x cl[j]) window at (rs[i], cs[j]) of weight x luma(pixel).

    ``rgb`` is (H, W, 3) uint8, C-contiguous. Luma is linear, so the vertical pass sums the three
    channels separately over whole interleaved rows (contiguous, vectorises) and luma is formed once
    per kept column. The order of the float64 additions differs from a plain left-to-right sum by far
    less than exact mode's error bound (``pdq._SAMPLE_ERROR_BOUND``).

    Where ``rscale[i] > 0`` the row weights are ``rc[i] * rscale[i]`` with ``rc`` whole numbers small
    enough that every product and partial sum of the vertical pass is a whole number under 2**24: that
    pass then runs in float32 with no rounding at all (twice the SIMD lanes of float64), and is scaled
    once per kept column.
    """
    H, W, _ = rgb.shape
    flat = rgb.reshape(H, W * 3)
    x0 = cs[0]
    x1 = cs[63] + cl[63]
    n3 = (x1 - x0) * 3
    tmp = np.empty(n3, rw.dtype)
    whole = np.empty(n3, np.float32)
    lum = np.empty(x1 - x0, rw.dtype)
    for i in range(64):
        if rscale[i] > 0.0:
            whole[:] = 0.0
            k = 0
            while k + 4 <= rl[i]:
                c0, c1, c2, c3 = rc[i, k], rc[i, k + 1], rc[i, k + 2], rc[i, k + 3]
                r0 = flat[rs[i] + k, x0 * 3 : x1 * 3]
                r1 = flat[rs[i] + k + 1, x0 * 3 : x1 * 3]
                r2 = flat[rs[i] + k + 2, x0 * 3 : x1 * 3]
                r3 = flat[rs[i] + k + 3, x0 * 3 : x1 * 3]
                for x in range(n3):
                    whole[x] += (c0 * np.float32(r0[x]) + c1 * np.float32(r1[x])) + (
                        c2 * np.float32(r2[x]) + c3 * np.float32(r3[x])
                    )
                k += 4
            while k < rl[i]:
                c0 = rc[i, k]
                row = flat[rs[i] + k, x0 * 3 : x1 * 3]
                for x in range(n3):
                    whole[x] += c0 * np.float32(row[x])
                k += 1
            scale = rscale[i]
            for x in range(x1 - x0):
                lum[x] = (
                    0.299 * np.float64(whole[3 * x])
                    + 0.587 * np.float64(whole[3 * x + 1])
                    + 0.114 * np.float64(whole[3 * x + 2])
                ) * scale
        else:
            tmp[:] = 0.0
            k = 0
            while k + 4 <= rl[i]:  # four rows per sweep of ``tmp``: a quarter of its loads and stores
                w0, w1, w2, w3 = rw[i, k], rw[i, k + 1], rw[i, k + 2], rw[i, k + 3]
                r0 = flat[rs[i] + k, x0 * 3 : x1 * 3]
                r1 = flat[rs[i] + k + 1, x0 * 3 : x1 * 3]
                r2 = flat[rs[i] + k + 2, x0 * 3 : x1 * 3]
                r3 = flat[rs[i] + k + 3, x0 * 3 : x1 * 3]
                for x in range(n3):
                    tmp[x] += (w0 * r0[x] + w1 * r1[x]) + (w2 * r2[x] + w3 * r3[x])
                k += 4
            while k < rl[i]:
                wgt = rw[i, k]
                row = flat[rs[i] + k, x0 * 3 : x1 * 3]
                for x in range(n3):
                    tmp[x] += wgt * row[x]
                k += 1
            for x in range(x1 - x0):
                lum[x] = 0.299 * tmp[3 * x] + 0.587 * tmp[3 * x + 1] + 0.114 * tmp[3 * x + 2]
        for j in range(64):  # four partial sums: independent chains of additions overlap
            base = cs[j] - x0
            n = cl[j]
            s0 = s1 = s2 = s3 = 0.0
            k = 0
            while k + 4 <= n:
                s0 += cw[j, k] * lum[base + k]
                s1 += cw[j, k + 1] * lum[base + k + 1]
                s2 += cw[j, k + 2] * lum[base + k + 2]
                s3 += cw[j, k + 3] * lum[base + k + 3]
                k += 4
            while k < n:
                s0 += cw[j, k] * lum[base + k]
                k += 1
            out[i, j] = (s0 + s1) + (s2 + s3)


@njit(cache=True, nogil=True)
def gather64_luma(luma, rs, rl, rw, cs, cl, cw, out):  # type: ignore[no-untyped-def]
    """As ``gather64_rgb`` for a (H, W) luminance plane (uint8 or float32), C-contiguous."""
    x0 = cs[0]
    x1 = cs[63] + cl[63]
    n = x1 - x0
    tmp = np.empty(n, rw.dtype)
    for i in range(64):
        tmp[:] = 0.0
        for k in range(rl[i]):
            wgt = rw[i, k]
            row = luma[rs[i] + k, x0:x1]
            for x in range(n):
                tmp[x] += wgt * row[x]
        for j in range(64):
            s = 0.0
            base = cs[j] - x0
            for k in range(cl[j]):
                s += cw[j, k] * tmp[base + k]
            out[i, j] = s


# ---------------------------------------------------------------------------------------------------
# The reference's own arithmetic (downscaling.cpp), for exact mode's fallback

_ROW_BLOCK = 8
"""Rows run through the row passes together: each row's float32 running sum is a serial chain of
dependent additions (latency-bound), so advancing several rows' independent chains in one loop lets the
CPU overlap them. Every row's own sequence of operations is unchanged, so the results are too."""


@njit(cache=True, nogil=True)
def reference_luma_into(rgb, out):  # type: ignore[no-untyped-def]
    """out = float32(R*0.299 + G*0.587 + B*0.114) evaluated in float64, as the ``pdqhash`` binding does.

    (The C++ command-line tool evaluates the same sum in float32; the two differ by at most one unit
    in the last place of the float32 result.)
    """
    H, W, _ = rgb.shape
    flat = rgb.reshape(H, W * 3)
    for y in range(H):
        row = flat[y]
        luma = out[y]
        for x in range(W):
            luma[x] = np.float32(
                np.float64(row[3 * x]) * 0.299
                + np.float64(row[3 * x + 1]) * 0.587
                + np.float64(row[3 * x + 2]) * 0.114
            )


@njit(cache=True, nogil=True)
def _box_along_rows(inp, out, window):  # type: ignore[no-untyped-def]
    """box1DFloat over every row, float32, four phases, exactly as the reference (``_ROW_BLOCK`` rows
    at a time, each with its own running sum)."""
    H, N = inp.shape
    half = (window + 2) // 2
    p1 = half - 1
    p2 = window - half + 1
    p3 = N - window
    p4 = half - 1
    s = np.empty(_ROW_BLOCK, np.float32)
    for r0 in range(0, H, _ROW_BLOCK):
        nb = min(H, r0 + _ROW_BLOCK) - r0
        s[:] = 0.0
        count = 0
        li = 0
        ri = 0
        oi = 0
        for _ in range(p1):
            for b in range(nb):
                s[b] += inp[r0 + b, ri]
            count += 1
            ri += 1
        for _ in range(p2):
            count += 1
            c = np.float32(count)
            for b in range(nb):
                s[b] += inp[r0 + b, ri]
                out[r0 + b, oi] = s[b] / c
            ri += 1
            oi += 1
        c = np.float32(count)
        for _ in range(p3):
            for b in range(nb):
                s[b] += inp[r0 + b, ri]
                s[b] -= inp[r0 + b, li]
                out[r0 + b, oi] = s[b] / c
            li += 1
            ri += 1
            oi += 1
        for _ in range(p4):
            count -= 1
            c = np.float32(count)
            for b in range(nb):
                s[b] -= inp[r0 + b, li]
                out[r0 + b, oi] = s[b] / c
            li += 1
            oi += 1


@njit(cache=True, nogil=True)
def _box_along_cols(inp, out, window):  # type: ignore[no-untyped-def]
    """box1DFloat down every column, float32; one running sum per column, advanced a row at a time."""
    N, W = inp.shape
    half = (window + 2) // 2
    p1 = half - 1
    p2 = window - half + 1
    p3 = N - window
    p4 = half - 1
    s = np.zeros(W, np.float32)
    count = 0
    li = 0
    ri = 0
    oi = 0
    for _ in range(p1):
        for x in range(W):
            s[x] += inp[ri, x]
        count += 1
        ri += 1
    for _ in range(p2):
        count += 1
        c = np.float32(count)
        for x in range(W):
            s[x] += inp[ri, x]
            out[oi, x] = s[x] / c
        ri += 1
        oi += 1
    c = np.float32(count)
    for _ in range(p3):
        for x in range(W):
            s[x] += inp[ri, x]
            s[x] -= inp[li, x]
            out[oi, x] = s[x] / c
        li += 1
        ri += 1
        oi += 1
    for _ in range(p4):
        count -= 1
        c = np.float32(count)
        for x in range(W):
            s[x] -= inp[li, x]
            out[oi, x] = s[x] / c
        li += 1
        oi += 1


@njit(cache=True, nogil=True)
def _box_along_rows_kept(inp, out, window, kept):  # type: ignore[no-untyped-def]
    """As ``_box_along_rows``, but writes only the outputs at columns ``kept`` (64, non-decreasing):
    ``out[r, j] = box(inp[r])[kept[j]]``. The running sums still walk the whole rows, so every kept
    value is bit-identical to the full pass; the divisions and stores of the other columns are skipped.
    """
    H, N = inp.shape
    half = (window + 2) // 2
    p1 = half - 1
    p2 = window - half + 1
    p3 = N - window
    p4 = half - 1
    s = np.empty(_ROW_BLOCK, np.float32)
    for r0 in range(0, H, _ROW_BLOCK):
        nb = min(H, r0 + _ROW_BLOCK) - r0
        s[:] = 0.0
        count = 0
        li = 0
        ri = 0
        oi = 0
        j = 0
        for _ in range(p1):
            for b in range(nb):
                s[b] += inp[r0 + b, ri]
            count += 1
            ri += 1
        for _ in range(p2):
            count += 1
            for b in range(nb):
                s[b] += inp[r0 + b, ri]
            while j < 64 and kept[j] == oi:
                c = np.float32(count)
                for b in range(nb):
                    out[r0 + b, j] = s[b] / c
                j += 1
            ri += 1
            oi += 1
        for _ in range(p3):
            for b in range(nb):
                s[b] += inp[r0 + b, ri]
                s[b] -= inp[r0 + b, li]
            while j < 64 and kept[j] == oi:
                c = np.float32(count)
                for b in range(nb):
                    out[r0 + b, j] = s[b] / c
                j += 1
            li += 1
            ri += 1
            oi += 1
        for _ in range(p4):
            count -= 1
            for b in range(nb):
                s[b] -= inp[r0 + b, li]
            while j < 64 and kept[j] == oi:
                c = np.float32(count)
                for b in range(nb):
                    out[r0 + b, j] = s[b] / c
                j += 1
            li += 1
            oi += 1


@njit(cache=True, nogil=True)
def reference_downsample(b1, b2):  # type: ignore[no-untyped-def]
    """pdqFloat256FromFloatLuma's blur and decimation of the float32 (H, W) plane ``b1`` to 64x64.

    ``b1`` is overwritten (as the reference overwrites its fullBuffer1); ``b2`` is scratch of the same
    shape. Passes 1-3 are the reference's; the last column pass runs only down the 64 kept columns and
    the kept values of the last row pass are all that pass 3 stores (same arithmetic, fewer outputs).
    """
    H, W = b1.shape
    out = np.empty((64, 64), np.float32)
    if H == 64 and W == 64:  # the reference copies a 64x64 input as it is
        out[:, :] = b1
        return out
    along_rows = (W + 127) // 128
    along_cols = (H + 127) // 128
    kept_rows = np.empty(64, np.int64)
    kept_cols = np.empty(64, np.int64)
    for i in range(64):
        kept_rows[i] = int(((i + 0.5) * H) / 64)
        kept_cols[i] = int(((i + 0.5) * W) / 64)
    _box_along_rows(b1, b2, along_rows)
    _box_along_cols(b2, b1, along_cols)
    columns = np.empty((H, 64), np.float32)
    _box_along_rows_kept(b1, columns, along_rows, kept_cols)
    blurred = np.empty((H, 64), np.float32)
    _box_along_cols(columns, blurred, along_cols)
    for i in range(64):
        out[i, :] = blurred[kept_rows[i], :]
    return out


# ---------------------------------------------------------------------------------------------------
# DCT, quality, bits (pdqhashing.cpp)


@njit(cache=True, nogil=True)
def dct_and_quality(A, D):  # type: ignore[no-untyped-def]
    """(B, gradient_sum): B = D A D^T as dct64To16 computes it in float32; the quality metric's sum.

    The reference's quality is ``min(gradient_sum // 90, 100)``.

    ``A`` is the 64x64 float32 downsample, ``D`` the 16x64 float32 DCT matrix.
    """
    T = np.empty((16, 64), np.float32)
    B = np.empty((16, 16), np.float32)
    for i in range(16):
        for j in range(64):
            s = np.float32(0.0)
            for k in range(64):
                s += D[i, k] * A[k, j]
            T[i, j] = s
    for i in range(16):
        for j in range(16):
            s = np.float32(0.0)
            for k in range(64):
                s += T[i, k] * D[j, k]
            B[i, j] = s
    hundred = np.float32(100.0)
    scale = np.float32(255.0)
    gradient_sum = 0
    for i in range(63):
        for j in range(64):
            gradient_sum += abs(int(((A[i, j] - A[i + 1, j]) * hundred) / scale))
    for i in range(64):
        for j in range(63):
            gradient_sum += abs(int(((A[i, j] - A[i, j + 1]) * hundred) / scale))
    return B, gradient_sum


@njit(cache=True, nogil=True)
def quality_fragility(A, tolerance):  # type: ignore[no-untyped-def]
    """How many quality-metric gradient terms sit within ``tolerance`` of a truncation step.

    Each term is int((u - v) * 100 / 255); its magnitude changes only when the float crosses a whole
    number >= 1. Exact mode uses the count to tell whether a slightly different downsample could move
    the quality score.
    """
    hundred = np.float32(100.0)
    scale = np.float32(255.0)
    fragile = 0
    for i in range(64):
        for j in range(64):
            if i < 63:
                fragile += _near_step(abs(((A[i, j] - A[i + 1, j]) * hundred) / scale), tolerance)
            if j < 63:
                fragile += _near_step(abs(((A[i, j] - A[i, j + 1]) * hundred) / scale), tolerance)
    return fragile


@njit(cache=True, nogil=True)
def _near_step(t, tolerance):  # type: ignore[no-untyped-def]
    nearest = np.floor(t + 0.5)
    return 1 if nearest >= 1.0 and abs(t - nearest) < tolerance else 0


@njit(cache=True, nogil=True)
def bits_from_dct(B, out):  # type: ignore[no-untyped-def]
    """pdqBuffer16x16ToBits: bit k = i*16 + j is set when B[i, j] > the median.

    The median is Torben's, which for 256 values returns the 128th smallest. ``out`` (32 uint8) gets
    the 256-bit number with bit k worth 2**k, big-endian: the reference's hex string as bytes.
    """
    flat = B.ravel()
    median = np.sort(flat)[127]
    out[:] = 0
    for k in range(256):
        if flat[k] > median:
            out[31 - (k >> 3)] |= np.uint8(1 << (k & 7))
