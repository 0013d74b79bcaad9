"""Batch-side augmentation: the DataLoader worker decodes and crops, the training device resizes,
flips and normalises the I-frames and residuals of a whole batch as torch ops.

At 224 the I-frame and residual resize is most of a training sample's cost after the read
(tests/bench/test_sample_bench.py); on a GPU it is cheap, so a worker core feeds more clips per
second when it stops there. `CompressedClipDataset(augment_on="device")` returns, in place of
``iframes`` and ``residual``, a `DeferredFrames` per sample (the raw crops and what to do with
them); `finish_batch` turns a collated batch's list of them into the two stacked tensors on
the device. The motion, its geometry, its normalisation and the PMSP labels stay in the worker:
they are cheap (a gather), and the labels are integer argmaxes whose float sums should not
depend on the device.

On CPU `finish_batch` gives the per-sample path's bits (the same torch bilinear, then the same
float32 operations in the same order; tests/data/test_batch_side.py). On CUDA the bilinear and
the divisions are CUDA's, equal up to rounding, as every other CUDA op.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from ..codec.normalize import IMAGENET_MEAN, IMAGENET_STD

__all__ = ["DeferredFrames", "finish_batch", "AUGMENT_ON"]

AUGMENT_ON = ("worker", "device", "auto")


@dataclass
class DeferredFrames:
    """A training sample's I-frames and residuals, cropped, not yet resized.

    Attributes:
        iframes: uint8 [T, h, w, 3]; residual: int16 [T, P, h, w, 3] (the crop, contiguous
            CPU tensors: DataLoader workers pass tensors through shared memory; NumPy arrays
            are accepted too).
        size: (out_h, out_w) to resize to; flip: mirror left-right after the resize.
    """

    iframes: torch.Tensor
    residual: torch.Tensor
    size: tuple[int, int]
    flip: bool


def _resized(a: torch.Tensor, size: tuple[int, int], flip: bool, clamp: bool) -> torch.Tensor:
    """[N, h, w, C] integer -> float32 [N, C, out_h, out_w] holding the integers the per-sample
    path's resize (`transforms._bilinear`) returns, mirrored if ``flip``."""
    t = a.permute(0, 3, 1, 2).float()  # channels-last dense, as the per-sample path's input
    if tuple(t.shape[-2:]) != tuple(size):
        t = F.interpolate(t, size=size, mode="bilinear", align_corners=False, antialias=False)
        t = t.round_()  # half to even, as np.rint in the per-sample cast
        if clamp:
            t = t.clamp_(0, 255)
    return t.flip(-1) if flip else t


def finish_batch(batch: dict, device: torch.device | str | None = None) -> dict:
    """Resize, flip and normalise a collated batch's ``deferred`` frames on ``device``.

    Returns the batch with ``iframes`` float32 [B, 3, T, S, S] and ``residual`` float32
    [B, 3, T*P, S, S] (as `imrnet.codec.to_model_input` lays them out) on ``device`` and
    ``deferred`` removed; a batch without ``deferred`` is returned as it is."""
    if "deferred" not in batch:
        return batch
    dev = torch.device(device) if device is not None else torch.device("cpu")
    mean = torch.tensor(IMAGENET_MEAN, device=dev).view(3, 1, 1, 1)
    std = torch.tensor(IMAGENET_STD, device=dev).view(3, 1, 1, 1)
    frames, residuals = [], []
    for d in batch["deferred"]:
        i = torch.as_tensor(d.iframes).to(dev, non_blocking=True)
        r = torch.as_tensor(d.residual).to(dev, non_blocking=True)
        t, p = r.shape[:2]
        # I-frames: (x / 255 - mean) / std, channel-major [3, T, S, S]
        x = _resized(i, d.size, d.flip, clamp=True).permute(1, 0, 2, 3)
        frames.append(x.div(255.0).sub_(mean).div_(std).contiguous())
        # residuals: (clamp(x + 128, 0, 255) / 255 - 0.5) / std, [3, T*P, S, S]
        y = _resized(r.reshape(t * p, *r.shape[2:]), d.size, d.flip, clamp=False)
        y = y.permute(1, 0, 2, 3).add(128.0).clamp_(0.0, 255.0).div_(255.0).sub_(0.5).div_(std)
        residuals.append(y.contiguous())
    out = {k: v for k, v in batch.items() if k != "deferred"}
    out["iframes"], out["residual"] = torch.stack(frames), torch.stack(residuals)
    return out
