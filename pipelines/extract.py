"""DVC stage ``extract``: re-encode every dataset of params ``extract.datasets`` to MPEG-4
Part 2 under ``extract.dst_root`` and index it (see `imrnet.data.extract`).

    python -m pipelines.extract                       # everything, one machine
    python -m pipelines.extract --shard 3/16          # one shard (or RANK / WORLD_SIZE set)
    python -m pipelines.extract --merge 16            # join the shards' indexes

fps policy (``extract.fps``): null keeps each video's own rate (the default: UCF-101's 25 fps
resampled to 30 would duplicate every sixth frame, putting zero-motion P-frames at fixed places
in every GOP); a number resamples (the paper's 30).

``extract.flow``: the datasets whose optical flow the flow baselines need (the flow network,
IMRNet + flow, DMC-Net's target), computed once here (``<video>.flow.npz`` beside each video),
never per epoch. ``extract.flow_method``: ``farneback`` (the default: fast) or ``tvl1``
(OpenCV contrib's Dual TV-L1, the flow of DMC-Net and the two-stream papers; 20-35x slower);
`imrnet.opticalflow`.

``extract.verify`` (default ``sha256``): how a rerun checks the outputs it already has against
the index before skipping them (``size`` is cheaper and misses a same-size change); a changed
output is encoded again.
"""

from __future__ import annotations

import argparse
import os
import sys

from imrnet.data.extract import VERIFY, extract, merge_shards
from imrnet.opticalflow import FLOW_METHODS

from .params import ParamsError, check, load_section

SPEC = {"src_root": ("str", True), "dst_root": ("str", True), "datasets": ("str-list", True),
        "gop_size": ("int>=1", False), "quality": ("int:1..31", False),
        "short_side": ("int>=2?", False), "fps": ("number>0?", False), "size": ("size?", False),
        "workers": ("int>=1", False), "max_failed_fraction": ("fraction", False),
        "flow": ("names?", False), "flow_method": ("choice:" + "|".join(FLOW_METHODS), False),
        "verify": ("choice:" + "|".join(VERIFY), False)}


def load_params(path: str) -> dict:
    """The ``extract`` section, checked (`ParamsError` names the key and the value)."""
    p = check(f"{path}: extract", load_section(path, "extract"), SPEC)
    extra = sorted(set(p.get("flow") or []) - set(p["datasets"]))
    if extra:
        raise ParamsError(f"{path}: extract.flow names {extra}, which extract.datasets lacks")
    # what encode_mpeg4 takes, checked here: before the old output is reset, not per video
    if p.get("short_side") is not None and p["short_side"] % 2:
        raise ParamsError(f"{path}: extract.short_side must be an even integer (MPEG-4 4:2:0), "
                          f"got {p['short_side']!r}")
    if p.get("size") is not None and any(int(x) % 2 for x in p["size"]):
        raise ParamsError(f"{path}: extract.size must be two even integers, got {p['size']!r}")
    if p.get("fps") is not None and not 1 <= float(p["fps"]) <= 1000:
        raise ParamsError(f"{path}: extract.fps must be in 1..1000 frames per second (or null: "
                          f"the source's), got {p['fps']!r}")
    return p


def _shard(text: str | None) -> tuple[int, int] | None:
    """``i/N``; else RANK / WORLD_SIZE (torchrun); else SLURM_ARRAY_TASK_ID /
    SLURM_ARRAY_TASK_COUNT (an array job; ids must run 0..N-1); else None (everything)."""
    env = os.environ
    if not text:
        for a, b in (("RANK", "WORLD_SIZE"), ("SLURM_ARRAY_TASK_ID", "SLURM_ARRAY_TASK_COUNT")):
            if a in env and b in env:
                text = f"{env[a]}/{env[b]}"
                break
        else:
            return None
    try:
        i, n = (int(v) for v in text.split("/"))
    except ValueError:
        raise ValueError(f"shard must be i/N with integers (e.g. 3/16), got {text!r}") from None
    if not 0 <= i < n:
        raise ValueError(f"shard {text}: need 0 <= i < N")
    return i, n


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m pipelines.extract", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--params", default="params.yaml")
    ap.add_argument("--shard", default=None, help="i/N")
    ap.add_argument("--merge", type=int, default=None, help="join N shards' indexes")
    ap.add_argument("--no-progress", action="store_true")
    args = ap.parse_args(argv)
    try:
        p = load_params(args.params)
        shard = _shard(args.shard)
    except ValueError as e:  # ParamsError included
        print(f"extract: {e}", file=sys.stderr)
        return 2
    for name in p["datasets"]:
        if args.merge:
            try:
                dst = merge_shards(name, p["dst_root"], args.merge,
                                   max_failed_fraction=float(p.get("max_failed_fraction", 0.0)))
                print(f"{name}: merged into {dst}", file=sys.stderr)
            except (ValueError, RuntimeError, OSError) as e:  # DatasetError, WriteFailed included
                print(f"extract {name}: {e}", file=sys.stderr)
                return 1
            continue
        enc = {"gop_size": int(p.get("gop_size", 12)), "quality": int(p.get("quality", 1)),
               "fps": p.get("fps"),
               "short_side": None if p.get("short_side") is None else int(p["short_side"])}
        if p.get("size"):
            enc["size"] = tuple(int(x) for x in p["size"])
        try:
            s = extract(name, p["src_root"], p["dst_root"], encode=enc,
                        workers=int(p.get("workers", 1)), shard=shard,
                        max_failed_fraction=float(p.get("max_failed_fraction", 0.0)),
                        progress=not args.no_progress,
                        flow=name in (p.get("flow") or []),
                        flow_method=p.get("flow_method", "farneback"),
                        verify=p.get("verify", "sha256"))
        except (RuntimeError, ValueError, OSError) as e:
            print(f"extract {name}: {e}", file=sys.stderr)
            return 1
        print(f"{name}: {s['indexed']} of {s['videos']} videos indexed, {s['failed']} failed"
              + (f", {s['missing']} listed but absent (missing.json)" if s["missing"] else ""),
              file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
