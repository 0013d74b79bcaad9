"""Geometry on compressed clips, applied to the three streams alike (docs/conventions.md).

A clip here is a dict with ``iframes`` uint8 [T,H,W,3], ``motion`` float32 [T,P,H,W,2] (dx, dy
in pixels) and ``residual`` int16 [T,P,H,W,3]; other keys pass through. Motion *values* move
with the geometry:

* crop: values unchanged;
* resize to (out_h, out_w): motion fields resampled nearest-neighbour (a vector field has no
  meaningful average across block edges), dx scaled by out_w/in_w and dy by out_h/in_h (two
  factors: a multi-scale crop resized to a square is anisotropic, which CoViAR forgets);
  I-frames and residuals resampled bilinearly (residuals rounded back to int16);
* horizontal flip: dx negated;
* (rotation by 90 degrees belongs to the rotation pretext task: `imrnet.pretext.baselines.rot90`).

Geometry comes before normalisation (`imrnet.codec.to_model_input`). Functions are pure and
return new dicts; the random parameters come from a caller's ``numpy.random.Generator``.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from . import kernels

__all__ = ["crop", "crop_resize", "resize", "hflip", "multiscale_crop_params", "three_crops",
           "PAPER_SCALES"]

STREAMS = ("iframes", "motion", "residual")
PAPER_SCALES = (0.975, 0.9, 0.85)  # the paper's multi-scale crop, fractions of the short side


# key -> its H, W axes; "flow" (optical flow, [T, P, H, W, 2]) moves like "motion"
_SPATIAL = {"iframes": (1, 3), "motion": (2, 4), "residual": (2, 4), "flow": (2, 4)}


def _hw(clip) -> tuple[int, int]:
    """The common spatial size of the streams present (any of iframes, motion, residual)."""
    sizes = {k: clip[k].shape[a:b] for k, (a, b) in _SPATIAL.items() if clip.get(k) is not None}
    if not sizes:
        raise ValueError("clip holds none of iframes, motion, residual")
    if len(set(sizes.values())) > 1:
        raise ValueError(f"streams differ in size: {sizes}")
    return tuple(next(iter(sizes.values())))


def _apply(clip, fn_frames, fn_motion):
    out = dict(clip)
    if clip.get("iframes") is not None:
        out["iframes"] = fn_frames(clip["iframes"])
    if clip.get("residual") is not None:
        out["residual"] = fn_frames(clip["residual"])
    for k in ("motion", "flow"):
        if clip.get(k) is not None:
            out[k] = fn_motion(clip[k])
    return out


def _check_box(h: int, w: int, top: int, left: int, height: int, width: int) -> None:
    if not (0 <= top and 0 <= left and height > 0 and width > 0 and top + height <= h
            and left + width <= w):
        raise ValueError(f"crop ({top}, {left}, {height}, {width}) outside a {h}x{w} clip")


def crop(clip: dict, top: int, left: int, height: int, width: int) -> dict:
    """Crop every stream to rows top:top+height, columns left:left+width.

    The crops are views of the input arrays (no copy): the next step reads through them."""
    _check_box(*_hw(clip), top, left, height, width)
    sl = (Ellipsis, slice(top, top + height), slice(left, left + width), slice(None))
    return _apply(clip, lambda a: a[sl], lambda m: m[sl])


def _bilinear(a: np.ndarray, out_h: int, out_w: int, flip: bool = False) -> np.ndarray:
    """Bilinear resize of [..., H, W, C] (any positive strides: a crop view is read in place)
    by torch, rounded back to the input's integer dtype, mirrored left-right if ``flip``."""
    lead, (h, w, c) = a.shape[:-3], a.shape[-3:]
    if min(a.strides) < 0 or not a.flags.writeable:  # torch.from_numpy takes neither
        a = np.array(a, order="C")
    # a [T, P, h, w, C] crop view merges its leading axes without a copy; .float() of the
    # permuted view is channels-last dense, the layout the contiguous input had (same kernel)
    t = torch.from_numpy(a).reshape(-1, h, w, c).permute(0, 3, 1, 2).float()
    t = F.interpolate(t, size=(out_h, out_w), mode="bilinear", align_corners=False, antialias=False)
    src = t.permute(0, 2, 3, 1).numpy()  # [N, out_h, out_w, C], contiguous (channels-last)
    out = np.empty((*lead, out_h, out_w, c), dtype=a.dtype)
    # round half to even (torch.round), clamp uint8 to 0..255, cast (exact: whole numbers in
    # range) in one pass; the flip is a reversed view (a reversed write would not vectorise)
    kernels.round_cast(src, np.float32(0.0), np.float32(255.0), a.dtype == np.uint8, out)
    return out[..., ::-1, :] if flip else out

