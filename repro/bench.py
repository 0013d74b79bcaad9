"""Runtime regression, outside `make test`: ``python -m repro bench [--check | --accept]``.

Timings on a shared 2-core machine move with whatever else runs (a ratio of two timings moved
6x while other processes ran), so no timing gates ``make test``. This check measures the two
runtime ratios the harness tracks (`imrnet.profile.runtime.ratio_rounds`: IMRNet-R18 vs CoViAR
total ms per frame, Farneback flow vs motion vectors ms per field) in alternating rounds and:

* calls the machine **busy** when a ratio's rounds spread more than `BUSY_SPREAD` (max / min):
  the result is then reported as inconclusive (exit 3), never as a regression (the load
  average is printed beside it, but not used: right after the pytest benchmarks it is high on
  a machine that is now quiet);
* otherwise compares each ratio's median with ``reports/pinned/runtime.json`` within a factor
  of `TOLERANCE` (exit 1 outside it, 0 inside); pins measured with other settings (rounds,
  repeats, sizes) are not compared (exit 4: re-accept them).

The pins hold for the machine kind that accepted them (this project's 2-core Xeon, under the
CPU reproducibility mode, whose AVX2-capped kernels the timings include): on another CPU a
ratio can move by more than x2 and exit 1; accept pins for that machine there.

``--accept`` writes the measured medians as the new pins (on a quiet machine). ``make bench``
runs it after the pytest benchmarks. Tolerances and the spreads they come from:
docs/reproducibility.md.
"""

from __future__ import annotations

import json
import os
import statistics
from pathlib import Path

__all__ = ["PIN_FILE", "TOLERANCE", "BUSY_SPREAD", "measure", "verdict", "main"]

PIN_FILE = Path("reports/pinned/runtime.json")
TOLERANCE = 2.0
BUSY_SPREAD = 2.5
SETTINGS = dict(size=64, i_width=8, res5_stride=1, coviar_i_depth=18)


def measure(rounds: int = 7, repeats: int = 9) -> dict:
    """Per-round ratios, their medians and spreads, and the load when the run started."""
    from imrnet import reproducibility
    from imrnet.profile.runtime import ratio_rounds

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
    rows = ratio_rounds(**SETTINGS, rounds=rounds, repeats=repeats)
    names = sorted(rows[0])
    return {"settings": {**SETTINGS, "rounds": rounds, "repeats": repeats},
            "rounds": rows, "median": {k: statistics.median(r[k] for r in rows) for k in names},
            "spread": {k: max(r[k] for r in rows) / min(r[k] for r in rows) for k in names},
            "load_at_start": load, "cores": os.cpu_count(), "machine": reproducibility.machine()}


def verdict(measured: dict, pins: dict) -> tuple[int, list[str]]:
    """(exit code, lines): 0 within tolerance, 1 a regression, 3 inconclusive (busy), 4 pins
    made with other settings."""
    if pins.get("settings", measured["settings"]) != measured["settings"]:
        return 4, [f"the pins were measured with {pins['settings']}, this run with "
                   f"{measured['settings']}: not comparable; accept new pins "
                   "(python -m repro bench --accept)"]
    lines = [f"load average at the start {measured['load_at_start']:.2f} on "
             f"{measured['cores']} cores (not used to judge)"]
    busy = []
    for k, s in measured["spread"].items():
        if s > BUSY_SPREAD:
            busy.append(f"{k} spread x{s:.2f} across rounds (> x{BUSY_SPREAD:g})")
    bad = 0
    for k, v in measured["median"].items():
        pin = pins["median"].get(k)
        if pin is None:
            lines.append(f"{k}: {v:.3g} (no pin)")
            continue
        ok = pin / TOLERANCE <= v <= pin * TOLERANCE
        bad += not ok
        lines.append(f"{k}: {v:.3g}, pinned {pin:.3g} (within x{TOLERANCE:g}: "
                     f"{'yes' if ok else 'NO'}; rounds spread x{measured['spread'][k]:.2f})")
    if busy:
        lines.append("busy machine, inconclusive: " + "; ".join(busy) +
                     ". Rerun on a quiet machine.")
        return 3, lines
    return (1 if bad else 0), lines


def main(check: bool, accept: bool, rounds: int, pin_file: Path = PIN_FILE) -> int:
    m = measure(rounds)
    for r, row in enumerate(m["rounds"]):
        print(f"round {r + 1}: " + ", ".join(f"{k} {v:.3g}" for k, v in sorted(row.items())))
    if accept:
        code, lines = verdict(m, {"median": {}, "settings": m["settings"]})
        if code == 3:
            print("\n".join(lines) + "\nnot accepted: pins come from a quiet machine")
            return 3
        pin_file.parent.mkdir(parents=True, exist_ok=True)
        pin_file.write_text(json.dumps({k: m[k] for k in ("settings", "median", "spread",
                                                          "machine")}, indent=1) + "\n")
        print(f"pinned {pin_file}")
        return 0
    if not check:
        print(json.dumps({k: m[k] for k in ("median", "spread", "load_at_start")}, indent=1))
        return 0
    try:
        pins = json.loads(pin_file.read_text())
        pins["median"]
    except (OSError, ValueError, KeyError, TypeError) as e:
        print(f"{pin_file}: no usable runtime pins ({type(e).__name__}: {e}); "
              "python -m repro bench --accept writes them")
        return 2
    code, lines = verdict(m, pins)
    print("\n".join(lines))
    return code
