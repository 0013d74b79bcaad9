"""The reproducibility mode for CPU runs: the same params give the same bits on any x86-64 machine
with AVX2 (docs/reproducibility.md).

Every numerical library the project uses picks its kernels by the CPU it finds, and those
kernels sum in other orders or round otherwise (measured: five SGD steps of a small Conv3d net
give other weights under each of the caps below). The mode caps each one at the AVX2 level and
fixes torch's thread count, so an AVX-512 machine runs the kernels an AVX2 machine runs:

=====================  ==========================================  ===========================
library                what picks the kernel                       cap
=====================  ==========================================  ===========================
ATen (torch's own)     ``ATEN_CPU_CAPABILITY``                     ``avx2``
oneDNN (conv, BN)      ``ONEDNN_MAX_CPU_ISA``                      ``AVX2``
MKL (linear, BLAS)     ``MKL_CBWR`` + ``MKL_ENABLE_INSTRUCTIONS``  ``AVX2`` (CNR branch)
NumPy's ufuncs         ``NPY_DISABLE_CPU_FEATURES``                AVX-512 targets off
NumPy's OpenBLAS       ``OPENBLAS_CORETYPE``                       ``Haswell``
OpenCV (Farneback)     ``OPENCV_CPU_DISABLE``                      AVX-512 off
FFmpeg (encode/decode) ``av_force_cpu_flags`` (libavutil)          the AVX2-level flag set
torch threads          ``torch.set_num_threads``                   ``IMRNET_THREADS`` (2)
=====================  ==========================================  ===========================

numba's kernels (`imrnet.codec.kernels`) are exact integer code and need no cap.

The mode is applied when `imrnet` is imported (``imrnet/__init__.py``), before NumPy or
torch compute anything, so every entry point has it: ``make repro``, the DVC stages,
``python -m imrnet.train``, the tests. ``IMRNET_CPU_MODE=native`` turns it off (every library
picks its fastest kernels; numbers then hold only on the machine that made them).
`check()` refuses to train when the mode was asked for but could not take effect (NumPy
imported or torch used before `imrnet`, or a CPU without AVX2); `record()` is what every
metrics file stores, the same on every machine where the mode holds.

On CUDA the mode promises nothing beyond deterministic algorithms (warn-only where 3D pooling
backward has none): cuDNN and cuBLAS pick kernels by GPU model and library version.
"""

from __future__ import annotations

import os
import sys

__all__ = ["MODE_VAR", "THREADS_VAR", "DEFAULT_THREADS", "KERNEL_CAPS", "mode", "threads",
           "apply", "check", "record", "machine", "ReproducibilityError"]

MODE_VAR = "IMRNET_CPU_MODE"
THREADS_VAR = "IMRNET_THREADS"
DEFAULT_THREADS = 2
MODES = ("avx2", "native")

# NumPy names its dispatch targets by x86-64 level since 2.4 (X86_V4 = AVX-512), earlier by
# feature; a name NumPy does not dispatch on is only an ImportWarning, so list the names of the
# installed NumPy alone (`_numpy_avx512_targets`).
_NUMPY_AVX512_OLD = "AVX512F AVX512CD AVX512_KNL AVX512_KNM AVX512_SKX AVX512_CLX AVX512_CNL " \
                    "AVX512_ICL AVX512_SPR"
_NUMPY_AVX512_NEW = "X86_V4 AVX512_ICL AVX512_SPR"

# libavutil's AV_CPU_FLAG_* bits of an AVX2 machine (libavutil/cpu.h): MMX, MMXEXT, SSE, SSE2,
# SSE3, SSSE3, SSE4.1, SSE4.2, AESNI, AVX, CMOV, AVX2, FMA3, BMI1, BMI2. Forcing exactly these
# drops AVX-512 and the vendor-specific ones (XOP, FMA4, the *SLOW hints) that pick other code.
_AV_FLAGS = {"MMX": 0x1, "MMXEXT": 0x2, "SSE": 0x8, "SSE2": 0x10, "SSE3": 0x40, "SSSE3": 0x80,
             "SSE4": 0x100, "SSE42": 0x200, "AESNI": 0x80000, "AVX": 0x4000, "CMOV": 0x1000,
             "AVX2": 0x8000, "FMA3": 0x10000, "BMI1": 0x20000, "BMI2": 0x40000}
AV_AVX2_FLAGS = sum(_AV_FLAGS.values())


class ReproducibilityError(RuntimeError):
    """The reproducibility mode was asked for but does not hold in this process."""


def mode() -> str:
    m = os.environ.get(MODE_VAR, "avx2").strip().lower() or "avx2"
    if m not in MODES:
        raise ReproducibilityError(f"{MODE_VAR}={m!r}: expected one of {', '.join(MODES)}")
    return m


def threads() -> int:
    raw = os.environ.get(THREADS_VAR, str(DEFAULT_THREADS))
    try:
        n = int(raw)
    except ValueError:
        n = 0
    if n < 1:
        raise ReproducibilityError(f"{THREADS_VAR}={raw!r}: expected a positive integer")
    return n


def _numpy_version() -> tuple[int, int]:
    from importlib.metadata import version

    major, minor = version("numpy").split(".")[:2]
    return int(major), int(minor)


def _numpy_avx512_targets() -> str:
    return _NUMPY_AVX512_NEW if _numpy_version() >= (2, 4) else _NUMPY_AVX512_OLD


