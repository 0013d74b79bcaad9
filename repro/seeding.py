"""The one place randomness is seeded (DESIGN.md: reproducibility rules).

* `seed_everything` seeds Python, NumPy and torch, turns deterministic algorithms on (warn-only,
  since 3D pooling backward has no deterministic CUDA kernel) and fixes torch's thread count;
* `sample_rng` derives a per-sample generator from (seed, epoch, index), so a sample's random
  crop or flip does not depend on which DataLoader worker draws it, or how many there are;
* `environment` is what every metrics file records beside the params.
"""

from __future__ import annotations

import os
import platform
import random

import numpy as np
import torch

__all__ = ["seed_everything", "sample_rng", "environment"]


def seed_everything(seed: int, *, threads: int | None = None) -> None:
    """Seed python, numpy and torch; deterministic algorithms on; fixed thread count."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True, warn_only=True)
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    if threads is not None:
        torch.set_num_threads(threads)


def sample_rng(seed: int, epoch: int, index: int) -> np.random.Generator:
    """A generator that depends only on (seed, epoch, index)."""
    for name, v in (("seed", seed), ("epoch", epoch), ("index", index)):
        if not 0 <= int(v) < 2**32:  # SeedSequence splits larger words, aliasing other triples
            raise ValueError(f"{name} must be in [0, 2**32), got {v!r}")
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, epoch, index])))


def environment() -> dict:
    """Library versions, device and thread count, for metrics files."""
    import av

    import numba

    return {
        "python": platform.python_version(), "torch": torch.__version__, "numpy": np.__version__,
        "av": av.__version__, "numba": numba.__version__, "platform": platform.platform(),
        "device": torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu",
        "torch_threads": torch.get_num_threads(),
    }
