"""Bidirectional dynamic connections (paper section 2.1, Eq. 1-3) between the I pathway and one
P pathway (M or R).

Erratum (docs/conventions.md): the text and Eq. 2 put the convolution on I -> P and the deconvolution on
P -> I, which cannot match the shapes (the I pathway has kappa times fewer frames). Here P -> I
is the time-strided convolution (T*P -> T frames) and I -> P the matching transposed
convolution (T -> T*P frames), both (kappa x 1 x 1) kernels with (kappa, 1, 1) stride and a
bias, exactly Eq. 2: no BatchNorm or ReLU after them (SlowFast's fusion layers have both; the
paper's equation has neither, and leaving them out keeps the "No conv" ablation a change of the
(de)conv alone). Outputs have C/8 channels of the receiving pathway (never below 1).

Multimodal gated attention: z = [maxpool(x_I); maxpool(x_P)] (global max over T, H, W),
h = LeakyReLU(W2 LeakyReLU(W1 z + b1) + b2) with W1, W2 of C_Z x C_Z, and sigmoid heads
a_I (C_I/8) and a_P (C_P/8) scaling the lateral outputs channel-wise (Eq. 1-2).

``lateral="resample"`` (Table 2's "No conv") has no parameters in the lateral path: P -> I
averages each GOP's P frames (average pool (kappa,1,1), stride kappa); I -> P repeats each
I frame kappa times (nearest up-sampling, GOP-major). Channels are matched without weights:
averaged over contiguous channel groups when there are too many (adaptive average pooling along
the channel axis), repeated when there are too few (channel c_out takes input channel
floor(c_out * C_in / C_out)).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["lateral_width", "match_channels", "MultimodalGate", "PairLateral"]


def lateral_width(channels: int) -> int:
    """C/8 of the receiving pathway, never below 1."""
    return max(1, channels // 8)


def match_channels(x: torch.Tensor, c_out: int) -> torch.Tensor:
    """Weight-free channel matching of x [B, C, T, H, W] to c_out channels (see module doc)."""
    b, c, t, h, w = x.shape
    if c == c_out:
        return x
    if c > c_out:  # average contiguous groups
        y = x.permute(0, 2, 3, 4, 1).reshape(-1, 1, c)
        y = F.adaptive_avg_pool1d(y, c_out)
        return y.reshape(b, t, h, w, c_out).permute(0, 4, 1, 2, 3)
    idx = (torch.arange(c_out, device=x.device) * c) // c_out  # repeat
    return x.index_select(1, idx)


class MultimodalGate(nn.Module):
    """Attention weights a_I [B, C_I/8] and/or a_P [B, C_P/8] from both pathways' features."""

    def __init__(self, c_i: int, c_p: int, *, to_i: bool, to_p: bool):
        super().__init__()
        cz = c_i + c_p
        self.mlp = nn.Sequential(nn.Linear(cz, cz), nn.LeakyReLU(0.01), nn.Linear(cz, cz),
                                 nn.LeakyReLU(0.01))
        self.head_i = nn.Linear(cz, lateral_width(c_i)) if to_i else None
        self.head_p = nn.Linear(cz, lateral_width(c_p)) if to_p else None

    def forward(self, x_i, x_p):
        z = torch.cat([x_i.amax(dim=(2, 3, 4)), x_p.amax(dim=(2, 3, 4))], dim=1)
        h = self.mlp(z)
        a_i = torch.sigmoid(self.head_i(h)) if self.head_i is not None else None
        a_p = torch.sigmoid(self.head_p(h)) if self.head_p is not None else None
        return a_i, a_p


class PairLateral(nn.Module):
    """The connections between the I pathway and one P pathway at one depth.

    ``forward(x_i [B, C_I, T, H, W], x_p [B, C_P, T*kappa, H, W]) -> (v_P->I, v_I->P)``, either
    None when that direction is off; v_P->I is [B, C_I/8, T, H, W], v_I->P [B, C_P/8, T*kappa,
    H, W].
    """

    def __init__(self, c_i: int, c_p: int, *, kappa: int, bidirectional: bool, lateral: str,
                 gated: bool):
        super().__init__()
        if lateral not in ("conv", "resample"):
            raise ValueError(f"lateral must be 'conv' or 'resample', got {lateral!r}")
        self.kappa, self.lateral = kappa, lateral
        self.c_to_i, self.c_to_p = lateral_width(c_i), lateral_width(c_p)
        self.to_p = bidirectional
        if lateral == "conv":
            self.p2i = nn.Conv3d(c_p, self.c_to_i, (kappa, 1, 1), stride=(kappa, 1, 1))
            self.i2p = (nn.ConvTranspose3d(c_i, self.c_to_p, (kappa, 1, 1), stride=(kappa, 1, 1))
                        if bidirectional else None)
        self.gate = MultimodalGate(c_i, c_p, to_i=True, to_p=bidirectional) if gated else None

    def forward(self, x_i, x_p):
        t_i, t_p = x_i.shape[2], x_p.shape[2]
        if t_p != t_i * self.kappa:
            raise ValueError(f"P pathway has {t_p} frames, expected {self.kappa} x {t_i}")
        if self.lateral == "conv":
            v_pi = self.p2i(x_p)
            v_ip = self.i2p(x_i) if self.to_p else None
        else:
            v_pi = match_channels(F.avg_pool3d(x_p, (self.kappa, 1, 1)), self.c_to_i)
            v_ip = (match_channels(x_i.repeat_interleave(self.kappa, dim=2), self.c_to_p)
                    if self.to_p else None)
        if self.gate is not None:
            a_i, a_p = self.gate(x_i, x_p)
            v_pi = v_pi * a_i[:, :, None, None, None]
            if v_ip is not None:
                v_ip = v_ip * a_p[:, :, None, None, None]
        return v_pi, v_ip
