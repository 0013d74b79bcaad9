"""The geometry kernel of the sample path (numba, compiled once and cached on disk); the
normalisation kernels live in `imrnet.codec.kernels`, the PMSP sums in `imrnet.pretext.pmsp`.

The sample path (`transforms`, `imrnet.codec.normalize.to_model_input`) used to copy every
stream after each step (crop, resize, flip, then a float copy, three in-place passes and a
transposing copy to normalise). These kernels read the source through any strides (a crop is a
view, a flip is a reversed index) and write each output once.

They are the same float32 arithmetic, in the same order, as the NumPy/torch statement they
replace (IEEE single-precision operations, correctly rounded, no contraction into FMA: numba
compiles without fastmath), so the outputs are bit for bit those of the previous path
(tests/data/test_fast_path.py compares them on real and synthetic clips).
"""

from __future__ import annotations

import numba as nb
import numpy as np

__all__ = ["gather_motion", "round_cast"]

_JIT = dict(nogil=True, cache=True, boundscheck=False, error_model="numpy")


@nb.njit(**_JIT)
def gather_motion(m, rows, cols, sx, sy, scale, negate_x, out):
    """Nearest-neighbour resampling of a motion field with its values scaled.

    ``out[t, p, i, j] = m[t, p, rows[i], cols[j]] * (sx, sy)`` (only when ``scale``), then dx
    negated when ``negate_x`` (a horizontal flip: ``cols`` then runs right to left).

    Args:
        m: float32 [T, P, H, W, 2], any strides (a crop is a view).
        rows, cols: int64 source row / column of each output row / column.
        sx, sy: float32 factors of dx and dy.
        out: float32 [T, P, len(rows), len(cols), 2].
    """
    for t in range(m.shape[0]):
        for p in range(m.shape[1]):
            for i in range(rows.shape[0]):
                r = rows[i]
                for j in range(cols.shape[0]):
                    c = cols[j]
                    dx = m[t, p, r, c, 0]
                    dy = m[t, p, r, c, 1]
                    if scale:
                        dx = dx * sx
                        dy = dy * sy
                    if negate_x:
                        dx = dx * np.float32(-1.0)
                    out[t, p, i, j, 0] = dx
                    out[t, p, i, j, 1] = dy


@nb.njit(**_JIT)
def round_cast(src, clamp_lo, clamp_hi, clamp, out):
    """``out = cast(clamp(round(src)))`` over contiguous arrays of one size: the resize's float
    output back to the stream's integer dtype in one vectorised pass. ``np.rint`` rounds half
    to even, as ``torch.round`` does; the clamp (the uint8 I-frames') comes after it."""
    s = src.reshape(-1)
    o = out.reshape(-1)
    for i in range(s.shape[0]):
        v = np.rint(s[i])
        if clamp:
            if v < clamp_lo:
                v = clamp_lo
            elif v > clamp_hi:
                v = clamp_hi
        o[i] = v
