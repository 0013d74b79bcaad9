"""Classification with the paper's protocol: three crops per test video (optionally several
clips), softmax scores averaged; top-1, top-5, per-class accuracy, confusion matrix and a 95%
bootstrap interval of top-1 over test videos."""

from __future__ import annotations

import numpy as np
import torch

from ..data.dataset import collate_clips

__all__ = ["predict_views", "classification_metrics", "bootstrap_interval", "evaluate_classification"]

STREAMS = ("iframes", "motion", "residual", "flow")


def _forward(model, batch, device, views: bool):
    xs = [batch[k] for k in STREAMS if k in batch and _wants(model, k)]
    if views:  # [B, V, ...] -> [B*V, ...]
        b, v = xs[0].shape[:2]
        xs = [x.flatten(0, 1) for x in xs]
    out = model(*[x.to(device) for x in xs])
    if views:
        out = {k: (val.view(b, v, *val.shape[1:]) if torch.is_tensor(val) else val)
               for k, val in out.items() if k != "maps"}
    return out


def _wants(model, key):
    return key != "flow" or getattr(model, "uses_flow", False)


@torch.no_grad()
def predict_views(model, dataset, *, batch_size: int = 8, workers: int = 0, device="cpu",
                  embeddings: bool = False) -> dict:
    """Softmax scores averaged over each test video's views; optionally the embeddings averaged
    the same way. Returns ``scores`` [N, classes], ``labels`` [N], ``video_ids`` and maybe
    ``embeddings`` [N, D]."""
    loader = torch.utils.data.DataLoader(dataset, batch_size=batch_size, num_workers=workers,
                                         collate_fn=collate_clips, shuffle=False)
    was = model.training
    model.eval()
    scores, embs, labels, ids = [], [], [], []
    try:
        for batch in loader:
            out = _forward(model, batch, device, views=batch["iframes"].ndim == 6)
            logits = out.get("logits")
            if logits is not None:
                p = torch.softmax(logits.float(), -1)
                scores.append((p.mean(1) if p.ndim == 3 else p).cpu())
            if embeddings:
                e = out["embedding"].float()
                embs.append((e.mean(1) if e.ndim == 3 else e).cpu())
            labels.append(batch["label"])
            ids += list(batch["video_id"])
    finally:
        model.train(was)
    res = {"labels": torch.cat(labels).numpy(), "video_ids": ids}
    if scores:
        res["scores"] = torch.cat(scores).numpy()
    if embeddings:
        res["embeddings"] = torch.cat(embs).numpy()
    return res


def bootstrap_interval(correct: np.ndarray, *, n: int = 1000, seed: int = 0,
                       level: float = 0.95) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean of ``correct`` (0/1 per test video)."""
    correct = np.asarray(correct, dtype=np.float64)
    if correct.size == 0:
        return (float("nan"), float("nan"))
    rng = np.random.default_rng(seed)
    means = correct[rng.integers(0, correct.size, (n, correct.size))].mean(1)
    a = (1 - level) / 2
    return float(np.quantile(means, a)), float(np.quantile(means, 1 - a))


def classification_metrics(scores: np.ndarray, labels: np.ndarray, *, num_classes: int | None = None,
                           bootstrap: int = 1000, seed: int = 0) -> dict:
    """top1, top5, per-class accuracy, confusion matrix (rows: true class), 95% CI of top-1."""
    scores, labels = np.asarray(scores), np.asarray(labels)
    k = num_classes or scores.shape[1]
    pred = scores.argmax(1)
    correct = pred == labels
    top5 = (np.argsort(-scores, 1)[:, :min(5, k)] == labels[:, None]).any(1)
    conf = np.zeros((k, k), np.int64)
    np.add.at(conf, (labels, pred), 1)
    per_class = [float(conf[c, c] / conf[c].sum()) if conf[c].sum() else None for c in range(k)]
    lo, hi = bootstrap_interval(correct, n=bootstrap, seed=seed)
    return {"top1": float(correct.mean()), "top5": float(top5.mean()), "top1_ci95": [lo, hi],
            "n": int(labels.size), "per_class": per_class, "confusion": conf.tolist()}


def evaluate_classification(model, dataset, *, batch_size=8, workers=0, device="cpu",
                            bootstrap=1000, seed=0, num_classes=None) -> dict:
    """`predict_views` then `classification_metrics`, plus ``videos``: [video_id, label,
    predicted class] per test video (what a paired bootstrap between two models needs), and
    ``scores``: each video's softmax scores, in the order of ``videos`` (what a late fusion of
    two models needs, `imrnet.evaluate.fusion`)."""
    p = predict_views(model, dataset, batch_size=batch_size, workers=workers, device=device)
    m = classification_metrics(p["scores"], p["labels"], num_classes=num_classes,
                               bootstrap=bootstrap, seed=seed)
    m["videos"] = [[v, int(y), int(s.argmax())] for v, y, s in
                   zip(p["video_ids"], p["labels"], p["scores"], strict=True)]
    m["scores"] = np.asarray(p["scores"], dtype=np.float64).tolist()
    return m
