"""IMRNet: three 3D-ResNet pathways (I, M, R) joined by bidirectional dynamic connections
(paper section 2.1, Fig. 2, Table 4).

::

    iframes  [B,3,T,H,W] ──► I: conv1+pool ─┬─ res2 ─┬─ res3 ─┬─ res4 ─┬─ res5 ─► xI ─ GAP ─┐
                                            ║        ║        ║        ║                    │
    motion   [B,2,TP,H,W] ─► M: conv1+pool ─┼─ res2 ─┼─ res3 ─┼─ res4 ─┼─ res5 ─► xM ─ GAP ─┼─► embedding
                                            ║        ║        ║        ║                    │    [C_I+C_M+C_R]
    residual [B,3,TP,H,W] ─► R: conv1+pool ─┴─ res2 ─┴─ res3 ─┴─ res4 ─┴─ res5 ─► xR ─ GAP ─┘      │
                                                                                               fc ─► logits
    ║ = bidirectional dynamic connection (lateral.PairLateral) between I and M, and I and R:
        P -> I: time-strided conv (kappa,1,1) /kappa, C_I/8 ch  ┐ each scaled channel-wise by
        I -> P: time-strided deconv (kappa,1,1) xkappa, C_P/8 ch ┘ multimodal gated attention
        xI <- [xI; v_M->I; v_R->I]   xM <- [xM; v_I->M]   xR <- [xR; v_I->R]

Choices the paper's text leaves open (Table 4 is only partly legible) are in the tables of
`imrnet.models.resnet3d` (`CONV1_KERNEL`, `BLOCK_TEMPORAL`) and printed by
``python -m imrnet.models.describe``:

* conv1: I 1x7x7, M/R 5x7x7 (SlowFast's slow / fast stems), stride (1,2,2), then a 1x3x3
  max-pool /2; the first connections come after that pool (SlowFast's place).
* depth 18: I res2-res3 blocks [1x3^2, 1x3^2] (Table 4), res4-res5 [3x3^2, 1x3^2]; M/R all
  [3x3^2, 1x3^2] (Table 4). depth 50: bottlenecks whose first conv is 1x1^2 in I res2-res3,
  3x1^2 in I res4-res5 (SlowFast) and in every M/R stage (Table 4).
* No temporal striding anywhere; spatial stride 2 in conv1, pool, res3, res4, res5 of every
  pathway, so lateral features align (``res5_stride=1`` keeps a 4x4 final map at 64 px inputs).
* P-pathway width = I width x ``p_width_ratio`` (Table 4's 1/16; the text's gamma = 64 would be
  1/64); the M and R inputs are the T*P P-frames flattened GOP-major (index g*P + p), which the
  kappa-strided lateral layers rely on.
* A stage that receives lateral features starts with a projection shortcut (its input is wider).
* Initialisation as torchvision's video ResNets: convolutions Kaiming-normal (fan_out), BatchNorm
  weight 1 and bias 0, the classifier normal(0, 0.01) with zero bias (the gates' MLPs keep
  PyTorch's default).
"""

from __future__ import annotations

import torch
from torch import nn

from .lateral import PairLateral, lateral_width
from .resnet3d import (BLOCK_TEMPORAL, CONV1_KERNEL, STAGE_DEPTHS, Stem3d, init_weights,
                       make_stage, stage_widths)

__all__ = ["IMRNet", "build_imrnet", "check_streams", "CONNECTIONS", "LATERALS"]

CONNECTIONS = ("bidirectional", "unidirectional", "none")
LATERALS = ("conv", "resample")
FUSION_POINTS = ("conv1", "res2", "res3", "res4")


def check_streams(frames, iframes, motion, residual, *, same_size: bool = True) -> None:
    """Raise ValueError unless the three streams are [B, 3, T, H, W], [B, 2, T*P, H, W] and
    [B, 3, T*P, H, W] for ``frames`` = (T, T*P) (and, with ``same_size``, share H and W)."""
    t, tp = frames
    for name, x, c, n in (("iframes", iframes, 3, t), ("motion", motion, 2, tp),
                          ("residual", residual, 3, tp)):
        if x.ndim != 5 or x.shape[1] != c or x.shape[2] != n:
            raise ValueError(f"{name} must be [B, {c}, {n}, H, W], got {tuple(x.shape)}")
    if same_size and not (iframes.shape[3:] == motion.shape[3:] == residual.shape[3:]):
        raise ValueError("iframes, motion and residual must share H and W, got "
                         f"{tuple(iframes.shape[3:])}, {tuple(motion.shape[3:])}, "
                         f"{tuple(residual.shape[3:])}")


