"""Dataset throughput (clips/s) with 0, 1 and 2 workers at crops 112 and 224, peak memory, and
storage per clip of the built-in data.    make bench

Clips: synthetic-ucf, 24 videos of 2 s, re-encoded at short side 128 (for crop 112) and 256
(for crop 224, the paper's setting), each read 3 times per measured pass (72 samples, so worker
start-up is amortised as in a real epoch of non-persistent workers). Training mode (random
window, multi-scale crop, flip, PMSP labels, normalisation). Peak memory is measured around the
loader only: the main process's high-water mark is reset first (/proc/self/clear_refs), and
workers' peaks come from RUSAGE_CHILDREN. Storage: pytest-benchmark times the re-encode of one
clip to MPEG-4 (the operation that produces the stored bytes); targets: the MPEG-4 clip is
smaller than its lossless source, and the re-encode runs faster than real time on one core.
Nothing here asserts a time.
"""

from __future__ import annotations

import resource
import time
from pathlib import Path

import pytest
import torch

from imrnet.codec import encode_mpeg4
from imrnet.data import CompressedClipDataset, VideoRecord, collate_clips, synthetic
from imrnet.data.extract import extract


@pytest.fixture(scope="module")
def encoded(tmp_path_factory):
    d = tmp_path_factory.mktemp("databench")
    synthetic.generate("synthetic-ucf", d / "raw", seed=0, width=128, height=96, frames=60, scale=0.17)
    out = {}
    for short in (128, 256):
        extract("synthetic-ucf", d / "raw", d / f"mp4-{short}", progress=False,
                encode={"short_side": short, "gop_size": 12, "quality": 1})
        base = d / f"mp4-{short}" / "synthetic-ucf"
        out[short] = [VideoRecord(str(p), i % 12, "c", p.stem) for i, p in enumerate(sorted(base.rglob("*.mp4")))]
    return d, out


def _hwm_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _rate(ds, workers: int) -> tuple[float, float, float]:
    """(clips/s, peak RSS of the main process, peak RSS of any worker so far) in MiB."""
    try:
        Path("/proc/self/clear_refs").write_text("5")  # reset the high-water mark
    except OSError:
        pass
    loader = torch.utils.data.DataLoader(ds, batch_size=4, num_workers=workers,
                                         collate_fn=collate_clips,
                                         multiprocessing_context="fork" if workers else None)
    t = time.perf_counter()
    n = sum(len(b["label"]) for b in loader)
    rate = n / (time.perf_counter() - t)
    child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024 if workers else 0.0
    return rate, _hwm_mib(), child


def test_dataset_throughput(benchmark, encoded):
    _, recs = encoded
    rows = []
    for crop, short in ((112, 128), (224, 256)):
        ds = CompressedClipDataset(recs[short] * 3, train=True, crop_size=crop)
        ds[0]  # compile kernels, warm caches
        for w in (0, 1, 2):
            rows.append((crop, w, *_rate(ds, w)))
    ds = CompressedClipDataset(recs[128], train=True, crop_size=112)
    sample = benchmark.pedantic(ds.__getitem__, args=(1,), rounds=5, iterations=1)
    print("\nCompressedClipDataset, training mode, 5 GOPs (5 I + 25 P), 72 samples per pass")
    print(f"{'crop':>5s} {'workers':>8s} {'clips/s':>8s} {'main MiB':>9s} {'worker MiB':>11s}")
    for crop, w, r, main, child in rows:
        print(f"{crop:5d} {w:8d} {r:8.1f} {main:9.0f} {child:11.0f}")
        benchmark.extra_info[f"crop{crop}_workers{w}_clips_per_s"] = round(r, 2)
        benchmark.extra_info[f"crop{crop}_workers{w}_peak_main_mib"] = round(main)
    assert sample["motion"].shape == (2, 25, 112, 112) and all(r[2] > 0 for r in rows)


def test_storage_per_clip(benchmark, encoded, tmp_path):
    d, recs = encoded
    raw = sorted((d / "raw" / "synthetic-ucf").rglob("*.mkv"))
    sizes = {short: [Path(r.path).stat().st_size for r in recs[short]] for short in recs}
    dst = tmp_path / "one.mp4"

    def encode_one():
        dst.unlink(missing_ok=True)
        return encode_mpeg4(raw[0], dst, gop_size=12, quality=1, short_side=256)

    benchmark.pedantic(encode_one, rounds=3, iterations=1)
    per_clip = benchmark.stats.stats.median
    clip_s = 2.0  # the built-in clips: 60 frames at 30 fps
    src_kb = sum(p.stat().st_size for p in raw) / len(raw) / 1e3
    print(f"\nstorage per 2-s clip: lossless source (FFV1, 128x96) {src_kb:.0f} kB; "
          + "; ".join(f"MPEG-4 q=2 at short side {s}: {sum(v) / len(v) / 1e3:.0f} kB"
                      for s, v in sizes.items()))
    print(f"re-encode of one clip (short side 256): {per_clip * 1e3:.0f} ms, "
          f"{clip_s / per_clip:.1f}x real time (target >= 1x: "
          f"{'met' if clip_s / per_clip >= 1 else 'missed'}); MPEG-4 at 128 / source "
          f"{sum(sizes[128]) / len(sizes[128]) / 1e3 / src_kb:.2f} (target < 1)")
    for s, v in sizes.items():
        benchmark.extra_info[f"mpeg4_short{s}_kB"] = round(sum(v) / len(v) / 1e3, 1)
    benchmark.extra_info["encode_realtime_factor"] = round(clip_s / per_clip, 2)
    assert all(len(v) == len(raw) for v in sizes.values()) and dst.stat().st_size > 0
