"""Baseline pretext tasks for Table 3, on the same network and data.

* **rotation** (3D rotation prediction, Jing et al. 2018): every stream rotated in the image
  plane by k x 90 degrees, k in 0..3 (label k); motion vectors rotate with the frames
  (`rot90`: (dx, dy) -> (dy, -dx) per +90 degrees). Needs square crops.
* **arrow_of_time** (Wei et al. 2018): label 1 = the clip played backwards, motion vectors
  negated. The network reads a clip as groups (an I-frame, then the P-frames that follow it
  in playback order); played backwards, the P-frames that follow I-frame g are those of GOP
  g-1, reversed. Reversing each GOP in place instead (I-frame g with its own P-frames
  reversed) leaves a shortcut that has nothing to do with time's direction: the P-frame next
  to the I-frame would be the one furthest from it in time, and hand-made features read the
  label from that misalignment alone (0.94, issue 13). So both directions are built from
  aligned groups: a clip of T GOPs played backwards holds T-1 of them (I-frame 0 has no
  P-frame after it, the last GOP's P-frames no I-frame before them), forwards uses its first
  T-1, and the last group of both is zeros. A truly backwards-encoded stream would predict
  each frame from the next one, whose vectors are the negated field moved along itself;
  negation is the first-order approximation (exact for uniform motion). Residuals are kept as
  they are.
"""

from __future__ import annotations

import numpy as np

__all__ = ["rot90", "rotate_clip", "reverse_clip", "arrow_clip"]


def rot90(clip: dict) -> dict:
    """Rotate every stream by +90 degrees (counter-clockwise as displayed, ``np.rot90`` over the
    image axes); motion and flow vectors rotate with the frames: (dx, dy) -> (dy, -dx). Other
    keys pass through; a new dict is returned."""
    def rot(a):
        return np.ascontiguousarray(np.rot90(a, k=1, axes=(-3, -2)))

    out = dict(clip)
    for k in ("iframes", "residual"):
        if clip.get(k) is not None:
            out[k] = rot(clip[k])
    for k in ("motion", "flow"):
        if clip.get(k) is not None:
            r = rot(clip[k])
            out[k] = np.ascontiguousarray(np.stack([r[..., 1], -r[..., 0]], axis=-1))
    return out


def rotate_clip(clip: dict, k: int) -> dict:
    """Rotate all streams by k x 90 degrees (counter-clockwise as displayed)."""
    for _ in range(int(k) % 4):
        clip = rot90(clip)
    return clip


def arrow_clip(clip: dict, backwards: bool) -> dict:
    """The clip as the arrow-of-time task shows it (see the module doc): T-1 aligned groups,
    played forwards or backwards, then a group of zeros, so both directions have the same
    shape and the same padding."""
    t = clip["iframes"].shape[0]
    if t < 2:
        raise ValueError(f"arrow of time needs at least 2 GOPs per clip, got {t}")
    if backwards:
        i_idx = np.arange(t - 1, 0, -1)  # I-frames T-1 .. 1
        p_idx = i_idx - 1  # each followed (backwards) by the previous GOP's P-frames, reversed
    else:
        i_idx = p_idx = np.arange(t - 1)
    out = dict(clip)
    out["iframes"] = _pad_group(clip["iframes"][i_idx])
    for key in ("motion", "residual", "flow"):
        if clip.get(key) is not None:
            a = clip[key][p_idx]
            out[key] = _pad_group(a[:, ::-1] if backwards else a)
    if backwards:
        out["motion"] = -out["motion"]
        if out.get("flow") is not None:
            out["flow"] = -out["flow"]
    return out


def reverse_clip(clip: dict) -> dict:
    """The clip played backwards, as the arrow-of-time task builds it (`arrow_clip`)."""
    return arrow_clip(clip, True)


def _pad_group(a: np.ndarray) -> np.ndarray:
    out = np.zeros((a.shape[0] + 1,) + a.shape[1:], a.dtype)
    out[:-1] = a
    return out
