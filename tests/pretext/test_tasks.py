"""CTP transforms, baseline pretext transforms, heads and losses, the PMSP drawing."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from imrnet.models import build_imrnet
from imrnet.pretext import (ALIGNED, RANDOM, SHIFT, SHUFFLE, PMSPHead, Pretext, build_heads,
                            ctp_transform, draw_ctp, draw_pmsp, pmsp_labels, task_losses)
from imrnet.pretext.baselines import reverse_clip, rotate_clip
from imrnet.pretext.ctp import shuffle_permutations


def _clip(t=5, p=2, h=8, w=8, seed=0):
    rng = np.random.default_rng(seed)
    g = np.arange(t, dtype=np.float32)[:, None, None, None, None]  # GOP index in the values
    return {"iframes": rng.integers(0, 255, (t, h, w, 3), dtype=np.uint8),
            "motion": np.broadcast_to(g, (t, p, h, w, 2)).copy() + rng.normal(size=(t, p, h, w, 2)).astype(np.float32) * 0.01,
            "residual": np.broadcast_to(g.astype(np.int16), (t, p, h, w, 3)).copy()}


def test_shuffle_excludes_identity_and_cyclic_shifts():
    perms = shuffle_permutations(5)
    assert len(perms) == 120 - 5
    assert (0, 1, 2, 3, 4) not in perms and (1, 2, 3, 4, 0) not in perms and (4, 0, 1, 2, 3) not in perms


def test_ctp_kinds():
    c = _clip()
    assert ctp_transform(c, ALIGNED)["motion"] is c["motion"]
    s = ctp_transform(c, SHIFT, (1, 2, 3, 4, 0))  # [1,2,3,4,5] -> [2,3,4,5,1]
    assert s["residual"][:, 0, 0, 0, 0].tolist() == [1, 2, 3, 4, 0]
    assert np.array_equal(s["iframes"], c["iframes"])
    sh = ctp_transform(c, SHUFFLE, (2, 0, 4, 1, 3))
    assert sh["residual"][:, 0, 0, 0, 0].tolist() == [2, 0, 4, 1, 3]
    assert np.array_equal(sh["motion"][0], c["motion"][2])  # both P-streams move together
    other = _clip(seed=1)
    r = ctp_transform(c, RANDOM, partner=other)
    assert r["motion"] is other["motion"] and r["iframes"] is c["iframes"]
    with pytest.raises(ValueError, match="partner"):
        ctp_transform(c, RANDOM)
    with pytest.raises(ValueError, match="permutation"):
        ctp_transform(c, SHUFFLE, (0, 1, 2, 3, 4))


def test_draws_cover_every_kind_and_are_reproducible():
    kinds = [draw_ctp(np.random.default_rng(i), 5)[0] for i in range(200)]
    assert set(kinds) == {0, 1, 2, 3} and min(np.bincount(kinds)) > 30
    for i in range(50):
        k, order = draw_ctp(np.random.default_rng(i), 5)
        assert (k, order) == draw_ctp(np.random.default_rng(i), 5)
        if k == SHIFT:
            assert order in [tuple(np.roll(range(5), -j)) for j in range(1, 5)]
        if k == SHUFFLE:
            assert order in shuffle_permutations(5)
    assert {draw_ctp(np.random.default_rng(i), 5, binary=True)[0] for i in range(50)} == {0, 1}


def test_rotation_and_reverse():
    c = _clip(h=6, w=6)
    c["motion"][...] = 0
    c["motion"][..., 0] = 3.0  # dx = 3
    r = rotate_clip(c, 1)
    assert np.allclose(r["motion"][..., 0], 0) and np.allclose(r["motion"][..., 1], -3)  # (dy, -dx)
    assert np.array_equal(rotate_clip(c, 4)["iframes"], c["iframes"])
    assert np.array_equal(r["iframes"][0], np.rot90(c["iframes"][0]))
    b = reverse_clip(_clip())
    assert b["residual"][:, 0, 0, 0, 0].tolist() == [3, 2, 1, 0, 0]  # GOPs 3..0, then zeros
    assert np.array_equal(b["iframes"][:4], _clip()["iframes"][4:0:-1])
    assert not b["iframes"][4].any() and not b["motion"][4].any()
    assert np.allclose(b["motion"][0, 0], -_clip()["motion"][3, 1])


def _timed_clip(t=4, p=3):
    """Every frame holds its display time: I-frame g at g * (p + 1), its P-frame j after it."""
    ti = np.arange(t) * (p + 1)
    tp = ti[:, None] + 1 + np.arange(p)[None]
    return {"iframes": np.broadcast_to(ti[:, None, None, None], (t, 2, 2, 3)).astype(np.float32),
            "motion": np.broadcast_to(tp[:, :, None, None, None], (t, p, 2, 2, 2)).astype(np.float32),
            "residual": np.broadcast_to(tp[:, :, None, None, None], (t, p, 2, 2, 3)).astype(np.int16)}


@pytest.mark.parametrize("backwards", [False, True])
def test_arrow_of_time_groups_are_aligned_in_both_directions(backwards):
    """Issue 13: reversing each GOP in place paired I-frame g with its own P-frames reversed,
    so the P-frame next to the I-frame was the furthest from it in time (a shortcut hand
    features read at 0.94). Both directions now show groups in which the P-frames follow their
    I-frame in playback order, one frame apart, and the same zero group last."""
    from imrnet.pretext.baselines import arrow_clip

    c = _timed_clip()
    a = arrow_clip(c, backwards)
    step = -1 if backwards else 1
    ti = a["iframes"][:, 0, 0, 0]
    tp = a["residual"][:, :, 0, 0, 0].astype(np.float32)
    for k in range(3):  # T - 1 real groups
        times = [ti[k]] + tp[k].tolist()
        assert np.diff(times).tolist() == [step] * 3, (k, times)  # one frame apart, in order
        if k:
            assert ti[k] - ti[k - 1] == step * 4  # groups follow each other too
    assert not a["iframes"][3].any() and not a["residual"][3].any()  # same padding both ways
    assert a["iframes"].shape == c["iframes"].shape and a["motion"].shape == c["motion"].shape
    m = a["motion"][:3, :, 0, 0, 0]
    assert np.array_equal(m, -tp[:3] if backwards else tp[:3])  # negated when played back
    with pytest.raises(ValueError, match="at least 2 GOPs"):
        arrow_clip(_timed_clip(t=1), backwards)


def test_pretext_targets_and_partner():
    calls = []

    def partner(j):
        calls.append(j)
        return _clip(seed=j + 10)

    p = Pretext(["rotation", "ctp"])
    seen = set()
    for i in range(40):
        rng = np.random.default_rng(i)
        out, targets = p(_clip(h=8, w=8), rng, 3, 6, partner)
        assert set(targets) == {"rotation", "ctp", "ctp_partner"}
        seen.add(targets["ctp"])
        if targets["ctp"] == 1:  # the partner's P-streams are rotated like the rest
            want = rotate_clip(_clip(seed=targets["ctp_partner"] + 10), targets["rotation"])
            assert np.array_equal(out["motion"], want["motion"])
    assert seen == {0, 1, 2, 3} and calls and 3 not in calls and max(calls) <= 5
    with pytest.raises(ValueError, match="unknown pretext"):
        Pretext(["jigsaw"])
    with pytest.raises(ValueError, match="one of ctp"):
        Pretext(["ctp", "ctp_binary"])


def test_heads_losses_and_gradients():
    torch.manual_seed(0)
    net = build_imrnet(i_width=8, res5_stride=1)
    heads = build_heads(["pmsp", "ctp", "rotation", "arrow_of_time"], net)
    assert set(heads) == {"pmsp", "ctp", "rotation", "arrow_of_time"}
    assert set(build_heads(["ctp_binary"], net)) == {"ctp"}
    x = (torch.randn(2, 3, 5, 64, 64), torch.randn(2, 2, 25, 64, 64), torch.randn(2, 3, 25, 64, 64))
    out = net(*x)
    m = x[1].permute(0, 2, 3, 4, 1).reshape(2, 5, 5, 64, 64, 2).numpy()
    labs = [pmsp_labels(m[b]) for b in range(2)]
    batch = {"pmsp": {k: torch.stack([torch.from_numpy(l[k]) for l in labs]) for k in labs[0]},
             "ctp": torch.tensor([0, 3]), "rotation": torch.tensor([1, 2]),
             "arrow_of_time": torch.tensor([0, 1])}
    logits = heads["pmsp"](out["maps"])
    assert logits[(4, 5)].shape == (2, 5, 16) and logits[(2, 1)].shape == (2, 1, 4)
    loss, metrics = task_losses(heads, out, batch, {"ctp": 1.0})
    # untrained: PMSP's 27 terms near sum of log(s^2) per window
    expect = sum(t * np.log(s * s) for s in (2, 3, 4) for t in (1, 3, 5))
    assert abs(metrics["pmsp_loss"] - expect) < 0.35 * expect
    assert {"ctp_loss", "rotation_acc", "pmsp_acc_s4_t5"} <= set(metrics)
    # the weights are applied as L = sum_task w_task L_task (the decisive profile's CTP weight 4)
    w4, m4 = task_losses(heads, out, batch, {"ctp": 4.0})
    others = sum(v for k, v in m4.items() if k.endswith("_loss") and k != "ctp_loss")
    w4 = w4.detach()
    assert float(w4) == pytest.approx(others + 4.0 * m4["ctp_loss"], rel=1e-5)
    assert float(w4) - float(loss.detach()) == pytest.approx(3.0 * m4["ctp_loss"], rel=1e-4)
    mean, mm = task_losses(heads, out, batch, {"ctp": 4.0}, pmsp_reduction="mean")
    assert mm["pmsp_loss"] == pytest.approx(m4["pmsp_loss"] / 27, rel=1e-5)  # 27 windows
    loss.backward()
    assert all(p.grad is not None for p in heads.parameters())
    small = build_imrnet(i_width=8)  # 64 px with res5 stride 2: 2x2 maps
    with pytest.raises(ValueError, match="at least 4x4"):
        PMSPHead(small.out_channels)(small(*x)["maps"])


def test_draw_pmsp():
    rng = np.random.default_rng(0)
    iframes = rng.integers(100, 150, (5, 48, 64, 3), dtype=np.uint8)
    labels = {(s, t): np.full(t, s * s - 1) for s in (2, 3, 4) for t in (1, 3, 5)}  # bottom-right
    img = draw_pmsp(iframes, labels)
    gap = 2
    assert img.shape == (3 * 48 + 2 * gap, 5 * 64 + 4 * gap, 3)
    top_left, bottom_right = img[0:24, 0:32], img[24:48, 32:64]
    red = (bottom_right == [230, 30, 30]).all(-1)
    assert red.any() and not (top_left == [230, 30, 30]).all(-1).any()
    both = draw_pmsp(iframes, labels, {k: np.zeros_like(v) for k, v in labels.items()})
    assert both.shape[1] > 2 * img.shape[1]
    with pytest.raises(ValueError, match="uint8"):
        draw_pmsp(iframes.astype(float), labels)
