"""Video retrieval (Appendix D): test clips query the training set by cosine similarity of their
embeddings; R@k is the fraction of queries with a clip of their class among the top k."""

from __future__ import annotations

import numpy as np

__all__ = ["cosine_topk", "recall_at_k", "retrieval_figure"]


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
