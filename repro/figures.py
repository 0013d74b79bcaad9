"""Figures for the report, written as PNGs with fixed metadata (byte-identical across runs):
training curves (`metrics.jsonl`), the runtime chart, the four CTP transformations and the PMSP
pyramid drawn on a clip."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from imrnet.png import save_png  # noqa: E402  (re-exported: the report's PNGs)

from .results import read_jsonl  # noqa: E402

__all__ = ["save_png", "training_curves", "runtime_chart", "ctp_figure", "pmsp_figure"]


def training_curves(runs: dict[str, str | Path | list], keys=("loss",), *, title: str = ""):
    """One panel per metric key, one line per run (label -> its ``metrics.jsonl``, or its rows
    already read), against epochs."""
    fig, axes = plt.subplots(1, len(keys), figsize=(4.2 * len(keys), 3.2), squeeze=False)
    for ax, key in zip(axes[0], keys, strict=True):
        for label, path in runs.items():
            rows = path if isinstance(path, list) else read_jsonl(path)
            pts = [(r["epoch"], r[key]) for r in rows if key in r]
            if pts:
                ax.plot(*zip(*pts, strict=True), marker="o", ms=3, label=label)
        ax.set_xlabel("epoch")
        ax.set_ylabel(key)
        ax.grid(alpha=0.3)
    axes[0][0].legend(fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def runtime_chart(table: dict):
    """GFLOPs and total ms/frame (preprocessing stacked under the CNN) per model, from
    `imrnet.profile.runtime.runtime_table`'s output."""
    rows = table["rows"]
    names = [r["model"] for r in rows]
    y = np.arange(len(rows))
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 0.45 * len(rows) + 1.5), sharey=True)
    a.barh(y, [r["gflops"] for r in rows], color="#4a78b5")
    a.set_xlabel("GFLOPs (fvcore, 1 MAC = 1)")
    a.set_yticks(y, names, fontsize=8)
    a.invert_yaxis()
    pre = [r["pre_ms_per_frame"] for r in rows]
    b.barh(y, pre, color="#e0a030", label="preprocessing")
    b.barh(y, [r["cnn_ms_per_frame"] for r in rows], left=pre, color="#4a9a5a", label="CNN")
    b.set_xlabel(f"ms per frame (CPU, {table['threads']} threads)")
    b.legend(fontsize=8)
    fig.suptitle(f"Runtime at {table['size']}x{table['size']}")
    fig.tight_layout()
    return fig


def ctp_figure(clip: dict, partner: dict, *, seed: int = 0) -> np.ndarray:
    """The four CTP transformations of a clip (rows: aligned, random, shuffle, shift): the
    I-frames on the left half, the first P-frame's motion of each GOP (colour wheel) on the
    right. ``clip`` / ``partner``: `read_compressed` output as dicts (iframes, motion, residual)."""
    from imrnet.codec import motion_to_rgb
    from imrnet.pretext.ctp import ALIGNED, RANDOM, SHIFT, SHUFFLE, ctp_transform, shuffle_permutations

    T = clip["motion"].shape[0]
    orders = {ALIGNED: None, RANDOM: None,
              SHUFFLE: shuffle_permutations(T)[np.random.default_rng(seed).integers(len(shuffle_permutations(T)))],
              SHIFT: tuple(int(v) for v in np.roll(np.arange(T), -1))}
    h, w = clip["iframes"].shape[1:3]
    gap = max(2, h // 16)
    rows = []
    for kind in (ALIGNED, RANDOM, SHUFFLE, SHIFT):
        c = ctp_transform(clip, kind, orders[kind], partner if kind == RANDOM else None)
        cells = list(c["iframes"]) + [motion_to_rgb(c["motion"][g, 0]) for g in range(T)]
        row = []
        for k, img in enumerate(cells):
            row.append(img)
            row.append(np.full((h, gap * (3 if k == T - 1 else 1), 3), 255, np.uint8))
        rows.append(np.concatenate(row[:-1], 1))
        rows.append(np.full((gap, rows[-1].shape[1], 3), 255, np.uint8))
    return np.concatenate(rows[:-1], 0)


def pmsp_figure(clip: dict, predictions: dict | None = None) -> np.ndarray:
    """The PMSP pyramid of a clip (Fig. 3 / 5-12 style): `draw_pmsp` of its labels."""
    from imrnet.pretext import draw_pmsp, pmsp_labels

    return draw_pmsp(clip["iframes"], pmsp_labels(clip["motion"]), predictions)
