"""CoViAR's input normalisation, as model-ready float tensors (docs/conventions.md, model input).

CoViAR (``dataset.py`` / ``transforms.py``):

* I-frames: RGB / 255, then ImageNet mean / std.
* motion: ``x * (127.5 / 20) + 128`` clipped to [0, 255], then / 255 - 0.5: +-20 px spans the
  range. CoViAR fixed 20 px at its 340x256 frames; motion scales with resolution, so here the
  range is ``motion_range * short_side / 256`` where ``short_side`` is the short side (pixels) of
  the frames the motion was measured on (after any resize, before any crop): 20 px at 256,
  10 px at 128. CoViAR also truncates to uint8 before dividing; we keep the float (our motion
  may be half-pel).
* residual: ``r + 128`` clipped to [0, 255], / 255 - 0.5, / ImageNet std (CoViAR's BGR residual
  is RGB here, matching the std's channel order).

Geometry (crop, resize, flip) must happen before this.
"""

from __future__ import annotations

import numpy as np
import torch

from .kernels import normalize_frames, normalize_motion_into, normalize_residual

__all__ = ["IMAGENET_MEAN", "IMAGENET_STD", "to_model_input", "motion_scale_for",
           "normalize_motion", "kernel_array"]

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
COVIAR_MOTION_RANGE = 20.0  # pixels, at COVIAR_SHORT_SIDE
COVIAR_SHORT_SIDE = 256


def motion_scale_for(short_side: float, motion_range: float = COVIAR_MOTION_RANGE) -> float:
    """The +-range (pixels) that maps to [0, 255] for frames of this short side."""
    return motion_range * float(short_side) / COVIAR_SHORT_SIDE


def _field(clip, name):
    return clip[name] if isinstance(clip, dict) else getattr(clip, name)


def _mean_std() -> tuple[np.ndarray, np.ndarray]:
    # float32, rounded from the doubles as torch.tensor(IMAGENET_MEAN) rounds them
    return np.array(IMAGENET_MEAN, dtype=np.float32), np.array(IMAGENET_STD, dtype=np.float32)


def kernel_array(a, what: str = "array") -> np.ndarray:
    """``a`` (array or CPU tensor) as a NumPy array the numba kernels take, without a copy when
    it already is one: bools as uint8, float16 as float32 (both exact, as torch's ``.float()``
    was), other byte orders as the native one; any strides are kept."""
    a = a.detach().cpu().numpy() if isinstance(a, torch.Tensor) else np.asarray(a)
    if a.dtype.kind == "b":
        a = a.astype(np.uint8)
    if a.dtype.kind not in "uif" or a.dtype.itemsize > 8:
        raise ValueError(f"{what}: expected real numbers, got dtype {a.dtype}")
    if a.dtype == np.float16:
        a = a.astype(np.float32)
    elif not a.dtype.isnative:
        a = a.astype(a.dtype.newbyteorder("="))
    return a


def normalize_motion(motion, *, short_side: float,
                     motion_range: float = COVIAR_MOTION_RANGE) -> torch.Tensor:
    """Motion (or optical flow) float [T,P,H,W,2] in pixels -> float32 [2,T*P,H,W] in
    [-0.5, 0.5], CoViAR's mapping with the range scaled to ``short_side``.

    One pass (`imrnet.codec.kernels.normalize_motion_into`) in float32: ``clamp(x * 127.5 /
    range + 128, 0, 255) / 255 - 0.5``, the input read through any strides."""
    m = kernel_array(motion, "motion")
    if m.ndim != 5 or m.shape[-1] != 2:
        raise ValueError(f"motion must be [T,P,H,W,2], got {tuple(m.shape)}")
    t, p, h, w = m.shape[:4]
    rng = motion_scale_for(short_side, motion_range)
    out = torch.empty((2, t * p, h, w), dtype=torch.float32)
    normalize_motion_into(m, np.float32(127.5 / rng), out.numpy())
    return out


def to_model_input(clip, *, short_side: float | None = None,
                   motion_range: float = COVIAR_MOTION_RANGE) -> dict[str, torch.Tensor]:
    """Normalise a compressed clip to the three model inputs.

    Args:
        clip: a `CompressedClip` or a dict with ``iframes`` uint8 [T,H,W,3], ``motion`` float
            [T,P,H,W,2] (pixels) and ``residual`` int [T,P,H,W,3] (arrays of any strides,
            e.g. crop views, or CPU tensors).
        short_side: short side of the frames the motion was measured on; default min(H, W)
            of the arrays (right for uncropped clips; a cropping pipeline passes the pre-crop
            value).
        motion_range: CoViAR's +-20 px at a 256-pixel short side.

    Returns:
        dict: ``iframes`` float32 [3,T,H,W], ``motion`` float32 [2,T*P,H,W] and ``residual``
        float32 [3,T*P,H,W], P-frames flattened GOP-major (index g*P + p). Each stream is
        written in one pass (`imrnet.codec.kernels`), float32 arithmetic in this order:
        ``(x / 255 - mean) / std``; motion as `normalize_motion`; ``(clamp(r + 128, 0, 255)
        / 255 - 0.5) / std``.
    """
    if _field(clip, "residual") is None:
        raise ValueError("the clip has no residuals (read with with_residual=False)")
    iframes = kernel_array(_field(clip, "iframes"), "iframes")
    motion = kernel_array(_field(clip, "motion"), "motion")
    residual = kernel_array(_field(clip, "residual"), "residual")
    if iframes.ndim != 4 or iframes.shape[-1] != 3:
        raise ValueError(f"iframes must be [T,H,W,3], got {tuple(iframes.shape)}")
    if motion.ndim != 5 or motion.shape[-1] != 2:
        raise ValueError(f"motion must be [T,P,H,W,2], got {tuple(motion.shape)}")
    if residual.shape[:-1] != motion.shape[:-1] or residual.shape[-1] != 3:
        raise ValueError(f"residual must be [T,P,H,W,3] like motion, got {tuple(residual.shape)}")
    t, p, h, w = motion.shape[:4]
    mean, std = _mean_std()

    i = torch.empty((3,) + iframes.shape[:3], dtype=torch.float32)
    normalize_frames(iframes, mean, std, i.numpy())

    m = normalize_motion(motion, short_side=short_side if short_side is not None else min(h, w),
                         motion_range=motion_range)

    r = torch.empty((3, t * p, h, w), dtype=torch.float32)
    normalize_residual(residual, std, r.numpy())
    return {"iframes": i, "motion": m, "residual": r}
