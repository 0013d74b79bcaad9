"""Training configuration: a plain dict (a params.yaml section), defaults filled, checked, and
hashed over the keys that change results."""

from __future__ import annotations

import hashlib
import json

from ..settings import as_int, as_number, deep_merge

__all__ = ["DEFAULTS", "MODEL_DEFAULTS", "ARCHS", "make_config", "params_hash", "diff_params",
           "NOT_HASHED", "as_int", "as_number"]

DEFAULTS = {
    "seed": 0,
    "out": "runs/default",
    "resume": True,
    "progress": True,
    "data": {"root": "data/mpeg4", "dataset": "synthetic-kinetics", "subset": "train", "split": 1,
             "test_subset": "test", "crop": 64, "num_gops": 5, "pframe_stride": 2,
             "flip": False, "pmsp_pframes": "sampled", "workers": 0, "max_videos": None,
             "test_clips": 1, "resize_short": None,
             "cache_mb": 0,  # MiB of decoded training windows kept in memory (0: off); when on,
                             # training reads in the main process (the test passes use workers)
             "augment_on": "worker"},  # worker | device | auto (device on CUDA): where the
                                       # frames' resize/flip/normalisation run (data.batch_side)
    "arch": "imrnet",              # imrnet | coviar | imrnet_flow | dmcnet | flow (model: its builder's args)
    "model": {"depth": 18, "i_width": 16, "p_width_ratio": 1 / 16, "connection": "bidirectional",
              "lateral": "conv", "gated": True, "res5_stride": 1, "dropout": 0.0,
              "p_min_width": 1},
    "tasks": ["pmsp", "ctp"],
    "weights": {},                 # task -> lambda (default 1): L_PMSP + lambda * L_CTP
    "optim": {"lr": 0.05, "momentum": 0.9, "weight_decay": 1e-4, "epochs": 5,
              "warmup_epochs": 1, "batch_size": 8,
              "name": "sgd",             # sgd (the paper's, with momentum) | adam (momentum unused)
              "head_lr_mult": 1.0},      # lr of the task heads / the classifier: lr x this
    "pmsp_reduction": "sum",       # PMSP loss over its levels and windows: sum (paper) | mean
    "streams": ["iframes", "motion", "residual"],  # inputs the network sees; others zeroed
    "micro_batches": 1,            # split each batch (interleaved) and average the gradients
    "init": None,                  # finetune: {"checkpoint": path, "bn_stats"?: keep|reset} or None
    "bf16_cuda": False,            # bf16 autocast on CUDA
    "eval": {"bootstrap": 1000, "batch_size": 8,
             "heldout": None},     # pretraining: the dataset whose test videos check that each
                                   # pretext task left chance (None: the pretraining dataset's)
}

# `model` defaults per architecture (`imrnet.models` builders' arguments)
MODEL_DEFAULTS = {
    "imrnet": DEFAULTS["model"],
    "imrnet_flow": {**DEFAULTS["model"], "flow_width": None},
    "coviar": {"i_depth": 18, "p_depth": 18, "width": 16, "p_per_gop": 1},
}
MODEL_DEFAULTS["dmcnet"] = {**MODEL_DEFAULTS["coviar"], "gen_width": 8, "flow_weight": 1.0,
                            "adversarial_weight": 0.0, "detach_dmc": False}
MODEL_DEFAULTS["flow"] = {"depth": 18, "width": 16, "res5_stride": 1, "dropout": 0.0}
ARCHS = tuple(MODEL_DEFAULTS)
FLOW_INPUT_ARCHS = ("imrnet_flow", "flow")  # archs that read optical flow in training and testing

# keys that never change a result: left out of the hash (workers: results are worker-invariant;
# cache_mb: a cached window is the bitstream's deterministic decode, copied)
NOT_HASHED = {("out",), ("resume",), ("progress",), ("data", "workers"), ("data", "cache_mb")}

# keys added after runs were made: hashed only when set away from this value, which gives the
# behaviour those runs had (so their hashes, and a resume of them, stay valid)
NEUTRAL = {("optim", "name"): "sgd", ("optim", "head_lr_mult"): 1.0, ("pmsp_reduction",): "sum",
           ("model", "p_min_width"): 1, ("eval", "heldout"): None,
           ("data", "augment_on"): "worker"}


# (key path, kind, least allowed value): each checked by `_check_values` with a message that
# names the key, the value and what is allowed. "int" refuses bools and floats with a fraction.
_VALUES = [
    (("seed",), "int", 0), (("micro_batches",), "int", 1),
    (("data", "crop"), "int", 1), (("data", "num_gops"), "int", 1),
    (("data", "pframe_stride"), "int", 1), (("data", "workers"), "int", 0),
    (("data", "test_clips"), "int", 1), (("data", "split"), "int", 1),
    (("data", "cache_mb"), "number", 0),
    (("optim", "lr"), "number", 0), (("optim", "momentum"), "number", 0),
    (("optim", "weight_decay"), "number", 0), (("optim", "epochs"), "int", 1),
    (("optim", "batch_size"), "int", 1), (("optim", "warmup_epochs"), "int", 0),
    (("eval", "bootstrap"), "int", 0), (("eval", "batch_size"), "int", 1),
]


