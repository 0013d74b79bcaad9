"""Fused per-pixel kernels for the reader's hot path (numba, compiled once and cached on disk).

NumPy needs 10-15 passes over each frame for one P-frame's motion, source lookup and residual
(about 1.3 ms at 340x256, 5x the cost of decoding it); each kernel here does one pass. They are
the same arithmetic as the NumPy reference in `mc` (tests check equality) and exact integer
code, so results do not depend on the machine.

Conventions: ``cells`` hold half-pel vectors (mx, my) per ``cell`` x ``cell`` pixels; CoViAR's
integer vector is the half-pel value truncated toward zero (C division).
"""

from __future__ import annotations

import numba as nb
import numpy as np

__all__ = ["coviar_raw", "scatter_vectors", "coviar_motion", "accumulated_motion", "accumulate", "accumulated_out", "hpel_predict", "residual",
           "half_motion",
           "normalize_frames", "normalize_motion_into", "normalize_residual"]

_JIT = dict(nogil=True, cache=True, boundscheck=False, error_model="numpy")


@nb.njit(**_JIT)
def _trunc_half(m):
    return m // 2 if m >= 0 else -((-m) // 2)


@nb.njit(**_JIT)
def coviar_raw(cells, ref, cur, motion_out, res_out):
    """CoViAR's raw motion and residual for one P-frame.

    Args:
        cells: int32 [GH, GW, 2] half-pel vectors per 8x8 cell.
        ref, cur: uint8 [H, W, 3] RGB of the reference (previous) and current frame.
        motion_out: float32 [H, W, 2] written with (dx, dy), zero where the source leaves the
            frame (CoViAR writes nothing there).
        res_out: int16 [H, W, 3] written with cur - ref[y+dy, x+dx].
    """
    h, w = cur.shape[0], cur.shape[1]
    for y in range(h):
        cy = y >> 3
        for cx in range((w + 7) >> 3):
            dx = _trunc_half(cells[cy, cx, 0])
            dy = _trunc_half(cells[cy, cx, 1])
            x0 = cx << 3
            x1 = min(x0 + 8, w)
            sy = y + dy
            if sy >= 0 and sy < h and x0 + dx >= 0 and x1 - 1 + dx < w:  # the whole run is inside
                for x in range(x0, x1):
                    motion_out[y, x, 0] = dx
                    motion_out[y, x, 1] = dy
                    sx = x + dx
                    res_out[y, x, 0] = np.int16(cur[y, x, 0]) - np.int16(ref[sy, sx, 0])
                    res_out[y, x, 1] = np.int16(cur[y, x, 1]) - np.int16(ref[sy, sx, 1])
                    res_out[y, x, 2] = np.int16(cur[y, x, 2]) - np.int16(ref[sy, sx, 2])
            else:
                for x in range(x0, x1):
                    ddx, ddy, sx, ssy = dx, dy, x + dx, sy
                    if sx < 0 or sx >= w or ssy < 0 or ssy >= h:
                        ddx, ddy, sx, ssy = 0, 0, x, y
                    motion_out[y, x, 0] = ddx
                    motion_out[y, x, 1] = ddy
                    for c in range(3):
                        res_out[y, x, c] = np.int16(cur[y, x, c]) - np.int16(ref[ssy, sx, c])


