"""``python -m imrnet.codec``: re-encode videos to MPEG-4 Part 2, or inspect one.

    python -m imrnet.codec encode SRC DST [--size 340x256 | --short-side 256] [--fps 30]
    python -m imrnet.codec encode SRC_DIR DST_DIR --workers 2      # a whole tree
    python -m imrnet.codec probe FILE

The directory form mirrors the tree (suffix -> .mp4), skips outputs it wrote already (writes
are atomic, so an existing output is a finished one: rerun after an interruption to resume;
a file there it did not write is reported, never overwritten),
keeps going past bad files and writes ``DST_DIR/encode-failures.json`` naming each and why.
Exit status: 0 all good, 1 some files failed, 2 bad usage or a single-file failure.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from .encode import encode_mpeg4, probe_mpeg4
from .errors import VideoError
from .jobs import FAILURES, encode_tree


def _size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"size must look like 340x256, got {text!r}") from None
    return w, h


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m imrnet.codec", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    e = sub.add_parser("encode", help="re-encode a file or a directory tree")
    e.add_argument("src")
    e.add_argument("dst")
    e.add_argument("--gop", type=int, default=12, help="GOP size (default 12)")
    e.add_argument("--short-side", type=int, default=256)
    e.add_argument("--size", type=_size, default=None, help="exact WxH, e.g. 340x256")
    e.add_argument("--fps", type=float, default=None, help="resample to this frame rate")
    e.add_argument("--quality", type=int, default=1, help="-q:v (1..31; 1 acts as 2)")
    e.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    e.add_argument("--suffix", default=".mp4", help="output container suffix (directory form)")
    e.add_argument("--no-progress", action="store_true")
    pr = sub.add_parser("probe", help="print frames, GOPs, fps, size, quantiser as JSON")
    pr.add_argument("file")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.cmd == "probe":
        try:
            print(json.dumps(probe_mpeg4(args.file).to_dict(), indent=2))
        except ValueError as e:  # VideoError included
            print(f"error: {e}", file=sys.stderr)
            return 2
        return 0
    kw = dict(gop_size=args.gop, short_side=args.short_side, size=args.size, fps=args.fps,
              quality=args.quality)
    if os.path.isdir(args.src):
        try:
            s = encode_tree(args.src, args.dst, workers=args.workers, suffix=args.suffix,
                            progress=not args.no_progress, **kw)
        except ValueError as e:
            print(f"error: {e}", file=sys.stderr)
            return 2
        except OSError as e:  # e.g. the destination is an existing file, not a folder
            print(f"error: {e.filename or args.dst}: {e.strerror or e}", file=sys.stderr)
            return 2
        n_fail = len(s["failed"])
        print(f"encoded {s['encoded']}, skipped {s['skipped']} (already done), failed {n_fail}"
              + (f": see {Path(args.dst) / FAILURES}" if n_fail else ""), file=sys.stderr)
        return 1 if n_fail else 0
    try:
        info = encode_mpeg4(args.src, args.dst, **kw)
    except (VideoError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except OSError as e:  # e.g. a parent of the destination is a file
        print(f"error: {e.filename or args.dst}: {e.strerror or e}", file=sys.stderr)
        return 2
    print(json.dumps(info.to_dict(), indent=2))
    return 0
