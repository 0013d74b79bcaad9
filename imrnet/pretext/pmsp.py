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


@nb.njit(nogil=True, cache=True, boundscheck=False, error_model="numpy")
def gop_motion_sums(m, out):
    """``out[t, y, x, k] = sum over p of m[t, p, y, x, k]`` in float64, p ascending (any
    strides)."""
    out[:] = 0.0
    for t in range(m.shape[0]):
        for p in range(m.shape[1]):
            for y in range(m.shape[2]):
                for x in range(m.shape[3]):
                    out[t, y, x, 0] += np.float64(m[t, p, y, x, 0])
                    out[t, y, x, 1] += np.float64(m[t, p, y, x, 1])


def _prewitt(motion: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Gx * motion_x and Gy * motion_y over the last two spatial axes of [..., H, W, 2]."""
    mx = np.pad(motion[..., 0], [(0, 0)] * (motion.ndim - 3) + [(1, 1), (1, 1)], mode="reflect")
    my = np.pad(motion[..., 1], [(0, 0)] * (motion.ndim - 3) + [(1, 1), (1, 1)], mode="reflect")
    # Gx = [[-1, 0, 1]] * 3 rows (x derivative); Gy its transpose. Correlation; a convolution
    # would only flip both signs, which the window sum and magnitude do not see.
    rows = mx[..., :-2, :] + mx[..., 1:-1, :] + mx[..., 2:, :]
    dx = rows[..., 2:] - rows[..., :-2]
    cols = my[..., :, :-2] + my[..., :, 1:-1] + my[..., :, 2:]
    dy = cols[..., 2:, :] - cols[..., :-2, :]
    return dx, dy


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
    m = motion.detach().cpu().numpy() if hasattr(motion, "detach") else np.asarray(motion)
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
    # Prewitt is linear: filter each GOP's summed motion once rather than every P-frame. The
    # reader's motion (float32 whole or half pixels times one scale per axis) sums without
    # rounding in float64, so the per-GOP gradient sums are the same bits either way; for
    # arbitrary floats they agree up to rounding (tests/data/test_fast_path.py).
    sums = np.empty((T, H, W, 2), dtype=np.float64)
    gop_motion_sums(m, sums)
    gx, gy = _prewitt(sums)  # per-GOP sums [T, H, W]
    out = {}
    for t in scales:
        L = T - t + 1  # GOPs per window
        sx = np.stack([gx[q:q + L].sum(axis=0) for q in range(t)])
        sy = np.stack([gy[q:q + L].sum(axis=0) for q in range(t)])
        mag = np.sqrt(sx * sx + sy * sy)  # [t, H, W]
        for s in grids:
            ey, ex = cell_edges(H, s), cell_edges(W, s)
            cells = np.add.reduceat(np.add.reduceat(mag, ey[:-1], axis=1), ex[:-1], axis=2)
            out[(s, t)] = cells.reshape(t, s * s).argmax(axis=1).astype(np.int64)
    return {k: out[k] for k in pmsp_levels(T, grids, scales)}
