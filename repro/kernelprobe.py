"""``python -m repro kernelprobe``: a hash of each kernel the training path uses, under the
reproducibility mode and three alternatives (MKL's AVX2 branch, oneDNN off, a channels-last
stem), so two machines' outputs can be compared op by op (docs/reproducibility.md, "Across
CPU vendors").

Each configuration runs in its own process (MKL reads ``MKL_CBWR`` once, when it starts):

* ``mode``: the CPU reproducibility mode as `import imrnet` sets it (``MKL_CBWR=COMPATIBLE``,
  MKL's branch for identical results on Intel and compatible processors, since 2026-12-08);
* ``mkl-avx2``: the mode with ``MKL_CBWR=AVX2``, the mode's MKL branch before (Intel's
  promise for Intel processors; an AMD EPYC's linear layer differed under it);
* ``no-onednn``: the mode with torch's oneDNN (mkldnn) path off: ATen's own convolutions;
* ``channels-last-stem``: the mode with the 3D stems' conv1 on a channels-last input (what
  `imrnet.models.resnet3d.Stem3d` did before 2026-12-08; oneDNN's brgemm convolution then,
  whose blocking follows the caches it detects). Its ``imrnet_sgd_step`` on two vendors' CPUs
  says whether that speed-up could come back.

For each, the SHA-256 (first 12 hex digits) of the outputs and gradients of: a Conv3d, a
Conv2d, a Linear layer (MKL's GEMM), a BatchNorm3d in training mode, cross-entropy, and one
SGD step of a small IMRNet. Two machines whose lines agree run those kernels alike.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys

CONFIGS = {"mode": {}, "mkl-avx2": {"MKL_CBWR": "AVX2"}, "no-onednn": {"onednn": False},
           "channels-last-stem": {"channels_last_stem": True}}


def _h(*tensors) -> str:
    d = hashlib.sha256()
    for t in tensors:
        d.update(t.detach().contiguous().numpy().tobytes())
    return d.hexdigest()[:12]


def probe(onednn: bool = True, channels_last_stem: bool = False) -> dict:
    """{op: hash} in this process (the caller sets the environment first); torch's oneDNN
    switch and the stem's forward are put back as they were."""
    import torch

    from imrnet.models import resnet3d

    from unittest import mock

    before = torch.backends.mkldnn.enabled
    torch.backends.mkldnn.enabled = onednn
    try:
        if channels_last_stem:
            with mock.patch.object(resnet3d.Stem3d, "forward", channels_last_stem_forward):
                return _probe()
        return _probe()
    finally:
        torch.backends.mkldnn.enabled = before


def channels_last_stem_forward(self, x):
    """`Stem3d.forward` as it was from b541a62 to 2026-12-08: conv1 on a channels-last input,
    the output back contiguous (the probe's and the stem benchmark's alternative)."""
    import torch

    return torch.nn.Sequential.forward(
        self, x.contiguous(memory_format=torch.channels_last_3d)).contiguous()


def _probe() -> dict:
    import imrnet  # noqa: F401  (the mode)
    import torch
    from torch import nn

    g = torch.Generator().manual_seed(0)
    out = {}

    def run(name, module, x):
        torch.manual_seed(0)
        m = module
        x = x.clone().requires_grad_(True)
        y = m(x)
        y.square().sum().backward()
        grads = [p.grad for p in m.parameters() if p.grad is not None]
        out[name] = _h(y, x.grad, *grads)

    torch.manual_seed(0)
    run("conv3d", nn.Conv3d(8, 16, 3, padding=1), torch.randn(2, 8, 4, 16, 16, generator=g))
    torch.manual_seed(0)
    run("conv2d", nn.Conv2d(16, 32, 3, padding=1), torch.randn(4, 16, 24, 24, generator=g))
    torch.manual_seed(0)
    run("linear", nn.Linear(256, 128), torch.randn(64, 256, generator=g))
    torch.manual_seed(0)
    run("batchnorm3d", nn.BatchNorm3d(8), torch.randn(2, 8, 4, 8, 8, generator=g))
    logits = torch.randn(32, 10, generator=g, requires_grad=True)
    labels = torch.randint(0, 10, (32,), generator=g)
    loss = nn.functional.cross_entropy(logits, labels)
    loss.backward()
    out["cross_entropy"] = _h(loss.reshape(1), logits.grad)

    from imrnet.models import build_imrnet

    torch.manual_seed(0)
    net = build_imrnet(i_width=8, frames=(2, 4), num_classes=5, res5_stride=1)
    opt = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
    xi = torch.randn(2, 3, 2, 32, 32, generator=g)
    xm = torch.randn(2, 2, 4, 32, 32, generator=g)
    xr = torch.randn(2, 3, 4, 32, 32, generator=g)
    loss = nn.functional.cross_entropy(net(xi, xm, xr)["logits"], torch.tensor([1, 3]))
    loss.backward()
    opt.step()
    out["imrnet_sgd_step"] = _h(*[p for p in net.parameters()])
    return out


def fingerprint() -> str:
    """A short hash of this process's `probe` under the mode (oneDNN as the mode leaves it):
    two machines with one fingerprint ran the probed kernels alike. The pins record the
    accepting machine's (`repro.pins`)."""
    rows = probe()
    return hashlib.sha256(json.dumps(rows, sort_keys=True).encode()).hexdigest()[:16]


def main() -> int:
    """Run every configuration in its own process; print one JSON object (exit 1 on a
    failure, naming the configuration)."""
    from imrnet.reproducibility import machine

    rows = {}
    for name, cfg in CONFIGS.items():
        env = {**os.environ, **{k: v for k, v in cfg.items() if k.isupper()}}
        env["IMRNET_KERNELPROBE_MKL_CBWR"] = cfg.get("MKL_CBWR", "")
        r = subprocess.run([sys.executable, "-c", _CHILD, "1" if cfg.get("onednn", True) else "0",
                            "1" if cfg.get("channels_last_stem") else "0"],
                           capture_output=True, text=True, env=env, timeout=600)
        if r.returncode:
            print(f"kernelprobe {name}: failed ({r.stderr.strip()[-300:]})", file=sys.stderr)
            return 1
        rows[name] = json.loads(r.stdout.strip().splitlines()[-1])
    print(json.dumps({"cpu": machine()["cpu"], "hashes": rows}, indent=1, sort_keys=True))
    return 0


# The child sets MKL_CBWR after `import imrnet` (which sets the mode's COMPATIBLE) and before
# MKL computes anything, so the AVX2 configuration really runs that branch.
_CHILD = """
import os, sys, json
import imrnet
cbwr = os.environ.get("IMRNET_KERNELPROBE_MKL_CBWR")
if cbwr:
    os.environ["MKL_CBWR"] = cbwr
from repro.kernelprobe import probe
print(json.dumps(probe(onednn=sys.argv[1] == "1", channels_last_stem=sys.argv[2] == "1")))
"""
