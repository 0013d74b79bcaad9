"""``python -m repro report [--params params.yaml]``: rebuild the report (tables, figures,
claims.md, index.html) from the existing run metrics, without training (`pipelines.report`)."""

from __future__ import annotations

import argparse
import sys


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m repro", description=__doc__)
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("report", help="rebuild reports/ from reports/metrics and runs/")
    r.add_argument("--params", default="params.yaml")
    a = ap.parse_args(argv)
    from pipelines.report import main as report_main

    return report_main(["--params", a.params])


if __name__ == "__main__":
    sys.exit(main())
