"""The recipe knobs of issue 13: a classifier / head learning-rate multiplier, the optimiser
per stage, PMSP's loss reduction, a floor on the M/R width, and train/test scale consistency.
Each defaults to the behaviour the committed runs had (and their params hashes stay valid)."""

from __future__ import annotations

import json

import pytest
import torch
from torch import nn

from imrnet.models import build_imrnet
from imrnet.pretext.heads import PMSPHead
from imrnet.train.config import make_config, params_hash
from imrnet.train.loop import Trainable, check_test_scale, head_parameters, make_optimizer


def _trainable(num_classes=3):
    net = build_imrnet(i_width=8, frames=(2, 4), num_classes=num_classes, res5_stride=1)
    return Trainable(net, nn.ModuleDict(), "finetune", {})


def test_the_classifier_learns_at_lr_times_the_multiplier():
    model = _trainable()
    heads = head_parameters(model)
    assert heads and all(any(p is q for q in model.net.fc.parameters()) for p in heads)
    o = make_config({"optim": {"lr": 0.01, "head_lr_mult": 10}})["optim"]
    opt = make_optimizer(model, o)
    assert [g["lr"] for g in opt.param_groups] == [0.01, pytest.approx(0.1)]
    assert sum(len(g["params"]) for g in opt.param_groups) == len(list(model.parameters()))
    assert {id(p) for p in opt.param_groups[1]["params"]} == {id(p) for p in heads}
    one = make_optimizer(model, make_config({})["optim"])  # multiplier 1: one group, as before
    assert len(one.param_groups) == 1 and isinstance(one, torch.optim.SGD)


def test_adam_is_a_choice_of_the_stage():
    opt = make_optimizer(_trainable(), make_config({"optim": {"name": "adam", "lr": 1e-3}})["optim"])
    assert isinstance(opt, torch.optim.Adam) and opt.param_groups[0]["lr"] == 1e-3
    with pytest.raises(ValueError, match="optim.name must be one of sgd, adam, got 'rmsprop'"):
        make_config({"optim": {"name": "rmsprop"}})


def test_new_keys_at_their_defaults_keep_the_old_hash():
    """The keys added here hash only when set: a config that does not set them hashes as the
    same config did before they existed (committed runs stay resumable and comparable)."""
    c = make_config({})
    old = json.loads(json.dumps(c))
    for path in (("optim", "name"), ("optim", "head_lr_mult"), ("pmsp_reduction",),
                 ("model", "p_min_width")):
        node = old
        for k in path[:-1]:
            node = node[k]
        del node[path[-1]]
    import hashlib

    from imrnet.train.config import _strip
    want = hashlib.sha256(json.dumps(_strip(old), sort_keys=True).encode()).hexdigest()[:16]
    assert params_hash(c) == want
    assert params_hash(make_config({"optim": {"head_lr_mult": 10}})) != want
    assert params_hash(make_config({"pmsp_reduction": "mean"})) != want


def test_pmsp_mean_reduction_is_the_sum_over_its_terms():
    torch.manual_seed(0)
    logits = {(1, 1): torch.randn(4, 1, 1), (2, 2): torch.randn(4, 2, 4), (4, 3): torch.randn(4, 3, 16)}
    labels = {k: torch.randint(0, v.shape[2], v.shape[:2]) for k, v in logits.items()}
    total, _ = PMSPHead.loss(logits, labels)
    mean, _ = PMSPHead.loss(logits, labels, reduction="mean")
    assert torch.allclose(mean, total / 6)  # 1 + 2 + 3 windows
    with pytest.raises(ValueError, match="reduction"):
        PMSPHead.loss(logits, labels, reduction="max")


def test_the_motion_and_residual_pathways_have_a_floor_on_their_width():
    assert build_imrnet(i_width=16, frames=(2, 4)).config["p_width"] == 1  # 16 / 16
    assert build_imrnet(i_width=16, frames=(2, 4), p_min_width=4).config["p_width"] == 4
    assert build_imrnet(i_width=128, frames=(2, 4), p_min_width=4).config["p_width"] == 8
    with pytest.raises(ValueError, match="model.p_min_width must be an integer >= 1, got 0"):
        make_config({"model": {"p_min_width": 0}})


def _index(tmp_path, w, h):
    d = tmp_path / "ds"
    d.mkdir(exist_ok=True)
    (d / "index.json").write_text(json.dumps([{"width": w, "height": h}] * 3))
    return tmp_path


def test_test_crops_at_another_scale_than_training_are_refused(tmp_path):
    """128x96 frames, crop 64, no resize: training crops magnify 0.68-0.78x, test crops 1.0x
    (issue 13's 1.37x mismatch): refused with the value that fixes it; that value passes."""
    root = _index(tmp_path, 128, 96)
    with pytest.raises(ValueError, match=r"test crops would see ds at 1\.00x, training crops at "
                                         r"0\.68-0\.78x.*set data\.resize_short: 70"):
        check_test_scale(root, "ds", crop=64, resize_short=None)
    check_test_scale(root, "ds", crop=64, resize_short=70)
    check_test_scale(_index(tmp_path, 96, 72), "ds", crop=64, resize_short=None)  # default profile
    check_test_scale(_index(tmp_path, 85, 64), "ds", crop=64, resize_short=None)  # smoke profile
