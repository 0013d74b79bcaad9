"""Read I-frames, dense motion vectors and residuals straight from an MPEG-4 Part 2 stream.

One decode pass per call with a decoder opened per call (safe in DataLoader workers):

* the container is demuxed packet by packet; GOPs before ``start_gop`` are skipped without
  decoding (their key-frame flags are checked against the decoded frame that starts the window);
* inside the window every frame up to the last sampled P-frame of each GOP is decoded with
  FFmpeg's ``export_mvs``; the tail of each GOP is skipped; decoding stops after the last
  needed frame;
* GOPs come from the decoded frames' key flags, never from frame numbers: a GOP shorter than
  the sampled span (an irregular key frame) is an error naming the frame, not a silent shift.
"""

from __future__ import annotations

import ctypes
import os
import re
from dataclasses import dataclass

import av
import numpy as np
from av.video.frame import PictureType

from . import kernels, mc
from .bitstream import VolHeader, parse_vol, parse_vop
from .errors import CorruptVideoError, ShortVideoError, UnsupportedVideoError, VideoError

__all__ = ["CompressedClip", "read_compressed", "open_mpeg4", "open_container", "REPRESENTATIONS", "MC_MODES"]

REPRESENTATIONS = ("raw", "accumulated")
MC_MODES = ("coviar", "exact")
_REENCODE = "re-encode it with imrnet.codec.encode_mpeg4 (python -m imrnet.codec encode SRC DST)"
_B, _S = int(PictureType.B), int(PictureType.S)


@dataclass
class CompressedClip:
    """T GOPs of a compressed video, P sampled P-frames each (docs/conventions.md, data contracts).

    Attributes:
        iframes: uint8 [T, H, W, 3] RGB I-frames.
        motion: float32 [T, P, H, W, 2] (dx, dy) in pixels: pixel (y, x) is predicted from the
            reference at (y+dy, x+dx). ``raw``: reference = previous frame; ``accumulated``:
            reference = the GOP's I-frame.
        residual: int16 [T, P, H, W, 3] RGB frame minus its motion-compensated prediction
            (None when read with ``with_residual=False``).
        iframe_index: int64 [T] decoded-frame numbers of the I-frames.
        pframe_index: int64 [T, P] decoded-frame numbers of the sampled P-frames.
        gop_size: the stream's key-frame distance; fps: its frame rate.
        path, representation, mc: what was read and how.
        start_gop: index of the first GOP read.
        padded: GOPs appended by ``pad="repeat"`` (0 if none).
        rounding: int8 [T, P] rounding-control bit of each sampled P-frame (exact mc).
        rounding_source: "bitstream" (VOP headers) or "inferred" (smaller error), exact mc only.
    """

    iframes: np.ndarray
    motion: np.ndarray
    residual: np.ndarray | None
    iframe_index: np.ndarray
    pframe_index: np.ndarray
    gop_size: int
    fps: float
    path: str = ""
    representation: str = "raw"
    mc: str = "coviar"
    start_gop: int = 0
    padded: int = 0
    rounding: np.ndarray | None = None
    rounding_source: str | None = None

    @property
    def num_gops(self) -> int:
        return self.iframes.shape[0]

    @property
    def num_pframes(self) -> int:
        return self.motion.shape[1]


def _check_file(path: str) -> None:
    if not os.path.exists(path):
        raise CorruptVideoError(path, "no such file")
    if not os.path.isfile(path):
        raise CorruptVideoError(path, "not a regular file")
    if os.path.getsize(path) == 0:
        raise CorruptVideoError(path, "empty file")


def open_container(path: str):
    """Open any video file for reading, with typed errors naming it.

    Raises:
        CorruptVideoError: missing, not a regular file, empty, not a container, no video stream.
    """
    _check_file(path)
    try:
        container = av.open(path, "r", metadata_errors="ignore")
    except (av.FFmpegError, OSError, UnicodeDecodeError) as e:
        raise CorruptVideoError(path, f"cannot open as a video container ({e})") from None
    if not container.streams.video:
        container.close()
        raise CorruptVideoError(path, "no video stream")
    return container


