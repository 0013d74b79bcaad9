"""`CompressedClipDataset`: compressed clips as DESIGN.md's sample dicts, deterministic per
(seed, epoch, index) whatever the number of DataLoader workers.

Training: a random start among the valid windows of ``num_gops`` GOPs (videos with fewer GOPs
repeat their last one, ``pad="repeat"``), a multi-scale crop (the paper's scales of the short
side) resized to ``crop_size``, a horizontal flip with probability 1/2; geometry hits the three
streams alike, motion values included (`transforms`). Testing: the window in the middle of the
video and the paper's three equidistant ``crop_size`` crops, stacked on a leading axis.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import torch

from repro.seeding import sample_rng

from ..codec import probe_mpeg4, read_compressed, to_model_input
from . import transforms as T
from .records import VideoRecord

__all__ = ["CompressedClipDataset", "collate_clips"]


class CompressedClipDataset(torch.utils.data.Dataset):
    """Samples from MPEG-4 Part 2 videos (as `encode_mpeg4` writes them).

    Args:
        records: `VideoRecord`s whose ``path`` is an encoded video.
        train: random window, multi-scale crop and flip; else middle window and three crops.
        num_gops, pframe_stride, mc, representation: passed to `read_compressed`.
        crop_size: side of the square model input.
        resize_short: resize so the short side is this before test crops (None: as stored).
        scales: multi-scale crop factors of the short side.
        seed: base of the per-sample generators; call `set_epoch` every epoch.
        test_clips: TSN-style multi-clip testing: this many windows spread evenly over the
            video, each with the three crops (views stacked clip-major: [clips * 3, ...]).
    """

    def __init__(self, records: Sequence[VideoRecord], *, train: bool, num_gops: int = 5,
                 pframe_stride: int = 2, crop_size: int = 224, resize_short: int | None = None,
                 scales=T.PAPER_SCALES, mc: str = "coviar", representation: str = "raw",
                 seed: int = 0, test_clips: int = 1):
        self.records = list(records)
        self.train, self.num_gops, self.stride = train, num_gops, pframe_stride
        self.crop_size, self.resize_short, self.scales = crop_size, resize_short, tuple(scales)
        self.mc, self.representation, self.seed = mc, representation, seed
        self.epoch = 0
        if test_clips < 1:
            raise ValueError(f"test_clips must be >= 1, got {test_clips!r}")
        self.test_clips = int(test_clips)
        self._gops: dict[str, int] = {}

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def __len__(self) -> int:
        return len(self.records)

    def _num_gops(self, path: str) -> int:
        if path not in self._gops:
            self._gops[path] = probe_mpeg4(path).gops
        return self._gops[path]

    def _read(self, path: str, start: int):
        clip = read_compressed(path, num_gops=self.num_gops, pframe_stride=self.stride,
                               start_gop=start, representation=self.representation, mc=self.mc,
                               pad="repeat")
        return clip, {"iframes": clip.iframes, "motion": clip.motion, "residual": clip.residual}

    def __getitem__(self, index: int) -> dict:
        rec = self.records[index]
        rng = sample_rng(self.seed, self.epoch, index)
        windows = max(1, self._num_gops(rec.path) - self.num_gops + 1)
        if self.train:
            start = int(rng.integers(windows))
            clip, c = self._read(rec.path, start)
            h, w = clip.iframes.shape[1:3]
            top, left, ch, cw = T.multiscale_crop_params(h, w, rng, self.scales)
            c = T.resize(T.crop(c, top, left, ch, cw), self.crop_size, self.crop_size)
            if rng.random() < 0.5:
                c = T.hflip(c)
            # the short side the motion values now correspond to (geometric mean of the factors)
            short = min(h, w) * float(np.sqrt(self.crop_size / ch * self.crop_size / cw))
            x = to_model_input(c, short_side=short)
            padded = clip.padded
        else:
            starts = ([(windows - 1) // 2] if self.test_clips == 1 else
                      sorted({int(round(k * (windows - 1) / (self.test_clips - 1)))
                              for k in range(self.test_clips)}))
            starts += [starts[-1]] * (self.test_clips - len(starts))  # short videos: repeat
            views, padded = [], 0
            for start in starts:
                clip, c = self._read(rec.path, start)
                padded = max(padded, clip.padded)
                h, w = clip.iframes.shape[1:3]
                if self.resize_short is not None and min(h, w) != self.resize_short:
                    f = self.resize_short / min(h, w)
                    c = T.resize(c, int(round(h * f)), int(round(w * f)))
                    h, w = c["iframes"].shape[1:3]
                views += [to_model_input(T.crop(c, *box), short_side=min(h, w))
                          for box in T.three_crops(h, w, self.crop_size)]
            x = {k: torch.stack([v[k] for v in views]) for k in views[0]}
            start = starts[0]
        x.update(label=int(rec.label), video_id=rec.video_id, start_gop=start, padded=int(padded))
        return x


def collate_clips(samples: list[dict]) -> dict:
    """Stack tensors, gather the rest into lists (labels into a LongTensor)."""
    out = {}
    for k in samples[0]:
        vals = [s[k] for s in samples]
        if isinstance(vals[0], torch.Tensor):
            out[k] = torch.stack(vals)
        elif k == "label":
            out[k] = torch.tensor(vals, dtype=torch.long)
        else:
            out[k] = vals
    return out
