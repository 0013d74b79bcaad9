"""PMSP labels drawn in the paper's figure style (Fig. 5-14)."""

from __future__ import annotations

import numpy as np

from .pmsp import PMSP_GRIDS, cell_edges

__all__ = ["draw_pmsp", "GRID_COLOURS"]

GRID_COLOURS = {2: (230, 30, 30), 3: (30, 200, 30), 4: (40, 90, 255)}  # red, green, blue


def _box(img, y0, y1, x0, x1, colour, width):
    y1, x1 = max(y0 + 1, y1), max(x0 + 1, x1)
    img[y0:min(y0 + width, y1), x0:x1] = colour
    img[max(y1 - width, y0):y1, x0:x1] = colour
    img[y0:y1, x0:min(x0 + width, x1)] = colour
    img[y0:y1, max(x1 - width, x0):x1] = colour


def _panel(iframes, labels, scales, gap):
    T, H, W, _ = iframes.shape
    width = max(1, min(H, W) // 64)
    rows = []
    for t in scales:
        frames = [f.copy() for f in iframes]
        L = T - t + 1
        for q in range(t):
            for s in PMSP_GRIDS:
                if (s, t) not in labels:
                    continue
                lab = int(np.asarray(labels[(s, t)])[q])
                r, c = divmod(lab, s)
                ey, ex = cell_edges(H, s), cell_edges(W, s)
                inset = (s - 2) * width  # nested grids stay visible where edges coincide
                for g in range(q, q + L):  # the window's box on every I-frame it covers
                    _box(frames[g], ey[r] + inset, ey[r + 1] - inset, ex[c] + inset,
                         ex[c + 1] - inset, GRID_COLOURS[s], width)
        sep = np.full((H, gap, 3), 255, np.uint8)
        row = [frames[0]]
        for f in frames[1:]:
            row += [sep, f]
        rows.append(np.concatenate(row, 1))
    sep = np.full((gap, rows[0].shape[1], 3), 255, np.uint8)
    out = [rows[0]]
    for r in rows[1:]:
        out += [sep, r]
    return np.concatenate(out, 0)


def draw_pmsp(iframes, labels: dict, predictions: dict | None = None) -> np.ndarray:
    """One clip's PMSP labels as an RGB image.

    Args:
        iframes: uint8 [T, H, W, 3].
        labels: {(s, t): int array [t]} (`pmsp_labels`; a torch tensor works too).
        predictions: the same structure predicted; drawn as a second panel to the right.

    Returns:
        uint8 [rows * H + gaps, T * W + gaps (x2 with predictions), 3]: one row per temporal
        scale t (1, 3, 5 top to bottom); red / green / blue boxes for the 2x2 / 3x3 / 4x4
        grids; each window's box on every I-frame it covers (overlapping windows overlaid).
    """
    iframes = np.asarray(iframes)
    if iframes.ndim != 4 or iframes.shape[-1] != 3 or iframes.dtype != np.uint8:
        raise ValueError(f"iframes must be uint8 [T, H, W, 3], got {iframes.dtype} {iframes.shape}")
    labels = {k: np.asarray(v) for k, v in labels.items()}
    scales = sorted({t for _, t in labels})
    gap = max(2, iframes.shape[1] // 24)
    left = _panel(iframes, labels, scales, gap)
    if predictions is None:
        return left
    predictions = {k: np.asarray(v) for k, v in predictions.items()}
    right = _panel(iframes, predictions, scales, gap)
    return np.concatenate([left, np.full((left.shape[0], 4 * gap, 3), 255, np.uint8), right], 1)
