"""Video retrieval (Appendix D): test clips query the training set by cosine similarity of their
embeddings; R@k is the fraction of queries with a clip of their class among the top k.
`retrieval` runs it for a training run's ``model.pt``; ``python -m imrnet.evaluate retrieval``
(`imrnet.evaluate.__main__`) writes its results and figure to files."""

from __future__ import annotations

import os

import numpy as np

from ..codec import read_compressed
from ..data.dataset import CompressedClipDataset
from ..data.extract import index_gop_size, load_index
from ..models.trained import load_trained
from .classify import predict_views

__all__ = ["cosine_topk", "recall_at_k", "retrieval_figure", "retrieval"]


def cosine_topk(query: np.ndarray, gallery: np.ndarray, k: int) -> np.ndarray:
    """Indices [Nq, k] of the k most similar gallery rows (cosine), best first, ties by index."""
    q = query / np.maximum(np.linalg.norm(query, axis=1, keepdims=True), 1e-12)
    g = gallery / np.maximum(np.linalg.norm(gallery, axis=1, keepdims=True), 1e-12)
    sim = q @ g.T
    return np.argsort(-sim, axis=1, kind="stable")[:, :k]


def recall_at_k(query, query_labels, gallery, gallery_labels, ks=(1, 5, 10, 20)) -> dict:
    """{"R@k": fraction} for each k (k capped at the gallery size)."""
    query_labels, gallery_labels = np.asarray(query_labels), np.asarray(gallery_labels)
    kmax = min(max(ks), len(gallery_labels))
    top = cosine_topk(np.asarray(query, np.float64), np.asarray(gallery, np.float64), kmax)
    hits = gallery_labels[top] == query_labels[:, None]
    return {f"R@{k}": float(hits[:, :min(k, kmax)].any(1).mean()) for k in ks}


def retrieval_figure(query_frames, gallery_frames, top: np.ndarray, query_labels, gallery_labels,
                     *, rows: int = 4, k: int = 3) -> np.ndarray:
    """Queries (left) with their top-k retrieved clips: one I-frame each, a green border when
    the class matches, red when not. Frames: uint8 [N, H, W, 3]. Returns an RGB image."""
    h, w = query_frames.shape[1:3]
    b = max(2, h // 24)
    out = np.full((rows * (h + 2 * b), (k + 1) * (w + 2 * b) + 3 * b, 3), 255, np.uint8)
    for r in range(min(rows, len(query_frames))):
        y = r * (h + 2 * b)
        out[y + b:y + b + h, b:b + w] = query_frames[r]
        for j in range(min(k, top.shape[1])):
            g = int(top[r, j])
            x = (j + 1) * (w + 2 * b) + 3 * b
            colour = (30, 180, 30) if gallery_labels[g] == query_labels[r] else (220, 30, 30)
            out[y:y + h + 2 * b, x - b:x + w + b] = colour
            out[y + b:y + b + h, x:x + w] = gallery_frames[g]
    return out


def retrieval(model_path: str | os.PathLike, root: str, dataset: str, *, crop: int | None = None,
              split: int = 1, batch_size: int = 8, workers: int = 0, ks=(1, 5, 10, 20),
              figure_rows: int = 6) -> tuple[dict, np.ndarray | None]:
    """(R@k results, figure) of the backbone in ``model_path`` (`load_trained`) on an extracted
    dataset: the embeddings of every test clip (three crops, averaged) query those of the
    training clips. The figure (`retrieval_figure`: the first ``figure_rows`` queries with
    their top three) is None when ``figure_rows`` is 0."""
    net, cfg, _ = load_trained(model_path, gop_size=index_gop_size(root, dataset))
    if getattr(net, "uses_flow", False):
        raise ValueError(f"{model_path}: a flow network (arch {cfg.get('arch')}) is not a "
                         "retrieval backbone here (its clips need optical flow); use an imrnet "
                         "or coviar model")
    d = cfg["data"]
    crop = crop or d["crop"]
    embs, recs = {}, {}
    for subset in ("train", "test"):
        recs[subset] = load_index(root, dataset, subset=subset, split=split)
        ds = CompressedClipDataset(recs[subset], train=False, num_gops=int(d["num_gops"]),
                                   pframe_stride=d["pframe_stride"], crop_size=crop, pmsp=False,
                                   resize_short=d.get("resize_short"),
                                   test_clips=int(d.get("test_clips", 1)))
        embs[subset] = predict_views(net, ds, batch_size=batch_size, workers=workers,
                                     embeddings=True)
    q, g = embs["test"], embs["train"]
    res = {"model": str(model_path), "dataset": dataset, "split": split, "queries": len(q["labels"]),
           "gallery": len(g["labels"]),
           **recall_at_k(q["embeddings"], q["labels"], g["embeddings"], g["labels"], ks)}
    if not figure_rows:
        return res, None
    top = cosine_topk(q["embeddings"], g["embeddings"], 3)
    rows = min(figure_rows, len(q["labels"]))
    first = lambda r: read_compressed(r.path, num_gops=1, with_residual=False).iframes[0]  # noqa: E731
    qf = np.stack([first(r) for r in recs["test"][:rows]])
    gf = np.zeros((len(g["labels"]),) + qf.shape[1:], np.uint8)
    for j in sorted({int(j) for j in top[:rows].ravel()}):
        gf[j] = first(recs["train"][j])
    return res, retrieval_figure(qf, gf, top[:rows], q["labels"][:rows], g["labels"], rows=rows, k=3)
