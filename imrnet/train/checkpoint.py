"""Checkpoints: written atomically every epoch, loaded with ``weights_only=True``."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import torch

from ..models.trained import read_checkpoint
from ..paths import write_bytes_atomic
from .config import diff_params, params_hash

__all__ = ["save_checkpoint", "save_atomic", "load_checkpoint", "CheckpointMismatch"]


class CheckpointMismatch(ValueError):
    """A checkpoint written with other params."""


def save_checkpoint(path: str | os.PathLike, *, cfg: dict, epoch: int, model, optimizer,
                    scheduler, world: int = 1) -> None:
    """Model (backbone + heads), optimizer, scheduler, completed epochs, torch RNG states (CPU
    and CUDA), the number of processes, and the params (JSON) with their hash; tmp file +
    rename, so a kill never leaves half a file."""
    path = Path(path)
    state = {"model": model.state_dict(), "optimizer": optimizer.state_dict(),
             "scheduler": scheduler.state_dict(), "epoch": int(epoch),
             "torch_rng": torch.get_rng_state(),
             "cuda_rng": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
             "world": int(world), "params": json.dumps(cfg, sort_keys=True),
             "params_hash": params_hash(cfg)}
    save_atomic(state, path)


def save_atomic(obj, path: str | os.PathLike) -> None:
    """``torch.save`` into memory, then written to a temporary file beside ``path`` and renamed
    (`imrnet.paths.write_bytes_atomic`): a full disk raises `WriteFailed` naming ``path`` and
    the system's reason (torch writing to a file itself says only ``basic_ios::clear``), and
    leaves no ``.part`` file."""
    buf = io.BytesIO()
    torch.save(obj, buf)
    write_bytes_atomic(path, buf.getbuffer())


def load_checkpoint(path: str | os.PathLike, cfg: dict | None = None) -> dict:
    """Load with ``weights_only=True``; with ``cfg``, refuse a checkpoint whose params hash
    differs, saying which params differ."""
    path = Path(path)
    state = read_checkpoint(path)
    if cfg is not None and state.get("params_hash") != params_hash(cfg):
        diff = diff_params(json.loads(state["params"]), cfg)
        raise CheckpointMismatch(f"{path}: written with other params ({'; '.join(diff) or 'hash'}); "
                                 "use another out folder or delete the checkpoint")
    return state
