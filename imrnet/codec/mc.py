"""Dense motion fields and motion compensation from FFmpeg's exported MPEG-4 motion vectors.

Vectors arrive as AVMotionVector records (one per 16x16 macroblock, or four 8x8 ones in 4-MV
mode; intra macroblocks have none). ``motion_x / motion_scale`` is the displacement from the
current pixel to its source in the reference frame, in pixels (``motion_scale`` = 2: half-pel).
The records are scattered, vectorised, into an 8x8-cell grid (`motion_grid`); the per-pixel
work on that grid runs in the fused kernels of `kernels`. `expand` and `predict_plane` are the
plain NumPy statement of the same arithmetic, kept as the reference the kernels are tested
against.

Two compensation models:

* ``coviar``: CoViAR's (``coviar_data_loader.c``): vectors truncated toward zero to whole pixels
  (C integer division in FFmpeg's ``src_x = dst_x + motion_x / motion_scale``), a pixel whose
  source falls outside the frame keeps zero motion, prediction = reference RGB at the source.
* ``exact``: the decoder's own prediction on the YUV 4:2:0 planes (MPEG-4 half-pel bilinear
  interpolation with the VOP's rounding control, chroma vectors by MPEG-4's rounding rules, edge
  clamping for vectors that point outside the frame), as in FFmpeg's ``mpeg_motion`` and
  ``chroma_4mv_motion``.
"""

from __future__ import annotations

import numpy as np

from .kernels import scatter_vectors

__all__ = ["MotionGrid", "motion_grid", "expand", "predict_plane", "chroma_grid"]

# ff_h263_chroma_roundtab: chroma vector of a 4-MV macroblock from the sum of its 4 luma vectors
_CHROMA_ROUND = np.array([0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2], dtype=np.int32)


class MotionGrid:
    """Half-pel luma vectors on an 8x8-cell grid covering whole macroblocks.

    Attributes:
        vec: int32 [2*MBH, 2*MBW, 2] (mx, my) in half-pel units; 0 where no vector (intra).
        four_mv: bool [MBH, MBW], macroblocks coded with four 8x8 vectors.
    """

    __slots__ = ("vec", "four_mv")

    def __init__(self, vec: np.ndarray, four_mv: np.ndarray):
        self.vec, self.four_mv = vec, four_mv


def motion_grid(mvs: np.ndarray | None, height: int, width: int) -> MotionGrid:
    """Scatter AVMotionVector records into a `MotionGrid`.

    Args:
        mvs: structured array from ``MotionVectors.to_ndarray()`` (forward vectors, half-pel),
            or None for a frame without vectors.
        height, width: frame size in pixels.
    """
    mbh, mbw = (height + 15) // 16, (width + 15) // 16
    vec = np.zeros((2 * mbh, 2 * mbw, 2), dtype=np.int32)
    four = np.zeros((mbh, mbw), dtype=bool)
    if mvs is not None and len(mvs):
        scatter_vectors(mvs, vec, four)
    return MotionGrid(vec, four)


def expand(grid: np.ndarray, cell: int, height: int, width: int) -> np.ndarray:
    """Repeat each grid cell to ``cell`` x ``cell`` pixels and crop to (height, width)."""
    return np.repeat(np.repeat(grid, cell, axis=0), cell, axis=1)[:height, :width]


def chroma_grid(grid: MotionGrid) -> np.ndarray:
    """Chroma vectors per macroblock, int32 [MBH, MBW, 2] in chroma half-pel units.

    1-MV macroblocks (FFmpeg ``mpeg_motion``, H.263 path): the chroma position is
    ``(mb*16 + (mv >> 1)) >> 1`` with a half-pel flag when ``mv & 3`` is non-zero.
    4-MV macroblocks (``chroma_4mv_motion``): ``ff_h263_round_chroma`` of the 4 vectors' sum.
    """
    v = grid.vec
    one = v[0::2, 0::2]
    out = 2 * (one >> 2) + ((one & 3) != 0)
    if grid.four_mv.any():
        s = v[0::2, 0::2] + v[1::2, 0::2] + v[0::2, 1::2] + v[1::2, 1::2]
        four = _CHROMA_ROUND[s & 15] + ((s >> 3) & ~1)
        out = np.where(grid.four_mv[..., None], four, out)
    return out.astype(np.int32)


def predict_plane(ref: np.ndarray, hpel: np.ndarray, rounding: int) -> np.ndarray:
    """Half-pel bilinear motion compensation of one plane, as the MPEG-4 decoder does it.

    Args:
        ref: uint8 [h, w] reference plane.
        hpel: int32 [h, w, 2] per-pixel (mx, my) in half-pel units of this plane.
        rounding: the VOP's rounding control (0 or 1).

    Returns:
        uint8 [h, w]: ``a``, ``(a+b+1-r)>>1`` or ``(a+b+c+d+2-r)>>2`` by the vector's
        fractional parts, with source coordinates clamped to the plane (edge extension).
    """
    h, w = ref.shape
    mx, my = hpel[..., 0], hpel[..., 1]
    x0 = (mx >> 1) + np.arange(w, dtype=np.int32)[None, :]
    y0 = (my >> 1) + np.arange(h, dtype=np.int32)[:, None]
    fx, fy = mx & 1, my & 1
    xa, xb = np.clip(x0, 0, w - 1), np.clip(x0 + 1, 0, w - 1)
    ya, yb = np.clip(y0, 0, h - 1) * w, np.clip(y0 + 1, 0, h - 1) * w
    flat = ref.reshape(-1).astype(np.int16)
    a = flat[ya + xa]
    b = np.where(fx == 1, flat[ya + xb], a)
    c = np.where(fy == 1, flat[yb + xa], a)
    d = np.where((fx & fy) == 1, flat[yb + xb], b + c - a)
    # fx=fy=0: (4a + 2 - r) >> 2 == a for r in {0, 1}; one fractional part: d = b + c - a
    # makes a+b+c+d = 2(a+b) or 2(a+c), i.e. (2(a+b) + 2 - r) >> 2 == (a+b+1-r) >> 1.
    return ((a + b + c + d + 2 - rounding) >> 2).astype(np.uint8)
