"""Power of a seed-paired accuracy comparison (docs/experiments/power.md), from direction-free
quantities only: a pilot's per-video results give the discordance ``d``, the video and
residual variances and the seed effect ``sw``, never which model is better.

    python -m repro.power A_SEED0.json A_SEED1.json --vs B_SEED0.json B_SEED1.json

(finetuning summaries, ``reports/<profile>/metrics/finetune/*.json``, seed s of A paired with
seed s of B) prints those quantities and the 95% half-width they imply for other numbers of
test videos and seeds. It prints no accuracy and no difference: the sizes are fixed before any
comparison's direction is seen.

    python -m repro.power A_SEED0.json A_SEED1.json A_SEED2.json

(one model, no ``--vs``) prints that model's seed spread: the standard deviation of its test
top-1 across the seeds and each run's plateau verdict, again no accuracy, to choose a recipe
whose runs agree with themselves before any two models are compared
(docs/experiments/decisive.md, "Pilot after issue 14").
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
from pathlib import Path

import numpy as np

from .checks import plateau
from .results import load_json
from .stats import correctness, shared_video_variance, two_part_t

__all__ = ["pilot_quantities", "half_width", "seed_spread"]


def pilot_quantities(a: list[dict], b: list[dict]) -> dict:
    """From per-seed {video: correct} of A and of B (same seeds in the same order, same videos):
    ``d`` (share of (video, seed) pairs where exactly one is right), ``var`` (Var D), ``su2``
    (the part of it shared across seeds: a per-video effect), ``se2`` (the rest), ``sw``
    (standard deviation of a seed's mean difference beyond what the videos explain; needs >= 2
    seeds), ``rho`` = su2 / var, ``n``, ``seeds``."""
    if len(a) != len(b) or not a:
        raise ValueError("give the same number (>= 1) of seeds for A and B")
    ids = sorted(a[0])
    if any(sorted(x) != ids for x in a + b):
        raise ValueError("the runs were tested on different videos")
    D = np.array([[a[s][v] - b[s][v] for s in range(len(a))] for v in ids], float)
    n, S = D.shape
    var = float(D.var(0, ddof=1).mean()) if n > 1 else 0.0
    su2 = shared_video_variance(D) if S > 1 else 0.0
    se2 = max(0.0, var - su2)
    sw2 = None
    if S > 1:
        ms = D.mean(0)
        sw2 = max(0.0, float(ms.var(ddof=1) - se2 / n))
    return {"n": n, "seeds": S, "d": float(np.abs(D).mean()), "var": var, "su2": su2,
            "se2": se2, "rho": su2 / var if var else 0.0,
            "sw": None if sw2 is None else math.sqrt(sw2)}


def half_width(q: dict, n: int, seeds: int, *, sw: float | None = None) -> float:
    """95% half-width (as a fraction) of the seed-paired mean difference at ``n`` videos and
    ``seeds`` seeds, as the verdicts compute it (`repro.stats.seed_video_interval`):
    t(df) sqrt(A + B), A = su2/n the videos the seeds share (n - 1 degrees of freedom), B =
    (sw^2 + se2/n)/S the seeds' (S - 1), df by Welch-Satterthwaite (docs/experiments/
    power.md, "Three seeds are few"). One seed: the normal quantile over the videos alone."""
    sw = (q["sw"] if sw is None else sw) or 0.0
    if seeds < 2:
        return 1.96 * math.sqrt(q["su2"] / n + q["se2"] / n)
    return two_part_t(q["su2"] / n, (sw ** 2 + q["se2"] / n) / seeds, n, seeds)[0]


def seed_spread(runs: list[dict]) -> dict:
    """One model's finetuning summaries, one per seed -> ``seeds``, ``sd`` (standard deviation
    of test top-1 across the seeds, as a fraction) and ``plateau`` (each run's verdict,
    `repro.checks.plateau`). Direction-free: one model, no comparison."""
    if len(runs) < 2:
        raise ValueError("a seed spread needs >= 2 runs (seeds) of one model")
    cells = {tuple(r.get(k) for k in ("model", "arch", "init", "dataset")) for r in runs}
    if len(cells) > 1:
        raise ValueError(f"the runs are not one model's seeds: {sorted(map(str, cells))}")
    seeds = [r.get("seed") for r in runs]
    if len(set(seeds)) < len(seeds):
        raise ValueError(f"the runs repeat a seed: {seeds}")
    return {"seeds": len(runs), "sd": statistics.stdev(float(r["top1"]) for r in runs),
            "plateau": [plateau(r.get("curve", []))[0] for r in runs]}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m repro.power", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("a", nargs="+", help="A's finetuning summaries, one per seed")
    ap.add_argument("--vs", nargs="+", help="B's, the same seeds in the same order (without it: "
                                            "A's seed spread)")
    ap.add_argument("--sizes", default="400,600,800,1000", help="test-video counts to show")
    ap.add_argument("--seeds", default="3,4,5,6", help="seed counts to show")
    a = ap.parse_args(argv)
    if not a.vs:
        try:
            sp = seed_spread([load_json(Path(p)) for p in a.a])
        except (ValueError, KeyError) as e:
            print(f"power: {e}", file=sys.stderr)
            return 1
        print(f"{sp['seeds']} seeds of one model: SD of test top-1 across seeds "
              f"{100 * sp['sd']:.2f} points; plateau: {', '.join(sp['plateau'])}")
        return 0
    try:
        load = lambda ps: [correctness(load_json(Path(p))["videos"]) for p in ps]  # noqa: E731
        q = pilot_quantities(load(a.a), load(a.vs))
    except (ValueError, KeyError) as e:
        print(f"power: {e}", file=sys.stderr)
        return 1
    sw = "n/a (one seed)" if q["sw"] is None else f"{100 * q['sw']:.2f} points"
    print(f"n={q['n']} seeds={q['seeds']} discordance d={q['d']:.3f} Var(D)={q['var']:.3f} "
          f"su2={q['su2']:.3f} se2={q['se2']:.3f} rho={q['rho']:.2f} sw={sw}")
    for n in (int(x) for x in a.sizes.split(",")):
        for s in (int(x) for x in a.seeds.split(",")):
            plan = half_width(q, n, s, sw=0.02)
            est = "" if q["sw"] is None else f"{100 * half_width(q, n, s):.1f}; "
            print(f"  {n} videos x {s} seeds: half-width {est}with sw = 2 points {100 * plan:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
