"""The fused kernels equal the plain NumPy statement of the same arithmetic."""

from __future__ import annotations

import numpy as np
import pytest

from imrnet.codec import kernels, mc


@pytest.mark.parametrize("rounding", [0, 1])
@pytest.mark.parametrize("shape", [(48, 64), (37, 53)])
def test_hpel_predict_matches_numpy_reference(rounding, shape):
    rng = np.random.default_rng(7)
    h, w = shape
    ref = rng.integers(0, 256, (h, w), dtype=np.uint8)
    cells = rng.integers(-40, 41, (-(-h // 8), -(-w // 8), 2)).astype(np.int32)  # some leave the frame
    want = mc.predict_plane(ref, mc.expand(cells, 8, h, w), rounding)
    got = np.empty((h, w), np.uint8)
    kernels.hpel_predict(ref, cells, 8, rounding, got)
    np.testing.assert_array_equal(got, want)


def test_residual_and_half_motion():
    rng = np.random.default_rng(8)
    cur = rng.integers(0, 256, (9, 11, 3), dtype=np.uint8)
    pred = rng.integers(0, 256, (9, 11, 3), dtype=np.uint8)
    res = np.empty((9, 11, 3), np.int16)
    kernels.residual(cur, pred, res)
    np.testing.assert_array_equal(res, cur.astype(np.int16) - pred)
    cells = rng.integers(-9, 10, (2, 2, 2)).astype(np.int32)
    m = np.empty((9, 11, 2), np.float32)
    kernels.half_motion(cells, 8, m)
    np.testing.assert_array_equal(m, mc.expand(cells, 8, 9, 11) * 0.5)