class Pathway(nn.Module):
    """One pathway's stem and stages; stage inputs widened by the lateral channels it gets."""

    def __init__(self, *, depth, in_channels, width, kind, extra_in, res5_stride):
        super().__init__()
        self.kind, self.width = kind, width
        self.stem = Stem3d(in_channels, width, CONV1_KERNEL[kind])
        inner, out = stage_widths(depth, width)
        self.out_widths = [width] + out  # after conv1, res2, res3, res4, res5
        stages, cin = [], width
        for i, (w, n) in enumerate(zip(inner, STAGE_DEPTHS[depth], strict=True)):
            stride = 1 if i == 0 else (res5_stride if i == 3 else 2)
            stages.append(make_stage(depth, cin + extra_in[i], w, n, stride,
                                     BLOCK_TEMPORAL[(depth, kind)][i]))
            cin = out[i]
        self.stages = nn.ModuleList(stages)


class Fusion(nn.Module):
    """All connections at one fusion point: I <-> M and I <-> R."""

    def __init__(self, c_i, c_p, *, kappa, connection, lateral, gated):
        super().__init__()
        kw = dict(kappa=kappa, bidirectional=connection == "bidirectional", lateral=lateral,
                  gated=gated)
        self.m = PairLateral(c_i, c_p, **kw)
        self.r = PairLateral(c_i, c_p, **kw)

    def forward(self, xi, xm, xr):
        v_mi, v_im = self.m(xi, xm)
        v_ri, v_ir = self.r(xi, xr)
        xi = torch.cat([xi, v_mi, v_ri], dim=1)
        if v_im is not None:
            xm = torch.cat([xm, v_im], dim=1)
            xr = torch.cat([xr, v_ir], dim=1)
        return xi, xm, xr


class IMRNet(nn.Module):
    """The three-stream network; build it with `build_imrnet`.

    ``forward(iframes [B,3,T,H,W], motion [B,2,T*P,H,W], residual [B,3,T*P,H,W])`` (float32,
    `imrnet.codec.to_model_input`'s normalisation) returns a dict: ``embedding`` [B, C_I+C_M+C_R]
    (global average pools of the I, M, R final maps, in that order), ``maps`` (xI [B,C_I,T,h,w],
    xM [B,C_M,T*P,h,w], xR [B,C_R,T*P,h,w]) for the pretext heads, and ``logits`` [B, classes]
    when ``num_classes`` is set.
    """

    def __init__(self, *, depth, i_width, p_width, connection, lateral, gated, frames,
                 num_classes, dropout, res5_stride):
        super().__init__()
        t, tp = frames
        self.config = dict(depth=depth, i_width=i_width, p_width=p_width, connection=connection,
                           lateral=lateral, gated=gated, frames=(t, tp), num_classes=num_classes,
                           dropout=dropout, res5_stride=res5_stride)
        self.kappa = tp // t
        _, i_out = stage_widths(depth, i_width)
        _, p_out = stage_widths(depth, p_width)
        i_at, p_at = [i_width] + i_out[:3], [p_width] + p_out[:3]  # widths at the fusion points
        fused = connection != "none"
        both = connection == "bidirectional"
        i_extra = [2 * lateral_width(c) if fused else 0 for c in i_at]
        p_extra = [lateral_width(c) if both else 0 for c in p_at]
        kw = dict(depth=depth, res5_stride=res5_stride)
        self.i_path = Pathway(in_channels=3, width=i_width, kind="I", extra_in=i_extra, **kw)
        self.m_path = Pathway(in_channels=2, width=p_width, kind="P", extra_in=p_extra, **kw)
        self.r_path = Pathway(in_channels=3, width=p_width, kind="P", extra_in=p_extra, **kw)
        self.fusions = nn.ModuleList(
            [Fusion(ci, cp, kappa=self.kappa, connection=connection, lateral=lateral, gated=gated)
             for ci, cp in zip(i_at, p_at, strict=True)] if fused else [])
        self.out_channels = (i_out[3], p_out[3], p_out[3])
        self.embedding_dim = sum(self.out_channels)
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(self.embedding_dim, num_classes) if num_classes else None
        init_weights(self)

    def forward(self, iframes: torch.Tensor, motion: torch.Tensor, residual: torch.Tensor) -> dict:
        check_streams(self.config["frames"], iframes, motion, residual)
        xi, xm, xr = self.i_path.stem(iframes), self.m_path.stem(motion), self.r_path.stem(residual)
        for k in range(4):
            if self.fusions:
                xi, xm, xr = self.fusions[k](xi, xm, xr)
            xi = self.i_path.stages[k](xi)
            xm = self.m_path.stages[k](xm)
            xr = self.r_path.stages[k](xr)
        emb = torch.cat([x.mean(dim=(2, 3, 4)) for x in (xi, xm, xr)], dim=1)
        out = {"embedding": emb, "maps": (xi, xm, xr)}
        if self.fc is not None:
            out["logits"] = self.fc(self.dropout(emb))
        return out

    def check_pmsp_ready(self, h: int, w: int, cells: int = 4) -> None:
        """Raise unless H x W inputs leave final maps of at least ``cells`` x ``cells`` (the
        PMSP head's 4x4 grid)."""
        fh, fw = self.final_map_size(h, w, self.config["res5_stride"])
        if fh < cells or fw < cells:
            raise ValueError(f"{h}x{w} inputs give {fh}x{fw} final maps; PMSP needs {cells}x"
                             f"{cells}: use inputs of 112 px or more, or res5_stride=1")

    @staticmethod
    def final_map_size(h: int, w: int, res5_stride: int = 2) -> tuple[int, int]:
        """Spatial size of the final maps for H x W inputs (conv1, pool, res3, res4, res5)."""
        for s in (2, 2, 2, 2, res5_stride):
            h, w = (h - 1) // s + 1, (w - 1) // s + 1
        return h, w


