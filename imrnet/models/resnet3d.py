"""3D-ResNet parts: blocks, stages, and a single-pathway network (the R3D-RGB and flow
baselines), in the shape of torchvision's ``models/video/resnet.py`` and SlowFast.

Architecture tables are module-level dicts, one row per choice. What the paper's Table 4 shows
is marked "Table 4"; every other entry is this project's choice (SlowFast's, where SlowFast
has one), written out so `imrnet.models.describe` can print it.
"""

from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

__all__ = ["init_weights", "STAGE_DEPTHS", "BLOCK_TEMPORAL", "CONV1_KERNEL", "BasicBlock3d", "Bottleneck3d",
           "Stem3d", "make_stage", "stage_widths", "ResNet3d", "build_resnet3d"]

# blocks per stage res2..res5 (He et al.; Table 4)
STAGE_DEPTHS = {18: (2, 2, 2, 2), 50: (3, 4, 6, 3)}

# Temporal kernel of each block's convolutions, per (depth, pathway kind), stages res2..res5.
# depth 18, basic blocks: (first conv, second conv); depth 50, bottlenecks: first (1x1) conv's.
BLOCK_TEMPORAL = {
    (18, "I"): ((1, 1), (1, 1), (3, 1), (3, 1)),  # res2-res3 1x3^2 (Table 4); res4-5: SlowFast-like
    (18, "P"): ((3, 1),) * 4,                     # [3x3^2, 1x3^2] (Table 4)
    (50, "I"): (1, 1, 3, 3),                      # SlowFast's slow pathway
    (50, "P"): (3, 3, 3, 3),                      # 3x1^2 first conv (Table 4)
    (18, "RGB"): ((3, 3),) * 4,                   # R3D (Hara et al.; torchvision r3d_18)
    (50, "RGB"): (3, 3, 3, 3),
}

# conv1 kernels (t, h, w); stride (1, 2, 2); followed by a 1x3x3 max-pool, stride (1, 2, 2)
CONV1_KERNEL = {
    "I": (1, 7, 7),    # SlowFast's slow pathway: no temporal mixing in the I stem
    "P": (5, 7, 7),    # SlowFast's fast pathway: "temporal kernel from the start"
    "RGB": (3, 7, 7),  # R3D
}


def init_weights(module: nn.Module) -> None:
    """torchvision's video-ResNet initialisation: convs Kaiming-normal (fan_out, ReLU), BatchNorm
    weight 1 / bias 0, the classifier (``fc``) normal(0, 0.01) with zero bias; other linear
    layers (the gates' MLPs) keep PyTorch's default, so the gates start input-dependent."""
    for m in module.modules():
        if isinstance(m, (nn.Conv3d, nn.ConvTranspose3d)):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm3d):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
    fc = getattr(module, "fc", None)
    if isinstance(fc, nn.Linear):
        nn.init.normal_(fc.weight, 0, 0.01)
        nn.init.zeros_(fc.bias)