def _nearest_index(n_in: int, n_out: int) -> np.ndarray:
    # the source pixel whose centre is nearest each output pixel's centre
    return np.minimum(((np.arange(n_out) + 0.5) * n_in / n_out).astype(np.int64), n_in - 1)


def _motion(m: np.ndarray, rows: np.ndarray, cols: np.ndarray, scale, negate_x: bool) -> np.ndarray:
    if m.ndim != 5 or m.dtype != np.float32:  # not the reader's layout: NumPy, same arithmetic
        out = m[..., rows, :, :][..., :, cols, :]
        if scale is not None:
            out = out * np.array(scale, dtype=np.float32)
        return np.ascontiguousarray(out * np.array([-1.0, 1.0], dtype=np.float32) if negate_x else out)
    out = np.empty(m.shape[:-3] + (len(rows), len(cols), 2), dtype=np.float32)
    sx, sy = (np.float32(1.0), np.float32(1.0)) if scale is None else scale
    kernels.gather_motion(m, rows, cols, sx, sy, scale is not None, negate_x, out)
    return out


def crop_resize(clip: dict, top: int, left: int, height: int, width: int, out_h: int,
                out_w: int, flip: bool = False) -> dict:
    """``hflip(resize(crop(clip, ...), out_h, out_w))`` (without the flip when ``flip`` is
    False), the same values, with each stream read once and written once: the crop is a view,
    the motion's nearest-neighbour gather, value scaling and dx sign change are one kernel
    (`kernels.gather_motion`), the frames' resize is torch's bilinear read from the view and
    cast back in one pass (`kernels.round_cast`).

    The I-frames and residuals may come back as views: of the input when no resize is needed,
    mirrored (negative column stride) when flipped. Read them, do not write into them;
    `np.ascontiguousarray` where a caller needs a plain array."""
    _check_box(*_hw(clip), top, left, height, width)
    same = (height, width) == (out_h, out_w)
    rows = top + (np.arange(out_h) if same else _nearest_index(height, out_h))
    cols = left + (np.arange(out_w) if same else _nearest_index(width, out_w))
    if flip:
        cols = np.ascontiguousarray(cols[::-1])
    scale = None if same else (np.float32(out_w / width), np.float32(out_h / height))
    sl = (Ellipsis, slice(top, top + height), slice(left, left + width), slice(None))

    def frames(a):
        v = a[sl]
        if same:
            return v[..., ::-1, :] if flip else v
        return _bilinear(v, out_h, out_w, flip)

    return _apply(clip, frames, lambda m: _motion(m, rows, cols, scale, flip))


def resize(clip: dict, out_h: int, out_w: int) -> dict:
    """Resize every stream to (out_h, out_w); motion nearest-neighbour with scaled values."""
    h, w = _hw(clip)
    if (h, w) == (out_h, out_w):
        return dict(clip)
    return crop_resize(clip, 0, 0, h, w, out_h, out_w)


def hflip(clip: dict) -> dict:
    """Mirror left-right; dx changes sign."""
    sign = np.array([-1.0, 1.0], dtype=np.float32)
    return _apply(clip, lambda a: np.ascontiguousarray(a[..., ::-1, :]),
                  lambda m: np.ascontiguousarray(m[..., ::-1, :] * sign))


def multiscale_crop_params(h: int, w: int, rng: np.random.Generator,
                           scales=PAPER_SCALES) -> tuple[int, int, int, int]:
    """A random square-ish crop: side = scale * short side for a random scale (width and
    height drawn independently, as TSN's multi-scale crop), at a random position."""
    short = min(h, w)
    ch = max(1, int(round(short * scales[int(rng.integers(len(scales)))])))
    cw = max(1, int(round(short * scales[int(rng.integers(len(scales)))])))
    top = int(rng.integers(0, h - ch + 1))
    left = int(rng.integers(0, w - cw + 1))
    return top, left, ch, cw


def three_crops(h: int, w: int, size: int) -> list[tuple[int, int, int, int]]:
    """The paper's test protocol: three equidistant size x size crops along the long side
    (start, centre, end), together covering the frame."""
    if size > min(h, w):
        raise ValueError(f"crop {size} larger than the short side of {h}x{w}")
    if w >= h:
        return [(int(round((h - size) / 2)), int(round(i * (w - size) / 2)), size, size) for i in range(3)]
    return [(int(round(i * (h - size) / 2)), int(round((w - size) / 2)), size, size) for i in range(3)]
