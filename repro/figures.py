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


# One colour per run name in every figure (the initialisations and pretext runs of the
# built-in profiles; any other name gets a colour from its name, the same everywhere).
RUN_COLOURS = {name: plt.get_cmap("tab10")(i) for i, name in enumerate(
    ("scratch", "pmsp_ctp", "pmsp", "ctp", "ctp_binary", "rotation", "arrow_of_time",
     "supervised", "supervised_coviar"))}


def run_colour(label: str):
    """The colour of run ``label`` in every figure (`RUN_COLOURS`, else one from its name)."""
    import zlib

    base = label.split("@")[-1]
    for suffix in ("_s1", "_s2", "_s3"):
        base = base.removesuffix(suffix)
    if base in RUN_COLOURS:
        return RUN_COLOURS[base]
    return plt.get_cmap("tab20b")(zlib.crc32(label.encode()) % 20)


def training_curves(runs: dict[str, str | Path | list], keys=("loss",), *, title: str = ""):
    """One panel per metric key (training clips, per epoch), one line per run (label -> its
    ``metrics.jsonl``, or its rows already read) against integer epochs; a run keeps its colour
    in every panel and every figure (`run_colour`) and one legend below names them all."""
    from matplotlib.ticker import MaxNLocator

    rows = {label: (path if isinstance(path, list) else read_jsonl(path))
            for label, path in runs.items()}
    epochs = sorted({r["epoch"] for rs in rows.values() for r in rs})
    fig, axes = plt.subplots(1, len(keys), figsize=(4.2 * len(keys), 3.4), squeeze=False)
    for ax, key in zip(axes[0], keys, strict=True):
        for label, rs in rows.items():
            pts = [(r["epoch"], r[key]) for r in rs if key in r]
            if pts:
                ax.plot(*zip(*pts, strict=True), marker="o", ms=3, color=run_colour(label))
        ax.set_xlabel("epoch")
        ax.set_ylabel(key.replace("_", " ") + (" (training clips)" if "acc" in key else ""))
        ax.set_title(key.replace("_", " "), fontsize=9)
        if len(epochs) <= 12:
            ax.set_xticks(epochs)
            if len(epochs) == 1:
                ax.set_xlim(epochs[0] - 1, epochs[0] + 1)
        else:
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        if key.endswith("loss") and any(key in r for rs in rows.values() for r in rs):
            vals = [r[key] for rs in rows.values() for r in rs if key in r]
            if min(vals) > 0 and max(vals) / min(vals) > 20:  # objectives of other scales
                ax.set_yscale("log")
        ax.grid(alpha=0.3)
    handles = [plt.Line2D([], [], color=run_colour(label), marker="o", ms=3, label=label)
               for label in rows]
    ncol = min(len(handles), 6)
    fig.legend(handles=handles, fontsize=8, loc="lower center", ncol=ncol, frameon=False,
               title="run", title_fontsize=8)
    if title:
        fig.suptitle(title)
    legend_rows = -(-len(handles) // ncol) if handles else 0
    fig.tight_layout(rect=(0, min(0.45, 0.07 + 0.065 * legend_rows), 1, 1))
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


def _pmsp_gap(height: int) -> int:
    """`imrnet.pretext.draw_pmsp`'s gap between frames and rows (its panels are 4 apart)."""
    return max(2, height // 24)


def _ctp_gap(height: int) -> int:
    """The white gap between `ctp_figure`'s cells (3 gaps between its two halves)."""
    return max(2, height // 16)


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
    gap = _ctp_gap(h)
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


def keyed_image(img: np.ndarray, *, title: str = "", x_ticks=(), y_ticks=(), top_labels=(),
                legend=(), note: str = "", scale: float = 1.6):
    """An RGB image (a figure drawn as pixels) with the words that make it read alone: a title,
    labels under columns (``x_ticks``: (x pixel, text)), beside rows (``y_ticks``), over groups
    of columns (``top_labels``: (x pixel, text)), a colour key (``legend``: (RGB 0-255, text))
    and a note under it. Returns a matplotlib figure (`save_png` writes it)."""
    import textwrap

    from matplotlib.patches import Patch

    h, w = img.shape[:2]
    left = 1.9 if y_ticks else 0.3
    fig_w = max(6.0, w / 100 * scale + left + 0.3)  # room for the words under a small image
    title = "\n".join(textwrap.wrap(title, int(fig_w * 11))) if title else ""
    note = "\n".join(textwrap.wrap(note, int(fig_w * 14))) if note else ""
    n_title, n_note = title.count("\n") + bool(title), note.count("\n") + bool(note)
    fig_h = (h / 100 * scale + 0.8 + 0.2 * n_title + 0.28 * bool(top_labels)
             + 0.35 * bool(legend) + 0.17 * n_note + 0.12)
    fig, ax = plt.subplots(figsize=(fig_w, fig_h))
    ax.imshow(img, interpolation="nearest")
    ax.set_xticks([x for x, _ in x_ticks], [t for _, t in x_ticks], fontsize=7)
    ax.set_yticks([y for y, _ in y_ticks], [t for _, t in y_ticks], fontsize=7)
    ax.tick_params(length=0)
    for s in ax.spines.values():
        s.set_visible(False)
    for x, text in top_labels:
        ax.text(x, -max(4, h * 0.01), text, ha="center", va="bottom", fontsize=8.5,
                fontweight="bold")
    if legend:
        fig.legend(handles=[Patch(color=np.asarray(c) / 255, label=t) for c, t in legend],
                   loc="lower center", ncol=len(legend), fontsize=8, frameon=False,
                   bbox_to_anchor=(0.5, (0.05 + 0.17 * n_note) / fig_h))
    if note:
        fig.text(0.5, 0.04 / fig_h, note, ha="center", va="bottom", fontsize=7.5,
                 color="#333333")
    if title:
        fig.suptitle(title, fontsize=10)
    bottom = (0.35 * bool(legend) + 0.17 * n_note + 0.3) / fig_h
    top = 1 - (0.2 + 0.2 * n_title + 0.28 * bool(top_labels)) / fig_h
    fig.subplots_adjust(left=left / fig_w, right=1 - 0.3 / fig_w, bottom=bottom, top=top)
    return fig


def _pmsp_legend():
    from imrnet.pretext.draw import GRID_COLOURS

    return [(c, f"{s}x{s} grid") for s, c in sorted(GRID_COLOURS.items())]


def pmsp_panel_ticks(T: int, H: int, W: int, scales, *, x0: int = 0, y0: int = 0,
                     row_prefix: str = ""):
    """Tick positions of one `draw_pmsp` panel (rows: temporal scales, columns: I-frames) whose
    top-left pixel is (y0, x0): ([(x, "GOP g")], [(y, "t windows of L GOPs")], width, height)."""
    gap = _pmsp_gap(H)
    xs = [(x0 + g * (W + gap) + W / 2, f"GOP {g + 1}") for g in range(T)]
    ys = [(y0 + i * (H + gap) + H / 2,
           f"{row_prefix}{t} window{'s' if t > 1 else ''} of {T - t + 1} GOP{'s' if T - t else ''}")
          for i, t in enumerate(scales)]
    return xs, ys, T * W + (T - 1) * gap, len(scales) * H + (len(scales) - 1) * gap


PMSP_NOTE = ("A box marks the grid cell with the strongest motion over the window (Algorithm 1), "
             "drawn on every I-frame the window covers")


def pmsp_key(clip: dict, *, title: str):
    """`pmsp_figure` of one clip with its key: rows are the temporal levels, columns the GOPs'
    I-frames, colours the grids."""
    from imrnet.pretext import draw_pmsp, pmsp_labels

    labels = pmsp_labels(clip["motion"])  # once: the image and its ticks share them
    T, H, W = clip["iframes"].shape[:3]
    xs, ys, _, _ = pmsp_panel_ticks(T, H, W, sorted({t for _, t in labels}))
    return keyed_image(draw_pmsp(clip["iframes"], labels), title=title, x_ticks=xs, y_ticks=ys,
                       legend=_pmsp_legend(), note=PMSP_NOTE + ".")


def ctp_key(clip: dict, partner: dict, *, seed: int = 0, title: str = ""):
    """`ctp_figure` with its key: the row of each transformation, the I-frame and motion halves."""
    img = ctp_figure(clip, partner, seed=seed)
    T = clip["motion"].shape[0]
    h, w = clip["iframes"].shape[1:3]
    gap = _ctp_gap(h)
    xs, x = [], 0.0
    for k in range(2 * T):
        xs.append((x + w / 2, f"GOP {k % T + 1}"))
        x += w + gap * (3 if k == T - 1 else 1)
    rows = ["aligned (its own motion)", "random (another clip's motion)",
            "shuffle (GOPs' motion reordered)", "shift (the next GOP's motion, cyclic)"]
    ys = [(i * (h + gap) + h / 2, r) for i, r in enumerate(rows)]
    half = T * w + (T - 1) * gap
    tops = [(half / 2, "I-frames"),
            (img.shape[1] - half / 2, "first P-frame's motion of each GOP (hue: direction)")]
    return keyed_image(img, title=title or "CTP: the four correspondence types of one clip", scale=1.1,
                       x_ticks=xs, y_ticks=ys, top_labels=tops,
                       note="CTP asks which row a clip's (I-frames, motion) pair came from.")


def retrieval_key(img: np.ndarray, result: dict, *, rows: int, k: int = 3):
    """`imrnet.evaluate.retrieval.retrieval_figure`'s image with its key: the query column, the
    nearest training clips by rank, the border colours, the recall numbers."""
    row_h = img.shape[0] // rows
    border = lambda x: max(2, x // 24)  # noqa: E731  (retrieval_figure's border width)
    h = next(x for x in range(row_h, 0, -1) if x + 2 * border(x) == row_h)
    b = border(h)
    w = (img.shape[1] - 3 * b) // (k + 1) - 2 * b
    xs = [(b + w / 2, "query\n(test clip)")]
    xs += [((j + 1) * (w + 2 * b) + 3 * b + w / 2, f"nearest\ntraining clip {j + 1}")
           for j in range(k)]
    recall = ", ".join(f"{key} {result[key]:.2f}" for key in sorted(result) if key.startswith("R@"))
    return keyed_image(img, title=f"Retrieval with {result.get('model', 'the backbone')} on "
                       f"{result.get('dataset', '')}: {result.get('queries', '?')} test queries, "
                       f"{result.get('gallery', '?')} training clips ({recall})",
                       x_ticks=xs, scale=1.3,
                       legend=[((30, 180, 30), "same class as the query"),
                               ((220, 30, 30), "another class")],
                       note="One I-frame per clip; neighbours by cosine similarity of the "
                            "backbone's embeddings (three crops averaged).")