def open_mpeg4(path: str):
    """Open ``path`` for reading MPEG-4 Part 2: (container, video stream, VOL header or None).

    Raises:
        CorruptVideoError: missing, empty, not a container, no video stream.
        UnsupportedVideoError: another codec, quarter-pel, GMC/sprites, interlacing.
    """
    container = open_container(path)
    try:
        stream = container.streams.video[0]
        if stream.codec_context is None:
            raise UnsupportedVideoError(path, f"video codec not recognised; {_REENCODE}")
        name = stream.codec_context.name
        if name != "mpeg4":
            raise UnsupportedVideoError(path, f"codec is {name!r}, not MPEG-4 Part 2; {_REENCODE}")
        vol = parse_vol(bytes(stream.codec_context.extradata or b""))
        _check_vol(path, vol)
    except BaseException:  # VideoError, or a bug of ours: propagates as itself
        container.close()
        raise
    return container, stream, vol


def _check_vol(path: str, vol: VolHeader | None) -> None:
    if vol is None:
        return
    if vol.quarter_sample:
        raise UnsupportedVideoError(path, f"quarter-pel motion (qpel) is not supported; {_REENCODE}")
    if vol.sprite:
        raise UnsupportedVideoError(path, f"GMC / sprite coding is not supported; {_REENCODE}")
    if vol.interlaced:
        raise UnsupportedVideoError(path, f"interlaced coding (field motion) is not supported; {_REENCODE}")


def _rgb(frame: av.VideoFrame) -> np.ndarray:
    """uint8 [H, W, 3] RGB by swscale (BT.601, as FFmpeg converts untagged MPEG-4).

    ``threads=1``: swscale's default slice-thread pool, left in a frame's cached reformatter,
    deadlocks a forked DataLoader worker that garbage-collects it (pthread_cond_destroy on a
    pool whose threads stayed in the parent).
    """
    return frame.to_ndarray(format="rgb24", threads=1)


