"""Dense optical flow for the flow baselines (the flow network, IMRNet + flow, DMC-Net's
target), computed once at extraction (never per epoch).

`dense_flow` decodes an encoded video (the same frames the RGB baseline sees) and runs one of
`imrnet.opticalflow`'s flows (Farneback, the default, or TV-L1: ``extract.flow_method``) on the
luma planes, frame k against frame k-1. The flow follows the motion vectors' convention
(docs/conventions.md): frame k's pixel (y, x) comes from frame k-1 at (y+dy, x+dx), so the
geometry transforms treat it exactly like ``motion``. Frame 0 has none (zeros).

Stored beside the video as ``<video>.flow.npz`` (``flow`` int8 [N, H, W, 2] in steps of
`FLOW_STEP` px, clipped to +-31.75 px; ``step``; ``method``), written atomically; OpenCV runs
single-threaded so the bytes are deterministic. `load_flow` returns float32 pixels at the
decoded-frame numbers a clip uses (its ``pframe_index``).
"""

from __future__ import annotations

import os
from pathlib import Path

import av
import numpy as np

from ..codec.errors import CorruptVideoError, VideoError
from ..opticalflow import FARNEBACK, FLOW_METHODS, flow_field
from ..paths import WriteFailed, atomic_path

__all__ = ["FLOW_STEP", "FARNEBACK", "FLOW_METHODS", "dense_flow", "farneback_flow", "flow_path",
           "write_flow", "load_flow", "flow_jobs"]

FLOW_STEP = 0.25  # px per int8 unit


def flow_path(video: str | os.PathLike) -> Path:
    """``a/b.mp4`` -> ``a/b.flow.npz``."""
    v = Path(video)
    return v.with_name(v.stem + ".flow.npz")


def _luma_frames(path: str):
    from ..codec.read import open_container

    container = open_container(path)
    try:
        stream = container.streams.video[0]
        stream.thread_type = "NONE"
        for frame in container.decode(stream):
            if frame.format.name not in ("yuv420p", "yuvj420p", "gray"):
                frame = frame.reformat(format="yuv420p")
            plane = frame.planes[0]
            y = np.frombuffer(memoryview(plane), np.uint8).reshape(-1, plane.line_size)
            yield np.ascontiguousarray(y[:frame.height, :frame.width])
    except av.FFmpegError as e:  # the decoder's errors only: a bug of ours propagates as itself
        raise CorruptVideoError(path, f"decoding failed ({e})") from e
    finally:
        container.close()


def dense_flow(path: str | os.PathLike, method: str = "farneback") -> np.ndarray:
    """``method``'s flow (`imrnet.opticalflow`) of every decoded frame against the one before:
    int8 [N, H, W, 2] in `FLOW_STEP` px (frame 0: zeros)."""
    field = flow_field(method)  # ValueError on an unknown method, before any decoding
    out, prev = [], None
    for y in _luma_frames(str(path)):
        f = np.zeros(y.shape + (2,), np.float32) if prev is None else field(y, prev)
        out.append(np.clip(np.round(f / FLOW_STEP), -127, 127).astype(np.int8))
        prev = y
    if not out:
        raise CorruptVideoError(str(path), "no decodable frames")
    return np.stack(out)


def farneback_flow(path: str | os.PathLike) -> np.ndarray:
    """`dense_flow` with Farneback."""
    return dense_flow(path, "farneback")


def write_flow(video: str | os.PathLike, dst: str | os.PathLike | None = None, *,
               method: str = "farneback") -> Path:
    """Compute `dense_flow` of ``video`` and write it atomically (default `flow_path`)."""
    dst = Path(dst) if dst is not None else flow_path(video)
    flow = dense_flow(video, method)
    with atomic_path(dst, suffix=".npz") as tmp:  # a full disk: WriteFailed naming dst
        np.savez_compressed(tmp, flow=flow, step=np.float32(FLOW_STEP), method=np.str_(method))
    return dst


def load_flow(path: str | os.PathLike, frame_index) -> np.ndarray:
    """Flow in pixels, float32 [*frame_index.shape, H, W, 2], at these decoded-frame numbers.

    Raises:
        CorruptVideoError: the file is missing, unreadable, or shorter than the frames asked.
    """
    try:
        with np.load(path) as z:
            flow, step = z["flow"], float(z["step"])
    except (OSError, KeyError, ValueError) as e:
        raise CorruptVideoError(str(path), f"cannot read the flow file ({e}); rerun the extract "
                                "stage with extract.flow set") from None
    idx = np.asarray(frame_index)
    if idx.size and (idx.min() < 0 or idx.max() >= len(flow)):
        raise CorruptVideoError(str(path), f"holds {len(flow)} frames, frame {int(idx.max())} "
                                "asked")
    return flow[idx].astype(np.float32) * np.float32(step)


def _flow_one(video: str, method: str = "farneback") -> tuple[str, None, str | None]:
    try:
        write_flow(video, method=method)
        return video, None, None
    except (VideoError, WriteFailed) as e:
        return video, None, str(e)


def flow_jobs(videos: list[str], *, workers: int = 1, progress: bool = True,
              desc: str = "flow", method: str = "farneback") -> dict[str, str]:
    """Write ``method``'s flow of every video lacking it; returns {video: reason} for
    failures. (A dataset's flow files are all of one method: the extraction's stamp holds it,
    so another method resets the folder first.)"""
    if method not in FLOW_METHODS:
        raise ValueError(f"flow method must be one of {', '.join(FLOW_METHODS)}, got {method!r}")
    from ..codec.jobs import run_jobs

    todo = [v for v in videos if not flow_path(v).exists()]
    for v in todo:  # temp files of a killed earlier run
        p = flow_path(v)
        for stale in p.parent.glob(f".{p.name}.part-*.npz"):
            stale.unlink()
    _, failed = run_jobs(_flow_one, [(v, method) for v in todo], workers=workers, progress=progress,
                         desc=desc, died="the worker process died while computing flow",
                         fail_prefix="FAILED flow")
    return failed
