"""Pretext tasks: PMSP labels (Algorithm 1); the PMSP head, CTP and the baseline tasks arrive
with the training issue."""

from .pmsp import PMSP_GRIDS, PMSP_SCALES, parse_pmsp_key, pmsp_key, pmsp_labels, pmsp_levels

__all__ = ["PMSP_GRIDS", "PMSP_SCALES", "parse_pmsp_key", "pmsp_key", "pmsp_labels", "pmsp_levels"]