def _check_values(c: dict) -> None:
    for path, kind, least in _VALUES:
        v = c
        for k in path:
            v = v[k]
        name = ".".join(path)
        if kind == "int":
            n = as_int(v)
            if n is None or n < least or (path == ("seed",) and n >= 2 ** 32):
                most = " and < 2**32" if path == ("seed",) else ""
                raise ValueError(f"{name} must be an integer >= {least}{most}, got {v!r}")
        else:
            n = as_number(v)
            if n is None or n < least:
                raise ValueError(f"{name} must be a finite number >= {least}, got {v!r}")
            if isinstance(v, str):  # YAML 1.1 reads 1e-4 as a string: the number it means
                parent = c
                for k in path[:-1]:
                    parent = parent[k]
                parent[path[-1]] = n


# Keys beyond the numeric ones of `_VALUES`: (key path, what is allowed) checked by
# `_check_kinds`. Kinds: "int>=N?" (an integer >= N, or null), "number>=N", "fraction<1",
# "bool", "str" (non-empty), ("a", "b", ...) one of those values.
_KINDS = [
    (("data", "root"), "str"), (("data", "dataset"), "str"), (("data", "subset"), "str"),
    (("data", "test_subset"), "str"), (("data", "flip"), "bool"),
    (("data", "pmsp_pframes"), ("sampled", "all")), (("data", "max_videos"), "int>=1?"),
    (("data", "resize_short"), "int>=1?"), (("resume",), "bool"), (("progress",), "bool"),
    (("bf16_cuda",), "bool"), (("out",), "str"), (("optim", "name"), ("sgd", "adam")),
    (("optim", "head_lr_mult"), "number>0"), (("pmsp_reduction",), ("sum", "mean")),
    (("eval", "heldout"), "str?"), (("data", "augment_on"), ("worker", "device", "auto")),
]
_MODEL_KINDS = {
    "imrnet": {"depth": (18, 50), "i_width": "int>=1", "p_width_ratio": "number>0",
               "connection": ("bidirectional", "unidirectional", "none"),
               "lateral": ("conv", "resample"), "gated": "bool", "res5_stride": (1, 2),
               "dropout": "fraction<1", "p_min_width": "int>=1"},
    "coviar": {"i_depth": (18, 34, 50, 101, 152), "p_depth": (18, 34, 50, 101, 152),
               "width": "int>=1", "p_per_gop": "int>=1"},  # 2D ResNets (models.resnet2d)
}
_MODEL_KINDS["imrnet_flow"] = {**_MODEL_KINDS["imrnet"], "flow_width": "int>=1?"}
_MODEL_KINDS["dmcnet"] = {**_MODEL_KINDS["coviar"], "gen_width": "int>=1",
                          "flow_weight": "number>=0", "adversarial_weight": "number>=0",
                          "detach_dmc": "bool"}
_MODEL_KINDS["flow"] = {"depth": (18, 50), "width": "int>=1", "res5_stride": (1, 2),
                        "dropout": "fraction<1"}


def _kind_ok(kind, v) -> tuple[bool, str]:
    """(does ``v`` satisfy ``kind``, what ``kind`` allows in words)."""
    if isinstance(kind, tuple):
        good = any(v == k and type(v) is type(k) for k in kind)  # 18, not 18.0 or True
        return good, f"one of {', '.join(map(str, kind))}"
    if kind.endswith("?"):
        good, allowed = _kind_ok(kind[:-1], v)
        return good or v is None, f"{allowed}, or null"
    if kind.startswith("int>="):
        least = int(kind[5:])
        return (isinstance(v, int) and not isinstance(v, bool) and v >= least,
                f"an integer >= {least}")
    if kind == "number>0":
        n = as_number(v)
        return n is not None and n > 0, "a finite number > 0"
    if kind == "number>=0":
        n = as_number(v)
        return n is not None and n >= 0, "a finite number >= 0"
    if kind == "fraction<1":
        n = as_number(v)
        return n is not None and 0 <= n < 1, "a number in [0, 1)"
    if kind == "bool":
        return isinstance(v, bool), "true or false"
    if kind == "str":
        return isinstance(v, str) and v != "", "a non-empty string"
    raise AssertionError(f"unknown kind {kind!r}")


