"""IMRNet: shapes of every variant, gradients everywhere, gates depend on the input, the
information flow of each connection variant, and a golden forward output."""

from __future__ import annotations

import itertools
import os
from pathlib import Path

import numpy as np
import pytest
import torch

from imrnet.models import IMRNet, build_imrnet
from imrnet.models.lateral import MultimodalGate, match_channels

VARIANTS = [dict(connection="bidirectional", lateral=lat, gated=g)
            for lat, g in itertools.product(("conv", "resample"), (True, False))]
VARIANTS += [dict(connection="unidirectional", lateral=lat, gated=g)
             for lat, g in itertools.product(("conv", "resample"), (True, False))]
VARIANTS += [dict(connection="none")]
GOLDEN = Path(__file__).parent / "golden" / "imrnet_r18_small.npz"


def _inputs(b=2, t=5, tp=25, size=32, seed=0):
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(b, 3, t, size, size, generator=g), torch.randn(b, 2, tp, size, size, generator=g),
            torch.randn(b, 3, tp, size, size, generator=g))


def _small(depth=18, **kw):
    torch.manual_seed(0)
    return build_imrnet(depth=depth, i_width=8, p_width_ratio=1 / 4, num_classes=3, **kw)


@pytest.mark.parametrize("depth", [18, 50])
@pytest.mark.parametrize("variant", VARIANTS, ids=lambda v: "-".join(str(x) for x in v.values()))
def test_shapes_and_every_parameter_gets_a_gradient(depth, variant):
    net = _small(depth, **variant)
    out = net(*_inputs())
    c_i, c_p = (64, 16) if depth == 18 else (256, 64)
    assert out["embedding"].shape == (2, c_i + 2 * c_p) and out["logits"].shape == (2, 3)
    xi, xm, xr = out["maps"]
    assert xi.shape == (2, c_i, 5, 1, 1) and xm.shape == xr.shape == (2, c_p, 25, 1, 1)
    # embedding = GAP of I, then M, then R
    torch.testing.assert_close(out["embedding"], torch.cat([x.mean((2, 3, 4)) for x in out["maps"]], 1))
    (out["logits"].sum() + out["embedding"].pow(2).sum()).backward()
    missing = [n for n, p in net.named_parameters() if p.grad is None or not p.grad.abs().sum() > 0]
    assert not missing, missing


def test_lateral_widths_follow_the_paper():
    net = build_imrnet(depth=18)  # I 64, M/R 4 at conv1
    st = [s[0] for s in net.i_path.stages]
    assert [b.conv_a.in_channels for b in st] == [64 + 16, 64 + 16, 128 + 32, 256 + 64]
    pm = [s[0].conv_a.in_channels for s in net.m_path.stages]
    assert pm == [4 + 1, 4 + 1, 8 + 1, 16 + 2]  # C/8, never below 1
    assert all(s[0].shortcut is not None for s in net.i_path.stages)  # projection where widened
    f = net.fusions[0].m
    assert f.p2i.kernel_size == (5, 1, 1) and f.p2i.stride == (5, 1, 1)
    assert isinstance(f.i2p, torch.nn.ConvTranspose3d) and f.i2p.stride == (5, 1, 1)
    assert f.gate.head_i.out_features == 8 and f.gate.head_p.out_features == 1
    net50 = build_imrnet(depth=50)
    assert [s[0].conv_a.in_channels for s in net50.i_path.stages] == [80, 256 + 64, 512 + 128, 1024 + 256]
    assert net50.embedding_dim == 2048 + 2 * 128


def _perturbed(net, which, size=32):
    net.eval()
    a = _inputs(b=1, size=size)
    b = list(a)
    b[which] = b[which] + torch.randn_like(b[which])
    with torch.no_grad():
        return net(*a)["maps"], net(*b)["maps"]


