"""Training speed of the built-in profile's network: forward + backward + SGD step, clips/s, on
this machine's CPU threads; eager float32 against channels-last-3d and bfloat16 autocast,
reported as ratios measured in one run.    make bench

torch.compile is not in this loop: measured once (``docs/models.md``) it took 191 s to compile
the small IMRNet for a 10-30 % faster step, which a ~35-s training run of the default profile
cannot repay. Nothing here asserts a time.
"""

from __future__ import annotations

import time

import pytest
import torch

from imrnet.models import build_imrnet

CONFIGS = [  # (i_width, crop, res5_stride): the built-in profile's candidates
    (16, 64, 1), (16, 112, 2), (32, 64, 1), (64, 112, 2)]


def _rate(net, size, *, channels_last=False, bf16=False, batch=8, steps=4):
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

    step()
    t = time.perf_counter()
    for _ in range(steps):
        step()
    return batch * steps / (time.perf_counter() - t)


@pytest.mark.parametrize("i_width,crop,res5_stride", CONFIGS)
def test_train_step_speed(benchmark, i_width, crop, res5_stride):
    torch.manual_seed(0)
    mk = lambda: build_imrnet(i_width=i_width, num_classes=10, res5_stride=res5_stride)  # noqa: E731
    eager = _rate(mk(), crop)
    cl = _rate(mk(), crop, channels_last=True)
    bf = _rate(mk(), crop, bf16=True)
    eager2 = _rate(mk(), crop)  # the noise floor: eager measured twice
    benchmark.pedantic(lambda: None, rounds=1, iterations=1)
    benchmark.extra_info.update(eager_clips_per_s=round(eager, 1),
                                channels_last_ratio=round(cl / eager, 2),
                                bf16_ratio=round(bf / eager, 2),
                                eager_repeat_ratio=round(eager2 / eager, 2))
    print(f"\nIMRNet-R18 width {i_width} at {crop}: eager {eager:.1f} clips/s; channels-last "
          f"x{cl / eager:.2f}; bf16 x{bf / eager:.2f}; eager again x{eager2 / eager:.2f}")
    assert eager > 0 and cl > 0 and bf > 0
