"""The project's two dense optical flows, one field at a time, with their settings in one place:
what the extract stage stores (`imrnet.data.flow`, ``extract.flow_method``) and what the profile
stage times (`imrnet.profile.runtime`) are the same calls.

- ``farneback``: OpenCV's ``calcOpticalFlowFarneback`` with its documented example settings
  (`FARNEBACK`, as TSN's extractors use): fast, coarse.
- ``tvl1``: OpenCV contrib's Dual TV-L1 (``cv2.optflow.DualTVL1OpticalFlow_create()`` at its
  defaults, `TVL1`): the flow DMC-Net and the two-stream literature use; 20-35x Farneback's time
  (64-224 px, the profile stage's measurements).

Both take the current frame's luma and the one before, and return float32 [H, W, 2] (dx, dy) in
the motion vectors' convention (docs/conventions.md): the current frame's pixel (y, x) comes from
the previous frame at (y + dy, x + dx). OpenCV runs single-threaded so the bytes are
deterministic. Dependency-light on purpose (numpy; OpenCV imported on first use).
"""

from __future__ import annotations

from typing import Callable

import numpy as np

__all__ = ["FLOW_METHODS", "FARNEBACK", "TVL1", "flow_field"]

FLOW_METHODS = ("farneback", "tvl1")
FARNEBACK = dict(pyr_scale=0.5, levels=3, winsize=15, iterations=3, poly_n=5, poly_sigma=1.2,
                 flags=0)  # OpenCV's documented example settings (as TSN's extractors use)
TVL1: dict = {}  # DualTVL1OpticalFlow_create's own defaults (tau 0.25, lambda 0.15, theta 0.3,
                 # 5 scales, 5 warps, epsilon 0.01), as the flow literature's extractors call it


def flow_field(method: str) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """``f(current, previous) -> float32 [H, W, 2]`` of ``method`` (one of `FLOW_METHODS`);
    a TV-L1 solver is made once per returned function."""
    import cv2

    cv2.setNumThreads(1)
    if method == "farneback":
        def farneback(cur: np.ndarray, prev: np.ndarray) -> np.ndarray:
            # calcOpticalFlowFarneback(a, b): a(y, x) ~ b(y + fy, x + fx); a = current frame
            return cv2.calcOpticalFlowFarneback(cur, prev, None, **FARNEBACK)
        return farneback
    if method == "tvl1":
        if not hasattr(cv2, "optflow"):
            raise RuntimeError("TV-L1 flow needs OpenCV's contrib modules "
                               "(opencv-contrib-python-headless, pinned in constraints.txt)")
        solver = cv2.optflow.DualTVL1OpticalFlow_create(**TVL1)

        def tvl1(cur: np.ndarray, prev: np.ndarray) -> np.ndarray:
            return solver.calc(cur, prev, None)  # same (I0, I1) order as Farneback's above
        return tvl1
    raise ValueError(f"flow method must be one of {', '.join(FLOW_METHODS)}, got {method!r}")
