"""Pinned numbers of the smoke profile (``reports/pinned/smoke.json``) and their tolerances.

`collect(workspace)` reads a finished pipeline's metrics; `compare(pinned, measured)` lists every
number outside its tolerance:

* on a machine whose kernels match the accepting machine's (the same CPU name and the same
  `repro.kernelprobe.fingerprint`, both recorded in the pins): every number exactly: FLOPs
  and parameter counts (arithmetic on the architecture), test accuracies, training losses
  and accuracies. The CPU reproducibility mode (`imrnet.reproducibility`) makes a run the
  same bits whatever ISA extensions a machine of one CPU family offers (AVX-512, AMX asked or
  not); the measured spread with the mode is zero.
* on any other machine (another CPU name, e.g. an AMD EPYC against pins accepted on an Intel
  Xeon): FLOPs and parameter counts still exactly, training numbers within `CROSS_KERNEL`,
  sized from the spread measured between an Intel Xeon and an AMD EPYC under the mode before
  2026-12-08 (the pins of 0f3631d and 7cee9d1, MKL's AVX2 branch). The mode now gives both
  vendors the same kernel hashes (docs/reproducibility.md, "Across CPU vendors"), but no whole
  pipeline has been compared on both, so the tolerance stays until one has; `exact_misses`
  counts what differs at all, for the log.

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

__all__ = ["collect", "compare", "CROSS_KERNEL", "exact_misses", "PIN_FILE", "same_kernels",
           "this_machine", "write_pins"]

PIN_FILE = Path("reports/pinned/smoke.json")

# Tolerances where the kernels differ from the accepting machine's. Measured between an Intel
# Xeon and an AMD EPYC, same code, same mode (smoke pins of 0f3631d vs 7cee9d1): pretraining
# losses moved by at most 6.1e-6 relative (supervised CoViAR; the others <= 1.1e-7), their
# train accuracies not at all; finetuning losses by at most 1.11e-2 (the supervised-CoViAR
# finetunes, which end two chained runs; IMRNet runs <= 6.9e-6); test accuracies by at most
# one video (1 of 12). The tolerances are about three times those.
CROSS_KERNEL = {"pretrain_loss_rel": 2e-5, "pretrain_acc_clips": 2,
                "finetune_loss_rel": 3e-2, "finetune_acc_videos": 2}


def collect(workspace: str | Path = ".") -> dict:
    """The pinned quantities of a finished pipeline run in ``workspace`` (the runs its
    params.yaml lists, nothing else lying in reports/<profile>/metrics/)."""
    import yaml

    w = Path(workspace)
    params = yaml.safe_load((w / "params.yaml").read_text())
    md = w / "reports" / params.get("profile_name", "default") / "metrics"
    out = {"finetune": {}, "pretrain": {}, "profile": {}, "modes": {}}
    for name in sorted(params["finetune"]["runs"]):
        p = md / "finetune" / f"{name}.json"
        m = load_json(p)
        out["finetune"][p.stem] = {"top1": m["top1"], "top5": m["top5"], "n": m["n"],
                                   "train_loss": m["final"]["loss"]}
        out["modes"][f"finetune/{p.stem}"] = _mode(m)
    for name in sorted(params["finetune"].get("fusions") or {}):  # late fusions: their tests
        m = load_json(md / "fuse" / f"{name}.json")              # (names apart from the runs')
        out["finetune"][name] = {"top1": m["top1"], "top5": m["top5"], "n": m["n"]}
    for name in sorted(params["pretrain"]["runs"]):
        p = md / "pretrain" / f"{name}.json"
        m = load_json(p)
        out["pretrain"][p.stem] = {k: v for k, v in m["final"].items()
                                   if k in ("loss", "clips") or k.endswith("_loss")
                                   or k.endswith("_acc")}
        out["modes"][f"pretrain/{p.stem}"] = _mode(m)
    prof = load_json(md / "profile.json")
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


def this_machine() -> dict:
    """{"cpu", "kernels"}: the CPU's name and the kernel fingerprint of this process (under
    the mode), as the pins record them."""
    from imrnet.reproducibility import machine

    from .kernelprobe import fingerprint

    return {"cpu": machine()["cpu"], "kernels": fingerprint()}


def same_kernels(pinned: dict, here: dict) -> bool:
    """Whether this machine runs the accepting machine's kernels: the same CPU name and the
    same kernel fingerprint (pins without a fingerprint: the CPU name alone)."""
    return (pinned.get("accepted_on") == here["cpu"]
            and pinned.get("kernels", here["kernels"]) == here["kernels"])


def _within(section: str, key: str, got, pin, run: dict) -> str | None:
    """Why ``got`` is outside the cross-kernel tolerance of ``pin`` (None: inside)."""
    if not isinstance(got, (int, float)) or isinstance(got, bool):
        return "missing" if got is None else "not a number"
    if key.endswith("loss"):
        rel = CROSS_KERNEL[f"{section}_loss_rel"]
        return None if abs(got - pin) <= rel * abs(pin) else f"more than {rel:.0e} relative"
    if key.endswith("acc") or key in ("top1", "top5"):
        count = run.get("n") if section == "finetune" else run.get("clips")
        k = CROSS_KERNEL["finetune_acc_videos" if section == "finetune" else "pretrain_acc_clips"]
        if not count:
            return "no count to size the tolerance" if got != pin else None
        return None if abs(got - pin) <= k / count + 1e-12 else f"more than {k} of {count}"
    return None if got == pin else "exact"


def compare(pinned: dict, measured: dict, *, exact: bool = True) -> list[str]:
    """Every pinned number the measured run misses, as readable lines (empty: all match).
    ``exact=False`` (a machine whose kernels differ from the accepting one's, `same_kernels`)
    compares training numbers within `CROSS_KERNEL`; FLOPs, parameter counts and test-set
    sizes stay exact."""
    bad = [f"{run}: made with reproducibility mode {m!r}; the pins need 'avx2' (unset "
           "IMRNET_CPU_MODE)" for run, m in sorted(measured.get("modes", {}).items()) if m != "avx2"]
    for section in ("finetune", "pretrain"):
        for name, pin, m in _matched(section, pinned[section], measured[section], bad):
            for k, v in sorted(pin.items()):
                if exact or k in ("n", "clips"):
                    if m.get(k) != v:
                        bad.append(f"{section}/{name} {k}: {m.get(k)!r}, pinned {v!r} (exact)")
                    continue
                why = _within(section, k, m.get(k), v, pin)
                if why:
                    bad.append(f"{section}/{name} {k}: {m.get(k)!r}, pinned {v!r} ({why}; "
                               "other kernels than the accepting machine's)")
    for key, pin, m in _matched("profile", _flat(pinned["profile"]), _flat(measured["profile"]), bad):
        if m != pin:
            bad.append(f"profile/{key}: {m}, pinned {pin} (exact)")
    return bad


def exact_misses(pinned: dict, measured: dict) -> tuple[list[str], int]:
    """(the pinned numbers the run does not reproduce bit for bit, how many numbers are
    pinned): numbers only, not the mode refusals or missing runs `compare` also reports."""
    bad: list[str] = []
    total = 0
    for section in ("finetune", "pretrain"):
        for name, pin, m in _matched(section, pinned[section], measured[section], []):
            for k, v in sorted(pin.items()):
                total += 1
                if m.get(k) != v:
                    bad.append(f"{section}/{name} {k}: {m.get(k)!r}, pinned {v!r}")
    for key, pin, m in _matched("profile", _flat(pinned["profile"]), _flat(measured["profile"]), []):
        total += 1
        if m != pin:
            bad.append(f"profile/{key}: {m}, pinned {pin}")
    return bad, total


def write_pins(measured: dict, path: str | Path = PIN_FILE) -> Path:
    """Write ``measured`` as the pins; ValueError when a run was made without the mode."""
    off = sorted(run for run, m in measured.get("modes", {}).items() if m != "avx2")
    if off:
        raise ValueError(f"not pinned: {len(off)} run(s) were made without the reproducibility "
                         f"mode (e.g. {off[0]}); pins must hold on any machine")
    here = this_machine()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    out = {**measured, "accepted_on": here["cpu"], "kernels": here["kernels"]}
    path.write_text(json.dumps(out, indent=1, sort_keys=True) + "\n")
    return path
