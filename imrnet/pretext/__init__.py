"""Pretext tasks: PMSP (labels, head, drawing), CTP, and the baseline tasks (rotation, arrow of
time), by name in any combination (`imrnet.pretext.tasks`)."""

from .ctp import (ALIGNED, CTP_BINARY_KINDS, CTP_KINDS, RANDOM, SHIFT, SHUFFLE, ctp_transform,
                  draw_ctp)
from .draw import draw_pmsp
from .heads import MLPHead, PMSPHead
from .pmsp import PMSP_GRIDS, PMSP_SCALES, parse_pmsp_key, pmsp_key, pmsp_labels, pmsp_levels
from .tasks import TASKS, Pretext, build_heads, task_losses

__all__ = ["ALIGNED", "RANDOM", "SHUFFLE", "SHIFT", "CTP_KINDS", "CTP_BINARY_KINDS",
           "ctp_transform", "draw_ctp", "draw_pmsp", "MLPHead", "PMSPHead", "PMSP_GRIDS",
           "PMSP_SCALES", "parse_pmsp_key", "pmsp_key", "pmsp_labels", "pmsp_levels", "TASKS",
           "Pretext", "build_heads", "task_losses"]
