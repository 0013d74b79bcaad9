"""The sample path as it stood before the one-pass kernels (issue 14), kept as the reference
the fast path is compared with bit for bit (tests/data/test_fast_path.py). Copied verbatim
from imrnet/data/transforms.py, imrnet/codec/normalize.py and imrnet/pretext/pmsp.py."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from imrnet.codec.normalize import _field, IMAGENET_MEAN, IMAGENET_STD, motion_scale_for
from imrnet.data.transforms import _hw
from imrnet.pretext.pmsp import PMSP_GRIDS, PMSP_SCALES, cell_edges, pmsp_levels


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


def normalize_motion(motion, *, short_side: float,
                     motion_range: float = 20.0) -> torch.Tensor:
    """Motion (or optical flow) float [T,P,H,W,2] in pixels -> float32 [2,T*P,H,W] in
    [-0.5, 0.5], CoViAR's mapping with the range scaled to ``short_side``."""
    motion = torch.as_tensor(np.asarray(motion))
    t, p, h, w = motion.shape[:4]
    rng = motion_scale_for(short_side, motion_range)
    m = motion.reshape(t * p, h, w, 2).permute(3, 0, 1, 2).float()
    return m.mul(127.5 / rng).add_(128.0).clamp_(0.0, 255.0).div_(255.0).sub_(0.5).contiguous()


def to_model_input(clip, *, short_side: float | None = None,
                   motion_range: float = 20.0) -> dict[str, torch.Tensor]:
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


def _prewitt(motion: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Gx * motion_x and Gy * motion_y over the last two spatial axes of [..., H, W, 2]."""
    mx = np.pad(motion[..., 0], [(0, 0)] * (motion.ndim - 3) + [(1, 1), (1, 1)], mode="reflect")
    my = np.pad(motion[..., 1], [(0, 0)] * (motion.ndim - 3) + [(1, 1), (1, 1)], mode="reflect")
    # Gx = [[-1, 0, 1]] * 3 rows (x derivative); Gy its transpose. Correlation; a convolution
    # would only flip both signs, which the window sum and magnitude do not see.
    rows = mx[..., :-2, :] + mx[..., 1:-1, :] + mx[..., 2:, :]
    dx = rows[..., 2:] - rows[..., :-2]
    cols = my[..., :, :-2] + my[..., :, 1:-1] + my[..., :, 2:]
    dy = cols[..., 2:, :] - cols[..., :-2, :]
    return dx, dy


def pmsp_labels(motion, *, grids=PMSP_GRIDS, scales=None) -> dict[tuple[int, int], np.ndarray]:
    """Algorithm 1's labels for one clip.

    Args:
        motion: float [T, P, H, W, 2] dense motion in pixels (`read_compressed`'s ``motion``,
            after any geometry); a torch tensor is accepted too.
        grids: the spatial grid sizes s; scales: the temporal scales t (each <= T; default
            those of (1, 3, 5) that are <= T, so shorter clips get fewer levels).

    Returns:
        ``{(s, t): int64 array [t]}``, the label of each window, in ``0 .. s*s - 1``.
    """
    m = motion.detach().cpu().numpy() if hasattr(motion, "detach") else np.asarray(motion)
    if m.ndim != 5 or m.shape[-1] != 2:
        raise ValueError(f"pmsp_labels: motion must be [T, P, H, W, 2], got shape {m.shape}")
    T, P, H, W, _ = m.shape
    if P < 1:
        raise ValueError("pmsp_labels: no P-frames given")
    if H < max(grids) or W < max(grids) or H < 2 or W < 2:
        raise ValueError(f"pmsp_labels: a {H}x{W} field is smaller than the {max(grids)}x"
                         f"{max(grids)} grid")
    if scales is None:
        scales = tuple(t for t in PMSP_SCALES if t <= T)
    bad = [t for t in scales if not 1 <= t <= T]
    if bad:
        raise ValueError(f"pmsp_labels: temporal scales {bad} need 1 <= t <= T = {T}")
    dx, dy = _prewitt(m.astype(np.float64, copy=False))
    gx, gy = dx.sum(axis=1), dy.sum(axis=1)  # per-GOP sums [T, H, W]
    out = {}
    for t in scales:
        L = T - t + 1  # GOPs per window
        sx = np.stack([gx[q:q + L].sum(axis=0) for q in range(t)])
        sy = np.stack([gy[q:q + L].sum(axis=0) for q in range(t)])
        mag = np.sqrt(sx * sx + sy * sy)  # [t, H, W]
        for s in grids:
            ey, ex = cell_edges(H, s), cell_edges(W, s)
            cells = np.add.reduceat(np.add.reduceat(mag, ey[:-1], axis=1), ex[:-1], axis=2)
            out[(s, t)] = cells.reshape(t, s * s).argmax(axis=1).astype(np.int64)
    return {k: out[k] for k in pmsp_levels(T, grids, scales)}
