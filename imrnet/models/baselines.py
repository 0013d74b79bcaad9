"""Baselines from the same parts: CoViAR (Wu et al. 2018), R3D on decoded RGB, a 3D-ResNet flow
stream (alone, `FlowNet`: the separately trained flow network of a late fusion,
`imrnet.evaluate.fusion`), and IMRNet + flow trained jointly (Table 1's bottom group).

CoViAR as its code (``chaoyuaw/pytorch-coviar``) does it: three independent 2D ResNets, the
I-frame one deep (ResNet-152 in the paper; a parameter here so a small profile can use 18),
ResNet-18 on motion vectors and on residuals, each preceded by a BatchNorm on its input
(``data_bn``); TSN-style segments (every segment through the same network, class scores averaged
over segments); late fusion of the three streams' scores with weights 2 / 1 / 1 (its
``combine``), normalised by their sum. CoViAR trains the three networks separately: train on
``stream_logits`` (the sum of the three streams' losses is, as they share nothing, the same
thing); the fused ``logits`` are for testing. There are no ImageNet
weights offline, so CoViAR here trains from scratch (its paper numbers are ImageNet-pretrained).
Segments: the T I-frames, and per GOP ``p_per_gop`` evenly spaced P-frames of the clip (CoViAR
samples one P-frame per segment).
"""

from __future__ import annotations

import torch
from torch import nn

from .imrnet import IMRNet, check_streams
from .resnet2d import build_resnet2d
from .resnet3d import ResNet3d, build_resnet3d

__all__ = ["CoViAR", "build_coviar", "build_r3d_rgb", "build_flow_stream", "IMRNetWithFlow",
           "build_imrnet_flow", "FlowNet", "build_flow_net", "COVIAR_WEIGHTS"]

COVIAR_WEIGHTS = (2.0, 1.0, 1.0)  # I, M, R score weights of CoViAR's late fusion


