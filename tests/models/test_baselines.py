"""CoViAR, R3D-RGB, flow stream and IMRNet + flow, built from the same parts."""

from __future__ import annotations

import pytest
import torch

from imrnet.models import (build_coviar, build_flow_stream, build_imrnet_flow, build_r3d_rgb,
                           build_resnet2d)


def _inputs(b=2, size=32, seed=0):
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(b, 3, 5, size, size, generator=g), torch.randn(b, 2, 25, size, size, generator=g),
            torch.randn(b, 3, 25, size, size, generator=g))


def test_resnet2d_depths_match_torchvision_parameter_counts():
    # torchvision's resnet18 / resnet50 / resnet152 at 1000 classes
    for depth, n in ((18, 11_689_512), (50, 25_557_032), (152, 60_192_808)):
        net = build_resnet2d(depth=depth, num_classes=1000)
        assert sum(p.numel() for p in net.parameters()) == n, depth
    with pytest.raises(ValueError):
        build_resnet2d(depth=20)


def test_coviar_segments_fusion_and_independent_streams():
    torch.manual_seed(0)
    net = build_coviar(i_depth=18, num_classes=4).eval()
    assert net.p_index.tolist() == [2, 7, 12, 17, 22]  # the middle P-frame of each GOP
    a = _inputs(b=1)
    with torch.no_grad():
        out = net(*a)
        s = out["stream_logits"]
        torch.testing.assert_close(out["logits"], (2 * s["I"] + s["M"] + s["R"]) / 4)
        assert out["embedding"].shape == (1, 512 * 3)
        b = (a[0], a[1] + 1.0, a[2])  # perturb motion: only the M stream moves
        s2 = net(*b)["stream_logits"]
    assert torch.equal(s["I"], s2["I"]) and torch.equal(s["R"], s2["R"])
    assert not torch.equal(s["M"], s2["M"])
    assert isinstance(net.m_bn, torch.nn.BatchNorm2d) and net.m_bn.num_features == 2
    big = build_coviar(num_classes=101)  # the paper's: ResNet-152 on I-frames
    assert big.i_net.out_channels == 2048 and big.m_net.out_channels == 512
    with pytest.raises(ValueError):
        build_coviar(p_per_gop=6)


def test_r3d_flow_and_imrnet_plus_flow():
    r3d = build_r3d_rgb(width=8, num_classes=3)
    assert r3d(torch.randn(2, 3, 8, 32, 32))["logits"].shape == (2, 3)
    flow = build_flow_stream(width=8, num_classes=3)
    assert flow(torch.randn(2, 2, 25, 32, 32))["logits"].shape == (2, 3)
    torch.manual_seed(0)
    both = build_imrnet_flow(num_classes=3, i_width=8, p_width_ratio=1 / 4).eval()
    a = _inputs(b=1)
    f = torch.randn(1, 2, 25, 32, 32)
    with torch.no_grad():
        o1 = both(*a, f)
        o2 = both(*a, f + 1.0)  # no lateral connections between IMRNet and the flow stream
    assert o1["embedding"].shape == (1, both.embedding_dim) == (1, 64 + 2 * 16 + 64)
    assert all(torch.equal(x, y) for x, y in zip(o1["maps"][:3], o2["maps"][:3], strict=True))
    assert not torch.equal(o1["maps"][3], o2["maps"][3])
