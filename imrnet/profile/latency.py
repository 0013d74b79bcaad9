"""Latency: warm-up, then the median of timed repeats (synchronised on CUDA), per clip and per
frame. "Per frame" divides by the frames the model consumes per clip (IMRNet: T I-frames +
T*P P-frames = 30 in the paper's setting), which the caller states."""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass

import torch

__all__ = ["LatencyReport", "measure_latency"]


@dataclass
class LatencyReport:
    ms_per_clip: float
    ms_per_frame: float
    frames: int
    repeats: int
    device: str
    threads: int
    times_ms: list


def measure_latency(model: torch.nn.Module, inputs, device: str | torch.device = "cpu", *,
                    frames: int | None = None, warmup: int = 2,
                    repeats: int = 7) -> LatencyReport:
    """Median forward time of ``model(*inputs)`` in eval mode without gradients.

    Args:
        inputs: a tensor or tuple of tensors (batch 1 for per-clip numbers).
        frames: frames the model consumes per clip, for ``ms_per_frame``. Default: the first
            5-D input's frames plus the largest frame count among the others (IMRNet's
            (iframes, motion, residual): T + T*P; one input: its frames).
    The model goes back to its device and train/eval mode afterwards.
    """
    device = torch.device(device)
    inputs = inputs if isinstance(inputs, tuple) else (inputs,)
    inputs = tuple(x.to(device) for x in inputs)
    if frames is None:
        t5 = [x.shape[2] for x in inputs if x.ndim == 5]
        if not t5:
            raise ValueError("frames not given and no 5-D input to count them from")
        frames = t5[0] + (max(t5[1:]) if len(t5) > 1 else 0)
    if int(frames) < 1:
        raise ValueError(f"frames must be >= 1, got {frames!r}")
    was_training = model.training
    first = next(model.parameters(), None)
    home = first.device if first is not None else device
    model.to(device).eval()
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    times = []
    try:
        with torch.no_grad():
            for i in range(warmup + repeats):
                sync()
                t0 = time.perf_counter()
                model(*inputs)
                sync()
                if i >= warmup:
                    times.append((time.perf_counter() - t0) * 1e3)
    finally:
        model.train(was_training)
        model.to(home)
    med = statistics.median(times)
    return LatencyReport(ms_per_clip=med, ms_per_frame=med / frames, frames=int(frames),
                         repeats=repeats, device=str(device), threads=torch.get_num_threads(),
                         times_ms=times)
