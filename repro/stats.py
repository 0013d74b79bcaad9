"""Claim verdicts by a paired bootstrap over the shared test videos (not by overlapping
intervals): two models' per-video correctness on the same videos, resampled together."""

from __future__ import annotations

import numpy as np

__all__ = ["paired_bootstrap", "contrast_bootstrap", "verdict", "correctness"]


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


def verdict(result: dict) -> str:
    """For a claim "A beats B": "holds" when the interval of A - B lies above 0, "contradicted"
    when it lies below 0, else "inconclusive"."""
    lo, hi = result["ci"]
    if lo > 0:
        return "holds"
    if hi < 0:
        return "contradicted"
    return "inconclusive"


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
