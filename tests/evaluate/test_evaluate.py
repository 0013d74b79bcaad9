"""Three-crop classification metrics, bootstrap intervals, retrieval."""

from __future__ import annotations

import numpy as np
import torch

from imrnet.evaluate import (bootstrap_interval, classification_metrics, cosine_topk,
                             predict_views, recall_at_k, retrieval_figure)


def test_classification_metrics_known_answers():
    scores = np.array([[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.5, 0.1, 0.4], [0.2, 0.3, 0.5]])
    labels = np.array([0, 1, 2, 2])
    m = classification_metrics(scores, labels, bootstrap=200)
    assert m["top1"] == 0.75 and m["top5"] == 1.0 and m["n"] == 4
    assert m["confusion"] == [[1, 0, 0], [0, 1, 0], [1, 0, 1]]
    assert m["per_class"] == [1.0, 1.0, 0.5]
    lo, hi = m["top1_ci95"]
    assert 0 <= lo <= 0.75 <= hi <= 1
    assert classification_metrics(scores, labels, num_classes=4)["per_class"][3] is None


def test_bootstrap_interval_narrows_with_n_and_is_seeded():
    rng = np.random.default_rng(0)
    small = rng.random(50) < 0.6
    big = rng.random(5000) < 0.6
    a, b = bootstrap_interval(small), bootstrap_interval(big)
    assert (b[1] - b[0]) < (a[1] - a[0]) / 5 and b[0] < 0.6 < b[1]
    assert bootstrap_interval(small, seed=1) == bootstrap_interval(small, seed=1)


def test_retrieval():
    gallery = np.array([[1, 0], [0, 1], [1, 1], [-1, 0]], float)
    g_labels = np.array([0, 1, 2, 3])
    query = np.array([[2, 0.1], [0.1, 3]])
    assert cosine_topk(query, gallery, 2).tolist() == [[0, 2], [1, 2]]
    r = recall_at_k(query, [0, 2], gallery, g_labels, ks=(1, 2, 10))
    assert r == {"R@1": 0.5, "R@2": 1.0, "R@10": 1.0}
    frames = np.zeros((4, 8, 8, 3), np.uint8)
    img = retrieval_figure(frames[:2], frames, cosine_topk(query, gallery, 3), [0, 2], g_labels,
                           rows=2, k=3)
    assert img.shape[0] == 2 * (8 + 4) and (img == [30, 180, 30]).all(-1).any()
    assert (img == [220, 30, 30]).all(-1).any()


class _Fixed(torch.nn.Module):
    """Logits from the mean of the I-frames: view-dependent, so averaging is observable."""

    def __init__(self):
        super().__init__()
        self.w = torch.nn.Parameter(torch.eye(3))

    def forward(self, i, m, r):
        f = i.mean((2, 3, 4))
        return {"logits": f @ self.w, "embedding": f}


class _Views(torch.utils.data.Dataset):
    def __len__(self):
        return 2

    def __getitem__(self, k):
        i = torch.zeros(3, 3, 1, 2, 2)  # 3 views
        i[0, 0], i[1, 1], i[2, k] = 5.0, 5.0, 5.0  # views vote class 0, 1, k
        return {"iframes": i, "motion": torch.zeros(3, 2, 1, 2, 2),
                "residual": torch.zeros(3, 3, 1, 2, 2), "label": k, "video_id": f"v{k}"}


def test_predict_views_averages_softmax_over_views():
    p = predict_views(_Fixed(), _Views(), batch_size=2, embeddings=True)
    want = torch.softmax(torch.tensor([[5.0, 0, 0], [0, 5.0, 0], [5.0, 0, 0]]), -1).mean(0)
    np.testing.assert_allclose(p["scores"][0], want.numpy(), rtol=1e-5)
    assert p["labels"].tolist() == [0, 1] and p["video_ids"] == ["v0", "v1"]
    assert p["embeddings"].shape == (2, 3)
    assert p["scores"][1].argmax() == 1
