"""Coverage of the seed-paired intervals by simulation (docs/experiments/power.md, "Three
seeds are few"): two models on V test videos and S training seeds, a true difference of 0,
per-seed effects of standard deviation ``seed_sd`` (of the difference) and, on the hard
videos, optional per-video effects shared by every seed (``shared``). Each repetition draws
new videos and seeds and asks `repro.stats.seeded_bootstrap` for its interval; the share
that covers 0 is the coverage, for the verdicts' t interval (``ci``) and for the two-way
bootstrap's percentile interval (``ci_bootstrap``).

    python -m repro.coverage --videos 2016 --seeds 3 --seed-sd 2.8 --reps 400
"""

from __future__ import annotations

import argparse

import numpy as np

from .stats import seeded_bootstrap

__all__ = ["simulate"]


def simulate(*, videos: int, seeds: int, seed_sd: float, shared: float = 0.0, hard: float = 0.15,
             reps: int = 400, boot: int = 1000, seed: int = 1) -> dict:
    """Coverage and mean half-width (fractions) of ``ci`` and ``ci_bootstrap`` over ``reps``
    simulated comparisons (module doc). A share ``hard`` of the videos is right half the time
    for both models (the rest 99%); ``shared`` moves A up and B down on a hard video by that
    much, with a random sign per video (mean 0); ``seed_sd``: the per-seed effect's SD."""
    if videos < 2 or seeds < 2 or reps < 1:
        raise ValueError("simulate needs >= 2 videos, >= 2 seeds and >= 1 repetition")
    rng = np.random.default_rng(seed)
    ids = list(range(videos))
    cover = {"ci": 0, "ci_bootstrap": 0}
    half = {"ci": [], "ci_bootstrap": []}
    for r in range(reps):
        h = rng.random(videos) < hard
        sign = np.where(rng.random(videos) < 0.5, 1.0, -1.0)
        pa = np.where(h, 0.5 + shared * sign, 0.99)
        pb = np.where(h, 0.5 - shared * sign, 0.99)
        u = rng.normal(0.0, seed_sd, seeds)
        draw = lambda p: dict(zip(ids, (rng.random(videos) < np.clip(p, 0, 1)).astype(int).tolist(),  # noqa: E731
                                  strict=True))
        a = {s: draw(pa + u[s] / 2) for s in range(seeds)}
        b = {s: draw(pb - u[s] / 2) for s in range(seeds)}
        res = seeded_bootstrap([(1, a), (-1, b)], n=boot, seed=r)
        for k in cover:
            lo, hi = res[k]
            cover[k] += lo <= 0.0 <= hi
            half[k].append((hi - lo) / 2)
    return {k: {"coverage": cover[k] / reps, "half_width": float(np.mean(half[k]))} for k in cover}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m repro.coverage", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--videos", type=int, default=2016)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--seed-sd", type=float, default=2.8, help="points")
    ap.add_argument("--shared", type=float, default=0.0, help="per-video effect on hard videos")
    ap.add_argument("--reps", type=int, default=400)
    ap.add_argument("--boot", type=int, default=1000)
    a = ap.parse_args(argv)
    try:
        r = simulate(videos=a.videos, seeds=a.seeds, seed_sd=a.seed_sd / 100, shared=a.shared,
                     reps=a.reps, boot=a.boot)
    except ValueError as e:
        ap.error(str(e))
    for k, name in (("ci", "t interval (the verdicts')"), ("ci_bootstrap", "bootstrap percentile")):
        print(f"{name}: coverage {r[k]['coverage']:.3f}, mean half-width "
              f"{100 * r[k]['half_width']:.2f} points")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
