"""Profiling: FLOPs (fvcore, every op handled) and latency."""

from .flops import FlopReport, count_flops
from .latency import LatencyReport, measure_latency

__all__ = ["FlopReport", "count_flops", "LatencyReport", "measure_latency"]
