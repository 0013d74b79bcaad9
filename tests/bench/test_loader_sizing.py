"""How many loader cores one GPU needs at the paper's sizes.    make bench

Measured here, in one run:

* the loader's clips/s per core: `CompressedClipDataset` training samples at crop 224 (clips
  re-encoded at short side 256, 5 GOPs, PMSP labels) in one process with one torch thread, as
  a DataLoader worker runs them: the per-sample path (``augment_on="worker"``) and the
  worker's share of batch-side augmentation (``augment_on="device"``), plus the CPU cost of
  `finish_batch` itself;
* the model's clips/s for forward + backward + SGD step on this CPU at the paper's sizes
  (IMRNet-R18 and R50, I width 64, 224x224, batch 2);
* the model's forward FLOPs (fvcore, 1 MAC = 1).

No GPU here, so a GPU's clips/s is an estimate, labelled as one: training FLOPs per clip taken
as 3x the forward's (forward + two backward products), in true FLOPs (2 per MAC), at an assumed
30% of the GPU's peak for the precision the paper profile trains in (float32; `bf16_cuda` is
off): the paper's V100 (15.7 TFLOP/s FP32, no TF32) and an H200 (495 TFLOP/s dense TF32, which
PyTorch uses for float32 convolutions by default). Cores per GPU = GPU clips/s / loader clips/s
per core. The per-core rates are absolute times on a shared machine (they move 1.5-2x with its
load) and leave out the DataLoader's transfer between processes. Nothing here asserts a time.
"""

from __future__ import annotations

import time

import pytest
import torch

from imrnet.data import CompressedClipDataset, VideoRecord, collate_clips, synthetic
from imrnet.data.batch_side import finish_batch
from imrnet.data.extract import extract
from imrnet.models import build_imrnet
from imrnet.pretext import Pretext
from imrnet.profile import count_flops
from tests.bench.test_model_bench import _stepper

GPUS = {"V100 FP32": 15.7e12, "H200 TF32": 494.7e12}  # FLOP/s, NVIDIA's datasheets (dense)
UTILISATION = 0.30  # assumed; thin 3D convolutions rarely reach more


@pytest.fixture(scope="module")
def records(tmp_path_factory):
    d = tmp_path_factory.mktemp("loadersizing")
    synthetic.generate("synthetic-ucf", d / "raw", seed=0, width=128, height=96, frames=60, scale=0.17)
    extract("synthetic-ucf", d / "raw", d / "mp4", progress=False,
            encode={"short_side": 256, "gop_size": 12, "quality": 1})
    return [VideoRecord(str(p), i % 12, "c", p.stem)
            for i, p in enumerate(sorted((d / "mp4" / "synthetic-ucf").rglob("*.mp4")))][:12]


def _per_core(ds, n_epochs=2) -> tuple[float, list]:
    """Samples per second in this process (one core), and the last epoch's samples."""
    ds.set_epoch(99)
    ds[0]  # compile kernels
    t, n, samples = time.perf_counter(), 0, []
    for e in range(n_epochs):
        ds.set_epoch(e)
        samples = [ds[i] for i in range(len(ds))]
        n += len(samples)
    return n / (time.perf_counter() - t), samples


def _model_rate(depth: int) -> float:
    """Forward + backward + SGD step at the paper's sizes, batch 2 (test_model_bench's step)."""
    torch.manual_seed(0)
    step, _ = _stepper(build_imrnet(depth=depth, i_width=64, res5_stride=2, num_classes=10), 224,
                       batch=2)
    t = time.perf_counter()
    for _ in range(2):
        step()
    return 2 * 2 / (time.perf_counter() - t)


def test_loader_cores_per_gpu(benchmark, records):
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # a DataLoader worker's setting
    try:
        kw = dict(train=True, crop_size=224, flip=True, pretext=Pretext(["pmsp"]))
        worker, _ = _per_core(CompressedClipDataset(records, **kw))
        ds = CompressedClipDataset(records, augment_on="device", **kw)
        device, samples = _per_core(ds)
        # pytest-benchmark's own record: the worker's share of one batch-side sample
        benchmark.pedantic(ds.__getitem__, args=(1,), rounds=5, iterations=1)
        batch = collate_clips(samples[:8])
        finish_batch(batch)
        t = time.perf_counter()
        for _ in range(3):
            finish_batch(batch)
        finish_cpu = 3 * 8 / (time.perf_counter() - t)
    finally:
        torch.set_num_threads(threads)
    rows = []
    for depth in (18, 50):
        net = build_imrnet(depth=depth, i_width=64, res5_stride=2, num_classes=101)
        flops = count_flops(net, (torch.zeros(1, 3, 5, 224, 224), torch.zeros(1, 2, 25, 224, 224),
                                  torch.zeros(1, 3, 25, 224, 224))).total
        cpu = _model_rate(depth)
        for gpu_name, peak in GPUS.items():
            gpu = peak * UTILISATION / (3 * 2 * flops)  # estimate (see the docstring)
            rows.append((depth, flops, cpu, gpu_name, gpu))
    print(f"\nloader, crop 224 + PMSP, one core: per-sample path {worker:.1f} clips/s; worker share "
          f"of batch-side augmentation {device:.1f} clips/s (finish_batch on this CPU: "
          f"{finish_cpu:.1f} clips/s)")
    print(f"{'model':12s} {'GFLOPs fwd':>10s} {'CPU clips/s':>12s} {'GPU (est.)':>11s} "
          f"{'clips/s':>8s} {'cores/GPU per-sample':>21s} {'cores/GPU batch-side':>21s}")
    for depth, flops, cpu, gpu_name, gpu in rows:
        print(f"IMRNet-R{depth:<4d} {flops / 1e9:10.2f} {cpu:12.2f} {gpu_name:>11s} {gpu:8.0f} "
              f"{gpu / worker:21.1f} {gpu / device:21.1f}")
        key = f"r{depth}_{gpu_name.replace(' ', '_')}"
        benchmark.extra_info.update({
            f"r{depth}_gflops": round(flops / 1e9, 2), f"r{depth}_cpu_clips_per_s": round(cpu, 3),
            f"{key}_clips_per_s_estimate": round(gpu), f"{key}_cores_per_gpu_worker": round(gpu / worker, 1),
            f"{key}_cores_per_gpu_device": round(gpu / device, 1)})
    benchmark.extra_info.update({"loader_clips_per_s_per_core": round(worker, 2),
                                 "loader_device_aug_clips_per_s_per_core": round(device, 2),
                                 "finish_batch_cpu_clips_per_s": round(finish_cpu, 2)})
    assert worker > 0 and device > 0 and all(r[2] > 0 and r[4] > 0 for r in rows)