@nb.njit(**_JIT)
def scatter_vectors(mvs, vec, four_mv):
    """Scatter AVMotionVector records (structured array) into the 8x8-cell grid `vec`
    (int32 [2*MBH, 2*MBW, 2], zeroed by the caller) and mark 4-MV macroblocks in `four_mv`."""
    gh, gw = vec.shape[0], vec.shape[1]
    for i in range(mvs.shape[0]):
        r = mvs[i]
        bw = np.int32(r.w)
        bh = np.int32(r.h)
        cx = (np.int32(r.dst_x) - bw // 2) >> 3
        cy = (np.int32(r.dst_y) - bh // 2) >> 3
        if cx < 0 or cy < 0 or cx >= gw or cy >= gh:
            continue
        mx, my = np.int32(r.motion_x), np.int32(r.motion_y)
        if bw == 16:
            for oy in range(2):
                for ox in range(2):
                    if cy + oy < gh and cx + ox < gw:
                        vec[cy + oy, cx + ox, 0] = mx
                        vec[cy + oy, cx + ox, 1] = my
        else:
            vec[cy, cx, 0] = mx
            vec[cy, cx, 1] = my
            four_mv[cy >> 1, cx >> 1] = True


@nb.njit(**_JIT)
def accumulate(cells, accu_in, accu_out):
    """One step of CoViAR's accumulation: ``accu_out[y, x] = accu_in[source of (y, x)]``.

    ``accu_*``: int64 [H, W], flat index (into the GOP's I-frame) each pixel traces back to.
    """
    h, w = accu_in.shape
    for y in range(h):
        cy = y >> 3
        for x in range(w):
            cx = x >> 3
            sx = x + _trunc_half(cells[cy, cx, 0])
            sy = y + _trunc_half(cells[cy, cx, 1])
            if sx < 0 or sx >= w or sy < 0 or sy >= h:
                sx, sy = x, y
            accu_out[y, x] = accu_in[sy, sx]


@nb.njit(**_JIT)
def accumulated_out(accu, iframe, cur, motion_out, res_out):
    """Accumulated motion (source in the I-frame minus position) and residual."""
    h, w = accu.shape
    for y in range(h):
        for x in range(w):
            a = accu[y, x]
            sy, sx = a // w, a % w
            motion_out[y, x, 0] = sx - x
            motion_out[y, x, 1] = sy - y
            for c in range(3):
                res_out[y, x, c] = np.int16(cur[y, x, c]) - np.int16(iframe[sy, sx, c])


@nb.njit(**_JIT)
def coviar_motion(cells, motion_out):
    """`coviar_raw`'s motion alone (float32 [H, W, 2])."""
    h, w = motion_out.shape[0], motion_out.shape[1]
    for y in range(h):
        cy = y >> 3
        for x in range(w):
            cx = x >> 3
            dx = _trunc_half(cells[cy, cx, 0])
            dy = _trunc_half(cells[cy, cx, 1])
            if x + dx < 0 or x + dx >= w or y + dy < 0 or y + dy >= h:
                dx, dy = 0, 0
            motion_out[y, x, 0] = dx
            motion_out[y, x, 1] = dy


@nb.njit(**_JIT)
def accumulated_motion(accu, motion_out):
    """`accumulated_out`'s motion alone."""
    h, w = accu.shape
    for y in range(h):
        for x in range(w):
            a = accu[y, x]
            motion_out[y, x, 0] = a % w - x
            motion_out[y, x, 1] = a // w - y


@nb.njit(**_JIT)
def half_motion(cells, cell, motion_out):
    """Dense motion in pixels (half-pel / 2) from per-cell vectors."""
    h, w = motion_out.shape[0], motion_out.shape[1]
    for y in range(h):
        cy = y // cell
        for x in range(w):
            cx = x // cell
            motion_out[y, x, 0] = cells[cy, cx, 0] * 0.5
            motion_out[y, x, 1] = cells[cy, cx, 1] * 0.5


@nb.njit(**_JIT)
def hpel_predict(ref, cells, cell, rounding, out):
    """MPEG-4 half-pel bilinear motion compensation of one plane (as `mc.predict_plane`).

    Args:
        ref: uint8 [h, w] reference plane (coded width: edge clamping happens at its border).
        cells: int32 [GH, GW, 2] half-pel vectors in this plane's units, per ``cell`` pixels.
        rounding: the VOP's rounding control (0 or 1).
        out: uint8 [h', w'] (h' <= h, w' <= w) written with the prediction.
    """
    h, w = ref.shape
    oh, ow = out.shape
    for y in range(oh):
        cy = y // cell
        for x in range(ow):
            cx = x // cell
            mx, my = cells[cy, cx, 0], cells[cy, cx, 1]
            x0, y0 = x + (mx >> 1), y + (my >> 1)
            xa, xb = min(max(x0, 0), w - 1), min(max(x0 + 1, 0), w - 1)
            ya, yb = min(max(y0, 0), h - 1), min(max(y0 + 1, 0), h - 1)
            a = np.int32(ref[ya, xa])
            if mx & 1:
                b = np.int32(ref[ya, xb])
                if my & 1:
                    v = (a + b + np.int32(ref[yb, xa]) + np.int32(ref[yb, xb]) + 2 - rounding) >> 2
                else:
                    v = (a + b + 1 - rounding) >> 1
            elif my & 1:
                v = (a + np.int32(ref[yb, xa]) + 1 - rounding) >> 1
            else:
                v = a
            out[y, x] = v


@nb.njit(**_JIT)
def residual(cur, pred, res_out):
    """``res_out = cur - pred`` as int16 (all [H, W, 3])."""
    h, w = cur.shape[0], cur.shape[1]
    for y in range(h):
        for x in range(w):
            for c in range(3):
                res_out[y, x, c] = np.int16(cur[y, x, c]) - np.int16(pred[y, x, c])


# The model-input normalisation (`imrnet.codec.normalize`): float32 arithmetic in the order the
# torch statement had it (correctly rounded single-precision operations, no FMA contraction),
# so the outputs are the same bits. Two passes each: a transposing copy to float32 that reads
# the source through any strides (crop views, flipped views), then the arithmetic over the
# contiguous output, which LLVM vectorises (the divisions dominate; 10x faster than one
# strided pass).


@nb.njit(**_JIT)
def _clamp255(v):
    # NaN passes through (as torch's clamp)
    if v < np.float32(0.0):
        return np.float32(0.0)
    if v > np.float32(255.0):
        return np.float32(255.0)
    return v


@nb.njit(**_JIT)
def normalize_frames(src, mean, std, out):
    """I-frames [T, H, W, 3] (any dtype and strides) -> float32 [3, T, H, W]:
    ``(x / 255 - mean[c]) / std[c]``, as `to_model_input` states it."""
    for t in range(src.shape[0]):
        for y in range(src.shape[1]):
            for x in range(src.shape[2]):
                for c in range(3):
                    out[c, t, y, x] = np.float32(src[t, y, x, c])
    for c in range(3):
        mc, sc = mean[c], std[c]
        flat = out[c].reshape(-1)
        for i in range(flat.shape[0]):
            flat[i] = (flat[i] / np.float32(255.0) - mc) / sc


@nb.njit(**_JIT)
def normalize_motion_into(m, mul, out):
    """Motion [T, P, H, W, 2] (any dtype and strides) -> float32 [2, T*P, H, W]:
    ``clamp(x * mul + 128, 0, 255) / 255 - 0.5`` (NaN passes through, as torch's clamp)."""
    t_, p_ = m.shape[0], m.shape[1]
    for t in range(t_):
        for p in range(p_):
            f = t * p_ + p
            for y in range(m.shape[2]):
                for x in range(m.shape[3]):
                    out[0, f, y, x] = np.float32(m[t, p, y, x, 0])
                    out[1, f, y, x] = np.float32(m[t, p, y, x, 1])
    flat = out.reshape(-1)
    for i in range(flat.shape[0]):
        flat[i] = _clamp255(flat[i] * mul + np.float32(128.0)) / np.float32(255.0) - np.float32(0.5)


@nb.njit(**_JIT)
def normalize_residual(r, std, out):
    """Residual [T, P, H, W, 3] (any dtype and strides) -> float32 [3, T*P, H, W]:
    ``(clamp(x + 128, 0, 255) / 255 - 0.5) / std[c]``."""
    t_, p_ = r.shape[0], r.shape[1]
    for t in range(t_):
        for p in range(p_):
            f = t * p_ + p
            for y in range(r.shape[2]):
                for x in range(r.shape[3]):
                    for c in range(3):
                        out[c, f, y, x] = np.float32(r[t, p, y, x, c])
    for c in range(3):
        sc = std[c]
        flat = out[c].reshape(-1)
        for i in range(flat.shape[0]):
            flat[i] = (_clamp255(flat[i] + np.float32(128.0)) / np.float32(255.0) - np.float32(0.5)) / sc