def _conv(cin, cout, t, k, stride=(1, 1, 1)):
    return nn.Conv3d(cin, cout, (t, k, k), stride=stride, padding=(t // 2, k // 2, k // 2),
                     bias=False)


class BasicBlock3d(nn.Module):
    """Two (t x 3 x 3) convolutions and a shortcut (projected where width or stride change)."""

    expansion = 1

    def __init__(self, cin: int, width: int, stride: int, temporal: tuple[int, int]):
        super().__init__()
        ta, tb = temporal
        self.conv_a = _conv(cin, width, ta, 3, (1, stride, stride))
        self.bn_a = nn.BatchNorm3d(width)
        self.conv_b = _conv(width, width, tb, 3)
        self.bn_b = nn.BatchNorm3d(width)
        self.relu = nn.ReLU(inplace=True)
        self.shortcut = None
        if cin != width or stride != 1:
            self.shortcut = nn.Sequential(
                nn.Conv3d(cin, width, 1, stride=(1, stride, stride), bias=False),
                nn.BatchNorm3d(width))

    def forward(self, x):
        y = self.relu(self.bn_a(self.conv_a(x)))
        y = self.bn_b(self.conv_b(y))
        return self.relu(y + (x if self.shortcut is None else self.shortcut(x)))


class Bottleneck3d(nn.Module):
    """(t x 1 x 1) -> (1 x 3 x 3, spatial stride) -> (1 x 1 x 1, 4x width), plus a shortcut."""

    expansion = 4

    def __init__(self, cin: int, width: int, stride: int, temporal: int):
        super().__init__()
        out = width * self.expansion
        self.conv_a = _conv(cin, width, temporal, 1)
        self.bn_a = nn.BatchNorm3d(width)
        self.conv_b = _conv(width, width, 1, 3, (1, stride, stride))
        self.bn_b = nn.BatchNorm3d(width)
        self.conv_c = nn.Conv3d(width, out, 1, bias=False)
        self.bn_c = nn.BatchNorm3d(out)
        self.relu = nn.ReLU(inplace=True)
        self.shortcut = None
        if cin != out or stride != 1:
            self.shortcut = nn.Sequential(
                nn.Conv3d(cin, out, 1, stride=(1, stride, stride), bias=False),
                nn.BatchNorm3d(out))

    def forward(self, x):
        y = self.relu(self.bn_a(self.conv_a(x)))
        y = self.relu(self.bn_b(self.conv_b(y)))
        y = self.bn_c(self.conv_c(y))
        return self.relu(y + (x if self.shortcut is None else self.shortcut(x)))


class Stem3d(nn.Sequential):
    """conv1 (kernel from `CONV1_KERNEL`, stride (1, 2, 2)), BN, ReLU, 1x3x3 max-pool /2.

    conv1 reads its input as it comes (NCDHW), not channels-last, although channels-last made
    an IMRNet training step x1.12 faster at the decisive profile's shape on an Intel Xeon
    (x1.03-1.30 by shape on an AMD EPYC): on a channels-last input oneDNN runs its brgemm
    convolution (``brg_conv_fwd``), which sizes its blocks from the caches it detects, and
    with it the Intel-vs-AMD gap of the smoke pretraining losses grew from 1e-7 to 1e-3
    (docs/reproducibility.md, "Across CPU vendors"; its own hash on AMD is not yet measured).
    `tests/bench/test_model_bench.py::test_channels_last_stem_given_up` measures the cost."""

    def __init__(self, cin: int, width: int, kernel: Sequence[int]):
        t, h, w = kernel
        super().__init__(
            nn.Conv3d(cin, width, (t, h, w), stride=(1, 2, 2), padding=(t // 2, h // 2, w // 2),
                      bias=False),
            nn.BatchNorm3d(width), nn.ReLU(inplace=True),
            nn.MaxPool3d((1, 3, 3), stride=(1, 2, 2), padding=(0, 1, 1)))


def stage_widths(depth: int, width: int) -> tuple[list[int], list[int]]:
    """(inner widths, output widths) of res2..res5 for a pathway whose conv1 has ``width``."""
    if depth not in STAGE_DEPTHS:
        raise ValueError(f"depth must be 18 or 50, got {depth!r}")
    inner = [width * m for m in (1, 2, 4, 8)]
    return inner, [w * (4 if depth == 50 else 1) for w in inner]


def make_stage(depth: int, cin: int, width: int, blocks: int, stride: int, temporal) -> nn.Sequential:
    """One residual stage; only its first block strides (spatially) and changes width."""
    layers = []
    for b in range(blocks):
        if depth == 18:
            layers.append(BasicBlock3d(cin, width, stride if b == 0 else 1, temporal))
            cin = width
        else:
            layers.append(Bottleneck3d(cin, width, stride if b == 0 else 1, temporal))
            cin = width * 4
    return nn.Sequential(*layers)


class ResNet3d(nn.Module):
    """A single-pathway 3D ResNet: stem, res2..res5, global average pool, optional classifier.

    ``forward(x [B, C, T, H, W]) -> dict(embedding [B, C_out], maps (x,), logits?)``.
    """

    def __init__(self, *, depth: int, in_channels: int, width: int, kind: str,
                 num_classes: int | None, dropout: float = 0.0, res5_stride: int = 2):
        super().__init__()
        self.stem = Stem3d(in_channels, width, CONV1_KERNEL[kind])
        inner, out = stage_widths(depth, width)
        cin, stages = width, []
        for i, (w, n) in enumerate(zip(inner, STAGE_DEPTHS[depth], strict=True)):
            stride = 1 if i == 0 else (res5_stride if i == 3 else 2)
            stages.append(make_stage(depth, cin, w, n, stride, BLOCK_TEMPORAL[(depth, kind)][i]))
            cin = out[i]
        self.stages = nn.ModuleList(stages)
        self.out_channels = cin
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(cin, num_classes) if num_classes else None
        init_weights(self)

    def forward(self, x: torch.Tensor) -> dict:
        x = self.stem(x)
        for s in self.stages:
            x = s(x)
        emb = x.mean(dim=(2, 3, 4))
        out = {"embedding": emb, "maps": (x,)}
        if self.fc is not None:
            out["logits"] = self.fc(self.dropout(emb))
        return out


def build_resnet3d(*, depth: int = 18, in_channels: int = 3, width: int = 64, kind: str = "RGB",
                   num_classes: int | None = None, dropout: float = 0.0,
                   res5_stride: int = 2) -> ResNet3d:
    """A 3D ResNet-18/50 of one pathway kind ("RGB": R3D kernels; "I" or "P": IMRNet's)."""
    if (depth, kind) not in BLOCK_TEMPORAL:
        raise ValueError(f"no {kind!r} pathway of depth {depth!r} (depth 18 or 50; kind RGB, I, P)")
    return ResNet3d(depth=depth, in_channels=in_channels, width=width, kind=kind,
                    num_classes=num_classes, dropout=dropout, res5_stride=res5_stride)
