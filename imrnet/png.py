"""PNG files with fixed metadata: the same figure or image gives the same bytes on every run
(no software version string). Used by `imrnet.evaluate` and by `repro.figures`."""

from __future__ import annotations

from pathlib import Path

import numpy as np

__all__ = ["save_png"]

_META = {"Software": None}  # no version string: the same figure gives the same bytes


def save_png(fig_or_image, path: str | Path) -> Path:
    """Write a matplotlib figure or an RGB uint8 array as a PNG without varying metadata."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(fig_or_image, np.ndarray):
        plt.imsave(path, fig_or_image, metadata=_META)
    else:
        fig_or_image.savefig(path, dpi=110, metadata=_META)
        plt.close(fig_or_image)
    return path
