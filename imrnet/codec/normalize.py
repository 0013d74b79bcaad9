"""CoViAR's input normalisation, as model-ready float tensors (DESIGN.md's model input).

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

__all__ = ["IMAGENET_MEAN", "IMAGENET_STD", "to_model_input", "motion_scale_for",
           "normalize_motion"]

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
COVIAR_MOTION_RANGE = 20.0  # pixels, at COVIAR_SHORT_SIDE
COVIAR_SHORT_SIDE = 256


def motion_scale_for(short_side: float, motion_range: float = COVIAR_MOTION_RANGE) -> float:
    """The +-range (pixels) that maps to [0, 255] for frames of this short side."""
    return motion_range * float(short_side) / COVIAR_SHORT_SIDE


def _field(clip, name):
    return clip[name] if isinstance(clip, dict) else getattr(clip, name)


def normalize_motion(motion, *, short_side: float,
                     motion_range: float = COVIAR_MOTION_RANGE) -> torch.Tensor:
    """Motion (or optical flow) float [T,P,H,W,2] in pixels -> float32 [2,T*P,H,W] in
    [-0.5, 0.5], CoViAR's mapping with the range scaled to ``short_side``."""
    motion = torch.as_tensor(np.asarray(motion))
    t, p, h, w = motion.shape[:4]
    rng = motion_scale_for(short_side, motion_range)
    m = motion.reshape(t * p, h, w, 2).permute(3, 0, 1, 2).float()
    return m.mul(127.5 / rng).add_(128.0).clamp_(0.0, 255.0).div_(255.0).sub_(0.5).contiguous()


def to_model_input(clip, *, short_side: float | None = None,
                   motion_range: float = COVIAR_MOTION_RANGE) -> dict[str, torch.Tensor]:
    """Normalise a compressed clip to the three model inputs.

    Args:
        clip: a `CompressedClip` or a dict with ``iframes`` uint8 [T,H,W,3], ``motion`` float
            [T,P,H,W,2] (pixels) and ``residual`` int [T,P,H,W,3].
        short_side: short side of the frames the motion was measured on; default min(H, W)
            of the arrays (right for uncropped clips; a cropping pipeline passes the pre-crop
            value).
        motion_range: CoViAR's +-20 px at a 256-pixel short side.

    Returns:
        dict: ``iframes`` float32 [3,T,H,W], ``motion`` float32 [2,T*P,H,W] and ``residual``
        float32 [3,T*P,H,W], P-frames flattened GOP-major (index g*P + p).
    """
    if _field(clip, "residual") is None:
        raise ValueError("the clip has no residuals (read with with_residual=False)")
    iframes = torch.as_tensor(np.asarray(_field(clip, "iframes")))
    motion = torch.as_tensor(np.asarray(_field(clip, "motion")))
    residual = torch.as_tensor(np.asarray(_field(clip, "residual")))
    if iframes.ndim != 4 or iframes.shape[-1] != 3:
        raise ValueError(f"iframes must be [T,H,W,3], got {tuple(iframes.shape)}")
    if motion.ndim != 5 or motion.shape[-1] != 2:
        raise ValueError(f"motion must be [T,P,H,W,2], got {tuple(motion.shape)}")
    if residual.shape[:-1] != motion.shape[:-1] or residual.shape[-1] != 3:
        raise ValueError(f"residual must be [T,P,H,W,3] like motion, got {tuple(residual.shape)}")
    t, p, h, w = motion.shape[:4]
    mean = torch.tensor(IMAGENET_MEAN).view(3, 1, 1, 1)
    std = torch.tensor(IMAGENET_STD).view(3, 1, 1, 1)

    i = iframes.permute(3, 0, 1, 2).float().div_(255.0).sub_(mean).div_(std)

    m = normalize_motion(motion, short_side=short_side if short_side is not None else min(h, w),
                         motion_range=motion_range)

    r = residual.reshape(t * p, h, w, 3).permute(3, 0, 1, 2).float()
    r = r.add(128.0).clamp_(0.0, 255.0).div_(255.0).sub_(0.5).div_(std)
    return {"iframes": i.contiguous(), "motion": m.contiguous(), "residual": r.contiguous()}