def kernel_caps() -> dict[str, str]:
    """The environment variables of the mode (the FFmpeg cap and the threads are set in code)."""
    return {"ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2", "MKL_CBWR": "AVX2",
            "MKL_ENABLE_INSTRUCTIONS": "AVX2", "OPENBLAS_CORETYPE": "Haswell",
            "NPY_DISABLE_CPU_FEATURES": _numpy_avx512_targets(),
            "OPENCV_CPU_DISABLE": "AVX512-SKX"}


KERNEL_CAPS = kernel_caps()
_state = {"applied": False, "late": [], "ffmpeg": None}


def _loaded_library(stem: str) -> str | None:
    """Path of a shared library this process has mapped (Linux), e.g. PyAV's own libavutil."""
    try:
        with open("/proc/self/maps") as f:
            for line in f:
                path = line.split()[-1]
                if f"/{stem}" in path and ".so" in path:
                    return path
    except OSError:
        return None
    return None


def _cap_ffmpeg() -> str:
    """Force libavutil's CPU flags to the AVX2 level (what the machine has of it)."""
    import ctypes

    import av  # noqa: F401  (maps PyAV's libavutil)

    path = _loaded_library("libavutil")
    if path is None:
        return "not capped (libavutil not found in this process)"
    lib = ctypes.CDLL(path)
    lib.av_force_cpu_flags(-1)  # back to detection, so a second apply() sees the machine
    have = lib.av_get_cpu_flags() & 0xFFFFFFFF
    lib.av_force_cpu_flags(have & AV_AVX2_FLAGS)
    return "capped" if have & AV_AVX2_FLAGS == AV_AVX2_FLAGS else "capped below AVX2"


def apply() -> None:
    """Set the caps and the thread count (idempotent). Called by ``import imrnet``."""
    if mode() != "avx2":
        _state["applied"] = True
        return
    # NumPy reads its caps when it loads: imported before this with other values, it keeps them.
    numpy_vars = ("NPY_DISABLE_CPU_FEATURES", "OPENBLAS_CORETYPE")
    late = ["numpy"] if "numpy" in sys.modules and any(
        os.environ.get(k) != KERNEL_CAPS[k] for k in numpy_vars) else []
    for k, v in KERNEL_CAPS.items():
        os.environ[k] = v
    os.environ.setdefault("OMP_NUM_THREADS", str(threads()))
    import torch

    torch.set_num_threads(threads())
    _state.update(applied=True, late=late, ffmpeg=_cap_ffmpeg())


def _effective() -> dict:
    """What the libraries actually run with now."""
    import numpy as np
    import torch

    try:
        from numpy._core._multiarray_umath import __cpu_features__ as feats
    except ImportError:  # NumPy < 2
        from numpy.core._multiarray_umath import __cpu_features__ as feats
    avx512 = [k for k in _numpy_avx512_targets().split() if feats.get(k)]
    return {"torch_capability": torch.backends.cpu.get_cpu_capability(),
            "torch_threads": torch.get_num_threads(), "numpy_avx512": avx512,
            "numpy": np.__version__}


def check() -> None:
    """Raise `ReproducibilityError` where the mode is asked for but does not hold."""
    if mode() != "avx2":
        return
    if not _state["applied"]:
        apply()
    eff, problems = _effective(), []
    if eff["torch_capability"] != "AVX2":
        problems.append(f"torch runs its {eff['torch_capability']} kernels (torch computed "
                        "before imrnet was imported, or the CPU lacks AVX2)")
    if eff["numpy_avx512"] or _state["late"]:
        problems.append("NumPy was imported before imrnet, so its AVX-512 kernels and "
                        "OpenBLAS's core type could not be capped")
    if eff["torch_threads"] != threads():
        problems.append(f"torch uses {eff['torch_threads']} threads, the mode {threads()}")
    if _state["ffmpeg"] != "capped":
        problems.append(f"FFmpeg's CPU flags: {_state['ffmpeg']}")
    if problems:
        raise ReproducibilityError(
            "the reproducibility mode (docs/reproducibility.md) does not hold: "
            + "; ".join(problems) + f". Import imrnet first, or set {MODE_VAR}=native to run "
            "without it (numbers then hold only on this machine).")


def record() -> dict:
    """The settings a metrics file records: identical on every machine where the mode holds
    (the CPU it ran on goes to `machine`, kept out of anything compared byte for byte)."""
    import cv2
    import numba
    import numpy as np
    import torch
    import av

    libs = {"torch": torch.__version__, "numpy": np.__version__, "av": av.__version__,
            "opencv": cv2.__version__, "numba": numba.__version__}
    if mode() == "native":
        return {"mode": "native", "cross_machine": False, "libraries": libs}
    return {"mode": "avx2", "cross_machine": True, "kernel_caps": dict(sorted(KERNEL_CAPS.items())),
            "ffmpeg_cpu_flags": "AVX2 level", "torch_threads": threads(), "libraries": libs,
            "cuda": "not bit-reproducible across GPU models or library versions"
            if torch.cuda.is_available() else None}


def machine() -> dict:
    """The machine itself (for timing files, never for compared outputs)."""
    import platform

    import torch

    cpu = ""
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((line.split(":", 1)[1].strip() for line in f
                        if line.startswith("model name")), "")
    except OSError:
        pass
    return {"cpu": cpu or platform.processor(), "platform": platform.platform(),
            "python": platform.python_version(), "cores": os.cpu_count(),
            "device": torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu",
            **({"effective": _effective()} if _state["applied"] else {})}
