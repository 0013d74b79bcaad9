"""Evaluation: three-crop classification with bootstrap intervals, late fusion, and retrieval."""

from .classify import (bootstrap_interval, classification_metrics, evaluate_classification,
                       predict_views)
from .fusion import late_fusion, load_test_scores
from .retrieval import cosine_topk, recall_at_k, retrieval_figure

__all__ = ["bootstrap_interval", "classification_metrics", "evaluate_classification",
           "predict_views", "late_fusion", "load_test_scores", "cosine_topk", "recall_at_k", "retrieval_figure"]
