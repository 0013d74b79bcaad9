"""Training: pretraining (pretext tasks or supervised), finetuning, checkpoints, torchrun/DDP."""

from .checkpoint import CheckpointMismatch, load_checkpoint, save_checkpoint
from .config import DEFAULTS, make_config, params_hash
from .loop import finetune, pretrain, read_log

__all__ = ["pretrain", "finetune", "make_config", "params_hash", "DEFAULTS", "save_checkpoint",
           "load_checkpoint", "CheckpointMismatch", "read_log"]
