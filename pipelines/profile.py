"""DVC stage ``profile``: the runtime table of every model at the sizes of params ``profile``.

    python -m pipelines.profile [--params params.yaml]

Deterministic numbers (parameters, fvcore GFLOPs, frames consumed) go to
``reports/<profile>/metrics/profile.json``; the measured times (preprocessing and CNN ms per frame) only
to ``reports/<profile>/timing/runtime/runtime_<size>.{json,md,png}`` (the PNG: GFLOPs and ms per frame,
preprocessing stacked under the CNN; wall time never enters anything else under ``reports/``). Each entry of ``profile.sizes``: size, i_width, res5_stride, coviar_i_depth,
depth50 (`imrnet.profile.runtime.runtime_table`'s arguments); the IMRNet variants' M/R width
floor is the profile's ``train.model.p_min_width`` (default 1), so the FLOPs and times are
those of the IMRNet it trains.
"""

from __future__ import annotations

import argparse
import json
import sys

from imrnet import reproducibility
from imrnet.profile.runtime import format_markdown, runtime_table

from repro.figures import runtime_chart, save_png

from .params import ParamsError, check, load_section, reports_dir_of
from .runs import PROFILE_SIZE_SPEC, PROFILE_SPEC, write_json


def trained_p_min_width(train: dict | None, where: str = "params.yaml") -> int:
    """The M/R width floor the profile trains its IMRNet with (``train.model.p_min_width``,
    default 1), so that the runtime table and the FLOPs claim measure that network."""
    v = ((train or {}).get("model") or {}).get("p_min_width", 1)
    if isinstance(v, bool) or not isinstance(v, int) or v < 1:
        raise ParamsError(f"{where}: train.model.p_min_width must be an integer >= 1, got {v!r}")
    return v


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m pipelines.profile", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--params", default="params.yaml")
    a = ap.parse_args(argv)
    try:
        p = check(f"{a.params}: profile", load_section(a.params, "profile"), PROFILE_SPEC)
        out = reports_dir_of(a.params)
        for i, entry in enumerate(p["sizes"]):
            if not isinstance(entry, dict):
                raise ParamsError(f"{a.params}: profile.sizes[{i}] must be a mapping, got {entry!r}")
            check(f"{a.params}: profile.sizes[{i}]", entry, PROFILE_SIZE_SPEC)
        p_min = trained_p_min_width(load_section(a.params, "train"), a.params)
    except ParamsError as e:
        print(f"profile: {e}", file=sys.stderr)
        return 2
    tables = []
    for entry in p["sizes"]:
        t = runtime_table(**entry, p_min_width=p_min, repeats=int(p.get("repeats", 3)),
                          rounds=int(p.get("rounds", 3)),
                          warmup=int(p.get("warmup", 2)))
        tag = f"runtime_{t['size']}"
        d = out / "timing" / "runtime"
        d.mkdir(parents=True, exist_ok=True)
        (d / f"{tag}.json").write_text(json.dumps({**t, "machine": reproducibility.machine()},
                                                  indent=1) + "\n")
        (d / f"{tag}.md").write_text(format_markdown(t))
        save_png(runtime_chart(t), d / f"{tag}.png")
        tables.append({**{k: t[k] for k in ("size", "i_width", "res5_stride", "coviar_i_depth",
                                            "p_min_width") if k in t},
                       "rows": [{k: r[k] for k in ("model", "input", "frames", "params_m", "gflops",
                                                   "unsupported_ops")} for r in t["rows"]]})
        print(f"profile: {len(t['rows'])} models at {t['size']}x{t['size']}", file=sys.stderr)
    write_json(out / "metrics" / "profile.json",
               {"tables": tables, "reproducibility": reproducibility.record()})
    return 0


if __name__ == "__main__":
    sys.exit(main())
