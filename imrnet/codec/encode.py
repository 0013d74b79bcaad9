"""Re-encode any video FFmpeg decodes to MPEG-4 Part 2 with a fixed GOP and no B-frames.

This is the preprocessing of CoViAR / DMC-Net / IMRNet (``ffmpeg -i in -vf scale=W:H -c:v mpeg4
-q:v 1 -g 12 -bf 0 out``) done through PyAV, deterministic and checked.

Quantiser. ``-q:v q`` in the ffmpeg CLI sets the QSCALE flag, ``global_quality = q * 118``
(FF_QP2LAMBDA) *and* copies that lambda into every frame it sends; the MPEG-4 encoder takes its
quantiser from the frame, then clamps it to ``[qmin, qmax]`` (default qmin = 2). PyAV does not
set the frame's quality, so flag and global_quality alone leave every VOP at qmin. We therefore
pin ``qmin = qmax = clamp(q, 2, 31)``, which gives exactly the CLI's effective quantiser,
CoViAR's ``-q:v 1`` -> 2 included. `stream_quantisers` reads it back from the VOP headers.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from ..paths import refuse_overlap
from .bitstream import parse_vop
from .errors import CorruptVideoError, VideoError
from .read import open_container, open_mpeg4

__all__ = ["VideoInfo", "encode_mpeg4", "probe_mpeg4", "output_size", "QP2LAMBDA"]

QP2LAMBDA = 118  # FFmpeg's FF_QP2LAMBDA
DEFAULT_QMIN, QMAX = 2, 31
_SCENECUT_OFF = str(10**9)
GOP_TAG = "imrnet-repro encode_mpeg4 gop_size="  # mpegvideo's sc_threshold: no scene-cut I-frames
_CONTAINERS = {".mp4": "mp4", ".m4v": "mp4", ".mov": "mov", ".avi": "avi", ".mkv": "matroska"}


@dataclass(frozen=True)
class VideoInfo:
    """What `encode_mpeg4` wrote (or what `probe_mpeg4` found).

    Attributes:
        path: the MPEG-4 Part 2 file.
        frames: number of frames (one packet each, no B-frames).
        gops: number of GOPs (key frames); the last may be shorter than ``gop_size``.
        gop_size: key-frame distance.
        fps: frame rate (frames per second), as a float.
        width, height: frame size in pixels.
        quantiser: the fixed quantiser found in the VOP headers (None if not constant).
        size_bytes: file size.
    """

    path: str
    frames: int
    gops: int
    gop_size: int
    fps: float
    width: int
    height: int
    quantiser: int | None
    size_bytes: int

    def to_dict(self) -> dict:
        return asdict(self)


def output_size(in_w: int, in_h: int, *, short_side: int | None = 256,
                size: tuple[int, int] | None = None) -> tuple[int, int]:
    """Output (W, H): ``size`` exactly, or the short side scaled to ``short_side`` with the aspect
    ratio kept and both sides rounded to the nearest even number (4:2:0 needs even sizes)."""
    if size is not None:
        w, h = (int(v) for v in size)
        if w < 2 or h < 2 or w % 2 or h % 2:
            raise ValueError(f"size must be two even integers >= 2, got {size!r}")
        return w, h
    if short_side is None:
        w, h = in_w, in_h
    else:
        if short_side < 2 or short_side % 2:
            raise ValueError(f"short_side must be an even integer >= 2, got {short_side!r}")
        scale = short_side / min(in_w, in_h)
        w, h = in_w * scale, in_h * scale
    return max(2, 2 * round(w / 2)), max(2, 2 * round(h / 2))


def _effective_quantiser(quality: int) -> int:
    if not isinstance(quality, (int, np.integer)) or not 1 <= quality <= QMAX:
        raise ValueError(f"quality must be an integer quantiser in 1..31, got {quality!r}")
    return max(int(quality), DEFAULT_QMIN)


def _timed(frames, in_rate: Fraction):
    """Pair each frame with an exact timestamp: pts * time_base, or index / rate when the
    container gives no usable (present and increasing) pts."""
    last = None
    for f in frames:
        t = None
        if f.pts is not None and f.time_base is not None:
            t = Fraction(f.pts) * Fraction(f.time_base)
        if t is None or (last is not None and t <= last):
            t = (last + 1 / in_rate) if last is not None else Fraction(0)
        last = t
        yield f, t


def _resampled(frames, in_rate: Fraction, fps: Fraction | None):
    """Yield frames at a constant rate ``fps``, each output instant t0 + k/fps taking the input
    frame nearest in time (ffmpeg's fps filter, round=near). ``fps=None``: every frame once."""
    if fps is None:
        yield from frames
        return
    step = 1 / fps
    prev = prev_t = t0 = None
    k = 0
    for frame, t in _timed(frames, in_rate):
        if prev is None:
            t0 = t
        else:
            while t0 + k * step < (prev_t + t) / 2:
                yield prev
                k += 1
        prev, prev_t = frame, t
    if prev is not None:  # the last frame lasts one input frame period
        end = prev_t + 1 / in_rate
        while t0 + k * step < end:
            yield prev
            k += 1


def _decoded_frames(container, src: str):
    stream = container.streams.video[0]
    try:
        for frame in container.decode(stream):
            yield frame
    except av.FFmpegError as e:
        raise CorruptVideoError(src, f"decoding failed ({e})") from None


def encode_mpeg4(src: str | os.PathLike, dst: str | os.PathLike, *, gop_size: int = 12,
                 short_side: int | None = 256, size: tuple[int, int] | None = None,
                 fps: float | Fraction | None = None, quality: int = 1) -> VideoInfo:
    """Re-encode ``src`` to MPEG-4 Part 2 at ``dst`` (container from the suffix: .mp4, .avi, ...).

    Args:
        src: any video FFmpeg decodes (H.264 with B-frames included).
        dst: output path; written to a temporary file beside it, then renamed, so a reader never
            sees half a file. Its folder is created.
        gop_size: key-frame distance, exact everywhere (scene-cut I-frames disabled; checked).
        short_side: resize so the shorter side has this many pixels, keeping the aspect ratio,
            even sizes; None keeps the input size (rounded to even).
        size: exact output (W, H), e.g. CoViAR's (340, 256); overrides ``short_side``.
        fps: resample to this constant frame rate (nearest frame in time); None keeps every
            frame at the input's average rate.
        quality: ffmpeg's ``-q:v`` (1..31, lower is better); the encoder's default qmin of 2
            makes 1 act as 2, exactly as CoViAR's ``-q:v 1`` does.

    Returns:
        VideoInfo of the written file.

    Raises:
        CorruptVideoError: ``src`` missing, empty, not a video, or undecodable.
        VideoError: the encoded stream fails the GOP check (a bug, never expected).
        ValueError: bad arguments.
    """
    src, dst = os.fspath(src), os.fspath(dst)
    if not isinstance(gop_size, (int, np.integer)) or gop_size < 1:
        raise ValueError(f"gop_size must be a positive integer, got {gop_size!r}")
    q = _effective_quantiser(quality)
    out_fps = None if fps is None else Fraction(fps).limit_denominator(1001)
    if out_fps is not None and out_fps <= 0:
        raise ValueError(f"fps must be positive, got {fps!r}")
    suffix = Path(dst).suffix.lower()
    if suffix not in _CONTAINERS:
        raise ValueError(f"{dst}: unknown container suffix {suffix!r}; use one of {sorted(_CONTAINERS)}")
    if os.path.isdir(dst):
        raise ValueError(f"{dst}: is a directory; give the output file's path")
    refuse_overlap(src, dst)
    if os.path.lexists(dst) and not made_by_encode(dst):
        raise ValueError(f"{dst}: exists and was not written by encode_mpeg4; refusing to "
                         "overwrite it (move it away, or choose another output)")
    Path(dst).parent.mkdir(parents=True, exist_ok=True)
    tmp = str(Path(dst).with_name(f".{Path(dst).stem}.part-{os.getpid()}{suffix}"))

    container = open_container(src)
    try:
        in_stream = container.streams.video[0]
        in_rate = in_stream.average_rate or in_stream.guessed_rate or Fraction(30)
        rate = out_fps or Fraction(in_rate).limit_denominator(1001)
        declared = int(in_stream.frames or 0)  # the container's frame count; 0: not said
        expected = declared or _frames_from_duration(container, in_stream, Fraction(in_rate))
        decoded = [0]
        written = _encode_frames(src, tmp, _resampled(_counted(_decoded_frames(container, src), decoded),
                                                      Fraction(in_rate), out_fps),
                                 rate, gop_size, q, short_side, size, _CONTAINERS[suffix])
        _check_complete(src, decoded[0], declared, expected)
    except BaseException:
        container.close()
        _discard(tmp)
        raise
    container.close()
    if written == 0:  # e.g. a y4m header with no frame after it
        _discard(tmp)
        raise CorruptVideoError(src, "no decodable frame")
    try:
        info = probe_mpeg4(tmp, expect_gop=gop_size)
    except VideoError as e:
        _discard(tmp)
        raise VideoError(src, f"encoded stream failed its check: {e.reason}") from None
    except BaseException:
        _discard(tmp)
        raise
    os.replace(tmp, dst)
    return VideoInfo(**{**info.to_dict(), "path": dst})


def made_by_encode(path: str | os.PathLike) -> bool:
    """Whether ``path`` is a regular file `encode_mpeg4` wrote (its container carries the
    GOP tag): the only existing outputs the encoders replace or count as done."""
    if os.path.islink(path) or not os.path.isfile(path):
        return False
    try:
        with av.open(os.fspath(path)) as c:
            return str(c.metadata.get("comment", "")).startswith(GOP_TAG)
    except (av.FFmpegError, OSError, UnicodeDecodeError, ValueError):
        return False


def _counted(frames, count: list):
    for frame in frames:
        count[0] += 1
        yield frame


def _frames_from_duration(container, stream, rate: Fraction) -> int:
    """Frames the container's duration implies (the video stream's, else the whole file's,
    which an audio track can make longer); 0 when it says none."""
    try:
        if stream.duration and stream.time_base:
            seconds = float(stream.duration * stream.time_base)
        elif container.duration:
            seconds = container.duration / 1_000_000  # AV_TIME_BASE
        else:
            return 0
    except (TypeError, ZeroDivisionError, OverflowError):
        return 0
    return max(0, int(seconds * float(rate)))


def _check_complete(src: str, decoded: int, declared: int, expected: int = 0) -> None:
    """A source that decodes to fewer frames than its container declares (beyond 1%, for
    decoders that drop a leading frame or two) is truncated or damaged: an error, not a
    silently shorter video. Containers that declare no frame count (Matroska, WebM) are held
    to their duration, loosely (90%: an audio track may outlast the video)."""
    if declared and decoded and decoded < declared - max(2, declared // 100):
        raise CorruptVideoError(src, f"truncated or damaged: {decoded} of the {declared} frames "
                                     "its container declares could be decoded")
    if not declared and expected and decoded and decoded < 0.9 * expected - 2:
        raise CorruptVideoError(src, f"truncated or damaged: {decoded} frames decoded, its "
                                     f"container's duration implies about {expected}")


def _discard(tmp: str) -> None:
    """Remove a temporary output, which the muxer may never have created."""
    try:
        os.unlink(tmp)
    except FileNotFoundError:
        pass


def _encode_frames(src, tmp, frames, rate, gop_size, q, short_side, size, fmt) -> int:
    out = av.open(tmp, "w", format=fmt, options={"fflags": "+bitexact"})
    out.metadata["comment"] = f"{GOP_TAG}{gop_size}"  # read_compressed's nominal GOP size
    try:
        stream = None
        n = 0
        for frame in frames:
            if stream is None:
                w, h = output_size(frame.width, frame.height, short_side=short_side, size=size)
                stream = out.add_stream("mpeg4", rate=rate)
                stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
                cc = stream.codec_context
                cc.gop_size, cc.max_b_frames, cc.thread_count = gop_size, 0, 1
                cc.qscale = True
                cc.global_quality = q * QP2LAMBDA
                cc.qmin = cc.qmax = q
                cc.options = {"sc_threshold": _SCENECUT_OFF, "flags": "+bitexact"}
            img = frame.reformat(width=w, height=h, format="yuv420p", interpolation="BICUBIC",
                                 threads=1)  # no swscale slice threads: fork-safe
            img = av.VideoFrame.from_ndarray(img.to_ndarray(), format="yuv420p")  # fresh pts
            img.pts = n
            for packet in stream.encode(img):
                out.mux(packet)
            n += 1
        if stream is not None:
            for packet in stream.encode():
                out.mux(packet)
        return n
    finally:
        out.close()


def probe_mpeg4(path: str | os.PathLike, *, expect_gop: int | None = None) -> VideoInfo:
    """Demux (no decoding) an MPEG-4 Part 2 file: frames, GOPs, fps, size, quantiser.

    Args:
        path: the file.
        expect_gop: if given, every key frame must sit exactly at a multiple of it and nowhere else.

    Raises:
        CorruptVideoError, UnsupportedVideoError (codec or B-frames), VideoError (GOP mismatch).
    """
    path = os.fspath(path)
    container, stream, vol = open_mpeg4(path)
    keys, quants, n = [], set(), 0
    try:
        for packet in container.demux(stream):
            if packet.size == 0:
                continue
            if packet.is_keyframe:
                keys.append(n)
            vop = parse_vop(bytes(packet), vol) if vol is not None else None
            if vop is not None and vop.quant is not None:
                quants.add(vop.quant)
            n += 1
        fps = float(stream.average_rate or stream.guessed_rate or 0)
        w, h = stream.codec_context.width, stream.codec_context.height
    except av.FFmpegError as e:  # the demuxer's errors only: a bug of ours propagates as itself
        raise CorruptVideoError(path, f"demuxing failed ({e})") from e
    finally:
        container.close()
    if n == 0:
        raise CorruptVideoError(path, "no video packets")
    gop = keys[1] - keys[0] if len(keys) > 1 else n
    if expect_gop is not None:
        want = list(range(0, n, expect_gop))
        if keys != want:
            bad = sorted(set(keys) ^ set(want))[:5]
            raise VideoError(path, f"key frames are not exactly every {expect_gop} frames "
                                   f"(first mismatches at frames {bad})")
        gop = expect_gop
    return VideoInfo(path=path, frames=n, gops=len(keys), gop_size=gop, fps=fps, width=w,
                     height=h, quantiser=quants.pop() if len(quants) == 1 else None,
                     size_bytes=os.path.getsize(path))
