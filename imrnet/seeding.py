"""The one place randomness is seeded (docs/reproducibility.md).

* `seed_everything` seeds Python, NumPy and torch, turns deterministic algorithms on (warn-only,
  since 3D pooling backward has no deterministic CUDA kernel), checks that the CPU
  reproducibility mode holds (`imrnet.reproducibility`) and fixes torch's thread count;
* `sample_rng` derives a per-sample generator from (seed, epoch, index), so a sample's random
  crop or flip does not depend on which DataLoader worker draws it, or how many there are;
* `environment` is what a run's own metrics record beside the params: the reproducibility
  settings (the same on every machine where the mode holds) and the machine itself.
"""

from __future__ import annotations

import os
import random

import numpy as np
import torch

from . import reproducibility

__all__ = ["seed_everything", "sample_rng", "environment"]


def seed_everything(seed: int) -> None:
    """Seed python, numpy and torch; deterministic algorithms on; the mode's fixed thread count;
    the reproducibility mode checked (`ReproducibilityError` where it was asked for and does
    not hold)."""
    torch.set_num_threads(reproducibility.threads())
    reproducibility.check()
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True, warn_only=True)
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")


def sample_rng(seed: int, epoch: int, index: int) -> np.random.Generator:
    """A generator that depends only on (seed, epoch, index)."""
    for name, v in (("seed", seed), ("epoch", epoch), ("index", index)):
        if not 0 <= int(v) < 2**32:  # SeedSequence splits larger words, aliasing other triples
            raise ValueError(f"{name} must be in [0, 2**32), got {v!r}")
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, epoch, index])))


def environment(device="cpu") -> dict:
    """The reproducibility settings and the machine, for a run's metrics (``device``: where
    its numbers were computed)."""
    return {"reproducibility": reproducibility.record(str(device)),
            "machine": reproducibility.machine()}