def build_imrnet(*, depth: int = 18, i_width: int = 64, p_width_ratio: float = 1 / 16,
                 connection: str = "bidirectional", lateral: str = "conv", gated: bool = True,
                 frames: tuple[int, int] = (5, 25), num_classes: int | None = None,
                 dropout: float = 0.0, res5_stride: int = 2, p_min_width: int = 1) -> IMRNet:
    """IMRNet-R18/R50 and the ablations of Table 2.

    Args:
        depth: 18 (basic blocks) or 50 (bottlenecks).
        i_width: conv1 channels of the I pathway (64 in the paper).
        p_width_ratio: M and R pathway width relative to I (Table 4: 1/16), at least 1 channel.
        connection: "bidirectional" (paper), "unidirectional" (M/R -> I only), "none" (late
            fusion, CoViAR-like).
        lateral: "conv" (time-strided (de)conv, paper) or "resample" (Table 2's "No conv").
        gated: multimodal gated attention (False: Table 2's "No attention").
        frames: (T, T*P) frames of the I and the P pathways; T*P must be a multiple of T.
        num_classes: add a linear classifier on the embedding.
        dropout: before the classifier.
        res5_stride: 2 (paper); 1 keeps the final map 4x4 at 64-pixel inputs for the PMSP head.
        p_min_width: the least width of the M and R pathways (1: the ratio alone decides).
    """
    if depth not in STAGE_DEPTHS:
        raise ValueError(f"depth must be 18 or 50, got {depth!r}")
    if connection not in CONNECTIONS:
        raise ValueError(f"connection must be one of {CONNECTIONS}, got {connection!r}")
    if lateral not in LATERALS:
        raise ValueError(f"lateral must be one of {LATERALS}, got {lateral!r}")
    t, tp = (int(v) for v in frames)
    if t < 1 or tp < t or tp % t:
        raise ValueError(f"frames must be (T, T*P) with T*P a multiple of T, got {frames!r}")
    if i_width < 1 or not 0 < p_width_ratio <= 1:
        raise ValueError(f"need i_width >= 1 and 0 < p_width_ratio <= 1, got {i_width}, "
                         f"{p_width_ratio}")
    if res5_stride not in (1, 2):
        raise ValueError(f"res5_stride must be 1 or 2, got {res5_stride!r}")
    if int(p_min_width) < 1:
        raise ValueError(f"p_min_width must be >= 1, got {p_min_width!r}")
    # a floor on the motion / residual stems' width: at I width 16 and ratio 1/16 they would
    # be 1 channel wide (issue 13); the paper's widths (64, 1/16 -> 4) are above any small floor
    p_width = max(int(p_min_width), int(round(i_width * p_width_ratio)))
    return IMRNet(depth=depth, i_width=int(i_width), p_width=p_width, connection=connection,
                  lateral=lateral, gated=bool(gated), frames=(t, tp), num_classes=num_classes,
                  dropout=float(dropout), res5_stride=res5_stride)
