"""``python -m imrnet.evaluate retrieval --model RUN/model.pt --root data/mpeg4 --dataset
synthetic-ucf [--out DIR] [--crop 64]``

Retrieval with a trained backbone (Appendix D): embeddings of every test clip (three crops,
averaged) query those of the training clips by cosine similarity; R@1/5/10/20 go to
``retrieval.json`` and a figure of queries with their top three to ``retrieval.png``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..png import save_png
from .retrieval import retrieval


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m imrnet.evaluate", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("retrieval")
    r.add_argument("--model", required=True)
    r.add_argument("--root", required=True)
    r.add_argument("--dataset", required=True)
    r.add_argument("--out", default=None)
    r.add_argument("--crop", type=int, default=None)
    r.add_argument("--split", type=int, default=1)
    a = ap.parse_args(argv)
    try:
        res, fig = retrieval(a.model, a.root, a.dataset, crop=a.crop, split=a.split,
                             figure_rows=6 if a.out else 0)
        if a.out:
            out = Path(a.out)
            out.mkdir(parents=True, exist_ok=True)
            (out / "retrieval.json").write_text(json.dumps(res, indent=1) + "\n")
            save_png(fig, out / "retrieval.png")
    except (ValueError, OSError, KeyError) as e:
        print(f"retrieval: {e}", file=sys.stderr)
        return 1
    print(json.dumps({k: v for k, v in res.items() if k.startswith("R@")}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
