"""`CompressedClipDataset`: compressed clips as the sample dicts of docs/conventions.md, deterministic per
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

from ..seeding import sample_rng

from ..codec import probe_mpeg4, read_compressed, to_model_input
from ..codec.normalize import normalize_motion
from .batch_side import DeferredFrames
from ..pretext.pmsp import pmsp_labels
from . import transforms as T
from .flow import flow_path, load_flow
from .records import VideoRecord

__all__ = ["CompressedClipDataset", "collate_clips"]


def _copied(c: dict) -> dict:
    return {k: (None if v is None else v.copy()) for k, v in c.items()}


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
        pmsp: add ``pmsp``, the PMSP labels {(s, t): LongTensor [t]} ([views, t] in testing)
            computed by `imrnet.pretext.pmsp_labels` from the motion *after* the geometry.
        pmsp_pframes: "sampled" (default, what the tables use): the labels see the sampled
            P-frames the model sees; "all": Algorithm 1's every P-frame of each GOP (read at
            stride 1, geometry applied, labels taken, then the model's P-frames subsampled).
        augment_on: "worker" (default: the sample is model-ready) or "device" (training only:
            the I-frames and residuals come back cropped, not resized, as ``deferred``, a
            `imrnet.data.batch_side.DeferredFrames`, for `imrnet.data.batch_side.finish_batch`
            to resize, flip and normalise per batch on the training device; same bits on CPU).
            Not with pretext tasks that transform the clip (CTP, rotation, arrow of time).
        flip: random horizontal flip in training (the paper's). Turn it off where direction
            is the class: the built-in sets' move_left / move_right and spin_cw / spin_ccw are
            mirror images of each other, so a flip would swap their labels.
        pretext: an `imrnet.pretext.tasks.Pretext` (training only): its sample transforms run
            on the raw clip after the geometry and before the PMSP labels; its targets (ctp,
            rotation, arrow_of_time) join the sample as LongTensors. A CTP RANDOM partner is
            another record read with that record's own (seed, epoch, index) geometry.
        with_flow: add ``flow`` float32 [2, T*P, H, W] ([views, ...] in testing): the optical
            flow the extract stage stored beside each video (``extract.flow``) at the P-frames'
            frame numbers, through the same geometry as the motion and normalised like it.
        cache_mb: keep decoded windows in memory, up to this many MiB (0: off): a window
            (a video and a start GOP) is decoded from the bitstream once and copied from memory
            on every later read, so the epochs after the first skip the decode (the decode is
            deterministic: the samples are bit for bit those of an uncached read). Windows past
            the cap are read as usual, never evicted. The cache lives in the process that reads:
            it carries across epochs in the main process; DataLoader workers are forked anew each
            epoch (`set_epoch`) and lose theirs, so training with a cache reads in-process.
    """

    def __init__(self, records: Sequence[VideoRecord], *, train: bool, num_gops: int = 5,
                 pframe_stride: int = 2, crop_size: int = 224, resize_short: int | None = None,
                 scales=T.PAPER_SCALES, mc: str = "coviar", representation: str = "raw",
                 seed: int = 0, test_clips: int = 1, pmsp: bool = True,
                 pmsp_pframes: str = "sampled", with_flow: bool = False, flip: bool = True,
                 pretext=None, augment_on: str = "worker", cache_mb: float = 0):
        self.records = list(records)
        self.train, self.num_gops, self.stride = train, num_gops, pframe_stride
        self.crop_size, self.resize_short, self.scales = crop_size, resize_short, tuple(scales)
        self.mc, self.representation, self.seed = mc, representation, seed
        self.epoch = 0
        if test_clips < 1:
            raise ValueError(f"test_clips must be >= 1, got {test_clips!r}")
        self.test_clips = int(test_clips)
        if pmsp_pframes not in ("sampled", "all"):
            raise ValueError(f"pmsp_pframes must be 'sampled' or 'all', got {pmsp_pframes!r}")
        self.pmsp, self.pmsp_pframes = bool(pmsp), pmsp_pframes
        self.with_flow, self.flip, self.pretext = bool(with_flow), bool(flip), pretext
        if augment_on not in ("worker", "device"):
            raise ValueError(f"augment_on must be 'worker' or 'device', got {augment_on!r}")
        moving = [t for t in getattr(pretext, "tasks", ()) if t not in ("pmsp", "supervised")]
        if augment_on == "device" and (moving or not train):
            raise ValueError("augment_on='device' is for training samples whose clip no pretext "
                             "task transforms" + (f" (tasks {moving} do)" if moving else
                                                  " (testing samples are always finished here)"))
        self.augment_on = augment_on
        self._gops: dict[str, int] = {}
        if not (isinstance(cache_mb, (int, float)) and not isinstance(cache_mb, bool)
                and cache_mb >= 0):
            raise ValueError(f"cache_mb must be a number >= 0 (MiB; 0: off), got {cache_mb!r}")
        self.cache_bytes, self.cached_bytes = int(cache_mb * 2 ** 20), 0
        self._cache: dict[tuple[str, int], tuple] = {}

    def set_epoch(self, epoch: int) -> None:
        """Call before each epoch. Workers copy the dataset when they start, so with
        ``persistent_workers=True`` they keep the old epoch: use non-persistent workers (or a
        new DataLoader per epoch)."""
        self.epoch = int(epoch)

    def __len__(self) -> int:
        return len(self.records)

    def _num_gops(self, path: str) -> int:
        """GOPs that hold every P-frame the reader takes (a short last GOP does not count)."""
        if path not in self._gops:
            info = probe_mpeg4(path)
            need = 1 + self.stride * ((info.gop_size - 1) // self.stride)
            last = info.frames - (info.gops - 1) * info.gop_size
            self._gops[path] = info.gops - (1 if info.gops > 1 and last < need else 0)
        return self._gops[path]

    def _read(self, path: str, start: int):
        """(clip, its arrays as a dict): the dict's arrays are the caller's to change (copies
        of the cached window, when cached); ``clip`` is for its metadata only."""
        hit = self._cache.get((path, start))
        if hit is not None:
            return hit[0], _copied(hit[1])
        clip, c = self._read_stream(path, start)
        size = sum(v.nbytes for v in c.values() if v is not None)
        if self.cache_bytes and self.cached_bytes + size <= self.cache_bytes:
            self._cache[(path, start)] = (clip, _copied(c))
            self.cached_bytes += size
        return clip, c

    def _read_stream(self, path: str, start: int):
        all_p = self.pmsp and self.pmsp_pframes == "all"
        clip = read_compressed(path, num_gops=self.num_gops,
                               pframe_stride=1 if all_p else self.stride, start_gop=start,
                               representation=self.representation, mc=self.mc, pad="repeat")
        c = {"iframes": clip.iframes, "motion": clip.motion, "residual": clip.residual}
        if self.with_flow:
            c["flow"] = load_flow(flow_path(path), clip.pframe_index)
        return clip, c

    def _model_input(self, c: dict, short: float) -> dict:
        x = to_model_input(c, short_side=short)
        if self.with_flow:
            x["flow"] = normalize_motion(c["flow"], short_side=short)
        return x

    def _labels(self, c: dict) -> tuple[dict, dict | None]:
        """PMSP labels of a clip after its geometry; the clip cut to the model's P-frames."""
        if not self.pmsp:
            return c, None
        labels = {k: torch.from_numpy(v) for k, v in pmsp_labels(c["motion"]).items()}
        if self.pmsp_pframes == "all":  # read at stride 1: keep P-frames stride, 2*stride, ...
            n_p = c["motion"].shape[1] // self.stride
            keep = slice(self.stride - 1, self.stride * n_p, self.stride)
            c = dict(c, **{k: c[k][:, keep] for k in ("motion", "residual", "flow") if k in c})
        return c, labels

    def _train_clip(self, rec, rng, windows: int):
        """A training clip after its geometry (raw values), the short side its motion values
        correspond to, its start GOP and padding."""
        start = int(rng.integers(windows))
        clip, c = self._read(rec.path, start)
        h, w = clip.iframes.shape[1:3]
        top, left, ch, cw = T.multiscale_crop_params(h, w, rng, self.scales)
        flip = rng.random() < 0.5 and self.flip
        size = self.crop_size
        if self.augment_on == "device":  # motion (and flow) now, the frames on the device
            sl = (Ellipsis, slice(top, top + ch), slice(left, left + cw), slice(None))
            moving = {k: c[k] for k in ("motion", "flow") if k in c}
            c = dict(T.crop_resize(moving, top, left, ch, cw, size, size, flip=flip),
                     iframes=c["iframes"][sl], residual=c["residual"][sl],
                     deferred=((size, size), flip))  # crop views, copied once below
        else:
            c = T.crop_resize(c, top, left, ch, cw, size, size, flip=flip)
        # the short side the motion values now correspond to (geometric mean of the factors)
        short = min(h, w) * float(np.sqrt(self.crop_size / ch * self.crop_size / cw))
        return c, short, start, clip.padded

    def __getitem__(self, index: int) -> dict:
        rec = self.records[index]
        rng = sample_rng(self.seed, self.epoch, index)
        windows = max(1, self._num_gops(rec.path) - self.num_gops + 1)
        if self.train:
            c, short, start, padded = self._train_clip(rec, rng, windows)
            if self.pretext is not None:
                def partner(j: int) -> dict:
                    other = self.records[j]
                    prng = sample_rng(self.seed, self.epoch, j)
                    pw = max(1, self._num_gops(other.path) - self.num_gops + 1)
                    pc, pshort, _, _ = self._train_clip(other, prng, pw)
                    # normalised below with this sample's short side: rescale so the partner's
                    # motion reads as its own normalisation would give it
                    k = np.float32(short / pshort)
                    return {key: (v * k if key in ("motion", "flow") else v)
                            for key, v in pc.items()}
                c, targets = self.pretext(c, rng, index, len(self.records), partner)
            c, pmsp = self._labels(c)
            if "deferred" in c:
                (size, flip) = c["deferred"]
                # tensors, so that DataLoader workers hand them over in shared memory
                frames = [torch.from_numpy(np.ascontiguousarray(c[k])) for k in ("iframes", "residual")]
                x = {"motion": normalize_motion(c["motion"], short_side=short),
                     "deferred": DeferredFrames(*frames, size, flip)}
                if self.with_flow:
                    x["flow"] = normalize_motion(c["flow"], short_side=short)
            else:
                x = self._model_input(c, short)
            if self.pretext is not None:
                x.update({k: torch.tensor(v, dtype=torch.long) for k, v in targets.items()})
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
                for box in T.three_crops(h, w, self.crop_size):
                    v, labels = self._labels(T.crop(c, *box))
                    views.append((self._model_input(v, min(h, w)), labels))
            x = {k: torch.stack([v[k] for v, _ in views]) for k in views[0][0]}
            pmsp = (None if not self.pmsp else
                    {k: torch.stack([lab[k] for _, lab in views]) for k in views[0][1]})
            start = starts[0]
        if pmsp is not None:
            x["pmsp"] = pmsp
        x.update(label=int(rec.label), video_id=rec.video_id, start_gop=start, padded=int(padded))
        return x


def collate_clips(samples: list[dict]) -> dict:
    """Stack tensors (dicts of tensors, like ``pmsp``, key by key), gather the rest into lists
    (labels into a LongTensor)."""
    out = {}
    for k in samples[0]:
        vals = [s[k] for s in samples]
        if isinstance(vals[0], dict):
            out[k] = {j: torch.stack([v[j] for v in vals]) for j in vals[0]}
        elif isinstance(vals[0], torch.Tensor):
            out[k] = torch.stack(vals)
        elif k == "label":
            out[k] = torch.tensor(vals, dtype=torch.long)
        else:
            out[k] = vals
    return out
