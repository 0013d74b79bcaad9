"""Claim verdicts by a paired bootstrap over the shared test videos (not by overlapping
intervals): two models' per-video correctness on the same videos, resampled together; with
several training seeds per cell, a two-way bootstrap that resamples seeds and videos together
(`seeded_bootstrap`; docs/experiments/power.md)."""

from __future__ import annotations

import numpy as np

__all__ = ["paired_bootstrap", "contrast_bootstrap", "seeded_bootstrap", "verdict",
           "underpowered", "correctness", "DECIDES"]


def correctness(videos) -> dict[str, int]:
    """{video_id: 1 if predicted == label else 0} from finetuning's ``test.videos`` rows
    ([video_id, label, predicted])."""
    out = {}
    for vid, label, pred in videos:
        if vid in out:
            raise ValueError(f"video {vid!r} appears twice in one model's predictions")
        out[vid] = int(int(label) == int(pred))
    return out


def paired_bootstrap(a: dict[str, int], b: dict[str, int], *, n: int = 10000, seed: int = 0,
                     level: float = 0.95) -> dict:
    """Accuracy difference A - B over the videos both were tested on, with its percentile
    bootstrap interval (videos resampled with replacement, both models together).

    Raises:
        ValueError: the two share no test video, or their video sets differ (a table cell must
            compare models on the same videos).
    """
    if set(a) != set(b):
        only = sorted(set(a) ^ set(b))[:3]
        raise ValueError(f"the two models were tested on different videos (e.g. {only})")
    if not a:
        raise ValueError("no shared test videos")
    ids = sorted(a)
    d = np.array([a[v] - b[v] for v in ids], dtype=np.float64)
    rng = np.random.default_rng(seed)
    means = d[rng.integers(0, d.size, (n, d.size))].mean(1)
    lo, hi = np.quantile(means, [(1 - level) / 2, 1 - (1 - level) / 2])
    return {"diff": float(d.mean()), "ci": [float(lo), float(hi)], "n": int(d.size),
            "a_acc": float(np.mean([a[v] for v in ids])), "b_acc": float(np.mean([b[v] for v in ids]))}


DECIDES = 0.05  # an interval at most +-5 points wide decides (issue 13; docs/experiments/power.md)


def verdict(result: dict) -> str:
    """For a claim "A beats B": "holds" when the interval of A - B lies above 0, "contradicted"
    when it lies below 0; an interval around 0 is "absent" when it lies within +-5 points
    (any effect, either way, is smaller than that: too small to show at this scale), else
    "inconclusive" (the comparison lacks the power to tell)."""
    lo, hi = result["ci"]
    if lo > 0:
        return "holds"
    if hi < 0:
        return "contradicted"
    if max(-lo, hi) <= DECIDES:
        return "absent"
    return "inconclusive"


def underpowered(result: dict) -> bool:
    """Whether the interval is wider than the +-5 points the decisive profile aims at (a sign
    it decides still counts; the report says the interval missed the target)."""
    lo, hi = result["ci"]
    return (hi - lo) / 2 > DECIDES


def contrast_bootstrap(terms, *, n: int = 10000, seed: int = 0, level: float = 0.95) -> dict:
    """A signed sum of several models' accuracies, ``terms`` = [(weight, {video: correct})...],
    over the videos they all share (e.g. the gap-narrowing contrast (A - B) - (C - D)), with its
    percentile bootstrap interval, videos resampled with every model together.

    Raises:
        ValueError: the models were not tested on the same videos.
    """
    sets = [set(c) for _, c in terms]
    if any(s_ != sets[0] for s_ in sets[1:]):
        raise ValueError("the models were tested on different videos")
    ids = sorted(sets[0])
    if not ids:
        raise ValueError("no shared test videos")
    d = np.array([sum(w * c[v] for w, c in terms) for v in ids], dtype=np.float64)
    rng = np.random.default_rng(seed)
    means = d[rng.integers(0, d.size, (n, d.size))].mean(1)
    lo, hi = np.quantile(means, [(1 - level) / 2, 1 - (1 - level) / 2])
    return {"diff": float(d.mean()), "ci": [float(lo), float(hi)], "n": int(d.size)}


def seeded_bootstrap(terms, *, n: int = 10000, seed: int = 0, level: float = 0.95) -> dict:
    """A signed sum of cells' accuracies over several training seeds, ``terms`` =
    [(weight, {seed: {video: correct}})...], paired by seed (seed s of every cell shares its
    data order and augmentation draws) and by video, with a two-way percentile bootstrap: each
    resample draws the videos and, independently, the seeds with replacement, and averages
    ``sum(w * correct)`` over the drawn (video, seed) grid, the seed draw's deviation scaled
    by sqrt(S / (S - 1)) (drawing S of S seeds with replacement keeps only (S-1)/S of their
    variance). It estimates the video, seed and residual variance together
    (docs/experiments/power.md). With 2 seeds the seed term rests on one degree of freedom:
    a simulation of the unscaled version (1000 videos, d = 0.45) covered 92% at a seed effect
    of 2 points and 83% at 4; the scaled one has not been simulated again (the report says
    how many seeds each interval has).

    With one seed per cell it is `contrast_bootstrap` exactly (same draws, same interval).

    Raises:
        ValueError: the cells do not share their seeds, or a seed's models were tested on
            different videos.
    """
    seeds = [set(c) for _, c in terms]
    if not seeds or not seeds[0] or any(s_ != seeds[0] for s_ in seeds[1:]):
        raise ValueError(f"the cells were trained with different seeds "
                         f"({[sorted(s_) for s_ in seeds]}): seed-paired comparison needs the same")
    ss = sorted(seeds[0])
    if len(ss) == 1:
        r = contrast_bootstrap([(w, c[ss[0]]) for w, c in terms], n=n, seed=seed, level=level)
        return r | {"seeds": 1, "per_seed": [r["diff"]]}
    vids = {frozenset(c[s_]) for _, c in terms for s_ in ss}
    if len(vids) != 1:
        raise ValueError("the models were tested on different videos")
    ids = sorted(next(iter(vids)))
    if not ids:
        raise ValueError("no shared test videos")
    d = np.array([[sum(w * c[s_][v] for w, c in terms) for s_ in ss] for v in ids],
                 dtype=np.float64)  # videos x seeds
    rng = np.random.default_rng(seed)
    vi = rng.integers(0, d.shape[0], (n, d.shape[0]))
    per_seed = np.stack([d[:, j][vi].mean(1) for j in range(d.shape[1])], 1)  # n x S
    si = rng.integers(0, d.shape[1], (n, d.shape[1]))
    drawn = np.take_along_axis(per_seed, si, 1).mean(1)
    # resampling S seeds with replacement gives (S-1)/S of their variance: scale the seed
    # draw's deviation back up (at 2 seeds, x sqrt 2), so the seed term is not halved
    video = per_seed.mean(1)
    means = video + np.sqrt(d.shape[1] / (d.shape[1] - 1)) * (drawn - video)
    lo, hi = np.quantile(means, [(1 - level) / 2, 1 - (1 - level) / 2])
    return {"diff": float(d.mean()), "ci": [float(lo), float(hi)], "n": int(d.shape[0]),
            "seeds": len(ss), "per_seed": [float(x) for x in d.mean(0)]}