class CoViAR(nn.Module):
    """``forward(iframes [B,3,T,H,W], motion [B,2,T*P,H,W], residual [B,3,T*P,H,W]) -> dict``
    with ``embedding`` [B, C_I+C_M+C_R] (segment-averaged features), ``stream_logits``
    {"I","M","R"} [B, classes] and the fused ``logits`` when ``num_classes`` is set."""

    def __init__(self, *, i_depth, p_depth, num_classes, frames, p_per_gop, weights, width):
        super().__init__()
        t, tp = frames
        self.frames, self.p_per_gop, self.weights = (t, tp), p_per_gop, tuple(weights)
        self.i_net = build_resnet2d(depth=i_depth, in_channels=3, width=width)
        self.m_net = build_resnet2d(depth=p_depth, in_channels=2, width=width)
        self.r_net = build_resnet2d(depth=p_depth, in_channels=3, width=width)
        self.m_bn, self.r_bn = nn.BatchNorm2d(2), nn.BatchNorm2d(3)  # CoViAR's data_bn
        self.embedding_dim = self.i_net.out_channels + 2 * self.m_net.out_channels
        self.fcs = nn.ModuleList([nn.Linear(n.out_channels, num_classes)
                                  for n in (self.i_net, self.m_net, self.r_net)]) if num_classes else None
        p = tp // t
        self.register_buffer("p_index", torch.tensor(
            [g * p + (2 * j + 1) * p // (2 * p_per_gop) for g in range(t) for j in range(p_per_gop)]),
            persistent=False)

    @staticmethod
    def _segments(x):  # [B, C, S, H, W] -> [B*S, C, H, W]
        b, c, s, h, w = x.shape
        return x.transpose(1, 2).reshape(b * s, c, h, w), b, s

    def forward(self, iframes, motion, residual) -> dict:
        # the three ResNets see their streams separately: sizes may differ between streams
        check_streams(self.frames, iframes, motion, residual, same_size=False)
        return self._fuse(iframes, self._segments(motion.index_select(2, self.p_index)), residual)

    def _fuse(self, iframes, m_segments, residual) -> dict:
        """The three networks on their segments (``m_segments``: the M network's input as
        (x [B*S, 2, H, W], B, S), motion vectors here, DMC-Net's generated cue there), scores
        averaged over segments and fused."""
        feats, logits = [], {}
        streams = (("I", self.i_net, None, self._segments(iframes)),
                   ("M", self.m_net, self.m_bn, m_segments),
                   ("R", self.r_net, self.r_bn,
                    self._segments(residual.index_select(2, self.p_index))))
        for k, (name, net, bn, (x, b, s)) in enumerate(streams):
            f = net(x if bn is None else bn(x))
            feats.append(f.view(b, s, -1).mean(1))
            if self.fcs is not None:
                logits[name] = self.fcs[k](f).view(b, s, -1).mean(1)  # TSN: average the scores
        out = {"embedding": torch.cat(feats, 1)}
        if logits:
            out["stream_logits"] = logits
            out["logits"] = (sum(w * logits[n] for w, n in zip(self.weights, "IMR", strict=True))
                             / sum(self.weights))
        return out


def _check_coviar_frames(frames, p_per_gop) -> tuple[int, int]:
    t, tp = frames
    if tp % t or not 1 <= p_per_gop <= tp // t:
        raise ValueError(f"need T*P a multiple of T and 1 <= p_per_gop <= P, got {frames}, {p_per_gop}")
    return t, tp


def build_coviar(*, i_depth: int = 152, p_depth: int = 18, num_classes: int | None = None,
                 frames: tuple[int, int] = (5, 25), p_per_gop: int = 1,
                 weights=COVIAR_WEIGHTS, width: int = 64) -> CoViAR:
    """CoViAR: 2D ResNet-``i_depth`` on I-frames, ResNet-``p_depth`` on motion and residuals,
    TSN segments, late fusion 2/1/1 (module docstring). ``width``: conv1 channels of all three
    ResNets (64 as published; smaller for the built-in profile)."""
    t, tp = _check_coviar_frames(frames, p_per_gop)
    return CoViAR(i_depth=i_depth, p_depth=p_depth, num_classes=num_classes, frames=(t, tp),
                  p_per_gop=p_per_gop, weights=weights, width=width)


def build_r3d_rgb(*, depth: int = 18, width: int = 64, num_classes: int | None = None,
                  dropout: float = 0.0, res5_stride: int = 2) -> ResNet3d:
    """3D ResNet (R3D kernels) on decoded RGB frames [B, 3, N, H, W]: the decoding baseline."""
    return build_resnet3d(depth=depth, in_channels=3, width=width, kind="RGB",
                          num_classes=num_classes, dropout=dropout, res5_stride=res5_stride)


def build_flow_stream(*, depth: int = 18, width: int = 64, num_classes: int | None = None,
                      dropout: float = 0.0, res5_stride: int = 2) -> ResNet3d:
    """3D ResNet on optical flow [B, 2, N, H, W] (Farneback, computed at extraction; the paper
    uses an I3D flow network, which this stands in for)."""
    return build_resnet3d(depth=depth, in_channels=2, width=width, kind="RGB",
                          num_classes=num_classes, dropout=dropout, res5_stride=res5_stride)


class FlowNet(nn.Module):
    """The flow stream alone as a classifier (arch ``flow``): the separately trained flow network
    that a late fusion adds to an IMRNet (the paper's "IMRNet + optical flow" row adds an I3D
    flow network; this 3D ResNet stands in for it). Called as the other networks are,
    ``forward(iframes, motion, residual, flow)``; it reads the flow only."""

    uses_flow = True  # training and evaluation pass the dataset's ``flow`` stream

    def __init__(self, flow: ResNet3d, num_classes: int | None, dropout: float = 0.0):
        super().__init__()
        self.flow = flow
        self.embedding_dim = flow.out_channels
        self.dropout = nn.Dropout(dropout)  # the classifier at the top, ``fc``, as every network's
        self.fc = nn.Linear(self.embedding_dim, num_classes) if num_classes else None

    def forward(self, iframes, motion, residual, flow) -> dict:
        out = self.flow(flow)
        if self.fc is not None:
            out["logits"] = self.fc(self.dropout(out["embedding"]))
        return out


def build_flow_net(*, num_classes: int | None = None, depth: int = 18, width: int = 16,
                   res5_stride: int = 1, dropout: float = 0.0) -> FlowNet:
    """`FlowNet` over `build_flow_stream` (defaults: the default profile's R18 at width 16)."""
    return FlowNet(build_flow_stream(depth=depth, width=width, res5_stride=res5_stride),
                   num_classes, dropout)


class IMRNetWithFlow(nn.Module):
    """IMRNet and a flow stream side by side, embeddings concatenated, no lateral connections
    between them (as the paper adds its I3D flow network). ``forward(iframes, motion, residual,
    flow [B, 2, T*P, H, W])``."""

    uses_flow = True  # evaluation passes the dataset's ``flow`` stream (imrnet.evaluate)

    def __init__(self, imrnet: IMRNet, flow: ResNet3d, num_classes: int | None,
                 dropout: float = 0.0):
        super().__init__()
        self.imrnet, self.flow = imrnet, flow
        self.embedding_dim = imrnet.embedding_dim + flow.out_channels
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(self.embedding_dim, num_classes) if num_classes else None

    def forward(self, iframes, motion, residual, flow) -> dict:
        a = self.imrnet(iframes, motion, residual)
        b = self.flow(flow)
        emb = torch.cat([a["embedding"], b["embedding"]], 1)
        out = {"embedding": emb, "maps": a["maps"] + b["maps"]}
        if self.fc is not None:
            out["logits"] = self.fc(self.dropout(emb))
        return out


def build_imrnet_flow(*, num_classes: int | None = None, flow_width: int | None = None,
                      dropout: float = 0.0, **imrnet_kw) -> IMRNetWithFlow:
    """IMRNet (``imrnet_kw`` as `build_imrnet`) + a flow stream of the same depth."""
    from .imrnet import build_imrnet

    net = build_imrnet(**imrnet_kw)
    c = net.config
    flow = build_flow_stream(depth=c["depth"], width=flow_width or c["i_width"],
                             res5_stride=c["res5_stride"])
    return IMRNetWithFlow(net, flow, num_classes, dropout)
