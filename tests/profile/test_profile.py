"""FLOPs with every op handled, pinned for the paper's configurations; latency."""

from __future__ import annotations

import torch

from imrnet.models import build_coviar, build_imrnet, build_imrnet_flow, build_r3d_rgb
from imrnet.profile import count_flops, measure_latency


def _paper_inputs(size=224):
    return (torch.zeros(1, 3, 5, size, size), torch.zeros(1, 2, 25, size, size),
            torch.zeros(1, 3, 25, size, size))


def _params(net):
    return sum(p.numel() for p in net.parameters())


def test_every_op_is_handled_in_every_model():
    x = _paper_inputs(64)
    models = [build_imrnet(i_width=16, **kw) for kw in (
        {}, {"lateral": "resample"}, {"gated": False}, {"connection": "unidirectional"},
        {"connection": "none"}, {"depth": 50})]
    models += [build_coviar(i_depth=18, num_classes=5)]
    for net in models:
        net.train()
        rep = count_flops(net, x)
        assert rep.unsupported_ops == {} and rep.total > 0
        assert rep.by_module[""] == rep.total and net.training  # mode restored
    rep = count_flops(build_imrnet_flow(i_width=16, num_classes=3), x + (torch.zeros(1, 2, 25, 64, 64),))
    assert rep.unsupported_ops == {}
    rep = count_flops(build_r3d_rgb(width=16), torch.zeros(1, 3, 16, 64, 64))
    assert rep.unsupported_ops == {}


def test_paper_configurations_pinned():
    """fvcore flops (1 multiply-add = 1) and parameters at the paper's input (I 5x224^2,
    P 25x224^2), batch 1. A change here is a change of the architecture."""
    r18 = build_imrnet(depth=18)
    assert _params(r18) == 21_827_682
    assert count_flops(r18, _paper_inputs()).total == 15_635_056_874
    r50 = build_imrnet(depth=50)
    assert _params(r50) == 39_942_734
    assert count_flops(r50, _paper_inputs()).total == 31_019_240_774


def test_latency_report():
    net = build_imrnet(i_width=8)
    rep = measure_latency(net, _paper_inputs(32), "cpu", frames=30, warmup=1, repeats=3)
    assert rep.ms_per_clip > 0 and rep.ms_per_frame * 30 == rep.ms_per_clip
    assert len(rep.times_ms) == 3 and rep.device == "cpu" and net.training
