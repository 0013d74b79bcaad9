"""DMC-Net on CoViAR: the generator's cue replaces the motion-vector stream, inference needs no
flow, training adds the flow reconstruction (and adversarial) terms, and the generator, trained
on real clips' motion vectors and residuals, moves toward the Farneback flow stored for them."""

from __future__ import annotations

import pytest
import torch

from imrnet.models import build_coviar, build_dmcnet
from imrnet.models.dmcnet import FlowGenerator


def _inputs(b=2, size=32, seed=0):
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(b, 3, 5, size, size, generator=g),
            torch.randn(b, 2, 25, size, size, generator=g),
            torch.randn(b, 3, 25, size, size, generator=g),
            torch.randn(b, 2, 25, size, size, generator=g))


def test_the_cue_replaces_the_motion_stream_and_inference_needs_no_flow():
    torch.manual_seed(0)
    net = build_dmcnet(i_depth=18, width=8, gen_width=4, num_classes=3).eval()
    i, m, r, flow = _inputs()
    with torch.no_grad():
        out = net(i, m, r)  # no flow at inference
        s = out["stream_logits"]
        torch.testing.assert_close(out["logits"], (2 * s["I"] + s["M"] + s["R"]) / 4)
        assert out["dmc"].shape == (2, 5, 2, 32, 32) and "aux_loss" not in out
        s2 = net(i, m + 1.0, r)["stream_logits"]  # motion feeds the generator, so the M stream
        s3 = net(i, m, r + 1.0)["stream_logits"]  # residuals feed both M (generator) and R
    assert torch.equal(s["I"], s2["I"]) and torch.equal(s["R"], s2["R"])
    assert not torch.equal(s["M"], s2["M"]) and not torch.equal(s["M"], s3["M"])
    assert not net.uses_flow and net.trains_on_flow
    # CoViAR's parameters plus the generator's: same I / M / R networks
    cov = build_coviar(i_depth=18, width=8, num_classes=3)
    extra = sum(p.numel() for p in net.generator.parameters())
    assert sum(p.numel() for p in net.parameters()) == sum(p.numel() for p in cov.parameters()) + extra


def test_training_terms_and_where_their_gradients_go():
    torch.manual_seed(0)
    i, m, r, flow = _inputs()
    net = build_dmcnet(i_depth=18, width=8, gen_width=4, num_classes=3, flow_weight=2.0)
    out = net(i, m, r, flow)
    mse = torch.nn.functional.mse_loss(out["dmc"].flatten(0, 1), flow[:, :, net.p_index].transpose(1, 2)
                                       .reshape(-1, 2, 32, 32))
    torch.testing.assert_close(out["aux_loss"], 2.0 * mse)
    assert out["aux_metrics"]["flow_mse"] == pytest.approx(mse.item())
    # the classifier's loss reaches the generator (the paper) unless detach_dmc (the code)
    for detach, reaches in ((False, True), (True, False)):
        torch.manual_seed(0)
        net = build_dmcnet(i_depth=18, width=8, gen_width=4, num_classes=3, detach_dmc=detach)
        net(i, m, r)["stream_logits"]["M"].sum().backward()
        g = net.generator.net[0].weight.grad
        assert (g is not None and g.abs().sum() > 0) == reaches
    # adversarial: the discriminator learns from its own loss alone (the generator's term holds
    # it fixed), the generator from fooling it
    torch.manual_seed(0)
    net = build_dmcnet(i_depth=18, width=8, gen_width=4, num_classes=3, flow_weight=0.0,
                       adversarial_weight=1.0)
    out = net(i, m, r, flow)
    assert {"flow_mse", "adv_generator", "adv_discriminator"} == set(out["aux_metrics"])
    out["aux_loss"].backward()
    d_total = [p.grad.clone() for p in net.discriminator.parameters()]
    assert net.generator.net[0].weight.grad.abs().sum() > 0
    net.zero_grad()
    bce = torch.nn.functional.binary_cross_entropy_with_logits
    real = net.discriminator(flow[:, :, net.p_index].transpose(1, 2).reshape(-1, 2, 32, 32))
    fake = net.discriminator(out["dmc"].flatten(0, 1).detach())
    ((bce(real, torch.ones_like(real)) + bce(fake, torch.zeros_like(fake))) / 2).backward()
    for total, own in zip(d_total, net.discriminator.parameters(), strict=True):
        torch.testing.assert_close(total, own.grad)
    with pytest.raises(ValueError, match="non-negative"):
        build_dmcnet(flow_weight=-1.0)


def test_generator_widths_are_the_authors_at_gen_width_32():
    convs = [m for m in FlowGenerator(32).net if isinstance(m, torch.nn.Conv2d)]
    assert [c.out_channels for c in convs] == [32, 128, 128, 96, 64, 32, 2]
    assert [c.dilation[0] for c in convs] == [1, 2, 4, 8, 16, 1, 1]


@pytest.fixture(scope="module")
def flow_clips(tmp_path_factory):
    """A batch of real training clips (synthetic-ucf, encoded, Farneback flow stored at
    extraction) as the finetuning stage reads them."""
    from imrnet.data import CompressedClipDataset, synthetic
    from imrnet.data.extract import extract, load_index

    d = tmp_path_factory.mktemp("dmcdata")
    synthetic.generate("synthetic-ucf", d / "raw", seed=0, width=85, height=64, frames=60, scale=0.1)
    extract("synthetic-ucf", d / "raw", d / "mp4", progress=False, flow=True,
            encode={"short_side": None, "gop_size": 12, "quality": 1})
    ds = CompressedClipDataset(load_index(d / "mp4", "synthetic-ucf", subset="train"), train=True,
                               num_gops=5, pframe_stride=2, crop_size=64, seed=0, with_flow=True)
    ds.set_epoch(0)
    items = [ds[k] for k in range(4)]
    return {k: torch.stack([torch.as_tensor(x[k]) for x in items])
            for k in ("iframes", "motion", "residual", "flow")}


def test_the_generator_moves_toward_the_flow_it_is_trained_on(flow_clips):
    """Trained on the flow reconstruction loss alone (Adam, 60 steps on 4 real clips), the DMC's
    squared error to the stored Farneback flow falls to well under half its starting value, and
    under that of the motion vectors themselves (the cue is closer to flow than its input)."""
    torch.manual_seed(0)
    c = flow_clips
    net = build_dmcnet(i_depth=18, width=8, gen_width=8, num_classes=12)
    opt = torch.optim.Adam(net.generator.parameters(), lr=3e-3)
    mses = []
    for _ in range(60):
        out = net(c["iframes"], c["motion"], c["residual"], c["flow"])
        opt.zero_grad()
        out["aux_loss"].backward()
        opt.step()
        mses.append(out["aux_metrics"]["flow_mse"].item())
    net.eval()
    with torch.no_grad():
        final = net(c["iframes"], c["motion"], c["residual"], c["flow"])["aux_metrics"]["flow_mse"]
    mv = torch.nn.functional.mse_loss(c["motion"][:, :, net.p_index], c["flow"][:, :, net.p_index])
    assert c["flow"].abs().sum() > 0 and mses[0] > 0
    assert final.item() < 0.5 * mses[0], (mses[0], final.item())
    assert final.item() < mv.item(), (final.item(), mv.item())
