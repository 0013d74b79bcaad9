"""Timing helpers shared by the benchmarks."""

from __future__ import annotations

import statistics
import time


def interleaved_times(fns: dict, repeats: int) -> dict[str, list[float]]:
    """Seconds per call of each candidate, ``repeats`` rounds, the candidates interleaved in
    each round so that drift of a shared machine hits all alike."""
    times = {k: [] for k in fns}
    for _ in range(repeats):
        for k, fn in fns.items():
            t = time.perf_counter()
            fn()
            times[k].append(time.perf_counter() - t)
    return times


def medians(times: dict[str, list[float]]) -> dict[str, float]:
    return {k: statistics.median(v) for k, v in times.items()}
