"""Pyramidal motion statistics prediction (PMSP): the labels of the paper's Algorithm 1.

For every P-frame the motion field's Prewitt gradients are taken, ``dx = Gx * motion_x`` and
``dy = Gy * motion_y`` (3x3 Prewitt, borders reflected about the edge pixel, NumPy's
``"reflect"``, OpenCV's default ``BORDER_REFLECT_101``). For each temporal scale ``t`` in
{1, 3, 5} there are ``t`` windows; window ``q`` covers GOPs ``q .. q + T - t`` (T - t + 1 GOPs:
all of them at t = 1, one at t = T). Over a window's P-frames ``dx`` and ``dy`` are summed, the
magnitude ``sqrt(sum_dx**2 + sum_dy**2)`` is summed over each cell of an ``s x s`` grid (cell
edges ``floor(linspace(0, size, s + 1))``) for s in {2, 3, 4}, and the label is the cell with the
largest sum, row-major (``row * s + col``), ties to the lowest index. A clip gets 27 labels over 9
levels.

Which P-frames: the function takes whatever it is given. The dataset passes the sampled ones
(every ``pframe_stride``-th, 5 per GOP in the paper's setting) by default; Algorithm 1 sums over
all K - 1 P-frames of each GOP, which `CompressedClipDataset(pmsp_pframes="all")` offers.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from ..codec.normalize import kernel_array

__all__ = ["PMSP_GRIDS", "PMSP_SCALES", "pmsp_levels", "pmsp_labels", "pmsp_key", "parse_pmsp_key",
           "cell_edges"]

PMSP_GRIDS = (2, 3, 4)   # s: spatial grid sizes
PMSP_SCALES = (1, 3, 5)  # t: temporal scales (number of windows)


def pmsp_levels(num_gops: int = 5, grids=PMSP_GRIDS, scales=PMSP_SCALES) -> list[tuple[int, int]]:
    """The (s, t) levels in a fixed order (s-major), those with t <= num_gops."""
    return [(s, t) for s in grids for t in scales if t <= num_gops]


def pmsp_key(s: int, t: int) -> str:
    """The string form of a level used in files and metrics: ``s{s}_t{t}``."""
    return f"s{s}_t{t}"


def parse_pmsp_key(key: str) -> tuple[int, int]:
    """Inverse of `pmsp_key`."""
    try:
        s, t = key.split("_")
        if s[0] != "s" or t[0] != "t":
            raise ValueError
        return int(s[1:]), int(t[1:])
    except (ValueError, IndexError):
        raise ValueError(f"not a PMSP level key (expected 's<s>_t<t>'): {key!r}") from None


def cell_edges(size: int, s: int) -> np.ndarray:
    """Cell boundaries of an s-cell grid over ``size`` pixels: floor(linspace(0, size, s+1))."""
    return np.floor(np.linspace(0, size, s + 1)).astype(np.int64)


_JIT = dict(nogil=True, cache=True, boundscheck=False, error_model="numpy")


@nb.njit(**_JIT)
def _gop_gradients(m, gx, gy):
    """``gx[t] = Gx * sum_p m[t, p, ..., 0]``, ``gy[t] = Gy * sum_p m[t, p, ..., 1]`` (3x3
    Prewitt correlation, Gx = [[-1, 0, 1]] in each of 3 rows, Gy its transpose; a convolution
    would only flip both signs, which the window sum and magnitude do not see; borders
    reflected about the edge pixel), float64, from motion of any strides.

    Prewitt is linear, so this is the per-GOP sum of each P-frame's gradients; with the
    reader's motion every sum here is exact in float64, whatever its order."""
    h, w = m.shape[2], m.shape[3]
    s = np.empty((h, w, 2), dtype=np.float64)
    for t in range(m.shape[0]):
        s[:] = 0.0
        for p in range(m.shape[1]):
            for y in range(h):
                for x in range(w):
                    s[y, x, 0] += np.float64(m[t, p, y, x, 0])
                    s[y, x, 1] += np.float64(m[t, p, y, x, 1])
        for y in range(h):
            y0 = y - 1 if y > 0 else 1
            y2 = y + 1 if y < h - 1 else h - 2
            for x in range(w):
                x0 = x - 1 if x > 0 else 1
                x2 = x + 1 if x < w - 1 else w - 2
                gx[t, y, x] = (s[y0, x2, 0] + s[y, x2, 0] + s[y2, x2, 0]) - (s[y0, x0, 0] + s[y, x0, 0] + s[y2, x0, 0])
                gy[t, y, x] = (s[y2, x0, 1] + s[y2, x, 1] + s[y2, x2, 1]) - (s[y0, x0, 1] + s[y0, x, 1] + s[y0, x2, 1])