@pytest.mark.parametrize("depth", [18, 50])
def test_information_flow_of_each_connection(depth):
    changed = lambda x, y: not torch.allclose(x, y)  # noqa: E731
    I, M, R = 0, 1, 2
    # none: late fusion; nothing crosses before the final concatenation
    (a, b) = _perturbed(_small(depth, connection="none"), M)
    assert changed(a[M], b[M]) and not changed(a[I], b[I]) and not changed(a[R], b[R])
    (a, b) = _perturbed(_small(depth, connection="none"), I)
    assert changed(a[I], b[I]) and not changed(a[M], b[M]) and not changed(a[R], b[R])
    # unidirectional: M/R -> I only
    (a, b) = _perturbed(_small(depth, connection="unidirectional"), M)
    assert changed(a[I], b[I]) and not changed(a[R], b[R])
    (a, b) = _perturbed(_small(depth, connection="unidirectional"), I)
    assert changed(a[I], b[I]) and not changed(a[M], b[M]) and not changed(a[R], b[R])
    # bidirectional: both ways (M reaches R through I)
    (a, b) = _perturbed(_small(depth, connection="bidirectional"), I)
    assert changed(a[M], b[M]) and changed(a[R], b[R])
    (a, b) = _perturbed(_small(depth, connection="bidirectional"), M)
    assert changed(a[I], b[I]) and changed(a[R], b[R])


@pytest.mark.parametrize("kw", [{}, {"lateral": "resample"}, {"connection": "unidirectional"},
                                {"depth": 50}], ids=["conv", "resample", "uni", "r50"])
def test_gates_depend_on_the_input(kw):
    net = _small(**kw).eval()
    both = kw.get("connection", "bidirectional") == "bidirectional"
    seen = []
    hooks = [m.register_forward_hook(lambda _m, _i, o: seen.append(o))
             for m in net.modules() if isinstance(m, MultimodalGate)]
    with torch.no_grad():
        net(*_inputs(b=1, seed=1))
        net(*_inputs(b=1, seed=2))
    for h in hooks:
        h.remove()
    n = len(seen) // 2
    assert n == 8  # 4 fusion points x (M, R)
    for (ai, ap), (bi, bp) in zip(seen[:n], seen[n:], strict=True):
        assert ((ai > 0) & (ai < 1)).all() and not torch.allclose(ai, bi)
        if both:
            assert not torch.allclose(ap, bp)
        else:
            assert ap is None and bp is None


def test_resample_matches_channels_without_weights():
    x = torch.arange(2 * 8 * 1 * 1 * 1, dtype=torch.float32).view(2, 8, 1, 1, 1)
    down = match_channels(x, 2)  # mean of channel groups 0-3 and 4-7
    torch.testing.assert_close(down[0, :, 0, 0, 0], torch.tensor([1.5, 5.5]))
    up = match_channels(x[:, :2], 5)  # repeats: 0 0 0 1 1
    assert up[0, :, 0, 0, 0].tolist() == [0, 0, 0, 1, 1]
    net = _small(18, lateral="resample", gated=False)
    assert not [n for n, _ in net.named_parameters() if n.startswith("fusions")]


def test_other_sizes_and_frames():
    net = _small(18, frames=(4, 8))
    out = net(*_inputs(b=2, t=4, tp=8, size=64))
    assert out["maps"][0].shape == (2, 64, 4, 2, 2) and out["maps"][1].shape == (2, 16, 8, 2, 2)
    out = _small(50)(*_inputs(b=2, size=37))
    assert out["maps"][0].shape[-2:] == out["maps"][1].shape[-2:] == (2, 2)


