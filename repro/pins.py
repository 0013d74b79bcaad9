"""Pinned numbers of the smoke profile (``reports/pinned/smoke.json``) and their tolerances.

`collect(workspace)` reads a finished pipeline's metrics; `compare(pinned, measured)` lists every
number outside its tolerance:

* every number exactly: FLOPs and parameter counts (arithmetic on the architecture), test
  accuracies, training losses and accuracies. The CPU reproducibility mode
  (`imrnet.reproducibility`) makes a run the same bits whatever ISA extensions a machine of
  one CPU family offers (AVX-512, AMX asked or not); the measured spread with the mode is
  zero, without it a loss moved by up to 1.09% and an accuracy by a video. It does NOT yet
  make an Intel Xeon and an AMD EPYC agree (docs/reproducibility.md, "Across CPU vendors"), so
  the pins record the CPU they were accepted on (``accepted_on``) and a mismatch names both.
  `compare` refuses a run made without the mode rather than widen a tolerance for it, and
  `write_pins` refuses to pin one.

Timings are not pinned here: they depend on the machine's load (`repro.bench`, ``make bench``).

Regenerate the pins (the accept switch): ``IMRNET_ACCEPT=1 make test`` (the regression test
rewrites the file from its smoke run), or ``python -m repro pin`` after ``make repro PROFILE=smoke``.
"""

from __future__ import annotations

import json
from pathlib import Path

from .results import load_json

__all__ = ["collect", "compare", "PIN_FILE", "write_pins"]

PIN_FILE = Path("reports/pinned/smoke.json")


def collect(workspace: str | Path = ".") -> dict:
    """The pinned quantities of a finished pipeline run in ``workspace`` (the runs its
    params.yaml lists, nothing else lying in reports/metrics/)."""
    import yaml

    w = Path(workspace)
    params = yaml.safe_load((w / "params.yaml").read_text())
    out = {"finetune": {}, "pretrain": {}, "profile": {}, "modes": {}}
    for name in sorted(params["finetune"]["runs"]):
        p = w / "reports/metrics/finetune" / f"{name}.json"
        m = load_json(p)
        out["finetune"][p.stem] = {"top1": m["top1"], "top5": m["top5"], "n": m["n"],
                                   "train_loss": m["final"]["loss"]}
        out["modes"][f"finetune/{p.stem}"] = _mode(m)
    for name in sorted(params["pretrain"]["runs"]):
        p = w / "reports/metrics/pretrain" / f"{name}.json"
        m = load_json(p)
        out["pretrain"][p.stem] = {k: v for k, v in m["final"].items()
                                   if k == "loss" or k.endswith("_loss") or k.endswith("_acc")}
        out["modes"][f"pretrain/{p.stem}"] = _mode(m)
    prof = load_json(w / "reports/metrics/profile.json")
    for t in prof["tables"]:
        out["profile"][str(t["size"])] = {r["model"]: {"gflops": r["gflops"], "params_m": r["params_m"]}
                                          for r in t["rows"]}
    return out


def _mode(metrics: dict) -> str:
    """The run's mode, "avx2" only where its numbers hold across machines (the mode held, the
    run trained on CPU); otherwise what it was and why not."""
    r = metrics.get("reproducibility") or {}
    mode = r.get("mode", "unrecorded")
    if mode == "avx2" and r.get("cross_machine") is not True:
        why = r.get("cuda") or "; ".join(map(str, r.get("problems") or [])) or "not recorded"
        return f"avx2, but not cross-machine ({why})"
    return mode


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
    bad = [f"{run}: made with reproducibility mode {m!r}; the pins need 'avx2' (unset "
           "IMRNET_CPU_MODE)" for run, m in sorted(measured.get("modes", {}).items()) if m != "avx2"]
    for section in ("finetune", "pretrain"):
        for name, pin, m in _matched(section, pinned[section], measured[section], bad):
            for k, v in sorted(pin.items()):
                if m.get(k) != v:
                    bad.append(f"{section}/{name} {k}: {m.get(k)!r}, pinned {v!r} (exact)")
    for key, pin, m in _matched("profile", _flat(pinned["profile"]), _flat(measured["profile"]), bad):
        if m != pin:
            bad.append(f"profile/{key}: {m}, pinned {pin} (exact)")
    return bad


def write_pins(measured: dict, path: str | Path = PIN_FILE) -> Path:
    """Write ``measured`` as the pins; ValueError when a run was made without the mode."""
    off = sorted(run for run, m in measured.get("modes", {}).items() if m != "avx2")
    if off:
        raise ValueError(f"not pinned: {len(off)} run(s) were made without the reproducibility "
                         f"mode (e.g. {off[0]}); pins must hold on any machine")
    from imrnet.reproducibility import machine

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    out = {**measured, "accepted_on": machine()["cpu"]}
    path.write_text(json.dumps(out, indent=1, sort_keys=True) + "\n")
    return path
