"""DVC stages ``pretrain@<run>`` and ``finetune@<run>``: one `imrnet.train` run from params.

    python -m pipelines.pretrain <run>     # pretrain.runs.<run>  -> runs/pretrain/<run>/
    python -m pipelines.finetune <run>     # finetune.runs.<run>  -> runs/finetune/<run>/

Besides the run folder (weights, checkpoint, metrics.jsonl), each writes a small summary for
the report, ``reports/<profile>/metrics/<stage>/<run>.json`` (deterministic: no wall time), and
its wall times to ``reports/<profile>/timing/<stage>/<run>.json``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from imrnet.paths import Busy
from imrnet.train import CheckpointMismatch, finetune, pretrain, read_log

from .runs import finetune_config, load_params, metrics_dir, pretrain_config, timing_dir, write_json


def run_stage(stage: str, name: str, params_path: str = "params.yaml") -> dict:
    params = load_params(params_path)
    cfg = (pretrain_config if stage == "pretrain" else finetune_config)(params, name)
    t0 = time.perf_counter()
    res = (pretrain if stage == "pretrain" else finetune)(cfg)
    wall = time.perf_counter() - t0
    if int(os.environ.get("RANK", "0")) != 0:  # under torchrun rank 0 writes the summaries
        return {}
    out = Path(cfg["out"])
    summary = {"run": name, "stage": stage, "arch": res["params"]["arch"],
               "dataset": cfg["data"]["dataset"], "epochs": cfg["optim"]["epochs"],
               "seed": cfg["seed"],
               "params_hash": res["params_hash"], "final": res["train"],
               "reproducibility": res["environment"]["reproducibility"],
               "curve": read_log(out / "metrics.jsonl")}
    if stage == "pretrain":
        summary["tasks"] = cfg["tasks"]
        of = (params["pretrain"]["runs"][name] or {}).get("replicate_of")
        if of:
            summary["replicate_of"] = of
        if res.get("heldout"):
            summary["heldout"] = res["heldout"]
    else:
        run = params["finetune"]["runs"][name]
        t = res["test"]
        summary.update(model=run["model"], init=run["init"],
                       top1=t["top1"], top1_ci95=t["top1_ci95"], top5=t["top5"], n=t["n"],
                       videos=t["videos"], classes=res["classes"])
    write_json(metrics_dir(params) / stage / f"{name}.json", summary)
    write_json(timing_dir(params) / stage / f"{name}.json",
               {"run": name, "wall_s": round(wall, 2), "epochs": read_log(out / "timing.jsonl"),
                "machine": res["environment"]["machine"]})
    return summary


def main(stage: str, argv=None) -> int:
    ap = argparse.ArgumentParser(prog=f"python -m pipelines.{stage}", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("run", help=f"a key of {stage}.runs in the params file")
    ap.add_argument("--params", default="params.yaml")
    a = ap.parse_args(argv)
    try:
        s = run_stage(stage, a.run, a.params)
    except (CheckpointMismatch, ValueError, KeyError, OSError, Busy) as e:
        print(f"{stage} {a.run}: {e}", file=sys.stderr)
        return 1
    if not s:
        return 0
    msg = (f"test top-1 {s['top1']:.3f} [{s['top1_ci95'][0]:.3f}, {s['top1_ci95'][1]:.3f}]"
           if stage == "finetune" else f"final loss {s['final'].get('loss', float('nan')):.3f}")
    print(f"{stage} {a.run}: {s['epochs']} epochs, {msg}", file=sys.stderr)
    return 0
