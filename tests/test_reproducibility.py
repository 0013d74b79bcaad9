"""The CPU reproducibility mode (`imrnet.reproducibility`): it overrides whatever kernel paths
the environment asks for, so the same training steps give the same bits; without it they do
not (on a CPU with AVX-512); it refuses to run where it cannot hold. Each case runs in a fresh
interpreter, since the caps act when the libraries load."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

# Five SGD steps of a small Conv3d/BatchNorm/Linear net (oneDNN, ATen and MKL kernels), a NumPy
# exp and matmul (NumPy's own dispatch and OpenBLAS), then the SHA-256 of all of it.
PROBE = r"""
import hashlib, json, sys
import imrnet
from imrnet import reproducibility
from imrnet.seeding import seed_everything
seed_everything(0)
import numpy as np, torch
net = torch.nn.Sequential(torch.nn.Conv3d(3, 8, 3, padding=1), torch.nn.BatchNorm3d(8),
                          torch.nn.ReLU(), torch.nn.Conv3d(8, 8, 3, padding=1),
                          torch.nn.AdaptiveAvgPool3d(1), torch.nn.Flatten(), torch.nn.Linear(8, 10))
opt = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
g = torch.Generator().manual_seed(0)
x, y = torch.randn(4, 3, 8, 16, 16, generator=g), torch.tensor([1, 2, 3, 4])
for _ in range(5):
    opt.zero_grad()
    torch.nn.functional.cross_entropy(net(x), y).backward()
    opt.step()
a = np.random.default_rng(0).standard_normal(100000)
h = hashlib.sha256(b"".join(p.detach().numpy().tobytes() for p in net.parameters()))
h.update(np.exp(a).tobytes() + (a.reshape(100, 1000) @ a.reshape(1000, 100)).tobytes())
print(json.dumps({"hash": h.hexdigest(), "record": reproducibility.record(),
                  "capability": torch.backends.cpu.get_cpu_capability()}))
"""

# What an AVX-512 machine picks by itself, spelled out (each variable a library reads).
AVX512_ENV = {"ATEN_CPU_CAPABILITY": "avx512", "ONEDNN_MAX_CPU_ISA": "AVX512_CORE_AMX",
              "MKL_CBWR": "AUTO", "MKL_ENABLE_INSTRUCTIONS": "AVX512",
              "OPENBLAS_CORETYPE": "SkylakeX", "NPY_DISABLE_CPU_FEATURES": ""}


def _has_avx512() -> bool:
    try:
        return " avx512f" in open("/proc/cpuinfo").read()
    except OSError:
        return False


def _run(code: str, **env) -> subprocess.CompletedProcess:
    """``code`` in a fresh interpreter whose environment has none of the mode's variables (this
    process has them all, from its own ``import imrnet``), plus ``env``."""
    from imrnet.reproducibility import KERNEL_CAPS

    drop = set(AVX512_ENV) | set(KERNEL_CAPS) | {"OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                                                 "MKL_NUM_THREADS"}
    e = {k: v for k, v in os.environ.items() if k not in drop and not k.startswith("IMRNET_")}
    e.update(env)
    return subprocess.run([sys.executable, "-c", code], env=e, capture_output=True, text=True,
                          timeout=300)


def _probe(**env) -> dict:
    r = _run(PROBE, **env)
    assert r.returncode == 0, r.stderr[-2000:]
    return json.loads(r.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def plain():
    return _probe()


def test_mode_overrides_the_environment(plain):
    forced = _probe(**AVX512_ENV)
    assert plain["capability"] == forced["capability"] == "AVX2"
    assert forced["hash"] == plain["hash"]
    assert forced["record"] == plain["record"]  # what metrics files store: machine-independent
    rec = plain["record"]
    assert rec["mode"] == "avx2" and rec["cross_machine"] and rec["torch_threads"] == 2
    assert rec["kernel_caps"]["ONEDNN_MAX_CPU_ISA"] == "AVX2" and "machine" not in rec


@pytest.mark.skipif(not _has_avx512(), reason="needs a CPU with AVX-512 to show another kernel path")
def test_without_the_mode_avx512_changes_the_bits(plain):
    native = _probe(IMRNET_CPU_MODE="native", **AVX512_ENV)
    assert native["capability"] == "AVX512"
    assert native["record"] == {**native["record"], "mode": "native", "cross_machine": False}
    assert native["hash"] != plain["hash"]


def test_thread_count_is_part_of_the_mode(plain):
    four = _probe(IMRNET_THREADS="4")
    assert four["record"]["torch_threads"] == 4
    assert four["hash"] != plain["hash"]  # thread count changes reduction order: it is recorded


def test_numpy_imported_first_is_refused():
    r = _run("import numpy\nimport imrnet\nfrom imrnet.seeding import seed_everything\n"
             "seed_everything(0)")
    assert r.returncode != 0
    assert "ReproducibilityError" in r.stderr and "NumPy was imported (directly or by torch) before imrnet" in r.stderr
    assert "IMRNET_CPU_MODE=native" in r.stderr


def test_numpy_imported_first_with_the_caps_already_set_is_fine():
    from imrnet.reproducibility import KERNEL_CAPS

    r = _run("import numpy\nimport imrnet\nfrom imrnet.seeding import seed_everything\n"
             "seed_everything(0)", **KERNEL_CAPS)
    assert r.returncode == 0, r.stderr[-2000:]


@pytest.mark.parametrize("env,msg", [({"IMRNET_CPU_MODE": "fast"}, "IMRNET_CPU_MODE='fast'"),
                                     ({"IMRNET_THREADS": "two"}, "IMRNET_THREADS='two'"),
                                     ({"IMRNET_THREADS": "0"}, "IMRNET_THREADS='0'")])
def test_bad_settings_name_the_variable(env, msg):
    r = _run("import imrnet", **env)
    assert r.returncode != 0 and msg in r.stderr and "ReproducibilityError" in r.stderr


def test_record_says_when_the_numbers_are_not_cross_machine():
    from imrnet import reproducibility as R

    cpu = R.record()
    assert cpu["cross_machine"] and "problems" not in cpu and "cuda" not in cpu
    gpu = R.record("cuda:0")
    assert not gpu["cross_machine"] and "not bit-reproducible" in gpu["cuda"]


def test_late_opencv_import_is_refused():
    r = _run("import cv2\nimport imrnet\nfrom imrnet.seeding import seed_everything\n"
             "seed_everything(0)")
    assert r.returncode != 0 and "OpenCV was imported before imrnet" in r.stderr


def test_stages_refuse_to_start_where_the_mode_does_not_hold():
    r = _run("import numpy\nimport pipelines")
    assert r.returncode == 1 and r.stderr.startswith("error: the reproducibility mode")
