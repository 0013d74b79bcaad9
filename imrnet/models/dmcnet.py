"""DMC-Net (Shou et al., CVPR 2019, "DMC-Net: Generating Discriminative Motion Cues for Fast
Compressed Video Action Recognition") on the CoViAR baseline of `imrnet.models.baselines`.

A generator turns each TSN segment's motion vectors and residual (2 + 3 channels, stacked) into a
two-channel flow-like field, the *discriminative motion cue* (DMC); a 2D ResNet classifies the DMC
in place of CoViAR's motion-vector network; the I-frame and residual networks are CoViAR's, and
the three streams' scores are fused as CoViAR fuses its three (weights 2 / 1 / 1: the DMC stream
takes the motion-vector stream's place). Training adds to the streams' classification losses the
flow reconstruction loss, ``flow_weight x`` the mean squared error between the DMC and the
optical flow stored at extraction at the same P-frames (`imrnet.data.flow`, in the motion
vectors' normalised units: `imrnet.data.dataset` transforms flow exactly as it transforms motion),
and, when ``adversarial_weight > 0``, the paper's adversarial term: a small patch discriminator
learns to tell flow from DMC while the generator learns to fool it. Inference needs no flow.

The generator is the authors' ``ContextNetwork`` (github facebookresearch/dmc-net,
``code/dmcnet/model.py``; read, not copied): seven 3x3 convolutions with dilations 1, 2, 4, 8,
16, 1, 1, each but the last followed by BatchNorm and LeakyReLU(0.1), widths 32, 128, 128, 96,
64, 32 at ``gen_width=32`` (scaled with it for small profiles). Two choices differ from that
code and are said here: its last convolution also has BatchNorm + LeakyReLU, which bounds a
regression output from below, and here it is a plain convolution; and its classifier sees the
DMC detached (the generator learns from the flow loss alone), whereas the paper trains the
generator with the classification loss too, as here (``detach_dmc=True`` gives the code's).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call

from .baselines import COVIAR_WEIGHTS, CoViAR, _check_coviar_frames
from .imrnet import check_streams

__all__ = ["FlowGenerator", "FlowDiscriminator", "DMCNet", "build_dmcnet", "GENERATOR_DILATIONS"]

GENERATOR_DILATIONS = (1, 2, 4, 8, 16, 1, 1)
_GENERATOR_WIDTHS = (1, 4, 4, 3, 2, 1)  # x gen_width / 1: 32, 128, 128, 96, 64, 32 at 32


def _conv(cin, cout, dilation, norm=True):
    layers = [nn.Conv2d(cin, cout, 3, padding=dilation, dilation=dilation, bias=not norm)]
    if norm:
        layers += [nn.BatchNorm2d(cout), nn.LeakyReLU(0.1, inplace=True)]
    return layers


class FlowGenerator(nn.Module):
    """``forward(x [N, 5, H, W]) -> [N, 2, H, W]``: motion vectors (2) and residual (3) of one
    P-frame to its DMC (same size; the dilations give a receptive field of 67 px)."""

    def __init__(self, gen_width: int = 32):
        super().__init__()
        widths = [gen_width * m for m in _GENERATOR_WIDTHS]
        layers, cin = [], 5
        for w, d in zip(widths, GENERATOR_DILATIONS[:-1], strict=True):
            layers += _conv(cin, w, d)
            cin = w
        layers += _conv(cin, 2, GENERATOR_DILATIONS[-1], norm=False)
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        return self.net(x)


class FlowDiscriminator(nn.Module):
    """``forward(flow [N, 2, H, W]) -> [N, h, w]`` logits that each patch is optical flow (not a
    DMC): four stride-2 4x4 convolutions (a PatchGAN), LeakyReLU(0.2)."""

    def __init__(self, width: int = 16):
        super().__init__()
        c = (width, 2 * width, 4 * width)
        self.net = nn.Sequential(
            nn.Conv2d(2, c[0], 4, 2, 1), nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(c[0], c[1], 4, 2, 1), nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(c[1], c[2], 4, 2, 1), nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(c[2], 1, 3, 1, 1))

    def forward(self, x):
        return self.net(x)[:, 0]


class DMCNet(CoViAR):
    """``forward(iframes, motion, residual, flow=None) -> dict``: CoViAR's outputs (``embedding``,
    ``stream_logits`` {"I", "M", "R"} with "M" the DMC stream, fused ``logits``) plus ``dmc``
    [B, S, 2, H, W] (S segments); with ``flow`` [B, 2, T*P, H, W] (training), ``aux_loss`` (the flow
    reconstruction and adversarial terms, weighted) and ``aux_metrics`` (``flow_mse``...)."""

    uses_flow = False      # inference reads no flow (imrnet.evaluate passes none)
    trains_on_flow = True  # training passes the stored flow as the generator's target

    def __init__(self, *, gen_width, flow_weight, adversarial_weight, detach_dmc, **coviar_kw):
        super().__init__(**coviar_kw)
        self.generator = FlowGenerator(gen_width)
        self.flow_weight, self.adversarial_weight = float(flow_weight), float(adversarial_weight)
        self.detach_dmc = bool(detach_dmc)
        self.discriminator = FlowDiscriminator() if self.adversarial_weight > 0 else None

    def _dmc(self, motion, residual):
        mv, b, s = self._segments(motion.index_select(2, self.p_index))
        res, _, _ = self._segments(residual.index_select(2, self.p_index))
        if mv.shape[-2:] != res.shape[-2:]:
            raise ValueError(f"DMC-Net stacks motion and residual: their sizes differ "
                             f"({tuple(mv.shape[-2:])} vs {tuple(res.shape[-2:])})")
        return self.generator(torch.cat([mv, res], 1)), b, s

    def forward(self, iframes, motion, residual, flow=None) -> dict:
        check_streams(self.frames, iframes, motion, residual, same_size=False)
        dmc, b, s = self._dmc(motion, residual)
        out = self._fuse(iframes, (dmc.detach() if self.detach_dmc else dmc, b, s), residual)
        out["dmc"] = dmc.view(b, s, *dmc.shape[1:])  # batch first, as every output
        if flow is not None:
            target, _, _ = self._segments(flow.index_select(2, self.p_index))
            mse = F.mse_loss(dmc, target)
            aux, metrics = self.flow_weight * mse, {"flow_mse": mse.detach()}
            if self.discriminator is not None:
                adv_g, adv_d = self._adversarial(dmc, target)
                aux = aux + self.adversarial_weight * adv_g + adv_d
                metrics.update(adv_generator=adv_g.detach(), adv_discriminator=adv_d.detach())
            out["aux_loss"], out["aux_metrics"] = aux, metrics
        return out

    def _adversarial(self, dmc, flow):
        """(generator's loss: D's logits for the DMC against "flow", through D's weights held
        fixed; discriminator's loss: flow against "flow", the DMC detached against "DMC")."""
        d = self.discriminator
        fixed = {k: v.detach() for k, v in d.named_parameters()}
        fooled = functional_call(d, fixed, (dmc,))
        g = F.binary_cross_entropy_with_logits(fooled, torch.ones_like(fooled))
        real, fake = d(flow), d(dmc.detach())
        dl = (F.binary_cross_entropy_with_logits(real, torch.ones_like(real))
              + F.binary_cross_entropy_with_logits(fake, torch.zeros_like(fake))) / 2
        return g, dl


def build_dmcnet(*, i_depth: int = 152, p_depth: int = 18, num_classes: int | None = None,
                 frames: tuple[int, int] = (5, 25), p_per_gop: int = 1, weights=COVIAR_WEIGHTS,
                 width: int = 64, gen_width: int = 32, flow_weight: float = 1.0,
                 adversarial_weight: float = 0.0, detach_dmc: bool = False) -> DMCNet:
    """DMC-Net on CoViAR (module docstring): CoViAR's arguments (`build_coviar`), the generator's
    ``gen_width`` (32 as published), the flow loss weight, the adversarial term's weight (0: off)
    and whether the classifier's gradient stops at the DMC (the authors' code) or reaches the
    generator (the paper)."""
    _check_coviar_frames(frames, p_per_gop)
    if gen_width < 1 or flow_weight < 0 or adversarial_weight < 0:
        raise ValueError(f"need gen_width >= 1 and non-negative loss weights, got {gen_width}, "
                         f"{flow_weight}, {adversarial_weight}")
    return DMCNet(i_depth=i_depth, p_depth=p_depth, num_classes=num_classes, frames=tuple(frames),
                  p_per_gop=p_per_gop, weights=weights, width=width, gen_width=gen_width,
                  flow_weight=flow_weight, adversarial_weight=adversarial_weight,
                  detach_dmc=detach_dmc)
