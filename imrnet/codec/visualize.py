"""Pictures of motion and residuals, for figures and debugging."""

from __future__ import annotations

import numpy as np

__all__ = ["motion_to_rgb", "residual_to_rgb"]


def motion_to_rgb(motion: np.ndarray, max_magnitude: float | None = None) -> np.ndarray:
    """Colour-wheel picture of a motion field (hue = direction, brightness = magnitude).

    The hue is the direction of the apparent object motion, i.e. of ``-(dx, dy)`` (the vectors
    point from a pixel to its source): a sprite moving right is red, down is yellow-green, left
    cyan, up blue-violet (HSV hue 0, 90, 180, 270 degrees in image coordinates).

    Args:
        motion: float [..., H, W, 2] (dx, dy) in pixels.
        max_magnitude: magnitude drawn at full brightness; default the field's maximum
            (at least 1 px, so a static field stays black).

    Returns:
        uint8 [..., H, W, 3] RGB.
    """
    m = np.asarray(motion, dtype=np.float32)
    if m.shape[-1] != 2:
        raise ValueError(f"motion must end in 2 channels (dx, dy), got shape {m.shape}")
    fx, fy = -m[..., 0], -m[..., 1]
    mag = np.hypot(fx, fy)
    top = float(max_magnitude) if max_magnitude is not None else max(float(mag.max(initial=0.0)), 1.0)
    v = np.clip(mag / top, 0.0, 1.0)
    h = (np.degrees(np.arctan2(fy, fx)) % 360.0) / 60.0
    c = v  # saturation 1
    x = c * (1 - np.abs(h % 2 - 1))
    zero = np.zeros_like(c)
    sector = np.floor(h).astype(np.int64) % 6
    r = np.choose(sector, [c, x, zero, zero, x, c])
    g = np.choose(sector, [x, c, c, x, zero, zero])
    b = np.choose(sector, [zero, zero, x, c, c, x])
    return np.round(np.stack([r, g, b], axis=-1) * 255).astype(np.uint8)


def residual_to_rgb(residual: np.ndarray, gain: float = 1.0) -> np.ndarray:
    """Residual as an image: mid-grey is zero, ``128 + gain * r`` clipped, per channel.

    Args:
        residual: int [..., H, W, 3] RGB residual.
        gain: contrast; residuals are small, 2-4 makes them visible.

    Returns:
        uint8 [..., H, W, 3].
    """
    r = np.asarray(residual, dtype=np.float32)
    return np.clip(128.0 + gain * r, 0, 255).round().astype(np.uint8)
