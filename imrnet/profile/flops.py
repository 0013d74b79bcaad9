"""FLOPs with fvcore, every op accounted for.

fvcore counts one multiply-add as one flop (so its "flops" are MACs for convolutions and linear
layers): tables label the column "GFLOPs (fvcore, 1 MAC = 1)". Ops fvcore has no handle for get
one here, so nothing is silently counted as zero:

* element-wise arithmetic and activations (add, mul, div, sigmoid, leaky_relu, relu, ...):
  one per output element;
* reductions (mean, amax, sum, adaptive pooling): one per input element;
* windowed pooling (max_pool2d/3d, avg_pool2d/3d): output elements x window size;
* pure data movement (index_select, repeat_interleave, nearest up-sampling): zero, listed.

Counted in eval mode at batch 1 (SlowFast's habit), on the eager model.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
from fvcore.nn import FlopCountAnalysis
from fvcore.nn.jit_handles import elementwise_flop_counter, get_shape

__all__ = ["FlopReport", "count_flops", "EXTRA_HANDLES"]


def _ints(value) -> list[int]:
    v = value.toIValue()
    if v is None:  # a prim::ListConstruct of constants
        v = [i.toIValue() for i in value.node().inputs()]
    return list(v) if isinstance(v, (list, tuple)) else [int(v)]


def _window_pool(inputs, outputs):
    return math.prod(get_shape(outputs[0])) * math.prod(_ints(inputs[1]))


def _zero(inputs, outputs):
    return 0


_OUT = elementwise_flop_counter(0, 1)
_IN = elementwise_flop_counter(1, 0)

EXTRA_HANDLES = {
    **{f"aten::{op}": _OUT for op in (
        "add", "add_", "sub", "sub_", "mul", "mul_", "div", "div_", "sigmoid", "sigmoid_",
        "leaky_relu", "leaky_relu_", "relu", "relu_", "neg", "sqrt", "exp", "softmax",
        "log_softmax")},
    **{f"aten::{op}": _IN for op in (
        "mean", "amax", "amin", "sum", "adaptive_avg_pool1d", "adaptive_avg_pool2d",
        "adaptive_avg_pool3d")},
    **{f"aten::{op}": _window_pool for op in ("max_pool2d", "max_pool3d", "avg_pool2d",
                                                "avg_pool3d")},
    **{f"aten::{op}": _zero for op in ("index_select", "repeat_interleave", "upsample_nearest3d",
                                        "upsample_nearest2d", "permute", "reshape", "view",
                                        "transpose", "select", "slice", "stack", "unsqueeze")},
}


@dataclass
class FlopReport:
    """``total``: flops (fvcore: 1 multiply-add = 1) of one forward pass at batch 1;
    ``by_module``: per module name ("" is the whole model); ``by_operator``: per op kind;
    ``unsupported_ops``: ops counted as zero for want of a handle (empty here, tested)."""

    total: int
    by_module: dict = field(default_factory=dict)
    by_operator: dict = field(default_factory=dict)
    unsupported_ops: dict = field(default_factory=dict)

    @property
    def gflops(self) -> float:
        return self.total / 1e9


def count_flops(model: torch.nn.Module, inputs) -> FlopReport:
    """Count one forward pass of ``model(*inputs)`` (``inputs`` a tensor or tuple, batch 1)
    with fvcore in eval mode; the model's train/eval mode is restored afterwards."""
    inputs = inputs if isinstance(inputs, tuple) else (inputs,)
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            a = FlopCountAnalysis(model, inputs)
            a.set_op_handle(**EXTRA_HANDLES)
            a.unsupported_ops_warnings(False)
            a.uncalled_modules_warnings(False)
            a.tracer_warnings("none")
            return FlopReport(total=int(a.total()), by_module=dict(a.by_module()),
                              by_operator=dict(a.by_operator()),
                              unsupported_ops=dict(a.unsupported_ops()))
    finally:
        model.train(was_training)
