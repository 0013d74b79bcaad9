"""Claim verdicts by a paired bootstrap over the shared test videos (not by overlapping
intervals): two models' per-video correctness on the same videos, resampled together; with
several training seeds per cell, a two-way bootstrap that resamples seeds and videos together
(`seeded_bootstrap`; docs/experiments/power.md)."""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np

__all__ = ["paired_bootstrap", "contrast_bootstrap", "seeded_bootstrap", "verdict",
           "underpowered", "correctness", "t_quantile", "seed_video_interval", "DECIDES"]


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


def t_quantile(p: float, df: float) -> float:
    """Student's t quantile: the ``t`` with P(T_df <= t) = ``p`` (0 < p < 1, df >= 1; numpy
    only). With x = sqrt(df) tan(theta) the t density becomes c cos^(df-1)(theta) on
    [0, pi/2), a smooth integrand: its cumulative integral on a fine grid, inverted by
    interpolation, is exact to ~1e-9 (tests/repro/test_stats.py checks the tables' values)."""
    if not 0.0 < p < 1.0:
        raise ValueError(f"t_quantile: p must lie in (0, 1), not {p}")
    if not df >= 1.0:
        raise ValueError(f"t_quantile: df must be >= 1, not {df}")
    if df > 1e7:
        return NormalDist().inv_cdf(p)
    q = abs(p - 0.5)
    theta = np.linspace(0.0, math.pi / 2, 400001)
    f = np.cos(theta) ** (df - 1.0)
    cum = np.concatenate([[0.0], np.cumsum((f[1:] + f[:-1]) / 2) * (theta[1] - theta[0])])
    cum /= 2 * cum[-1]  # P(0 <= T <= sqrt(df) tan(theta)), reaching 1/2 at pi/2
    th = float(np.interp(q, cum, theta))
    return math.copysign(math.sqrt(df) * math.tan(th), p - 0.5)


def seed_video_interval(d: np.ndarray, level: float = 0.95) -> dict:
    """The two-way random-effects t interval of the mean of ``d`` (videos x seeds, S >= 2):
    d[v, s] = delta + u[v] + w[s] + e[v, s], a per-video effect shared by the seeds (u), a
    per-seed one (w) and the rest (e). Its mean has variance su2 / V + (sw2 + se2 / V) / S:
    the seeds' part is estimated by the variance of the S per-seed means (S - 1 degrees of
    freedom), the shared videos' part su2 by the mean covariance between two seeds' columns
    (V - 1), and the interval is mean +- t(df) sqrt(both), df by Welch-Satterthwaite.
    Near S - 1 degrees of freedom when the seeds' spread dominates (exact there: a t interval
    over the per-seed means), near V - 1 when the shared videos' does (docs/experiments/
    power.md, "Three seeds are few"). Returns {diff, ci, se, df, su2}."""
    V, S = d.shape
    if V < 2 or S < 2:
        raise ValueError(f"a seed-and-video interval needs >= 2 videos and >= 2 seeds, not {V} x {S}")
    diff = float(d.mean())
    su2 = shared_video_variance(d)
    a = su2 / V  # the videos all seeds share
    b = float(d.mean(0).var(ddof=1)) / S  # the seeds (their own videos' noise included)
    h, df = two_part_t(a, b, V, S, level)
    return {"diff": diff, "ci": [diff - h, diff + h], "se": math.sqrt(a + b), "df": df, "su2": su2}


def shared_video_variance(d: np.ndarray) -> float:
    """su2 of ``d`` (videos x seeds, S >= 2): the per-video effect the seeds share, estimated
    by the mean covariance between two seeds' columns (0 when that is negative)."""
    S = d.shape[1]
    c = np.cov(d.T)
    return max(0.0, float((c.sum() - np.trace(c)) / (S * (S - 1))))


def two_part_t(a: float, b: float, videos: int, seeds: int, level: float = 0.95) -> tuple:
    """(half-width, df) of a mean whose variance is a + b: ``a`` the videos' part (``videos`` -
    1 degrees of freedom), ``b`` the seeds' (``seeds`` - 1); the t quantile at the
    Welch-Satterthwaite df (`seed_video_interval`, `repro.power.half_width`)."""
    den = a ** 2 / (videos - 1) + b ** 2 / (seeds - 1)
    df = (a + b) ** 2 / den if den > 0 else float(videos * seeds - 1)
    return t_quantile(1 - (1 - level) / 2, max(1.0, df)) * math.sqrt(a + b), df


def seeded_bootstrap(terms, *, n: int = 10000, seed: int = 0, level: float = 0.95) -> dict:
    """A signed sum of cells' accuracies over several training seeds, ``terms`` =
    [(weight, {seed: {video: correct}})...], paired by seed (seed s of every cell shares its
    data order and augmentation draws) and by video, with a two-way bootstrap: each resample
    draws the videos and, independently, the seeds with replacement, and averages
    ``sum(w * correct)`` over the drawn (video, seed) grid, the seed draw's deviation scaled
    by sqrt(S / (S - 1)) (drawing S of S seeds with replacement keeps only (S-1)/S of their
    variance). It estimates the video, seed and residual variance together
    (docs/experiments/power.md).

    That bootstrap's percentile interval is a normal-quantile interval, and with few seeds
    the seed term's variance rests on S - 1 degrees of freedom: at 3 seeds, where the seeds'
    spread dominates, it covered 86% in simulation (docs/experiments/power.md, "Three seeds
    are few"). So ``ci``, the interval every verdict reads, is the two-way random-effects t
    interval of the same grid (`seed_video_interval`: Satterthwaite degrees of freedom,
    ``df``), and the bootstrap's own interval is kept beside it as ``ci_bootstrap``.

    With one seed per cell it is `contrast_bootstrap` exactly (same draws, same interval).

    Cells with more seeds than another are compared on the seeds every cell shares (a cell's
    further seeds pair with nothing): ``seeds_used`` lists them and ``seeds_left_out`` counts,
    per term, the seeds it had beyond them. At least 2 shared seeds are needed then, since one
    would hide the seeds' spread that the cells' other seeds show.

    Raises:
        ValueError: the cells share no seed, or only one while some cell has more, or a seed's
            models were tested on different videos.
    """
    seeds = [set(c) for _, c in terms]
    shared = set.intersection(*seeds) if seeds else set()
    unequal = any(s_ != shared for s_ in seeds)
    if not shared or (unequal and len(shared) < 2):
        raise ValueError(f"the cells were trained with different seeds "
                         f"({[sorted(s_) for s_ in seeds]}): seed-paired comparison needs the "
                         "same, or at least 2 that every cell shares")
    ss = sorted(shared)
    left_out = {"seeds_used": [int(x) for x in ss],
                "seeds_left_out": [len(s_) - len(shared) for s_ in seeds]}
    if len(ss) == 1:
        r = contrast_bootstrap([(w, c[ss[0]]) for w, c in terms], n=n, seed=seed, level=level)
        return r | {"seeds": 1, "per_seed": [r["diff"]]} | left_out
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
    t = seed_video_interval(d, level) if d.shape[0] > 1 else {"ci": [float(lo), float(hi)],
                                                               "df": 1.0}
    return {"diff": float(d.mean()), "ci": t["ci"], "ci_bootstrap": [float(lo), float(hi)],
            "df": t["df"], "n": int(d.shape[0]), "seeds": len(ss),
            "per_seed": [float(x) for x in d.mean(0)]} | left_out
