"""The reproducibility mode for CPU runs: the same params give the same bits whatever ISA
extensions an x86-64 machine with AVX2 has or is asked to use (measured on one CPU family),
and it is meant to give them across CPU vendors too: MKL runs its COMPATIBLE branch (its AVX2
branch is Intel's promise for Intel processors and gave an AMD EPYC other linear-layer bits),
and the stems hand no convolution a channels-last input. Every kernel `python -m repro
kernelprobe` hashes gives an Intel Xeon the AMD EPYC's bits under these settings; a whole
pipeline has not been compared on both (docs/reproducibility.md, "Across CPU vendors").

Every numerical library the project uses picks its kernels by the CPU it finds, and those
kernels sum in other orders or round otherwise (measured: five SGD steps of a small Conv3d net
give other weights under each torch cap below and each thread count; NumPy's, OpenCV's and
FFmpeg's outputs change with their own paths). The mode caps each library at the AVX2 level and
fixes the thread counts, so an AVX-512 machine runs the kernels an AVX2 machine runs:

=====================  ==========================================  ===========================
library                what picks the kernel                       cap
=====================  ==========================================  ===========================
ATen (torch's own)     ``ATEN_CPU_CAPABILITY``                     ``avx2``
oneDNN (conv, BN)      ``ONEDNN_MAX_CPU_ISA``                      ``AVX2``
MKL (linear, BLAS)     ``MKL_CBWR`` + ``MKL_ENABLE_INSTRUCTIONS``  ``COMPATIBLE`` + ``AVX2``
NumPy's ufuncs         ``NPY_DISABLE_CPU_FEATURES``                AVX-512 targets off
NumPy's OpenBLAS       ``OPENBLAS_CORETYPE``                       ``Haswell``
OpenCV (Farneback)     ``OPENCV_CPU_DISABLE``                      AVX-512 off
FFmpeg (encode/decode) ``av_force_cpu_flags`` (libavutil)          the AVX2-level flag set
threads                ``torch.set_num_threads``, ``OMP/OPENBLAS/  ``IMRNET_THREADS`` (2)
                       MKL_NUM_THREADS``
=====================  ==========================================  ===========================

numba's kernels (`imrnet.codec.kernels`) are exact integer code and need no cap.

The mode is applied when `imrnet` is imported (``imrnet/__init__.py``), before NumPy or
torch compute anything, so every entry point has it: ``make repro``, the DVC stages,
``python -m imrnet.train``, the tests. ``IMRNET_CPU_MODE=native`` turns it off (every library
picks its fastest kernels; numbers then hold only on the machine that made them).
`check()` refuses to train (and the DVC stages refuse to start) when the mode was asked for but
could not take effect (NumPy or OpenCV imported, or torch used, before `imrnet`; a CPU without
AVX2 and FMA, where no cap is set at all); `record()` is what every metrics file stores, the
same on every machine where the mode holds, and says so when it does not.

On CUDA the mode promises nothing beyond deterministic algorithms (warn-only where 3D pooling
backward has none): cuDNN and cuBLAS pick kernels by GPU model and library version.
"""

from __future__ import annotations

import os
import sys

__all__ = ["MODE_VAR", "THREADS_VAR", "DEFAULT_THREADS", "KERNEL_CAPS", "mode", "threads",
           "apply", "check", "problems", "record", "machine", "ReproducibilityError"]

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
    # MKL_CBWR=COMPATIBLE, not AVX2: the same linear-layer bits on Intel and AMD (kernelprobe;
    # no measurable cost, the linear layers are a sliver of a step: docs/reproducibility.md).
    return {"ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2", "MKL_CBWR": "COMPATIBLE",
            "MKL_ENABLE_INSTRUCTIONS": "AVX2", "OPENBLAS_CORETYPE": "Haswell",
            "NPY_DISABLE_CPU_FEATURES": _numpy_avx512_targets(),
            "OPENCV_CPU_DISABLE": "AVX512-SKX"}


KERNEL_CAPS = kernel_caps()
_state = {"applied": False, "late": [], "ffmpeg": None, "cpu": None}


def _cpu_has_avx2() -> bool | None:
    """Whether the CPU has AVX2 and FMA (the level the caps select); None where /proc/cpuinfo
    cannot tell (not Linux)."""
    try:
        with open("/proc/cpuinfo") as f:
            flags = next((line.split(":", 1)[1].split() for line in f
                          if line.startswith("flags")), None)
    except OSError:
        return None
    return None if flags is None else {"avx2", "fma"} <= set(flags)


def _loaded_library(stem: str, prefer: str = "") -> str | None:
    """Path of a shared library this process has mapped (Linux): the one whose path contains
    ``prefer`` if any (OpenCV bundles a libavutil of its own), else the first."""
    try:
        with open("/proc/self/maps") as f:
            paths = [line.split()[-1] for line in f]
    except OSError:
        return None
    found = list(dict.fromkeys(p for p in paths if f"/{stem}" in p and ".so" in p))
    return next((p for p in found if prefer and prefer in p), found[0] if found else None)


