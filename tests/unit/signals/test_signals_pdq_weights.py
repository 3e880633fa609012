"""Exact mode's whole-number row weights (``pdq._whole_weights``): the same weights, no rounding."""

from __future__ import annotations

import numpy as np
import pytest

from suraksha.signals import pdq


@pytest.mark.parametrize("n", [5, 64, 127, 128, 129, 300, 901, 1203, 2048, 4000, 12_345, 40_000])
def test_whole_weights_are_the_weights(n: int) -> None:
    _, _, weights = pdq._axis_weights(n)
    counts, scale = pdq._whole_weights(n)
    whole = scale > 0
    window = (n + 127) // 128
    assert whole[1:-1].all() or 255 * window * window >= 2**24  # only edge rows use float64 weights
    np.testing.assert_allclose(counts[whole] * scale[whole, None], weights[whole], rtol=1e-12, atol=0)
    assert (counts == np.rint(counts)).all()
    assert (255 * counts.sum(axis=1, dtype=np.float64) < 2**24).all()  # float32 sums stay exact
    assert not counts[~whole].any()


def test_exact_gather_matches_the_float64_weights() -> None:
    rng = np.random.default_rng(7)
    rgb = rng.integers(0, 256, (901, 1203, 3), dtype=np.uint8)
    rows = pdq._axis_weights(901)
    cols = pdq._axis_weights(1203)
    got = np.empty((64, 64), np.float32)
    pdq._kernels().gather64_rgb(rgb, *rows, *pdq._whole_weights(901), *cols, got)
    expected = np.empty((64, 64), np.float32)
    no_whole = (np.zeros((64, rows[2].shape[1]), np.float32), np.zeros(64))
    pdq._kernels().gather64_rgb(rgb, *rows, *no_whole, *cols, expected)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-4)