def _planes(frame: av.VideoFrame, coded: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Views of the Y, U, V planes of a yuv420p frame (writable).

    With ``coded=True`` each plane covers whole macroblocks (16x16 luma, 8x8 chroma), the area
    the MPEG-4 decoder wrote and predicts from (its edges ``h_edge_pos``/``v_edge_pos`` are the
    coded size, not the visible one). PyAV exposes only the visible rows, so the view is taken
    from the plane's address: FFmpeg's frame pool allocates decoder buffers with the height
    aligned to 32 and the width to the line size (``avcodec_align_dimensions2``), so the coded
    area lies inside the allocation. Such a view does not keep the frame alive: use it while
    the frame is referenced.
    """
    out = []
    for i, plane in enumerate(frame.planes):
        sub = 0 if i == 0 else 1
        w = -(-frame.width // (1 << sub))
        h = -(-frame.height // (1 << sub))
        if coded:
            w = min(plane.line_size, ((frame.width + 15) // 16) * (16 >> sub))
            rows = ((frame.height + 15) // 16) * (16 >> sub)
            raw = (ctypes.c_uint8 * (plane.line_size * rows)).from_address(plane.buffer_ptr)
            buf = np.frombuffer(raw, dtype=np.uint8).reshape(rows, plane.line_size)
        else:
            buf = np.frombuffer(plane, dtype=np.uint8).reshape(h, plane.line_size)
        out.append(buf[:, :w])
    return out[0], out[1], out[2]


def _packets(container, stream, path: str):
    """Non-empty packets of the video stream, numbered from 0 (= decoded-frame numbers)."""
    n = 0
    try:
        for packet in container.demux(stream):
            if packet.size:
                yield n, packet
                n += 1
    except av.FFmpegError as e:
        raise CorruptVideoError(path, f"demuxing failed after {n} frames ({e})") from None


class _Window:
    """The outputs of the GOPs inside the requested window, written in place.

    Arrays are allocated at the first I-frame (when H and W are known) for all ``num_gops``
    GOPs; ``done`` counts the complete ones. Scratch buffers live here too, reused per frame.
    """

    def __init__(self, num_gops: int, n_p: int, with_residual: bool = True):
        self.t, self.n_p = num_gops, n_p
        self.with_residual = with_residual
        self.done = 0
        self.inferred = False
        self.iframes = None

    def allocate(self, h: int, w: int) -> None:
        t, p = self.t, self.n_p
        self.h, self.w = h, w
        self.iframes = np.empty((t, h, w, 3), dtype=np.uint8)
        self.motion = np.empty((t, p, h, w, 2), dtype=np.float32)
        self.residual = np.empty((t, p, h, w, 3), dtype=np.int16) if self.with_residual else None
        self.iidx = np.empty(t, dtype=np.int64)
        self.pidx = np.empty((t, p), dtype=np.int64)
        self.rounding = np.full((t, p), -1, dtype=np.int8)

    def pad(self, padded: int) -> None:
        last = self.done - 1
        for arr in (self.iframes, self.motion, self.residual, self.iidx, self.pidx, self.rounding):
            if arr is not None:
                arr[self.done:] = arr[last]


def read_compressed(path: str | os.PathLike, *, num_gops: int = 5, pframe_stride: int = 2,
                    start_gop: int = 0, representation: str = "raw", mc: str = "coviar",
                    pad: str | None = None, with_residual: bool = True,
                    gop_size: int | None = None) -> CompressedClip:
    """Read ``num_gops`` GOPs from ``start_gop`` of an MPEG-4 Part 2 video.

    In each GOP the I-frame and the P-frames at key + stride*j, j = 1..P, P =
    (gop_size-1)//stride, are returned (paper: 5 GOPs of 12, stride 2: 5 I + 25 P).

    Args:
        path: an MPEG-4 Part 2 file without B-frames (see `encode_mpeg4`).
        num_gops: T, GOPs to read.
        pframe_stride: take every ``pframe_stride``-th P-frame.
        start_gop: first GOP (0-based, counted by key frames).
        representation: "raw" (motion/residual relative to the previous frame) or
            "accumulated" (CoViAR's accumulation back to the GOP's I-frame; mc="coviar" only).
        mc: "coviar" (integer-pixel RGB compensation, CoViAR's numbers, our sign) or "exact"
            (the decoder's half-pel YUV prediction; residual = RGB(frame) - RGB(prediction)).
        pad: None (raise `ShortVideoError` if fewer complete GOPs) or "repeat" (repeat the last
            complete GOP; `CompressedClip.padded` says how many were added).
        with_residual: False skips the residuals (``residual`` is None): motion alone, e.g.
            for PMSP labels, costs little more than decoding.
        gop_size: the nominal GOP size, which fixes P for every video of a dataset. Default:
            the one `encode_mpeg4` recorded in the file, else the distance of the first two key
            frames, else (one key frame, no record) the whole video's length.

    Returns:
        CompressedClip (see its fields for shapes and dtypes).

    Raises:
        CorruptVideoError, UnsupportedVideoError, ShortVideoError (all `VideoError`, a
        ValueError, naming the file); ValueError for bad arguments.
    """
    path = os.fspath(path)
    _check_args(num_gops, pframe_stride, start_gop, representation, mc, pad, gop_size)
    container, stream, vol = open_mpeg4(path)
    try:
        spec = _ReadSpec(num_gops, pframe_stride, start_gop, representation, mc, pad,
                         bool(with_residual), gop_size)
        return _read(path, container, stream, vol, spec)
    except VideoError:
        raise
    except (av.FFmpegError, EOFError) as e:
        # only the decoder's and demuxer's own errors mean a damaged file; any other exception
        # is a bug of ours and propagates as itself (not disguised as a corrupt video)
        raise CorruptVideoError(path, f"decoding failed ({e})") from e
    finally:
        container.close()


def _check_args(num_gops, stride, start_gop, representation, mc_mode, pad, gop_size) -> None:
    for name, v, lo in (("num_gops", num_gops, 1), ("pframe_stride", stride, 1),
                        ("start_gop", start_gop, 0)):
        if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v < lo:
            raise ValueError(f"{name} must be an integer >= {lo}, got {v!r}")
    if representation not in REPRESENTATIONS:
        raise ValueError(f"representation must be one of {REPRESENTATIONS}, got {representation!r}")
    if mc_mode not in MC_MODES:
        raise ValueError(f"mc must be one of {MC_MODES}, got {mc_mode!r}")
    if representation == "accumulated" and mc_mode != "coviar":
        raise ValueError("representation='accumulated' is CoViAR's integer-pixel accumulation: "
                         "use it with mc='coviar'")
    if gop_size is not None and (not isinstance(gop_size, (int, np.integer)) or gop_size < 2):
        raise ValueError(f"gop_size must be an integer >= 2 or None, got {gop_size!r}")
    if pad not in (None, "repeat"):
        raise ValueError(f"pad must be None or 'repeat', got {pad!r}")


def _vop_type(packet_bytes: bytes, vol: VolHeader | None, packet) -> tuple[str, object]:
    vop = parse_vop(packet_bytes, vol) if vol is not None else None
    if vop is not None:
        return vop.vop_type, vop
    return ("I" if packet.is_keyframe else "P"), None


def _recorded_gop(container) -> int | None:
    """The GOP size `encode_mpeg4` wrote into the container's comment, if any."""
    meta = {k.lower(): v for k, v in (container.metadata or {}).items()}
    m = re.search(r"gop_size=(\d+)", meta.get("comment", ""))
    return int(m.group(1)) if m else None


@dataclass(frozen=True)
class _ReadSpec:
    """What `read_compressed` was asked for (checked by `_check_args`)."""

    num_gops: int
    stride: int
    start_gop: int
    representation: str
    mc: str
    pad: str | None
    with_residual: bool
    gop_hint: int | None


def _look_ahead(path, packets, vol):
    """Demux (no decoding) up to the second key frame: (packets seen, key frame numbers, VOL)."""
    ahead, keys = [], []
    for n, packet in packets:
        data = bytes(packet)
        if vol is None and n == 0:
            vol = parse_vol(data)
            _check_vol(path, vol)
        vtype, vop = _vop_type(data, vol, packet)
        _check_vop_type(path, vtype, n)
        ahead.append((n, packet, data, vtype, vop))
        if vtype == "I":
            keys.append(n)
            if len(keys) == 2:
                break
    if not ahead:
        raise CorruptVideoError(path, "no video packets")
    if not keys:
        raise CorruptVideoError(path, "no key frame (I-VOP) in the stream")
    return ahead, keys, vol


def _checked_frame(cc, packet, path, n, pos, vtype, out):
    """Decode one frame of the window; its type, key flag and size checked."""
    frame = _decode(cc, packet, path, n)
    if int(frame.pict_type) in (_B, _S):
        raise UnsupportedVideoError(path, f"B-frames or S-VOPs (frame {n}) are not supported; {_REENCODE}")
    if frame.key_frame != (pos == 0):
        raise CorruptVideoError(path, f"frame {n}: decoded key flag {bool(frame.key_frame)} "
                                      f"disagrees with the stream's VOP type {vtype}")
    if pos == 0:
        if out.iframes is None:
            out.allocate(frame.height, frame.width)
        elif (frame.height, frame.width) != (out.h, out.w):
            raise UnsupportedVideoError(path, f"frame {n}: size changes mid-stream; {_REENCODE}")
    return frame


def _fill_window(path, cc, frames, spec: _ReadSpec, n_p: int) -> _Window:
    """Walk the stream's (n, packet, data, VOP type, VOP header) and decode the window's GOPs:
    each GOP's I-frame and P-frames up to ``stride * n_p`` after it."""
    stride, start_gop = spec.stride, spec.start_gop
    span = stride * n_p
    out = _Window(spec.num_gops, n_p, spec.with_residual)
    state = None
    gop = -1
    pos = 0
    last_gop = start_gop + spec.num_gops - 1
    for n, packet, _data, vtype, vop in frames:
        _check_vop_type(path, vtype, n)
        if vtype == "I":
            if state is not None and gop >= start_gop:  # the window's previous GOP ended early
                raise UnsupportedVideoError(
                    path, f"irregular GOP: key frame at frame {n} only {pos} frame(s) after the one "
                          f"at frame {n - pos}; the sampled P-frames need {span + 1}; {_REENCODE}")
            gop += 1
            pos = 0
        else:
            pos += 1
        if gop < 0:
            continue
        if not (start_gop <= gop <= last_gop and pos <= span):
            if n == 0:  # give the decoder an in-band VOL header
                _decode(cc, packet, path, n)
            if gop > last_gop:
                break
            continue
        frame = _checked_frame(cc, packet, path, n, pos, vtype, out)
        if pos == 0:
            state = _GopState(frame, n, spec.representation, spec.mc, path, out)
        else:
            state.step(frame, vop, pos // stride - 1 if pos % stride == 0 else None, n)
        if pos == span:
            out.done += 1
            state = None
            if gop == last_gop:
                break
    return out


def _read(path, container, stream, vol, spec: _ReadSpec) -> CompressedClip:
    cc = stream.codec_context
    cc.thread_count = 1
    cc.options = {"flags2": "+export_mvs"}
    packets = _packets(container, stream, path)

    # Look ahead (demux only) to the second key frame: the nominal GOP size fixes P.
    ahead, keys, vol = _look_ahead(path, packets, vol)
    gop_size = spec.gop_hint or _recorded_gop(container)
    if gop_size is None:
        gop_size = (keys[1] if len(keys) > 1 else ahead[-1][0] + 1) - keys[0]
    stride = spec.stride
    n_p = (gop_size - 1) // stride
    if n_p < 1:
        raise ShortVideoError(path, f"GOP of {gop_size} frame(s) holds no P-frame at stride {stride}")
    span = stride * n_p
    fps = float(stream.average_rate or stream.guessed_rate or 0.0)

    def stream_all():
        yield from ahead
        for n, packet in packets:
            data = bytes(packet)
            yield (n, packet, data) + _vop_type(data, vol, packet)

    out = _fill_window(path, cc, stream_all(), spec, n_p)
    complete = out.done  # a GOP the stream ended inside is simply not counted
    if complete < spec.num_gops:
        if spec.pad != "repeat" or complete == 0:
            raise ShortVideoError(
                path, f"{complete} complete GOP(s) of {span + 1}+ frames from GOP {spec.start_gop}, "
                      f"{spec.num_gops} asked" + ("" if spec.pad else " (pad='repeat' repeats the last)"))
    padded = spec.num_gops - complete
    out.pad(padded)
    rounding = out.rounding if spec.mc == "exact" else None
    return CompressedClip(
        iframes=out.iframes, motion=out.motion, residual=out.residual,
        iframe_index=out.iidx, pframe_index=out.pidx,
        gop_size=gop_size, fps=fps, path=path, representation=spec.representation, mc=spec.mc,
        start_gop=spec.start_gop, padded=padded, rounding=rounding,
        rounding_source=None if rounding is None else ("inferred" if out.inferred else "bitstream"))


def _check_vop_type(path: str, vtype: str, n: int) -> None:
    if vtype in ("B", "S"):
        what = "B-frames" if vtype == "B" else "S-VOPs (GMC/sprites)"
        raise UnsupportedVideoError(path, f"{what} (frame {n}) are not supported; {_REENCODE}")


def _decode(cc, packet, path: str, n: int) -> av.VideoFrame:
    frames = cc.decode(packet)
    if len(frames) != 1:
        raise CorruptVideoError(path, f"frame {n}: the decoder returned {len(frames)} frames for "
                                      "one packet (damaged, not-coded VOP or B-frame delay)")
    frame = frames[0]
    if frame.format.name != "yuv420p":
        raise UnsupportedVideoError(path, f"pixel format {frame.format.name}, not yuv420p; {_REENCODE}")
    return frame


def _vectors(frame: av.VideoFrame, path: str, n: int) -> np.ndarray | None:
    sd = frame.side_data.get("MOTION_VECTORS")
    if sd is None:
        return None
    mvs = sd.to_ndarray()
    if len(mvs) and (mvs["motion_scale"] != 2).any():
        raise UnsupportedVideoError(path, f"frame {n}: motion_scale {int(mvs['motion_scale'].max())} "
                                          f"(quarter-pel) is not supported; {_REENCODE}")
    if len(mvs) and (mvs["source"] > 0).any():
        raise UnsupportedVideoError(path, f"frame {n}: backward vectors (B-frames); {_REENCODE}")
    return mvs


class _GopState:
    """Per-GOP running state: the previous frame, or the accumulation map to the I-frame."""

    def __init__(self, iframe: av.VideoFrame, n: int, representation: str, mc_mode: str,
                 path: str, out: _Window):
        self.prev, self.path, self.out = iframe, path, out
        self.prev_rgb = None  # RGB of self.prev when already converted (set below, and stride 1)
        self.g = out.done
        self.h, self.w = iframe.height, iframe.width
        self.representation, self.mc = representation, mc_mode
        out.iframes[self.g] = self.prev_rgb = _rgb(iframe)
        out.iidx[self.g] = n
        if representation == "accumulated":
            self.accu = np.arange(self.h * self.w, dtype=np.int64).reshape(self.h, self.w)
            self.spare = np.empty_like(self.accu)

    def step(self, frame: av.VideoFrame, vop, j: int | None, n: int) -> None:
        """Advance by one P-frame; ``j`` is its slot among the sampled ones, or None."""
        out, g = self.out, self.g
        cur_rgb = None
        if j is not None or self.representation == "accumulated":
            grid = mc.motion_grid(_vectors(frame, self.path, n), self.h, self.w)
        if self.representation == "accumulated":
            kernels.accumulate(grid.vec, self.accu, self.spare)
            self.accu, self.spare = self.spare, self.accu
            if j is not None and out.with_residual:
                kernels.accumulated_out(self.accu, out.iframes[g], _rgb(frame),
                                        out.motion[g, j], out.residual[g, j])
            elif j is not None:
                kernels.accumulated_motion(self.accu, out.motion[g, j])
        elif j is not None and self.mc == "coviar":
            if out.with_residual:
                cur_rgb = _rgb(frame)
                ref_rgb = self.prev_rgb if self.prev_rgb is not None else _rgb(self.prev)
                kernels.coviar_raw(grid.vec, ref_rgb, cur_rgb, out.motion[g, j], out.residual[g, j])
            else:
                kernels.coviar_motion(grid.vec, out.motion[g, j])
        elif j is not None:  # exact
            kernels.half_motion(grid.vec, 8, out.motion[g, j])
            if out.with_residual:
                pred, out.rounding[g, j] = self._exact(frame, grid, vop)
                kernels.residual(_rgb(frame), pred, out.residual[g, j])
        if j is not None:
            out.pidx[g, j] = n
        self.prev, self.prev_rgb = frame, cur_rgb

    def _exact(self, frame, grid, vop):
        """RGB of the decoder's prediction of ``frame`` from ``self.prev``, and the rounding bit.

        The prediction is written straight into a fresh yuv420p frame, so swscale converts it
        exactly as it converts the decoded frame.
        """
        ry, ru, rv = _planes(self.prev, coded=True)
        pred = av.VideoFrame(self.w, self.h, "yuv420p")
        pred.colorspace, pred.color_range = self.prev.colorspace, self.prev.color_range
        py, pu, pv = _planes(pred)
        if vop is not None and vop.rounding is not None:
            r = vop.rounding
            kernels.hpel_predict(ry, grid.vec, 8, r, py)
        else:  # no parsable VOP header: take the rounding bit with the smaller luma error
            dy = _planes(frame)[0].astype(np.int32)
            errs = []
            for r in (0, 1):
                kernels.hpel_predict(ry, grid.vec, 8, r, py)
                errs.append(np.abs(dy - py).sum())
            r = int(np.argmin(errs))
            kernels.hpel_predict(ry, grid.vec, 8, r, py)
            self.out.inferred = True
        cvec = mc.chroma_grid(grid)
        kernels.hpel_predict(ru, cvec, 8, r, pu)
        kernels.hpel_predict(rv, cvec, 8, r, pv)
        return _rgb(pred), r
