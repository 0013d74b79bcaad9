"""Built-in procedural action datasets: deterministic stand-ins for Kinetics-400, UCF-101 and
HMDB-51 that keep the paper's questions answerable.

* Motion carries the class: each class is a motion pattern of a foreground sprite.
* Appearance does not: sprite shape, texture, size and colour, the background and the
  distractors are drawn from the same distributions for every class. Backgrounds are
  band-limited (smooth noise, stripes, gradients, or a crop of one of the natural images that
  ship inside matplotlib's wheel: a photograph and a shaded terrain model), smooth enough for
  the encoder's motion search; the camera may pan or zoom; sensor noise is added last.
* Some classes differ only *within* a GOP (fast oscillation at the I-frame rate, clockwise vs
  counter-clockwise spin of 4-fold symmetric sprites, stop-and-go vs steady move_right): five
  I-frames at 2.5 Hz show the same picture for both members of a pair (spins turn a quarter
  turn per GOP), so the M and R streams are needed.
* The order of GOPs matters (translations and approach/recede are not time-symmetric), so
  CTP's shuffle and shift are learnable.

Everything is a pure function of (dataset name, seed, clip index): `render_clip` draws all its
randomness from one generator, and files are written losslessly with bit-exact muxing (FFV1 in
Matroska), so `generate` gives the same bytes every time (tested).

| class | motion of the sprite |
|---|---|
| move_right / move_left / move_up / move_down | constant-speed translation |
| move_up_right / move_down_left | diagonal translation (kinetics only) |
| spin_cw / spin_ccw | rotation in place, a quarter turn per GOP (4-fold symmetric sprites: I-frames identical) |
| approach / recede | growing / shrinking |
| bounce | parabolic hops along the floor |
| circle | circular path |
| oscillate_fast | horizontal sine at 2.5 Hz (I-frames identical) |
| stop_and_go | moves right at twice the speed for half of each GOP, rests for the other half (I-frames as move_right's) |
| oscillate_vertical | vertical sine at 1 Hz (kinetics only) |
| zigzag | diagonal bounce between the top and bottom (kinetics only) |
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import os
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np

from .records import reset_if_changed

__all__ = ["CLASSES", "DATASETS", "DatasetSpec", "render_clip", "generate", "sprite_state",
           "write_ffv1"]

FPS = 30
GOP_SECONDS = 12 / FPS  # 0.4 s: the I-frame period at GOP 12

CLASSES = ["move_right", "move_left", "move_up", "move_down", "spin_cw", "spin_ccw",
           "approach", "recede", "bounce", "circle", "oscillate_fast", "stop_and_go",
           "move_up_right", "move_down_left", "oscillate_vertical", "zigzag"]


@dataclass(frozen=True)
class DatasetSpec:
    """One built-in dataset: its classes and how many clips, how cluttered."""

    classes: tuple[str, ...]
    train_per_class: int
    test_per_class: int
    distractors: tuple[int, int]  # min, max count
    camera: float                 # probability of a camera pan/zoom
    noise: float                  # sensor noise std (grey levels)


DATASETS = {
    "synthetic-kinetics": DatasetSpec(tuple(CLASSES), 24, 0, (0, 2), 0.3, 2.0),
    "synthetic-ucf": DatasetSpec(tuple(CLASSES[:12]), 12, 4, (0, 1), 0.2, 1.5),
    "synthetic-hmdb": DatasetSpec(tuple(CLASSES[:10]), 6, 3, (1, 3), 0.6, 3.0),
}


def _smooth_field(rng, h, w, cells, channels=3):
    """Band-limited noise: a coarse random grid upsampled bilinearly."""
    g = rng.uniform(0, 1, (cells + 1, cells + 1, channels))
    return _sample(g, np.linspace(0, cells, h), np.linspace(0, cells, w))


@functools.lru_cache(maxsize=None)
def _photos() -> tuple[np.ndarray, ...]:
    """Natural images shipped inside matplotlib's wheel (a dependency already): a photograph
    (``grace_hopper.jpg``) and a shaded-relief rendering of a terrain model
    (``jacksboro_fault_dem.npz``, an aerial-like texture). float64 RGB in [0, 255]."""
    from matplotlib import cbook, colormaps
    from matplotlib.colors import LightSource
    from PIL import Image

    with Image.open(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)) as im:
        photo = np.asarray(im.convert("RGB"), np.float64)
    with np.load(cbook.get_sample_data("jacksboro_fault_dem.npz", asfileobj=False)) as z:
        dem = z["elevation"].astype(np.float64)
    relief = LightSource(azdeg=315, altdeg=45).shade(dem, cmap=colormaps["gist_earth"],
                                                     vert_exag=0.05, blend_mode="overlay")
    return photo, np.asarray(relief[..., :3], np.float64) * 255


def _sample(img, ys, xs):
    """Bilinear samples of img [H, W, C] at rows ys [h] x columns xs [w] (clamped to the edge)."""
    H, W = img.shape[:2]
    ys, xs = np.clip(ys, 0, H - 1), np.clip(xs, 0, W - 1)
    y0, x0 = np.minimum(ys.astype(int), H - 2), np.minimum(xs.astype(int), W - 2)
    fy, fx = (ys - y0)[:, None, None], (xs - x0)[None, :, None]
    a, b = img[y0][:, x0], img[y0][:, x0 + 1]
    c, d = img[y0 + 1][:, x0], img[y0 + 1][:, x0 + 1]
    return (a * (1 - fx) + b * fx) * (1 - fy) + (c * (1 - fx) + d * fx) * fy


def _background(rng, h, w):
    kind = int(rng.integers(4))
    if kind == 3:  # a natural image: a random crop at a random scale, maybe mirrored
        src = _photos()[int(rng.integers(len(_photos())))]
        H, W = src.shape[:2]
        f = min(H / h, W / w) * rng.uniform(0.5, 1.0)  # source pixels per canvas pixel
        y0, x0 = rng.uniform(0, H - h * f), rng.uniform(0, W - w * f)
        img = _sample(src, y0 + np.arange(h) * f, x0 + np.arange(w) * f)
        return img[:, ::-1] if rng.random() < 0.5 else img
    if kind == 0:  # smooth noise
        img = _smooth_field(rng, h, w, int(rng.integers(3, 7)))
    elif kind == 1:  # stripes
        yy, xx = np.mgrid[0:h, 0:w]
        ang, period = rng.uniform(0, np.pi), rng.uniform(12, 30)
        s = 0.5 + 0.35 * np.sin((xx * np.cos(ang) + yy * np.sin(ang)) * 2 * np.pi / period)
        img = s[..., None] * rng.uniform(0.4, 1, 3) + _smooth_field(rng, h, w, 2) * 0.2
    else:  # gradient plus mild noise
        yy, xx = np.mgrid[0:h, 0:w] / max(h, w)
        img = (xx[..., None] * rng.uniform(-1, 1, 3) + yy[..., None] * rng.uniform(-1, 1, 3))
        img = 0.5 + 0.4 * img + 0.15 * _smooth_field(rng, h, w, 4)
    return np.clip(img * 255, 0, 255)


def _sprite(rng, r):
    """A textured sprite of radius r with 4-fold rotational symmetry: RGB [2r,2r,3] + mask."""
    n = 2 * r
    tex = _smooth_field(rng, n, n, int(rng.integers(2, 5)))
    tex = (tex + np.rot90(tex, 1) + np.rot90(tex, 2) + np.rot90(tex, 3)) / 4
    tex = (tex - tex.mean()) * 3 + rng.uniform(0.2, 0.8, 3)
    yy, xx = np.mgrid[0:n, 0:n] - (n - 1) / 2
    shape = int(rng.integers(3))
    if shape == 0:
        mask = np.hypot(xx, yy) <= r
    elif shape == 1:
        mask = (np.abs(xx) <= r * 0.8) & (np.abs(yy) <= r * 0.8)
    else:  # a four-armed cross
        mask = ((np.abs(xx) <= r * 0.35) | (np.abs(yy) <= r * 0.35)) & (np.hypot(xx, yy) <= r)
    # stripes make in-plane rotation visible to the motion search
    stripes = 0.5 + 0.5 * np.sin(np.arctan2(yy, xx) * 4 + np.hypot(xx, yy) / 3)
    return np.clip((tex * (0.6 + 0.4 * stripes[..., None])) * 255, 0, 255), mask


def sprite_state(cls: str, t: float, p: dict) -> tuple[float, float, float, float]:
    """Centre (x, y) in units of the frame, rotation (radians) and scale at time t (s)."""
    x, y, v = p["x"], p["y"], p["speed"]
    ang, scale = 0.0, 1.0
    if cls == "move_right":
        x += v * t
    elif cls == "move_left":
        x -= v * t
    elif cls == "move_up":
        y -= v * t
    elif cls == "move_down":
        y += v * t
    elif cls == "move_up_right":
        x, y = x + v * t * 0.7, y - v * t * 0.7
    elif cls == "move_down_left":
        x, y = x - v * t * 0.7, y + v * t * 0.7
    elif cls in ("spin_cw", "spin_ccw"):  # a quarter turn per I-frame period (0.625 rev/s)
        ang = (1 if cls == "spin_cw" else -1) * (math.pi / 2) * t / GOP_SECONDS
    elif cls == "approach":
        scale = 0.6 + 0.6 * t
    elif cls == "recede":
        scale = 1.8 - 0.6 * t
    elif cls == "bounce":
        x += v * 0.8 * t
        phase = (t * 1.25) % 1.0
        y = 0.75 - 1.6 * phase * (1 - phase)
    elif cls == "circle":
        x += 0.22 * math.cos(2 * math.pi * 0.6 * t + p["phase"])
        y += 0.22 * math.sin(2 * math.pi * 0.6 * t + p["phase"])
    elif cls == "oscillate_fast":  # 2.5 Hz: the same position at every I-frame
        x += 0.08 * math.sin(2 * math.pi * t / GOP_SECONDS)
    elif cls == "oscillate_vertical":
        y += 0.2 * math.sin(2 * math.pi * 1.0 * t + p["phase"])
    elif cls == "stop_and_go":  # 2v for the first half of each GOP, still for the second:
        k, rem = divmod(t, GOP_SECONDS)  # at every I-frame exactly where move_right would be
        x += v * (k * GOP_SECONDS + 2 * min(rem, GOP_SECONDS / 2))
    elif cls == "zigzag":
        x += v * 0.6 * t
        tri = abs(((t * 0.8) % 1.0) * 2 - 1)
        y = 0.3 + 0.4 * tri
    else:
        raise ValueError(f"unknown class {cls!r}")
    return x, y, ang, scale


def _paste(frame, tex, mask, cx, cy, ang, scale):
    """Draw the sprite (inverse-mapped, bilinear) centred at pixel (cx, cy)."""
    h, w = frame.shape[:2]
    n = tex.shape[0]
    r = n / 2 * scale * 1.5
    y0, y1 = max(0, int(cy - r)), min(h, int(cy + r) + 1)
    x0, x1 = max(0, int(cx - r)), min(w, int(cx + r) + 1)
    if y0 >= y1 or x0 >= x1:
        return
    yy, xx = np.mgrid[y0:y1, x0:x1].astype(np.float64)
    dx, dy = (xx - cx) / scale, (yy - cy) / scale
    c, s = math.cos(-ang), math.sin(-ang)
    u = c * dx - s * dy + (n - 1) / 2
    v = s * dx + c * dy + (n - 1) / 2
    inside = (u >= 0) & (u <= n - 1) & (v >= 0) & (v <= n - 1)
    ui, vi = np.clip(u.astype(int), 0, n - 2), np.clip(v.astype(int), 0, n - 2)
    fu, fv = np.clip(u - ui, 0, 1)[..., None], np.clip(v - vi, 0, 1)[..., None]
    col = ((tex[vi, ui] * (1 - fu) + tex[vi, ui + 1] * fu) * (1 - fv)
           + (tex[vi + 1, ui] * (1 - fu) + tex[vi + 1, ui + 1] * fu) * fv)
    m = inside & mask[np.clip(np.rint(v).astype(int), 0, n - 1), np.clip(np.rint(u).astype(int), 0, n - 1)]
    region = frame[y0:y1, x0:x1]
    region[m] = col[m]


def render_clip(cls: str, rng: np.random.Generator, *, width: int = 128, height: int = 96,
                frames: int = 60, distractors: tuple[int, int] = (0, 1), camera: float = 0.2,
                noise: float = 1.5) -> np.ndarray:
    """One clip of class ``cls``: uint8 [frames, height, width, 3] RGB at 30 fps.

    All randomness comes from ``rng``; appearance is drawn before and independently of ``cls``.
    """
    short = min(width, height)
    pad = int(0.25 * max(width, height))
    canvas = _background(rng, height + 2 * pad, width + 2 * pad)
    tex, mask = _sprite(rng, int(short * rng.uniform(0.12, 0.2)))
    p = {"x": rng.uniform(0.3, 0.7), "y": rng.uniform(0.35, 0.65),
         "speed": rng.uniform(0.3, 0.45), "phase": rng.uniform(0, 2 * np.pi)}
    if cls in ("move_right", "move_up_right", "stop_and_go", "bounce", "zigzag"):
        p["x"] = rng.uniform(0.12, 0.22)
    elif cls in ("move_left", "move_down_left"):
        p["x"] = rng.uniform(0.78, 0.88)
    if cls in ("move_down", "move_down_left"):
        p["y"] = rng.uniform(0.12, 0.22)
    elif cls in ("move_up", "move_up_right"):
        p["y"] = rng.uniform(0.78, 0.88)
    others = []
    for _ in range(int(rng.integers(distractors[0], distractors[1] + 1))):
        dt, dm = _sprite(rng, int(short * rng.uniform(0.06, 0.1)))
        others.append((dt, dm, rng.uniform(0, 1, 2), rng.uniform(-0.15, 0.15, 2)))
    mode = ("pan" if rng.random() < 0.5 else "zoom") if rng.random() < camera else None
    pan = rng.uniform(-0.15, 0.15, 2) * pad if mode == "pan" else np.zeros(2)
    zoom = rng.uniform(0.1, 0.2) * rng.choice([-1.0, 1.0]) if mode == "zoom" else 0.0
    lo = max(width / (width + 2 * pad), height / (height + 2 * pad))  # widest view the canvas has
    out = np.empty((frames, height, width, 3), np.uint8)
    for i in range(frames):
        t = i / FPS
        if zoom:  # about the canvas centre; long clips stop at the canvas edge or at 2x
            z = min(max(1.0 + zoom * t, lo), 2.0)
            f = _sample(canvas, pad + (height - 1) / 2 + (np.arange(height) - (height - 1) / 2) / z,
                        pad + (width - 1) / 2 + (np.arange(width) - (width - 1) / 2) / z)
        else:
            ox, oy = pad + pan[0] * t * 2, pad + pan[1] * t * 2
            fx = min(max(int(round(ox)), 0), 2 * pad)  # long clips: the pan stops at the edge
            fy = min(max(int(round(oy)), 0), 2 * pad)
            f = canvas[fy : fy + height, fx : fx + width].copy()
        for dt, dm, pos, vel in others:
            _paste(f, dt, dm, (pos[0] + vel[0] * t) * width, (pos[1] + vel[1] * t) * height, 0.0, 1.0)
        x, y, ang, scale = sprite_state(cls, t, p)
        _paste(f, tex, mask, x * width, y * height, ang, scale)
        if noise:
            f += rng.normal(0, noise, f.shape)
        out[i] = np.clip(f, 0, 255).round().astype(np.uint8)
    return out


def write_ffv1(path: Path, frames: np.ndarray) -> None:
    """Write uint8 [N, H, W, 3] RGB frames losslessly (FFV1, yuv444p, 30 fps) to a Matroska
    file, atomically and bit-exactly (no random segment UID or date: the bytes repeat)."""
    tmp = path.with_name(f".{path.stem}.part-{os.getpid()}{path.suffix}")
    with av.open(str(tmp), "w", format="matroska", options={"fflags": "+bitexact"}) as out:
        st = out.add_stream("ffv1", rate=FPS, options={"flags": "+bitexact"})
        st.width, st.height, st.pix_fmt = frames.shape[2], frames.shape[1], "yuv444p"
        st.codec_context.thread_count = 1
        for f in frames:
            vf = av.VideoFrame.from_ndarray(f, format="rgb24").reformat(format="yuv444p", threads=1)
            for p in st.encode(vf):
                out.mux(p)
        for p in st.encode():
            out.mux(p)
    os.replace(tmp, path)


def generate(name: str, root: str | os.PathLike, *, seed: int = 0, width: int = 128,
             height: int = 96, frames: int = 60, scale: float = 1.0, test_scale: float | None = None,
             progress: bool = False) -> list[dict]:
    """Write dataset ``name`` under ``root/<name>/{train,test}/<class>/<id>.mkv`` and its index
    ``root/<name>/index.json`` (id, class, label, subset, path, sha256). Existing finished
    files are kept (resumable) when the params are the same as theirs (a stamp says; other
    params rebuild the set); ``scale`` multiplies the clips per class (at least 1),
    ``test_scale`` (default: ``scale``) the test clips alone, so a test set can grow for
    statistical power without changing the training set (clip k of a class is the same clip
    whatever the count: its generator is seeded by (seed, set, subset, label, k))."""
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; built-in: {sorted(DATASETS)}")
    spec = DATASETS[name]
    base = Path(root) / name
    stamp = {"name": name, "seed": seed, "width": width, "height": height, "frames": frames,
             "scale": scale}
    if test_scale is not None:  # only when set: sets made before it keep their stamp
        stamp["test_scale"] = test_scale
    reset_if_changed(base, stamp)
    jobs = []
    for subset, per in (("train", spec.train_per_class), ("test", spec.test_per_class)):
        f = scale if subset == "train" or test_scale is None else test_scale
        n = 0 if per == 0 else max(1, int(round(per * f)))
        for label, cls in enumerate(spec.classes):
            for k in range(n):
                jobs.append((subset, label, cls, k))
    from tqdm import tqdm

    for stale in base.rglob(".*.part-*") if base.is_dir() else ():  # a killed earlier run
        stale.unlink()
    index = []
    ds_key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:4], "little")
    for subset, label, cls, k in tqdm(jobs, disable=not progress, desc=name, unit="clip"):
        vid = f"{cls}_{subset}_{k:04d}"
        path = base / subset / cls / f"{vid}.mkv"
        if not path.is_file():
            path.parent.mkdir(parents=True, exist_ok=True)
            sub = 0 if subset == "train" else 1
            rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, ds_key, sub, label, k])))
            write_ffv1(path, render_clip(cls, rng, width=width, height=height, frames=frames,
                                          distractors=spec.distractors, camera=spec.camera,
                                          noise=spec.noise))
        index.append({"video_id": vid, "class_name": cls, "label": label, "subset": subset,
                      "path": str(path.relative_to(base)),
                      "sha256": hashlib.sha256(path.read_bytes()).hexdigest()})
    (base / "index.json").write_text(json.dumps(index, indent=1) + "\n")
    return index
