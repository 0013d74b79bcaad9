"""Farneback flow: the motion vectors' sign convention, determinism, errors."""

from __future__ import annotations

import json

import numpy as np
import pytest

import helpers
from imrnet.codec import encode_mpeg4, read_compressed
from imrnet.codec.errors import CorruptVideoError
from imrnet.data.flow import farneback_flow, load_flow, write_flow


def _noise_pan(n, vx, vy, h=128, w=160):
    """Blurred noise (sigma 2 px: texture Farneback can lock onto) panning by (vx, vy)."""
    import cv2

    rng = np.random.default_rng(0)
    big = cv2.GaussianBlur(rng.uniform(0, 255, (h + n * vy + 1, w + n * vx + 1)).astype(np.float32),
                           (0, 0), 2.0)
    big = cv2.normalize(big, None, 0, 255, cv2.NORM_MINMAX).astype(np.uint8)
    y0, x0 = n * vy, n * vx
    return [np.repeat(big[y0 - vy * i:y0 - vy * i + h, x0 - vx * i:x0 - vx * i + w, None], 3, -1)
            for i in range(n)]


def test_flow_agrees_with_motion_vectors(tmp_path):
    # a smooth pattern panning by (2, 1) px per frame: frame k's (y, x) comes from frame k-1 at
    # (y - 1, x - 2), so both the flow and the motion vectors read (dx, dy) = (-2, -1)
    src = helpers.write_clip(tmp_path / "pan.mkv", _noise_pan(36, 2, 1))
    video = encode_mpeg4(src, tmp_path / "pan.mp4", short_side=None).path
    flow = farneback_flow(video)
    assert flow.dtype == np.int8 and flow.shape == (36, 128, 160, 2)
    assert not flow[0].any()
    clip = read_compressed(video, num_gops=3)
    f = load_flow(write_flow(video), clip.pframe_index)
    assert f.shape == clip.motion.shape
    inner = (slice(None), slice(None), slice(16, -16), slice(16, -16))
    for field in (f, clip.motion):
        np.testing.assert_allclose(np.median(field[inner], axis=(0, 1, 2, 3)), [-2, -1], atol=0.3)
    # a sprite moving right over a static background: the same sign inside the sprite
    frames, corners = helpers.sprite_frames(n=24, h=96, w=192, size=32, vx=3, x0=20, y0=30)
    video = encode_mpeg4(helpers.write_clip(tmp_path / "s.mkv", frames), tmp_path / "s.mp4",
                         short_side=None).path
    flow = farneback_flow(video) * 0.25
    x, y = corners[14]
    assert np.median(flow[14, y + 4:y + 28, x + 4:x + 28, 0]) < -0.5
    assert abs(np.median(flow[14, :, 100:, :])) < 0.1  # static background


def test_flow_file_is_deterministic_and_errors_name_the_file(tmp_path):
    frames, _ = helpers.sprite_frames(n=12, h=48, w=64, size=16, vx=2)
    video = encode_mpeg4(helpers.write_clip(tmp_path / "a.mkv", frames), tmp_path / "a.mp4",
                         short_side=None).path
    a = write_flow(video).read_bytes()
    b = write_flow(video, tmp_path / "b.flow.npz").read_bytes()
    assert a == b
    with pytest.raises(CorruptVideoError, match="holds 12 frames"):
        load_flow(tmp_path / "b.flow.npz", [12])
    (tmp_path / "bad.mp4").write_bytes(b"not a video")
    with pytest.raises(CorruptVideoError, match="bad.mp4"):
        farneback_flow(tmp_path / "bad.mp4")


def test_tvl1_flow_keeps_the_convention_and_extraction_stores_the_method(tmp_path):
    """TV-L1 (extract.flow_method: tvl1) reads the same (dx, dy) as Farneback and the motion
    vectors on a pan; the flow file names its method; extract() stamps it, so switching the
    method recomputes the flow, and an unknown method is refused before any write."""
    from imrnet.data import synthetic
    from imrnet.data.extract import extract
    from imrnet.data.flow import dense_flow, flow_path

    src = helpers.write_clip(tmp_path / "pan.mkv", _noise_pan(8, 2, 1, h=64, w=80))
    video = encode_mpeg4(src, tmp_path / "pan.mp4", short_side=None).path
    tv8 = dense_flow(video, "tvl1")
    assert np.array_equal(tv8, dense_flow(video, "tvl1"))  # deterministic (one thread)
    tv = tv8 * 0.25
    assert not tv[0].any()
    np.testing.assert_allclose(np.median(tv[1:, 12:-12, 12:-12], axis=(0, 1, 2)), [-2, -1], atol=0.3)
    with np.load(write_flow(video, method="tvl1")) as z:
        assert str(z["method"]) == "tvl1"
    with pytest.raises(ValueError, match="flow method must be one of farneback, tvl1"):
        dense_flow(video, "lucas-kanade")

    synthetic.generate("synthetic-ucf", tmp_path / "raw", seed=0, width=48, height=32,
                       frames=13, scale=0.02)
    enc = {"short_side": None, "gop_size": 12, "quality": 1}
    with pytest.raises(ValueError, match="flow_method must be one of"):
        extract("synthetic-ucf", tmp_path / "raw", tmp_path / "out", encode=enc, flow=True,
                flow_method="nope", progress=False)
    assert not (tmp_path / "out").exists()
    from imrnet.data.records import stamp_matches

    out = tmp_path / "out" / "synthetic-ucf"
    methods = {}
    for m in ("farneback", "tvl1"):
        extract("synthetic-ucf", tmp_path / "raw", tmp_path / "out", encode=enc, flow=True,
                flow_method=m, progress=False)
        index = json.loads((out / "index.json").read_text())
        files = [out / r["flow"] for r in index]
        assert files and all(f.is_file() and f == flow_path(out / r["path"])
                             for f, r in zip(files, index, strict=True))
        methods[m] = {str(np.load(f)["method"]) for f in files}
    assert methods == {"farneback": {"farneback"}, "tvl1": {"tvl1"}}
    # Farneback's stamp is the one extractions had before methods existed (they stay valid);
    # without flow the method is no part of it
    assert stamp_matches(out, {"encode": enc, "flow": True, "flow_method": "tvl1"})
    extract("synthetic-ucf", tmp_path / "raw", tmp_path / "out", encode=enc, flow=True,
            progress=False)
    assert stamp_matches(out, {"encode": enc, "flow": True})
    extract("synthetic-ucf", tmp_path / "raw", tmp_path / "out", encode=enc, flow=False,
            flow_method="tvl1", progress=False)
    assert stamp_matches(out, {"encode": enc, "flow": False})
