"""Baseline pretext tasks for Table 3, on the same network and data.

* **rotation** (3D rotation prediction, Jing et al. 2018): every stream rotated in the image
  plane by k x 90 degrees, k in 0..3 (label k); motion vectors rotate with the frames
  (`imrnet.data.transforms.rot90`: (dx, dy) -> (dy, -dx) per +90 degrees). Needs square crops.
* **arrow_of_time** (Wei et al. 2018): label 1 = the whole clip played backwards: I-frames and
  GOPs in reverse order, the P-frames of each GOP reversed, motion vectors negated. A truly
  backwards-encoded stream would predict each frame from the next one, whose vectors are the
  negated field moved along itself; negation is the first-order approximation (exact for
  uniform motion). Residuals are kept as they are.
"""

from __future__ import annotations

import numpy as np

from ..data import transforms as T

__all__ = ["rotate_clip", "reverse_clip"]


def rotate_clip(clip: dict, k: int) -> dict:
    """Rotate all streams by k x 90 degrees (counter-clockwise as displayed)."""
    for _ in range(int(k) % 4):
        clip = T.rot90(clip)
    return clip


def reverse_clip(clip: dict) -> dict:
    """Play the clip backwards (see the module doc)."""
    out = dict(clip)
    out["iframes"] = np.ascontiguousarray(clip["iframes"][::-1])
    for key in ("motion", "residual", "flow"):
        if clip.get(key) is not None:
            out[key] = np.ascontiguousarray(clip[key][::-1, ::-1])
    out["motion"] = -out["motion"]
    if out.get("flow") is not None:
        out["flow"] = -out["flow"]
    return out