def test_lateral_layers_respect_gop_boundaries():
    """P frames g*P .. g*P+P-1 feed only I frame g (kappa-strided conv); I frame g feeds only
    P frames g*P .. (the transposed conv)."""
    from imrnet.models.lateral import PairLateral

    torch.manual_seed(0)
    lat = PairLateral(16, 8, kappa=5, bidirectional=True, lateral="conv", gated=False).eval()
    xi, xp = torch.randn(1, 16, 5, 4, 4), torch.randn(1, 8, 25, 4, 4)
    with torch.no_grad():
        v_pi, v_ip = lat(xi, xp)
        xp2 = xp.clone()
        xp2[:, :, 10:15] += 1.0  # GOP 2's P frames
        w_pi, _ = lat(xi, xp2)
        xi2 = xi.clone()
        xi2[:, :, 3] += 1.0  # I frame 3
        _, w_ip = lat(xi2, xp)
    moved = (v_pi - w_pi).abs().sum((0, 1, 3, 4)) > 0
    assert moved.tolist() == [False, False, True, False, False]
    moved = (v_ip - w_ip).abs().sum((0, 1, 3, 4)) > 0
    assert moved.nonzero().flatten().tolist() == list(range(15, 20))


def test_kernels_built_match_the_tables():
    from imrnet.models.resnet3d import BLOCK_TEMPORAL, CONV1_KERNEL

    for depth in (18, 50):
        net = build_imrnet(depth=depth, i_width=8)
        for path, kind in ((net.i_path, "I"), (net.m_path, "P"), (net.r_path, "P")):
            assert path.stem[0].kernel_size == CONV1_KERNEL[kind]
            for k, stage in enumerate(path.stages):
                want = BLOCK_TEMPORAL[(depth, kind)][k]
                for block in stage:
                    if depth == 18:
                        assert (block.conv_a.kernel_size[0], block.conv_b.kernel_size[0]) == want
                    else:
                        assert block.conv_a.kernel_size == (want, 1, 1)
                        assert block.conv_b.kernel_size == (1, 3, 3)


def test_final_map_size_and_pmsp_ready_small_profile():
    assert IMRNet.final_map_size(112, 112) == (4, 4) and IMRNet.final_map_size(64, 64) == (2, 2)
    assert IMRNet.final_map_size(64, 64, res5_stride=1) == (4, 4)
    net = build_imrnet(i_width=8, res5_stride=1).eval()
    with torch.no_grad():
        maps = net(*_inputs(b=1, size=64))["maps"]
    assert all(m.shape[-2:] == (4, 4) for m in maps)
    net.check_pmsp_ready(64, 64)
    build_imrnet(i_width=8).check_pmsp_ready(112, 112)
    with pytest.raises(ValueError, match="res5_stride=1"):
        build_imrnet(i_width=8).check_pmsp_ready(64, 64)


def test_bad_arguments_and_inputs():
    for kw in (dict(depth=34), dict(connection="both"), dict(lateral="pool"), dict(frames=(5, 24)),
               dict(res5_stride=3), dict(p_width_ratio=0)):
        with pytest.raises(ValueError):
            build_imrnet(**kw)
    net = _small(18)
    i, m, r = _inputs()
    with pytest.raises(ValueError, match="motion must be"):
        net(i, m[:, :, :20], r)
    with pytest.raises(ValueError, match="share H and W"):
        net(i, m[..., :16], r)


def test_golden_forward_output():
    """A seeded small IMRNet's outputs on seeded inputs (CPU, float32). Regenerate with
    IMRNET_ACCEPT_GOLDEN=1 after an intended change to the network."""
    torch.manual_seed(1234)
    net = build_imrnet(depth=18, i_width=8, p_width_ratio=1 / 4, num_classes=5).eval()
    with torch.no_grad():
        out = net(*_inputs(b=2, size=64, seed=7))
    got = {"logits": out["logits"].numpy(), "embedding": out["embedding"].numpy()}
    if os.environ.get("IMRNET_ACCEPT_GOLDEN") == "1" or not GOLDEN.exists():
        GOLDEN.parent.mkdir(exist_ok=True)
        np.savez(GOLDEN, **got)
        if os.environ.get("IMRNET_ACCEPT_GOLDEN") != "1":
            pytest.fail(f"golden file {GOLDEN} was missing and has been written; commit it")
    want = np.load(GOLDEN)
    for k in got:
        np.testing.assert_allclose(got[k], want[k], rtol=1e-4, atol=1e-5, err_msg=k)
