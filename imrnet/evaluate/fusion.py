"""Late fusion of two trained classifiers' test scores: the two-stream way of adding an optical
flow network to a network on another input (Simonyan & Zisserman 2014 average the streams'
softmax scores; the paper's "IMRNet + optical flow" row adds a separately trained flow network to
a pretrained IMRNet). Each video's fused scores are the weighted mean of the two runs' softmax
scores, ``(s_a + w * s_b) / (1 + w)``; then the same metrics as a single run
(`classification_metrics`: top-1, top-5, per class, confusion, 95% bootstrap interval).

The inputs are the ``metrics.json`` files that `imrnet.train.finetune` writes into a run's
folder (its test's ``videos`` and ``scores``). Both runs must have tested the same videos with
the same labels and classes: anything else is a ValueError naming both files.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .classify import classification_metrics

__all__ = ["load_test_scores", "late_fusion"]


def load_test_scores(run_dir: str | Path) -> dict:
    """A finetuning run's test: ``ids``, ``labels`` [N], ``scores`` [N, classes] (softmax,
    averaged over views), ``classes``, ``dataset``, ``seed`` and ``source`` (the file read)."""
    path = Path(run_dir) / "metrics.json"
    try:
        m = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as e:
        raise ValueError(f"{path}: cannot read the run's test results ({e})") from None
    test = m.get("test") if isinstance(m, dict) else None
    if not isinstance(test, dict) or "videos" not in test:
        raise ValueError(f"{path}: no test results (not a finetuning run's metrics.json)")
    if "scores" not in test:
        raise ValueError(f"{path}: the test holds no per-video scores (a run made before they "
                         "were recorded): rerun it")
    videos, scores = test["videos"], np.asarray(test["scores"], dtype=np.float64)
    classes = m.get("classes") or []
    if scores.ndim != 2 or scores.shape != (len(videos), len(classes)):
        raise ValueError(f"{path}: scores of shape {scores.shape} for {len(videos)} videos and "
                         f"{len(classes)} classes")
    params = m.get("params") or {}
    return {"ids": [v[0] for v in videos], "labels": np.array([v[1] for v in videos], np.int64),
            "scores": scores, "classes": list(classes),
            "dataset": (params.get("data") or {}).get("dataset"), "seed": params.get("seed"),
            "source": str(path)}


def late_fusion(a: dict, b: dict, *, weight_b: float = 1.0, bootstrap: int = 1000,
                seed: int = 0) -> dict:
    """The fused test of two `load_test_scores` results: ``classification_metrics`` of
    ``(a.scores + weight_b * b.scores) / (1 + weight_b)``, plus ``videos`` ([id, label,
    predicted class], as a single run's) and ``scores``."""
    if not weight_b > 0:
        raise ValueError(f"the second network's weight must be > 0, got {weight_b!r}")
    where = f"{a['source']} and {b['source']}"
    if a["classes"] != b["classes"]:
        raise ValueError(f"{where}: different classes ({a['classes'][:3]}... vs "
                         f"{b['classes'][:3]}...)")
    if a["ids"] != b["ids"]:
        only = sorted(set(a["ids"]) ^ set(b["ids"]))
        raise ValueError(f"{where}: not the same test videos in the same order"
                         + (f" (e.g. {only[0]!r} in one only)" if only else ""))
    if not np.array_equal(a["labels"], b["labels"]):
        i = int(np.flatnonzero(a["labels"] != b["labels"])[0])
        raise ValueError(f"{where}: video {a['ids'][i]!r} has label {int(a['labels'][i])} in "
                         f"one and {int(b['labels'][i])} in the other")
    scores = (a["scores"] + float(weight_b) * b["scores"]) / (1.0 + float(weight_b))
    m = classification_metrics(scores, a["labels"], num_classes=len(a["classes"]),
                               bootstrap=bootstrap, seed=seed)
    m["videos"] = [[v, int(y), int(s.argmax())] for v, y, s in
                   zip(a["ids"], a["labels"], scores, strict=True)]
    m["scores"] = scores.tolist()
    return m