def _cap_ffmpeg() -> str:
    """Force libavutil's CPU flags to the AVX2 level (what the machine has of it)."""
    import ctypes

    import av  # (maps PyAV's libavutil)

    path = _loaded_library("libavutil", prefer=os.path.dirname(os.path.dirname(av.__file__)))
    if path is None:
        return "not capped (libavutil not found in this process)"
    lib = ctypes.CDLL(path)
    lib.av_force_cpu_flags(-1)  # back to detection, so a second apply() sees the machine
    have = lib.av_get_cpu_flags() & 0xFFFFFFFF
    lib.av_force_cpu_flags(have & AV_AVX2_FLAGS)
    return "capped" if have & AV_AVX2_FLAGS == AV_AVX2_FLAGS else "capped below AVX2"


def apply() -> None:
    """Set the caps and the thread counts (idempotent). Called by ``import imrnet``."""
    m, n = mode(), threads()  # bad values refused before anything is set
    if m != "avx2":
        _state["applied"] = True
        return
    _state["cpu"] = _cpu_has_avx2()
    if _state["cpu"] is False:  # the caps would select instructions this CPU lacks
        _state["applied"] = True
        return
    # NumPy (imported by torch too) reads its caps when it loads: imported before this with
    # other values, it keeps them; OpenCV likewise.
    late = [mod for mod, keys in (("numpy", ("NPY_DISABLE_CPU_FEATURES", "OPENBLAS_CORETYPE")),
                                  ("cv2", ("OPENCV_CPU_DISABLE",)))
            if mod in sys.modules and any(os.environ.get(k) != KERNEL_CAPS[k] for k in keys)]
    for k, v in KERNEL_CAPS.items():
        os.environ[k] = v
    for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[k] = str(n)
    import torch

    torch.set_num_threads(n)
    _state.update(applied=True, late=sorted(set(_state["late"]) | set(late)),
                  ffmpeg=_cap_ffmpeg())


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


def problems() -> list[str]:
    """Why the mode does not hold in this process (empty: it holds, or it is off)."""
    if mode() != "avx2":
        return []
    if not _state["applied"]:
        apply()
    if _state["cpu"] is False:
        return ["this CPU lacks AVX2 or FMA, the level the mode selects; no cap was set"]
    eff, out = _effective(), []
    if eff["torch_capability"] != "AVX2":
        out.append(f"torch runs its {eff['torch_capability']} kernels (torch computed before "
                   "imrnet was imported)")
    if eff["numpy_avx512"] or "numpy" in _state["late"]:
        out.append("NumPy was imported (directly or by torch) before imrnet, so its AVX-512 "
                   "kernels and OpenBLAS's core type could not be capped")
    if "cv2" in _state["late"]:
        out.append("OpenCV was imported before imrnet, so its AVX-512 kernels could not be "
                   "capped")
    if eff["torch_threads"] != threads():
        out.append(f"torch uses {eff['torch_threads']} threads, the mode {threads()}")
    if _state["ffmpeg"] != "capped":
        out.append(f"FFmpeg's CPU flags: {_state['ffmpeg']}")
    return out


def check() -> None:
    """Raise `ReproducibilityError` where the mode is asked for but does not hold."""
    problems_ = problems()
    if problems_:
        raise ReproducibilityError(
            "the reproducibility mode (docs/reproducibility.md) does not hold: "
            + "; ".join(problems_) + f". Import imrnet first, or set {MODE_VAR}=native to run "
            "without it (numbers then hold only on this machine).")


def record(device: str = "cpu") -> dict:
    """The settings a metrics file records: identical on every machine where the mode holds
    (the CPU it ran on goes to `machine`, kept out of anything compared byte for byte).
    ``device``: where the numbers were computed; a CUDA run is never cross-machine."""
    import cv2
    import numba
    import numpy as np
    import torch
    import av

    libs = {"torch": torch.__version__, "numpy": np.__version__, "av": av.__version__,
            "opencv": cv2.__version__, "numba": numba.__version__}
    if mode() == "native":
        return {"mode": "native", "cross_machine": False, "libraries": libs}
    out = {"mode": "avx2", "cross_machine": True,
           "kernel_caps": dict(sorted(KERNEL_CAPS.items())), "ffmpeg_cpu_flags": "AVX2 level",
           "torch_threads": threads(), "libraries": libs}
    bad = problems()
    if bad:
        out.update(cross_machine=False, problems=bad)
    if str(device).startswith("cuda"):
        out.update(cross_machine=False, device="cuda",
                   cuda="not bit-reproducible across GPU models, drivers or library versions")
    return out


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
