"""DVC stage ``fuse@<name>``: ``python -m pipelines.fuse <name>``, the late fusion of two
finetuning runs' test scores (``finetune.fusions.<name>``: an IMRNet run and a flow network's
run; `imrnet.evaluate.fusion`).

Reads ``runs/finetune/<run>/metrics.json`` of both runs and writes the fused test's summary,
``reports/<profile>/metrics/fuse/<name>.json``, with the fields of a finetuning run's summary
that the report reads (top1, its interval, top5, n, videos, classes) plus what was fused. It
trains nothing, so it has no timing file.
"""

from __future__ import annotations

import argparse
import sys

from imrnet.evaluate.fusion import late_fusion, load_test_scores

from .runs import RUNS_DIR, fusion_spec, load_params, metrics_dir, write_json


def run_fusion(name: str, params_path: str = "params.yaml") -> dict:
    params = load_params(params_path)
    f = fusion_spec(params, name)
    a = load_test_scores(RUNS_DIR / "finetune" / f["imrnet"])
    b = load_test_scores(RUNS_DIR / "finetune" / f["flow"])
    ev = params["train"].get("eval") or {}
    for what in ("seed", "dataset"):
        if a[what] is None or a[what] != b[what]:
            raise ValueError(f"{a['source']} and {b['source']}: runs of {what} {a[what]!r} and "
                             f"{b[what]!r}; a fused cell's {what} is both runs'")
    t = late_fusion(a, b, weight_b=f["flow_weight"], bootstrap=int(ev.get("bootstrap", 1000)),
                    seed=int(a["seed"]))
    summary = {"run": name, "stage": "fuse", "arch": "late_fusion",
               "fused": {"imrnet": f["imrnet"], "flow": f["flow"],
                         "flow_weight": f["flow_weight"]},
               "model": f["model"], "init": f["init"], "dataset": f["dataset"], "seed": a["seed"],
               "top1": t["top1"], "top1_ci95": t["top1_ci95"], "top5": t["top5"], "n": t["n"],
               "videos": t["videos"], "classes": a["classes"],
               "parts_top1": {f["imrnet"]: _top1(a), f["flow"]: _top1(b)}}
    write_json(metrics_dir(params) / "fuse" / f"{name}.json", summary)
    return summary


def _top1(t: dict) -> float:
    """One fused run's own top-1 (what the fusion adds is read beside it)."""
    return float((t["scores"].argmax(1) == t["labels"]).mean())


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m pipelines.fuse", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("name", help="a key of finetune.fusions in the params file")
    ap.add_argument("--params", default="params.yaml")
    a = ap.parse_args(argv)
    try:
        s = run_fusion(a.name, a.params)
    except (ValueError, KeyError, OSError) as e:
        print(f"fuse {a.name}: {e}", file=sys.stderr)
        return 1
    print(f"fuse {a.name}: test top-1 {s['top1']:.3f} [{s['top1_ci95'][0]:.3f}, "
          f"{s['top1_ci95'][1]:.3f}] ({s['fused']['imrnet']} {s['parts_top1'][s['fused']['imrnet']]:.3f}, "
          f"{s['fused']['flow']} {s['parts_top1'][s['fused']['flow']]:.3f})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
