"""2D ResNet-18/34/50/101/152 (He et al. 2016), written here because torchvision does not import
beside the pinned CPU torch on these machines. Layout and initialisation follow torchvision's
``models/resnet.py``; there are no pretrained weights (nothing can be downloaded offline), so
CoViAR built from these trains from scratch unless a user loads ImageNet weights into it
(torchvision's state-dict key names are kept: ``conv1``, ``bn1``, ``layer1.0.conv1``, ``fc``).
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["RESNET2D_LAYERS", "ResNet2d", "build_resnet2d"]


class BasicBlock2d(nn.Module):
    expansion = 1

    def __init__(self, cin, width, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, width, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = None
        if stride != 1 or cin != width:
            self.downsample = nn.Sequential(nn.Conv2d(cin, width, 1, stride, bias=False),
                                            nn.BatchNorm2d(width))

    def forward(self, x):
        y = self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x)))))
        return self.relu(y + (x if self.downsample is None else self.downsample(x)))


class Bottleneck2d(nn.Module):
    expansion = 4

    def __init__(self, cin, width, stride):
        super().__init__()
        out = width * 4
        self.conv1 = nn.Conv2d(cin, width, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = nn.Conv2d(width, out, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(out)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = None
        if stride != 1 or cin != out:
            self.downsample = nn.Sequential(nn.Conv2d(cin, out, 1, stride, bias=False),
                                            nn.BatchNorm2d(out))

    def forward(self, x):
        y = self.relu(self.bn1(self.conv1(x)))
        y = self.relu(self.bn2(self.conv2(y)))
        y = self.bn3(self.conv3(y))
        return self.relu(y + (x if self.downsample is None else self.downsample(x)))


# depth -> (block, blocks per stage)
RESNET2D_LAYERS = {18: (BasicBlock2d, (2, 2, 2, 2)), 34: (BasicBlock2d, (3, 4, 6, 3)),
                   50: (Bottleneck2d, (3, 4, 6, 3)), 101: (Bottleneck2d, (3, 4, 23, 3)),
                   152: (Bottleneck2d, (3, 8, 36, 3))}


class ResNet2d(nn.Module):
    """``forward(x [N, C, H, W]) -> features [N, out_channels]`` (global average pool); ``fc``
    [N, classes] is applied by the caller (CoViAR averages scores over segments)."""

    def __init__(self, depth: int, in_channels: int = 3, width: int = 64,
                 num_classes: int | None = None):
        super().__init__()
        block, layers = RESNET2D_LAYERS[depth]
        self.conv1 = nn.Conv2d(in_channels, width, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        cin, stages = width, []
        for i, n in enumerate(layers):
            blocks = []
            for b in range(n):
                blocks.append(block(cin, width * 2 ** i, (1 if i == 0 else 2) if b == 0 else 1))
                cin = width * 2 ** i * block.expansion
            stages.append(nn.Sequential(*blocks))
        self.layer1, self.layer2, self.layer3, self.layer4 = stages
        self.out_channels = cin
        self.fc = nn.Linear(cin, num_classes) if num_classes else None
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return x.mean(dim=(2, 3))


def build_resnet2d(*, depth: int = 18, in_channels: int = 3, width: int = 64,
                   num_classes: int | None = None) -> ResNet2d:
    """2D ResNet of depth 18, 34, 50, 101 or 152, from scratch."""
    if depth not in RESNET2D_LAYERS:
        raise ValueError(f"depth must be one of {sorted(RESNET2D_LAYERS)}, got {depth!r}")
    return ResNet2d(depth, in_channels, width, num_classes)
