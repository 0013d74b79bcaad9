"""Training speed of the built-in profile's network: forward + backward + SGD step, clips/s, on
this machine's CPU threads; eager float32 against channels-last-3d and bfloat16 autocast,
reported as ratios measured in one run.    make bench

pytest-benchmark times the eager float32 step (the default profile's); the candidates are timed
interleaved with it (`tests.bench.timing`), so drift of a shared machine hits all alike. Target:
a candidate replaces eager float32 only when it is at least ``SWITCH`` x as fast (the
noise floor, eager against itself, is printed beside it).

torch.compile is not in this loop: measured once (``docs/models.md``) it took 191 s to compile
the small IMRNet for a 10-30 % faster step, which a ~35-s training run of the default profile
cannot repay. Nothing here asserts a time.
"""

from __future__ import annotations

import math

import pytest
import torch

from imrnet.models import build_imrnet
from repro.kernelprobe import channels_last_stem_forward

from tests.bench.timing import interleaved_times, medians

CONFIGS = [  # (i_width, crop, res5_stride): the built-in profile's candidates
    (16, 64, 1), (16, 112, 2), (32, 64, 1), (64, 112, 2)]


SWITCH = 1.2


def _stepper(net, size, *, channels_last=False, bf16=False, batch=8):
    """One training step (forward, loss, backward, SGD) of ``net`` on a fixed random batch,
    warmed up once; returns (step, parameters) so a caller can check the step changed them."""
    g = torch.Generator().manual_seed(0)
    x = (torch.randn(batch, 3, 5, size, size, generator=g),
         torch.randn(batch, 2, 25, size, size, generator=g),
         torch.randn(batch, 3, 25, size, size, generator=g))
    y = torch.randint(0, 10, (batch,), generator=g)
    if channels_last:
        net = net.to(memory_format=torch.channels_last_3d)
        x = tuple(t.contiguous(memory_format=torch.channels_last_3d) for t in x)
    opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)

    def step():
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            loss = torch.nn.functional.cross_entropy(net(*x)["logits"].float(), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss.item()

    step()
    return step, net


@pytest.mark.parametrize("i_width,crop,res5_stride", CONFIGS)
def test_train_step_speed(benchmark, i_width, crop, res5_stride):
    torch.manual_seed(0)
    mk = lambda: build_imrnet(i_width=i_width, num_classes=10, res5_stride=res5_stride)  # noqa: E731
    eager, net = _stepper(mk(), crop)
    before = [t.detach().clone() for t in net.parameters()]
    loss = benchmark.pedantic(eager, rounds=4, iterations=1)
    moved = any(not torch.equal(a, b) for a, b in zip(before, net.parameters(), strict=True))
    assert math.isfinite(float(loss)) and moved  # a finite loss, and the timed step trained the network
    cands = {"eager": eager, "channels_last": _stepper(mk(), crop, channels_last=True)[0],
             "bf16": _stepper(mk(), crop, bf16=True)[0], "eager_again": _stepper(mk(), crop)[0]}
    t = medians(interleaved_times(cands, repeats=4))
    ratio = {k: t["eager"] / v for k, v in t.items()}
    best = max(("channels_last", "bf16"), key=ratio.get)
    benchmark.extra_info.update(eager_clips_per_s=round(8 / t["eager"], 1),
                                channels_last_ratio=round(ratio["channels_last"], 2),
                                bf16_ratio=round(ratio["bf16"], 2),
                                eager_repeat_ratio=round(ratio["eager_again"], 2))
    print(f"\nIMRNet-R18 width {i_width} at {crop}: eager {8 / t['eager']:.1f} clips/s; channels-last "
          f"x{ratio['channels_last']:.2f}; bf16 x{ratio['bf16']:.2f}; eager again (noise) "
          f"x{ratio['eager_again']:.2f}. Target: switch at >= x{SWITCH}: "
          + (f"{best} qualifies" if ratio[best] >= SWITCH else "eager float32 stays"))


STEM_CONFIGS = [  # (i_width, p_min_width, T, P-frames per GOP): default profile, decisive
    (16, 1, 3, 5), (16, 4, 3, 5)]


@pytest.mark.parametrize("i_width,p_min_width,t,p", STEM_CONFIGS)
def test_channels_last_stem_given_up(benchmark, monkeypatch, i_width, p_min_width, t, p):
    """What vendor-neutral bits cost at the stems: `Stem3d` reads its input NCDHW, because on a
    channels-last input oneDNN's brgemm convolution follows the caches it detects and an AMD
    EPYC and an Intel Xeon trained to other bits (imrnet/models/resnet3d.py,
    docs/reproducibility.md). The training step with the channels-last stem it gave up
    against the plain one, interleaved, at the profiles' shapes (64 px, batch 8); the two
    agree to float noise (another summation order)."""
    from imrnet.models import resnet3d

    def mk():
        torch.manual_seed(0)
        return build_imrnet(i_width=i_width, p_min_width=p_min_width, num_classes=12,
                            res5_stride=1, frames=(t, t * p))

    g = torch.Generator().manual_seed(0)
    x = (torch.randn(8, 3, t, 64, 64, generator=g), torch.randn(8, 2, t * p, 64, 64, generator=g),
         torch.randn(8, 3, t * p, 64, 64, generator=g))
    y = torch.randint(0, 12, (8,), generator=g)

    def stepper(channels_last):
        net = mk()
        opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)

        def step():
            with monkeypatch.context() as mp:
                if channels_last:
                    mp.setattr(resnet3d.Stem3d, "forward", channels_last_stem_forward)
                loss = torch.nn.functional.cross_entropy(net(*x)["logits"], y)
                opt.zero_grad()
                loss.backward()
                opt.step()
            return loss.item()
        return step

    plain, cl = stepper(False), stepper(True)
    first = (plain(), cl())
    assert first[0] == pytest.approx(first[1], rel=1e-5)  # the same network, the same loss
    benchmark.pedantic(plain, rounds=3, iterations=1)
    t_ = medians(interleaved_times({"plain_stem": plain, "channels_last_stem": cl,
                                    "plain_again": stepper(False)}, repeats=5))
    ratio = t_["plain_stem"] / t_["channels_last_stem"]
    benchmark.extra_info.update(step_s=round(t_["plain_stem"], 3), channels_last_speedup=round(ratio, 2),
                                noise=round(t_["plain_stem"] / t_["plain_again"], 2))
    print(f"\nIMRNet-R18 I width {i_width}, M/R >= {p_min_width}, {t} GOPs x {p} P-frames: step "
          f"{1000 * t_['plain_stem']:.0f} ms with the plain stem; the channels-last stem given up "
          f"would be x{ratio:.2f} as fast (plain against itself x{t_['plain_stem'] / t_['plain_again']:.2f})")
