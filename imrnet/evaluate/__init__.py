"""Evaluation: three-crop classification with bootstrap intervals, and retrieval."""

from .classify import (bootstrap_interval, classification_metrics, evaluate_classification,
                       predict_views)
from .retrieval import cosine_topk, recall_at_k, retrieval_figure

__all__ = ["bootstrap_interval", "classification_metrics", "evaluate_classification",
           "predict_views", "cosine_topk", "recall_at_k", "retrieval_figure"]
