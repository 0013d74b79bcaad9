"""What MKL's vendor-neutral branch costs: one IMRNet-R18 training step at the decisive
profile's shape (I width 16, M/R >= 4, 3 GOPs x 5 P-frames, 64 px, batch 8) under the mode's
``MKL_CBWR=COMPATIBLE`` against ``MKL_CBWR=AVX2`` (the mode's branch before 2026-12-08, which
gave an AMD EPYC other linear-layer bits; docs/reproducibility.md, "Across CPU vendors").
    make bench

MKL reads ``MKL_CBWR`` once per process, so each measurement is a child process (the mode
applied, then the branch set before MKL computes anything); the branches alternate over
``ROUNDS`` rounds so that drift of a shared machine hits both alike. Reported as the ratio of
the medians; nothing here asserts a time.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys

ROUNDS = 3

_CHILD = """
import os, sys, time
import imrnet
os.environ["MKL_CBWR"] = sys.argv[1]
import torch
from imrnet.models import build_imrnet
torch.manual_seed(0)
net = build_imrnet(i_width=16, res5_stride=1, p_min_width=4, num_classes=12, frames=(3, 15))
g = torch.Generator().manual_seed(0)
x = (torch.randn(8, 3, 3, 64, 64, generator=g), torch.randn(8, 2, 15, 64, 64, generator=g),
     torch.randn(8, 3, 15, 64, 64, generator=g))
y = torch.randint(0, 12, (8,), generator=g)
opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
def step():
    loss = torch.nn.functional.cross_entropy(net(*x)["logits"], y)
    opt.zero_grad(); loss.backward(); opt.step()
    return loss.item()
step(); step()
ts = []
for _ in range(8):
    t = time.perf_counter(); step(); ts.append(time.perf_counter() - t)
print(sorted(ts)[len(ts) // 2], step())
"""


def _step_s(branch: str) -> tuple[float, float]:
    r = subprocess.run([sys.executable, "-c", _CHILD, branch], capture_output=True, text=True,
                       env=os.environ.copy(), timeout=600, check=True)
    t, loss = r.stdout.split()
    return float(t), float(loss)


def test_mkl_compatible_branch_cost(benchmark):
    times = {"COMPATIBLE": [], "AVX2": []}
    losses = {}
    for _ in range(ROUNDS):
        for branch in times:
            t, losses[branch] = _step_s(branch)
            times[branch].append(t)
    # the same network and data: the two branches agree to float noise
    assert abs(losses["COMPATIBLE"] - losses["AVX2"]) <= 1e-4 * abs(losses["AVX2"])
    benchmark.pedantic(lambda: _step_s("COMPATIBLE"), rounds=1, iterations=1)
    med = {k: statistics.median(v) for k, v in times.items()}
    ratio = med["COMPATIBLE"] / med["AVX2"]
    benchmark.extra_info.update(compatible_ms=round(1000 * med["COMPATIBLE"], 1),
                                avx2_ms=round(1000 * med["AVX2"], 1), ratio=round(ratio, 3))
    print(f"\nIMRNet-R18 training step at the decisive shape: MKL COMPATIBLE "
          f"{1000 * med['COMPATIBLE']:.1f} ms, AVX2 {1000 * med['AVX2']:.1f} ms (medians of "
          f"{ROUNDS} alternating child processes; COMPATIBLE x{ratio:.3f} the time); rounds "
          + ", ".join(f"{k}: " + "/".join(f"{1000 * t:.0f}" for t in v) for k, v in times.items()))