def _check_kinds(c: dict) -> None:
    checks = list(_KINDS) + [(("model", k), kind) for k, kind in _MODEL_KINDS[c["arch"]].items()]
    for path, kind in checks:
        parent = c
        for k in path[:-1]:
            parent = parent[k]
        v = parent[path[-1]]
        good, allowed = _kind_ok(kind, v)
        if not good:
            raise ValueError(f"{'.'.join(path)} must be {allowed}, got {v!r}")
        if isinstance(v, str) and kind in ("number>0", "number>=0", "fraction<1"):
            parent[path[-1]] = as_number(v)  # YAML reads 1e-4 (no dot) as a string
    w = c["weights"]
    if not isinstance(w, dict):
        raise ValueError(f"weights must be a mapping of task -> number, got {w!r}")
    for task, v in w.items():
        ctp = task in ("ctp", "ctp_binary") and bool({"ctp", "ctp_binary"} & set(c["tasks"]))
        if task not in c["tasks"] and not ctp:  # ctp and ctp_binary share one head's weight
            raise ValueError(f"weights.{task}: not among the tasks of this run "
                             f"({', '.join(c['tasks']) or 'none'})")
        n = as_number(v)
        if n is None or n < 0:
            raise ValueError(f"weights.{task} must be a finite number >= 0, got {v!r}")
    init = c["init"]
    if init is not None and not (isinstance(init, dict) and "checkpoint" in init
                                 and set(init) <= {"checkpoint", "bn_stats"}
                                 and isinstance(init["checkpoint"], str) and init["checkpoint"]):
        raise ValueError(f"init must be null or {{checkpoint: <path>, bn_stats?: keep | reset}}, "
                         f"got {init!r}")
    if init is not None and init.get("bn_stats", "keep") not in ("keep", "reset"):
        raise ValueError(f"init.bn_stats must be one of keep, reset, got {init['bn_stats']!r}")


def make_config(cfg: dict | None = None) -> dict:
    """Defaults overlaid with ``cfg``; unknown keys and bad values are errors naming the key."""
    cfg = cfg or {}
    if not isinstance(cfg, dict):
        raise ValueError(f"a training config must be a mapping, got {cfg!r}")
    arch = cfg.get("arch", DEFAULTS["arch"])
    if not isinstance(arch, str) or arch not in MODEL_DEFAULTS:
        raise ValueError(f"arch must be one of {', '.join(ARCHS)}, got {arch!r}")
    c = deep_merge({**DEFAULTS, "model": MODEL_DEFAULTS[arch]}, cfg, strict=True,
                   what="training param")
    _check_values(c)
    o = c["optim"]
    for k in ("epochs", "batch_size"):
        if int(o[k]) < 1:
            raise ValueError(f"optim.{k} must be >= 1, got {o[k]!r}")
    if not 0 <= int(o["warmup_epochs"]) <= int(o["epochs"]):
        raise ValueError(f"optim.warmup_epochs must be in [0, epochs], got {o['warmup_epochs']!r}")
    if int(c["micro_batches"]) < 1 or int(o["batch_size"]) % int(c["micro_batches"]):
        raise ValueError("micro_batches must divide optim.batch_size")
    if isinstance(c["tasks"], str):
        c["tasks"] = [c["tasks"]]
    if not isinstance(c["tasks"], list) or not all(isinstance(t, str) for t in c["tasks"]):
        raise ValueError(f"tasks must be a list of task names, got {c['tasks']!r}")
    from ..pretext.tasks import TASKS

    unknown = [t for t in c["tasks"] if t not in TASKS]
    if unknown:
        raise ValueError(f"tasks: unknown task(s) {unknown}; known: {', '.join(TASKS)}")
    if not isinstance(c["streams"], list):
        raise ValueError(f"streams must be a list of stream names, got {c['streams']!r}")
    bad = [x for x in c["streams"] if x not in ("iframes", "motion", "residual")] or (
        [] if c["streams"] else ["(none)"])
    if bad:
        raise ValueError(f"streams must be a non-empty subset of iframes, motion, residual; got {bad}")
    _check_kinds(c)
    return c


def _strip(c: dict, path=()) -> dict:
    return {k: (_strip(v, path + (k,)) if isinstance(v, dict) else v)
            for k, v in c.items() if path + (k,) not in NOT_HASHED
            and not (path + (k,) in NEUTRAL and v == NEUTRAL[path + (k,)]
                     and type(v) is not bool)}


def params_hash(cfg: dict) -> str:
    """SHA-256 of the params that change results."""
    return hashlib.sha256(json.dumps(_strip(cfg), sort_keys=True).encode()).hexdigest()[:16]


def diff_params(a: dict, b: dict, path=()) -> list[str]:
    """Human-readable differences between two configs (hashed keys only)."""
    a, b = _strip(a, path), _strip(b, path)
    out = []
    for k in sorted(set(a) | set(b)):
        va, vb = a.get(k), b.get(k)
        if isinstance(va, dict) and isinstance(vb, dict):
            out += diff_params(va, vb, path + (k,))
        elif va != vb:
            out.append(f"{'.'.join(path + (k,))}: {va!r} -> {vb!r}")
    return out