@nb.njit(**_JIT)
def _window_magnitudes(gx, gy, t, out):
    """``out[q] = sqrt(sx**2 + sy**2)`` with ``sx = sum of gx over GOPs q .. q + T - t``
    (likewise sy): the magnitude map of each of the ``t`` windows."""
    n = gx.shape[0] - t + 1
    for q in range(t):
        for y in range(gx.shape[1]):
            for x in range(gx.shape[2]):
                sx = 0.0
                sy = 0.0
                for g in range(q, q + n):
                    sx += gx[g, y, x]
                    sy += gy[g, y, x]
                out[q, y, x] = np.sqrt(sx * sx + sy * sy)


def pmsp_labels(motion, *, grids=PMSP_GRIDS, scales=None) -> dict[tuple[int, int], np.ndarray]:
    """Algorithm 1's labels for one clip.

    Args:
        motion: float [T, P, H, W, 2] dense motion in pixels (`read_compressed`'s ``motion``,
            after any geometry); a torch tensor is accepted too.
        grids: the spatial grid sizes s; scales: the temporal scales t (each <= T; default
            those of (1, 3, 5) that are <= T, so shorter clips get fewer levels).

    Returns:
        ``{(s, t): int64 array [t]}``, the label of each window, in ``0 .. s*s - 1``.
    """
    m = kernel_array(motion, "pmsp_labels: motion")
    if m.ndim != 5 or m.shape[-1] != 2:
        raise ValueError(f"pmsp_labels: motion must be [T, P, H, W, 2], got shape {m.shape}")
    T, P, H, W, _ = m.shape
    if P < 1:
        raise ValueError("pmsp_labels: no P-frames given")
    if H < max(grids) or W < max(grids) or H < 2 or W < 2:
        raise ValueError(f"pmsp_labels: a {H}x{W} field is smaller than the {max(grids)}x"
                         f"{max(grids)} grid")
    if scales is None:
        scales = tuple(t for t in PMSP_SCALES if t <= T)
    bad = [t for t in scales if not 1 <= t <= T]
    if bad:
        raise ValueError(f"pmsp_labels: temporal scales {bad} need 1 <= t <= T = {T}")
    # Prewitt is linear: each GOP's summed motion is filtered once rather than every P-frame.
    # The reader's motion (float32 whole or half pixels times one scale per axis) sums without
    # rounding in float64, so the per-GOP and per-window gradient sums are the bits of the
    # per-frame statement (each P-frame filtered, then summed); for arbitrary floats they agree up to rounding
    # (tests/data/test_fast_path.py).
    gx, gy = np.empty((T, H, W)), np.empty((T, H, W))
    _gop_gradients(m, gx, gy)
    out = {}
    for t in scales:
        mag = np.empty((t, H, W))  # [t, H, W], window q covers GOPs q .. q + T - t
        _window_magnitudes(gx, gy, t, mag)
        for s in grids:
            ey, ex = cell_edges(H, s), cell_edges(W, s)
            cells = np.add.reduceat(np.add.reduceat(mag, ey[:-1], axis=1), ex[:-1], axis=2)
            out[(s, t)] = cells.reshape(t, s * s).argmax(axis=1).astype(np.int64)
    return {k: out[k] for k in pmsp_levels(T, grids, scales)}
