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

import numpy as np
import torch


def retrieval(model_path: str, root: str, dataset: str, *, out: str | None = None,
              crop: int | None = None, split: int = 1, batch_size: int = 8, workers: int = 0,
              ks=(1, 5, 10, 20)) -> dict:
    from ..codec import read_compressed
    from ..data.dataset import CompressedClipDataset
    from ..data.extract import index_gop_size, load_index
    from ..models import build_imrnet
    from ..train.checkpoint import load_checkpoint
    from ..train.loop import load_backbone
    from .classify import predict_views
    from .retrieval import cosine_topk, recall_at_k, retrieval_figure

    state = load_checkpoint(model_path)
    cfg = json.loads(state["params"])
    d = cfg["data"]
    crop = crop or d["crop"]
    T = int(d["num_gops"])
    n_p = (index_gop_size(root, dataset) - 1) // int(d["pframe_stride"])
    net = build_imrnet(**cfg["model"], frames=(T, T * n_p))
    load_backbone(net, state, model_path)
    embs = {}
    recs = {}
    for subset in ("train", "test"):
        recs[subset] = load_index(root, dataset, subset=subset, split=split)
        ds = CompressedClipDataset(recs[subset], train=False, num_gops=T,
                                   pframe_stride=d["pframe_stride"], crop_size=crop, pmsp=False,
                                   resize_short=d.get("resize_short"),
                                   test_clips=int(d.get("test_clips", 1)))
        embs[subset] = predict_views(net, ds, batch_size=batch_size, workers=workers,
                                     embeddings=True)
    q, g = embs["test"], embs["train"]
    res = {"model": str(model_path), "dataset": dataset, "split": split, "queries": len(q["labels"]),
           "gallery": len(g["labels"]),
           **recall_at_k(q["embeddings"], q["labels"], g["embeddings"], g["labels"], ks)}
    if out:
        o = Path(out)
        o.mkdir(parents=True, exist_ok=True)
        (o / "retrieval.json").write_text(json.dumps(res, indent=1) + "\n")
        top = cosine_topk(q["embeddings"], g["embeddings"], 3)
        rows = min(6, len(q["labels"]))
        first = lambda r: read_compressed(r.path, num_gops=1, with_residual=False).iframes[0]  # noqa: E731
        qf = np.stack([first(r) for r in recs["test"][:rows]])
        used = sorted({int(j) for j in top[:rows].ravel()})
        gf = np.zeros((len(g["labels"]),) + qf.shape[1:], np.uint8)
        for j in used:
            gf[j] = first(recs["train"][j])
        from ..png import save_png
        save_png(retrieval_figure(qf, gf, top[:rows], q["labels"][:rows], g["labels"], rows=rows,
                                  k=3), o / "retrieval.png")
    return res


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
        res = retrieval(a.model, a.root, a.dataset, out=a.out, crop=a.crop, split=a.split)
    except (ValueError, OSError, KeyError) as e:
        print(f"retrieval: {e}", file=sys.stderr)
        return 1
    print(json.dumps({k: v for k, v in res.items() if k.startswith("R@")}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
