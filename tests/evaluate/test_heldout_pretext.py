"""The held-out pretext check tells a head that learned from one at chance: a head that knows
each clip's CTP target has a margin far below 0 and "left chance"; one that predicts the label
frequencies sits at the best constant (margin ~0, not left chance); one that is confidently
wrong is above chance. Real torch modules over a real DataLoader; the network only carries
each clip's target through, so that the numbers are known in advance."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from imrnet.evaluate.pretext import heldout_pretext

K = 4  # CTP's classes


class _Clips(torch.utils.data.Dataset):
    """Clips whose I-frame tensor carries their CTP target (the network reads it back)."""

    def __init__(self, targets):
        self.targets = list(targets)

    def __len__(self):
        return len(self.targets)

    def __getitem__(self, i):
        t = self.targets[i]
        return {"iframes": torch.full((1, 2, 2), float(t)), "motion": torch.zeros(1, 2, 2),
                "residual": torch.zeros(1, 2, 2), "ctp": t, "video_id": f"v{i}"}


class _Net(nn.Module):
    def forward(self, i, m, r):
        return {"embedding": i.flatten(1)[:, :1]}  # [B, 1]: the target itself


class _Head(nn.Module):
    """'oracle': logit 8 on the target; 'prior': log label frequencies whatever the clip;
    'wrong': logit 8 on target + 1."""

    def __init__(self, kind, prior):
        super().__init__()
        self.kind, self.prior = kind, torch.log(torch.as_tensor(prior, dtype=torch.float32))

    def forward(self, e):
        t = e[:, 0].round().long()
        if self.kind == "prior":
            return self.prior.expand(e.shape[0], K).clone()
        shift = 0 if self.kind == "oracle" else 1
        return 8.0 * nn.functional.one_hot((t + shift) % K, K).float()


@pytest.mark.parametrize("kind", ["oracle", "prior", "wrong"])
def test_heldout_check_tells_learning_from_chance(kind):
    targets = [0] * 40 + [1] * 30 + [2] * 20 + [3] * 30  # unbalanced: the constant beats uniform
    prior = np.bincount(targets, minlength=K) / len(targets)
    res = heldout_pretext(_Net(), nn.ModuleDict({"ctp": _Head(kind, prior)}), _Clips(targets),
                          batch_size=16, bootstrap=500)
    c = res["ctp"]
    const = float(-(prior * np.log(prior)).sum())  # the best constant's cross-entropy
    assert c["n"] == 120 and c["uniform"] == pytest.approx(math.log(K))
    assert c["constant"] == pytest.approx(const, abs=1e-6) and c["constant"] < c["uniform"]
    assert c["majority"] == pytest.approx(40 / 120)
    lo, hi = c["margin_ci95"]
    if kind == "oracle":
        assert c["acc"] == 1.0 and c["margin"] < -1.0 and hi < 0 and c["left_chance"]
    elif kind == "prior":
        assert c["margin"] == pytest.approx(0.0, abs=1e-5) and not c["left_chance"]
    else:
        assert c["acc"] == 0.0 and c["margin"] > 1.0 and lo > 0 and not c["left_chance"]


def test_heldout_check_refuses_an_empty_set_and_missing_targets():
    heads = nn.ModuleDict({"ctp": _Head("oracle", [0.25] * 4)})
    with pytest.raises(ValueError, match="at least one held-out video"):
        heldout_pretext(_Net(), heads, _Clips([]))

    class _NoTargets(_Clips):
        def __getitem__(self, i):
            s = super().__getitem__(i)
            del s["ctp"]
            return s

    with pytest.raises(ValueError, match="no 'ctp' targets"):
        heldout_pretext(_Net(), heads, _NoTargets([0, 1]))
