"""Geometry on compressed clips, applied to the three streams alike (DESIGN.md).

A clip here is a dict with ``iframes`` uint8 [T,H,W,3], ``motion`` float32 [T,P,H,W,2] (dx, dy
in pixels) and ``residual`` int16 [T,P,H,W,3]; other keys pass through. Motion *values* move
with the geometry:

* crop: values unchanged;
* resize to (out_h, out_w): motion fields resampled nearest-neighbour (a vector field has no
  meaningful average across block edges), dx scaled by out_w/in_w and dy by out_h/in_h (two
  factors: a multi-scale crop resized to a square is anisotropic, which CoViAR forgets);
  I-frames and residuals resampled bilinearly (residuals rounded back to int16);
* horizontal flip: dx negated;
* rot90 by +90 degrees (counter-clockwise as displayed, ``np.rot90``): (dx, dy) -> (dy, -dx).

Geometry comes before normalisation (`imrnet.codec.to_model_input`). Functions are pure and
return new dicts; the random parameters come from a caller's ``numpy.random.Generator``.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

__all__ = ["crop", "resize", "hflip", "rot90", "multiscale_crop_params", "three_crops",
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


def crop(clip: dict, top: int, left: int, height: int, width: int) -> dict:
    """Crop every stream to rows top:top+height, columns left:left+width."""
    h, w = _hw(clip)
    if not (0 <= top and 0 <= left and height > 0 and width > 0 and top + height <= h
            and left + width <= w):
        raise ValueError(f"crop ({top}, {left}, {height}, {width}) outside a {h}x{w} clip")
    sl = (Ellipsis, slice(top, top + height), slice(left, left + width), slice(None))
    return _apply(clip, lambda a: np.ascontiguousarray(a[sl]), lambda m: np.ascontiguousarray(m[sl]))


def _bilinear(a: np.ndarray, out_h: int, out_w: int) -> np.ndarray:
    lead, (h, w, c) = a.shape[:-3], a.shape[-3:]
    t = torch.from_numpy(np.ascontiguousarray(a)).reshape(-1, h, w, c).permute(0, 3, 1, 2).float()
    t = F.interpolate(t, size=(out_h, out_w), mode="bilinear", align_corners=False, antialias=False)
    t = t.permute(0, 2, 3, 1).round_()
    if a.dtype == np.uint8:
        t = t.clamp_(0, 255)
    return t.to(torch.from_numpy(a[:0]).dtype).reshape(*lead, out_h, out_w, c).numpy()


def _nearest_index(n_in: int, n_out: int) -> np.ndarray:
    # the source pixel whose centre is nearest each output pixel's centre
    return np.minimum(((np.arange(n_out) + 0.5) * n_in / n_out).astype(np.int64), n_in - 1)


def resize(clip: dict, out_h: int, out_w: int) -> dict:
    """Resize every stream to (out_h, out_w); motion nearest-neighbour with scaled values."""
    h, w = _hw(clip)
    if (h, w) == (out_h, out_w):
        return dict(clip)
    rows, cols = _nearest_index(h, out_h), _nearest_index(w, out_w)
    scale = np.array([out_w / w, out_h / h], dtype=np.float32)

    def motion(m):
        return np.ascontiguousarray(m[..., rows, :, :][..., :, cols, :] * scale)

    return _apply(clip, lambda a: _bilinear(a, out_h, out_w), motion)


def hflip(clip: dict) -> dict:
    """Mirror left-right; dx changes sign."""
    sign = np.array([-1.0, 1.0], dtype=np.float32)
    return _apply(clip, lambda a: np.ascontiguousarray(a[..., ::-1, :]),
                  lambda m: np.ascontiguousarray(m[..., ::-1, :] * sign))


def rot90(clip: dict) -> dict:
    """Rotate by +90 degrees (counter-clockwise as displayed); (dx, dy) -> (dy, -dx)."""
    def rot(a):
        return np.ascontiguousarray(np.rot90(a, k=1, axes=(-3, -2)))

    def motion(m):
        r = rot(m)
        return np.ascontiguousarray(np.stack([r[..., 1], -r[..., 0]], axis=-1))

    return _apply(clip, rot, motion)


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
