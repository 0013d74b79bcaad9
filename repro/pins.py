"""Pinned numbers of the smoke profile (``reports/pinned/smoke.json``) and their tolerances.

`collect(workspace)` reads a finished pipeline's metrics; `compare(pinned, measured)` lists every
number outside its tolerance:

* FLOPs and parameter counts: exact (they are arithmetic on the architecture);
* test accuracies: within one test video (1 / n). The same machine reproduces them bit for bit
  (tested separately: two forced runs give byte-identical reports); another CPU's kernels
  (AVX2 vs AVX-512) sum in another order, which can flip a near-tie prediction;
* training losses and accuracies: relative 2e-3 (absolute 2e-3 for accuracies), same reason;
* runtime, as ratios measured within one run (IMRNet-R18 vs CoViAR ms per frame; Farneback flow
  vs motion vectors, ms per field): within a factor of 3 of the pinned ratio (a shared machine).

Regenerate the pins (the accept switch): ``IMRNET_ACCEPT=1 make test`` (the regression test
rewrites the file from its smoke run), or ``python -m repro pin`` after ``make repro PROFILE=smoke``.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from .results import load_json

__all__ = ["collect", "compare", "PIN_FILE", "write_pins"]

PIN_FILE = Path("reports/pinned/smoke.json")
RUNTIME_FACTOR = 3.0


def collect(workspace: str | Path = ".") -> dict:
    """The pinned quantities of a finished pipeline run in ``workspace`` (the runs its
    params.yaml lists, nothing else lying in reports/metrics/)."""
    import yaml

    w = Path(workspace)
    params = yaml.safe_load((w / "params.yaml").read_text())
    out = {"finetune": {}, "pretrain": {}, "profile": {}, "runtime_ratios": {}}
    for name in sorted(params["finetune"]["runs"]):
        p = w / "reports/metrics/finetune" / f"{name}.json"
        m = load_json(p)
        out["finetune"][p.stem] = {"top1": m["top1"], "top5": m["top5"], "n": m["n"],
                                   "train_loss": m["final"]["loss"]}
    for name in sorted(params["pretrain"]["runs"]):
        p = w / "reports/metrics/pretrain" / f"{name}.json"
        m = load_json(p)
        out["pretrain"][p.stem] = {k: v for k, v in m["final"].items()
                                   if k == "loss" or k.endswith("_loss") or k.endswith("_acc")}
    prof = load_json(w / "reports/metrics/profile.json")
    for t in prof["tables"]:
        out["profile"][str(t["size"])] = {r["model"]: {"gflops": r["gflops"], "params_m": r["params_m"]}
                                          for r in t["rows"]}
    for p in sorted((w / "reports/timing/runtime").glob("runtime_*.json")):
        t = load_json(p)
        rows = {r["model"]: r for r in t["rows"]}
        cov = next(r for k, r in rows.items() if k.startswith("CoViAR"))
        pre = t["preprocessing_ms_per_frame"]
        out["runtime_ratios"][str(t["size"])] = {
            "imrnet_vs_coviar_total_ms_per_frame":
                rows["IMRNet-R18"]["total_ms_per_frame"] / cov["total_ms_per_frame"],
            "flow_vs_motion_vectors_ms_per_field": pre["flow"] / pre["motion_vectors"]}
    return out


def _flat(d: dict) -> dict:
    """{size: {name: v}} -> {"size/name": v}."""
    return {f"{a}/{b}": v for a, inner in d.items() for b, v in inner.items()}


def _matched(section: str, pins: dict, got: dict, bad: list):
    """(key, pinned, measured) for every pinned key the run produced; the others are reported."""
    for key, pin in pins.items():
        if key in got:
            yield key, pin, got[key]
        else:
            bad.append(f"{section}/{key}: pinned but not produced by this run")


def compare(pinned: dict, measured: dict) -> list[str]:
    """Every pinned number the measured run misses, as readable lines (empty: all match)."""
    bad = []
    for name, pin, m in _matched("finetune", pinned["finetune"], measured["finetune"], bad):
        tol = 1.0 / max(1, pin["n"]) + 1e-9
        for k in ("top1", "top5"):
            if abs(m[k] - pin[k]) > tol:
                bad.append(f"finetune/{name} {k}: {m[k]:.4f}, pinned {pin[k]:.4f} (tolerance one "
                           f"video, {tol:.4f})")
        if m["n"] != pin["n"]:
            bad.append(f"finetune/{name}: {m['n']} test videos, pinned {pin['n']}")
        if not math.isclose(m["train_loss"], pin["train_loss"], rel_tol=2e-3):
            bad.append(f"finetune/{name} train_loss: {m['train_loss']:.6g}, "
                       f"pinned {pin['train_loss']:.6g}")
    for name, pin, m in _matched("pretrain", pinned["pretrain"], measured["pretrain"], bad):
        for k, v in pin.items():
            ok = (abs(m.get(k, math.inf) - v) <= 2e-3 if k.endswith("_acc")
                  else math.isclose(m.get(k, math.inf), v, rel_tol=2e-3))
            if not ok:
                bad.append(f"pretrain/{name} {k}: {m.get(k)}, pinned {v}")
    for key, pin, m in _matched("profile", _flat(pinned["profile"]), _flat(measured["profile"]), bad):
        if m != pin:
            bad.append(f"profile/{key}: {m}, pinned {pin} (exact)")
    for key, v, m in _matched("runtime_ratios", _flat(pinned["runtime_ratios"]),
                              _flat(measured["runtime_ratios"]), bad):
        if not v / RUNTIME_FACTOR <= m <= v * RUNTIME_FACTOR:
            bad.append(f"runtime_ratios/{key}: {m:.3g}, pinned {v:.3g} (within x{RUNTIME_FACTOR:g})")
    return bad


def write_pins(measured: dict, path: str | Path = PIN_FILE) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(measured, indent=1, sort_keys=True) + "\n")
    return path
