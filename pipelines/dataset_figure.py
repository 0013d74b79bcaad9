"""Draw the built-in classes: ``python -m pipelines.dataset_figure [OUT.png]``.

For each class of synthetic-ucf: the first I-frame, a P-frame, and that P-frame's motion field
(colour wheel, `imrnet.codec.motion_to_rgb`) read back from the MPEG-4 stream.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from imrnet.codec import encode_mpeg4, motion_to_rgb, read_compressed  # noqa: E402
from imrnet.data import synthetic  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    out = Path((argv or sys.argv[1:] or ["docs/figures/synthetic-classes.png"])[0])
    classes = synthetic.DATASETS["synthetic-ucf"].classes
    fig, axes = plt.subplots(len(classes), 3, figsize=(6.3, 1.75 * len(classes)))
    with tempfile.TemporaryDirectory() as tmp:
        for row, cls in enumerate(classes):
            rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([7, row])))
            frames = synthetic.render_clip(cls, rng, distractors=(0, 1))
            src = Path(tmp) / f"{cls}.mkv"
            synthetic.write_ffv1(src, frames)
            clip = read_compressed(encode_mpeg4(src, Path(tmp) / f"{cls}.mp4", short_side=None).path,
                                   num_gops=2, mc="exact")
            n = int(clip.pframe_index[1, 2])
            panels = [(clip.iframes[0], f"{cls}: I-frame 0"), (frames[n], f"P-frame {n}"),
                      (motion_to_rgb(clip.motion[1, 2], max_magnitude=3.0), "its motion")]
            for ax, (img, title) in zip(axes[row], panels, strict=True):
                ax.imshow(img)
                ax.set_title(title, fontsize=7)
                ax.axis("off")
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=80)
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
