"""``python -m repro report [--params params.yaml]``: rebuild the report (tables, figures,
claims.md, index.html) from the existing run metrics, without training (`pipelines.report`).

``python -m repro pin``: after ``make repro PROFILE=smoke``, write this run's numbers to
``reports/pinned/smoke.json`` (the regression tests' pins; `repro.pins`).

``python -m repro bench --check``: measure the runtime ratios and compare them with
``reports/pinned/runtime.json`` (`repro.bench`; exit 3 when the machine was too busy to tell).

``python -m repro crosscheck [--isa avx512] [--native]``: the smoke pipeline in a scratch copy
under other kernel settings, and which pinned numbers move (`repro.crosscheck`).

``python -m repro kernelprobe``: a hash per training kernel under the mode and three
alternatives (MKL AVX2, oneDNN off, channels-last stem), to compare two machines op by op
(`repro.kernelprobe`).

``python -m repro readme [--check]``: the README's claims tables and report tables, regenerated
from ``reports/<profile>/claims.md`` and ``tables/`` (`repro.readme`; exit 1 with --check when
one is stale)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m repro", description=__doc__)
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("report", help="rebuild reports/<profile>/ from its metrics/ and runs/")
    r.add_argument("--params", default="params.yaml")
    sub.add_parser("pin", help="pin the smoke run's numbers in reports/pinned/smoke.json")
    b = sub.add_parser("bench", help="runtime ratios against reports/pinned/runtime.json")
    g = b.add_mutually_exclusive_group()
    g.add_argument("--check", action="store_true", help="compare with the pins (exit 1: moved; "
                   "3: machine too busy to tell)")
    g.add_argument("--accept", action="store_true", help="write the measured ratios as pins")
    b.add_argument("--rounds", type=int, default=7)
    c = sub.add_parser("crosscheck", help="the smoke pipeline under other kernel settings: which "
                       "pinned numbers move")
    c.add_argument("--isa", choices=("avx512", "avx2"), default="avx512")
    c.add_argument("--native", action="store_true", help="with the reproducibility mode off")
    c.add_argument("--workdir", help="a new folder for the scratch copy (default: a temporary one)")
    sub.add_parser("kernelprobe", help="a hash per training kernel, under the mode and three "
                   "alternatives, to compare two machines op by op")
    rd = sub.add_parser("readme", help="regenerate the README's claims tables and report "
                        "tables from the reports")
    rd.add_argument("--check", action="store_true", help="only compare (exit 1: stale)")
    a = ap.parse_args(argv)
    if a.cmd == "readme":
        from .readme import sync_readme

        try:
            changed = sync_readme(check=a.check)
        except (OSError, ValueError) as e:
            print(f"readme: {e}", file=sys.stderr)
            return 2
        if changed:
            print(f"readme: claims tables {'stale' if a.check else 'rewritten'}: "
                  f"{', '.join(changed)}", file=sys.stderr)
        return 1 if (changed and a.check) else 0
    if a.cmd == "kernelprobe":
        from .kernelprobe import main as probe_main

        return probe_main()
    if a.cmd == "crosscheck":
        import subprocess

        from .crosscheck import main as crosscheck_main

        try:
            return crosscheck_main(a.isa, a.native, a.workdir)
        except (OSError, ValueError, subprocess.SubprocessError) as e:
            print(f"crosscheck: {e} (run it from the repository's root)", file=sys.stderr)
            return 2
    if a.cmd == "bench":
        if a.rounds < 2:
            ap.error("bench: --rounds must be at least 2 (the spread needs two)")
        from .bench import main as bench_main

        return bench_main(a.check, a.accept, a.rounds)
    if a.cmd == "pin":
        import yaml

        from .pins import collect, write_pins

        try:
            name = (yaml.safe_load(Path("params.yaml").read_text()) or {}).get("profile_name")
        except (OSError, yaml.YAMLError) as e:
            print(f"pin: params.yaml: cannot read ({e}); run `make repro PROFILE=smoke` first",
                  file=sys.stderr)
            return 2
        if name != "smoke":
            print(f"pin: params.yaml is the {name!r} profile; run `make repro PROFILE=smoke` first",
                  file=sys.stderr)
            return 2
        try:
            print(f"pinned {write_pins(collect('.'))}", file=sys.stderr)
        except ValueError as e:
            print(f"pin: {e}", file=sys.stderr)
            return 2
        return 0
    # the report is the pipeline's stage (pipelines.report), run as its own process: repro
    # never imports pipelines (the layers: imrnet <- repro <- pipelines)
    import subprocess

    return subprocess.run([sys.executable, "-m", "pipelines.report", "--params", a.params]).returncode


if __name__ == "__main__":
    sys.exit(main())
