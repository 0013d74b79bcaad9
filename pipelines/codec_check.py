"""DVC stage ``codec_check``: the compressed-video path end to end on a built-in clip.

A check of the codec on every run of the pipeline, beside the datasets' own extraction: it renders
a deterministic sprite clip, re-encodes it with `encode_mpeg4`, reads it back with
`read_compressed` in both compensation modes and records what it found. Reads params section
``codec_check``; writes ``data/codec_check/`` (cached) and ``reports/<profile>/metrics/codec_check.json``
(deterministic); the wall time is printed, never hashed.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from pathlib import Path

import numpy as np

from imrnet import reproducibility
from imrnet.codec import encode_mpeg4, read_compressed
from imrnet.data.synthetic import write_ffv1

from .params import ParamsError, check, load_section, reports_dir_of

OUT = Path("data/codec_check")


def render(path: Path, *, frames: int, width: int, height: int, speed: int) -> None:
    """A smooth textured square moving right by ``speed`` px per frame (lossless FFV1)."""
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float64)
    bg = 128 + 50 * np.sin(xx / 23.0) * np.cos(yy / 19.0)
    size = height // 2
    sy, sx = np.mgrid[0:size, 0:size].astype(np.float64)
    tex = 128 + 80 * np.sin(sx / 5.0) * np.cos(sy / 6.0)
    clip = np.empty((frames, height, width, 3), np.uint8)
    for i in range(frames):
        img = bg.copy()
        x0 = (8 + speed * i) % max(1, width - size)
        img[height // 4 : height // 4 + size, x0 : x0 + size] = tex
        clip[i] = np.stack([img, 0.7 * img + 40, 255 - img], -1).clip(0, 255).astype(np.uint8)
    write_ffv1(path, clip)


SPEC = {"frames": ("int>=13", True), "width": ("int>=16", True), "height": ("int>=16", True),
        "speed": ("int>=0", True), "gop_size": ("int>=2", True), "quality": ("int:1..31", True),
        "num_gops": ("int>=1", True)}
FILES = ("source.mkv", "clip.mp4")  # what the stage writes in OUT, the only files it replaces


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m pipelines.codec_check", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--params", default="params.yaml")
    a = ap.parse_args(argv)
    try:
        params = check(f"{a.params}: codec_check", load_section(a.params, "codec_check"), SPEC)
        if params["frames"] < params["num_gops"] * params["gop_size"]:
            raise ParamsError(f"{a.params}: codec_check.frames ({params['frames']}) must hold "
                              f"num_gops x gop_size = {params['num_gops'] * params['gop_size']} frames")
        dst = reports_dir_of(a.params) / "metrics" / "codec_check.json"
    except ParamsError as e:
        print(f"codec_check: {e}", file=sys.stderr)
        return 2
    params = {k: int(v) for k, v in params.items()}
    t0 = time.perf_counter()
    OUT.mkdir(parents=True, exist_ok=True)
    for name in FILES:
        (OUT / name).unlink(missing_ok=True)
    render(OUT / "source.mkv", frames=params["frames"], width=params["width"],
           height=params["height"], speed=params["speed"])
    info = encode_mpeg4(OUT / "source.mkv", OUT / "clip.mp4", short_side=None,
                        gop_size=params["gop_size"], quality=params["quality"])
    metrics = {"params": params, "encoded": {k: v for k, v in info.to_dict().items() if k != "path"},
               "encoded_sha256": hashlib.sha256((OUT / "clip.mp4").read_bytes()).hexdigest(),
               "reproducibility": reproducibility.record()}
    for mc in ("coviar", "exact"):
        clip = read_compressed(info.path, num_gops=params["num_gops"], mc=mc)
        metrics[mc] = {
            "motion_shape": list(clip.motion.shape),
            "residual_shape": list(clip.residual.shape),
            "median_dx_moving": float(np.median(clip.motion[..., 0][clip.motion[..., 0] != 0]))
            if (clip.motion[..., 0] != 0).any() else 0.0,
            "residual_mean_square": float((clip.residual.astype(np.float64) ** 2).mean()),
        }
    dst.parent.mkdir(parents=True, exist_ok=True)
    dst.write_text(json.dumps(metrics, indent=2, sort_keys=True) + "\n")
    print(f"codec_check: {time.perf_counter() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
