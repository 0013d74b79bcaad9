"""Heads of the pretext tasks (and the classifier), on IMRNet's ``maps`` and ``embedding``."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .pmsp import PMSP_GRIDS, PMSP_SCALES, cell_edges, pmsp_levels

__all__ = ["MLPHead", "PMSPHead"]


class MLPHead(nn.Module):
    """Two-layer MLP (Linear, ReLU, Linear) on the embedding [B, D] -> logits [B, n]."""

    def __init__(self, dim: int, n: int, hidden: int = 512):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(dim, hidden), nn.ReLU(inplace=True), nn.Linear(hidden, n))

    def forward(self, embedding: torch.Tensor) -> torch.Tensor:
        return self.net(embedding)


def _cell_means(x: torch.Tensor, s: int) -> torch.Tensor:
    """Mean of x [N, C, h, w] over the s x s cells the labels use (edges floor(linspace(0, size,
    s+1)), non-overlapping, unlike adaptive pooling's) -> [N, C, s, s]."""
    ey, ex = cell_edges(x.shape[2], s), cell_edges(x.shape[3], s)
    rows = torch.stack([x[:, :, ey[r]:ey[r + 1]].mean(2) for r in range(s)], 2)   # [N, C, s, w]
    return torch.stack([rows[..., ex[c]:ex[c + 1]].mean(3) for c in range(s)], 3)  # [N, C, s, s]


class PMSPHead(nn.Module):
    """Predicts Algorithm 1's labels from the three pathways' final maps.

    The P pathways' maps are averaged within each GOP (T*P -> T frames) and concatenated with
    the I pathway's: [B, C_I+C_M+C_R, T, h, w]. For level (s, t), window q averages GOPs
    q .. q+T-t and is averaged over the same s x s cells as the labels (non-overlapping, edges
    floor(linspace(0, size, s+1)) on the map); a two-layer MLP per level (shared by its windows)
    maps the flattened cells to s^2 logits.

    ``forward(maps) -> {(s, t): logits [B, t, s*s]}``; `loss` sums cross-entropy over levels and
    windows and averages over the batch.
    """

    def __init__(self, channels, *, num_gops: int = 5, grids=PMSP_GRIDS, scales=PMSP_SCALES,
                 hidden: int = 256):
        super().__init__()
        self.c = int(sum(channels))
        self.num_gops = num_gops
        self.levels = pmsp_levels(num_gops, grids, scales)
        self.mlps = nn.ModuleDict({
            f"s{s}_t{t}": nn.Sequential(nn.Linear(self.c * s * s, hidden), nn.ReLU(inplace=True),
                                        nn.Linear(hidden, s * s))
            for s, t in self.levels})

    def forward(self, maps) -> dict:
        xi, xm, xr = maps
        b, _, T, h, w = xi.shape
        if T != self.num_gops:
            raise ValueError(f"PMSP head built for {self.num_gops} GOPs, the I map has {T}")
        smax = max(s for s, _ in self.levels)
        if h < smax or w < smax:
            raise ValueError(f"PMSP needs final maps of at least {smax}x{smax} cells, got {h}x{w}: "
                             "use inputs of 112 px or more, or res5_stride=1")
        p = [x.view(b, x.shape[1], T, x.shape[2] // T, h, w).mean(3) for x in (xm, xr)]
        x = torch.cat([xi] + p, dim=1)  # [B, C, T, h, w]
        out = {}
        for s, t in self.levels:
            L = T - t + 1
            win = torch.stack([x[:, :, q:q + L].mean(2) for q in range(t)], 1)  # [B, t, C, h, w]
            cells = _cell_means(win.flatten(0, 1), s).flatten(1)               # [B*t, C*s*s]
            out[(s, t)] = self.mlps[f"s{s}_t{t}"](cells).view(b, t, s * s)
        return out

    @staticmethod
    def loss(logits: dict, labels: dict, reduction: str = "sum") -> tuple[torch.Tensor, dict]:
        """Cross-entropy summed over levels and windows (``reduction="mean"``: averaged over
        them), averaged over the batch; and the accuracy of each level."""
        if reduction not in ("sum", "mean"):
            raise ValueError(f"reduction must be sum or mean, got {reduction!r}")
        total, acc = 0.0, {}
        terms = 0
        for k, lg in logits.items():
            terms += lg.shape[1]
            y = labels[k].to(lg.device)
            b, t, n = lg.shape
            total = total + F.cross_entropy(lg.reshape(b * t, n), y.reshape(b * t),
                                            reduction="sum") / b
            acc[f"s{k[0]}_t{k[1]}"] = (lg.argmax(-1) == y).float().mean().item()
        return (total / terms if reduction == "mean" else total), acc
