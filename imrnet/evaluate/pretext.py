"""Did a pretext task leave chance? Its loss on held-out clips (videos pretraining never saw)
against the best constant prediction (issue 13; docs/training.md "Held-out pretext check").

For each held-out clip, the task's cross-entropy (PMSP: averaged over its levels and windows,
one cross-entropy's scale whatever the training reduction) minus the cross-entropy of always
predicting the held-out labels' own frequencies (per PMSP level). That constant predictor is
the best any input-blind network can do, fitted in hindsight on the very labels it is scored
on, so it is a strict bar: a task *left chance* when the 95% bootstrap interval (over clips)
of the mean margin lies below 0. Uniform chance (ln K) and the majority share are reported too.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from ..data.dataset import collate_clips
from .classify import bootstrap_interval

__all__ = ["heldout_pretext"]


def _prior_nll(labels: np.ndarray, k: int) -> np.ndarray:
    """-log of each label's frequency among ``labels`` (the best constant prediction's loss)."""
    freq = np.bincount(labels.ravel(), minlength=k) / labels.size
    return -np.log(freq[labels])


@torch.no_grad()
def heldout_pretext(net, heads, dataset, *, batch_size: int = 8, workers: int = 0,
                    device="cpu", bootstrap: int = 1000, seed: int = 0) -> dict:
    """{task: {loss, constant, uniform, margin, margin_ci95, left_chance, acc, majority, n}}
    of every head in ``heads`` over ``dataset`` (a `CompressedClipDataset` of held-out videos
    built with the pretraining's `Pretext` and PMSP labels; its clips' draws are seeded, so
    the check gives the same numbers every time).

    Raises:
        ValueError: ``dataset`` is empty, or a head has no targets in it.
    """
    if len(dataset) == 0:
        raise ValueError("the held-out pretext check needs at least one held-out video")
    was = net.training, heads.training
    net.eval()
    heads.eval()
    loader = torch.utils.data.DataLoader(dataset, batch_size=batch_size, shuffle=False,
                                         num_workers=workers, collate_fn=collate_clips,
                                         multiprocessing_context="fork" if workers else None)
    # per head a list of batches; PMSP: per level {level: [batches of [B, windows]]}
    loss = {k: ({} if k == "pmsp" else []) for k in heads}
    labels = {k: ({} if k == "pmsp" else []) for k in heads}
    pred = {k: ({} if k == "pmsp" else []) for k in heads}
    classes = {}
    try:
        for batch in loader:
            xs = [batch[k].to(device) for k in ("iframes", "motion", "residual")]
            out = net(*xs)
            for name, head in heads.items():
                if name == "pmsp":
                    lg = head(out["maps"])  # {level: [B, windows, K]}
                    for lev in sorted(lg):
                        b, t, k = lg[lev].shape
                        y = batch["pmsp"][lev].to(device)
                        ce = F.cross_entropy(lg[lev].reshape(b * t, k), y.reshape(b * t),
                                             reduction="none").view(b, t)
                        loss[name].setdefault(lev, []).append(ce.cpu())
                        labels[name].setdefault(lev, []).append(y.cpu())
                        pred[name].setdefault(lev, []).append(lg[lev].argmax(-1).cpu())
                        classes.setdefault(name, {})[lev] = k
                else:
                    key = "label" if name == "supervised" else name
                    if key not in batch:
                        raise ValueError(f"held-out clips carry no {key!r} targets for the "
                                         f"{name} head")
                    y = torch.as_tensor(batch[key]).to(device)
                    logits = head(out["embedding"])
                    classes[name] = logits.shape[1]
                    loss[name].append(F.cross_entropy(logits, y, reduction="none").cpu())
                    labels[name].append(y.cpu()[:, None])
                    pred[name].append(logits.argmax(1).cpu()[:, None])
    finally:
        net.train(was[0])
        heads.train(was[1])
    res = {}
    for name in heads:
        k = classes[name]
        if name == "pmsp":  # every level and window weighs the same, as in the mean loss
            levs = sorted(loss[name])
            cat = lambda d, levs=levs: [torch.cat(d[lev]).numpy() for lev in levs]  # noqa: E731
            ls_l, ys_l, ps_l = cat(loss[name]), cat(labels[name]), cat(pred[name])
            ls = np.concatenate(ls_l, 1).astype(np.float64).mean(1)
            ks = [k[lev] for lev in levs]
            const_clip = np.concatenate([_prior_nll(y, kk) for y, kk in zip(ys_l, ks, strict=True)],
                                        1).mean(1)
            ys, ps = np.concatenate(ys_l, 1), np.concatenate(ps_l, 1)
            # levels weighted by their windows, as the loss and the constant are
            windows = [y.shape[1] for y in ys_l]
            majority = float(np.average([np.bincount(y.ravel(), minlength=kk).max() / y.size
                                         for y, kk in zip(ys_l, ks, strict=True)], weights=windows))
            uniform = float(np.average([math.log(kk) for kk in ks], weights=windows))
        else:
            ls = torch.cat(loss[name]).double().numpy()
            ys = torch.cat(labels[name]).numpy()
            ps = torch.cat(pred[name]).numpy()
            const_clip = _prior_nll(ys[:, 0], k)
            majority = float(np.bincount(ys[:, 0], minlength=k).max() / ys.shape[0])
            uniform = math.log(k)
        margin = ls - const_clip
        ci = (list(bootstrap_interval(margin, n=bootstrap, seed=seed)) if bootstrap
              else [float("nan")] * 2)
        res[name] = {"loss": float(ls.mean()), "constant": float(const_clip.mean()),
                     "uniform": uniform, "margin": float(margin.mean()), "margin_ci95": ci,
                     "left_chance": bool(ci[1] < 0), "acc": float((ps == ys).mean()),
                     "majority": majority, "n": int(ls.size)}
    return res
