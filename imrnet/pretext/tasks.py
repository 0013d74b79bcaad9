"""Pretext tasks by name, any combination (``tasks: [pmsp, ctp]`` in params).

===============  ========================================================  ==============
name             what the network predicts                                 target key
===============  ========================================================  ==============
pmsp             Algorithm 1's 27 labels (9 levels) from the final maps     ``pmsp``
ctp              ALIGNED / RANDOM / SHUFFLE / SHIFT of the P-streams        ``ctp``
ctp_binary       ALIGNED / RANDOM                                           ``ctp``
rotation         k x 90 degrees of all streams                              ``rotation``
arrow_of_time    forwards / backwards                                       ``arrow_of_time``
supervised       the class label (supervised pretraining, e.g. Kinetics)    ``label``
===============  ========================================================  ==============

A task has a sample transform (on the raw clip after its geometry, before the PMSP labels and
normalisation; the dataset calls `Pretext`), a head and a loss. PMSP's labels are computed
after every transform, from the motion the network is actually given: one forward pass per
sample, and for a CTP RANDOM / SHUFFLE / SHIFT sample the labels describe the (partner's or
permuted) motion in the input, not the original clip's. The objective is the sum of the tasks'
losses, each times its weight (lambda, default 1: L_PMSP + lambda * L_CTP).
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .baselines import arrow_clip, rotate_clip
from .ctp import CTP_BINARY_KINDS, CTP_KINDS, RANDOM, ctp_transform, draw_ctp
from .heads import MLPHead, PMSPHead

__all__ = ["TASKS", "Pretext", "build_heads", "task_losses", "check_weights"]

TASKS = ("pmsp", "ctp", "ctp_binary", "rotation", "arrow_of_time", "supervised")


def _check(tasks: Sequence[str]) -> list[str]:
    tasks = list(tasks)
    bad = [t for t in tasks if t not in TASKS]
    if bad or not tasks:
        raise ValueError(f"unknown pretext task(s) {bad or tasks}; known: {', '.join(TASKS)}")
    if "ctp" in tasks and "ctp_binary" in tasks:
        raise ValueError("choose one of ctp and ctp_binary")
    return tasks


class Pretext:
    """The sample side of a task list: called by `CompressedClipDataset` as
    ``pretext(clip, rng, partner) -> (clip, targets)`` where ``partner(j)`` gives another
    video's raw clip (same geometry rules) and ``rng`` is the sample's generator."""

    def __init__(self, tasks: Sequence[str], num_gops: int = 5):
        self.tasks = _check(tasks)
        self.num_gops = num_gops
        if "arrow_of_time" in self.tasks and num_gops < 2:
            raise ValueError(f"arrow_of_time needs data.num_gops >= 2 (it shows T-1 aligned "
                             f"groups), got {num_gops}")

    @property
    def wants_pmsp(self) -> bool:
        return "pmsp" in self.tasks

    def __call__(self, clip: dict, rng: np.random.Generator, index: int, n: int,
                 partner: Callable[[int], dict]) -> tuple[dict, dict]:
        targets = {}
        # CTP first: a RANDOM partner's P-streams then go through the same rotation / reversal
        # as the rest of the clip (else they would give the answer away)
        order = sorted(self.tasks, key=lambda t: t not in ("ctp", "ctp_binary"))
        for task in order:
            if task == "rotation":
                k = int(rng.integers(4))
                clip, targets["rotation"] = rotate_clip(clip, k), k
            elif task == "arrow_of_time":
                back = int(rng.integers(2))
                clip, targets["arrow_of_time"] = arrow_clip(clip, bool(back)), back
            elif task in ("ctp", "ctp_binary"):
                kind, order = draw_ctp(rng, self.num_gops, binary=task == "ctp_binary")
                other, j = None, -1
                if kind == RANDOM:
                    if n < 2:
                        raise ValueError("CTP RANDOM needs at least two videos")
                    j = int(rng.integers(n - 1))
                    j += j >= index
                    other = partner(j)
                clip, targets["ctp"] = ctp_transform(clip, kind, order, other), kind
                targets["ctp_partner"] = j  # the RANDOM partner's index (-1: none); not a target
        return clip, targets


def check_weights(tasks: Sequence[str], weights: dict | None) -> dict:
    """Loss weights keyed by head name (``ctp_binary``'s head is ``ctp``); unknown keys are
    errors."""
    out = {}
    for k, v in (weights or {}).items():
        head = "ctp" if k == "ctp_binary" else k
        if k not in tasks and not (head == "ctp" and ("ctp" in tasks or "ctp_binary" in tasks)):
            raise ValueError(f"loss weight for {k!r}, which is not among the tasks {list(tasks)}")
        out[head] = float(v)
    return out


def build_heads(tasks: Sequence[str], net: nn.Module, *, num_classes: int | None = None,
                num_gops: int = 5, hidden: int = 512) -> nn.ModuleDict:
    """Only the heads of the active tasks (DDP refuses unused parameters)."""
    heads = nn.ModuleDict()
    dim = net.embedding_dim
    for task in _check(tasks):
        if task == "pmsp":
            heads["pmsp"] = PMSPHead(net.out_channels, num_gops=num_gops, hidden=hidden // 2)
        elif task in ("ctp", "ctp_binary"):
            heads["ctp"] = MLPHead(dim, len(CTP_KINDS if task == "ctp" else CTP_BINARY_KINDS), hidden)
        elif task == "rotation":
            heads["rotation"] = MLPHead(dim, 4, hidden)
        elif task == "arrow_of_time":
            heads["arrow_of_time"] = MLPHead(dim, 2, hidden)
        elif task == "supervised":
            if not num_classes:
                raise ValueError("supervised pretraining needs num_classes")
            heads["supervised"] = nn.Linear(dim, num_classes)
    return heads


def task_losses(heads: nn.ModuleDict, out: dict, batch: dict, weights: dict | None = None, *,
                pmsp_reduction: str = "sum") -> tuple[torch.Tensor, dict]:
    """The weighted sum of the active tasks' losses and per-task metrics (loss, accuracy).

    ``pmsp_reduction``: "sum" (the paper's loss, summed over PMSP's levels and windows; at
    initialisation it sends 31-39x CTP's gradient to the backbone, issue 13) or "mean" (the
    same averaged over them: one cross-entropy's scale, like the other tasks'); the weights
    then balance the tasks (L = L_PMSP + lambda L_CTP)."""
    weights = weights or {}
    total, metrics = 0.0, {}
    for name, head in heads.items():
        if name == "pmsp":
            loss, acc = PMSPHead.loss(head(out["maps"]), batch["pmsp"], reduction=pmsp_reduction)
            metrics["pmsp_acc"] = float(np.mean(list(acc.values())))
            metrics.update({f"pmsp_acc_{k}": v for k, v in acc.items()})
        else:
            key = "label" if name == "supervised" else name
            y = batch[key]
            y = y if isinstance(y, torch.Tensor) else torch.as_tensor(y)
            logits = head(out["embedding"])
            y = y.to(logits.device)
            loss = F.cross_entropy(logits, y)
            metrics[f"{name}_acc"] = (logits.argmax(1) == y).float().mean().item()
        metrics[f"{name}_loss"] = float(loss.detach())
        total = total + float(weights.get(name, 1.0)) * loss
    return total, metrics
