"""``python -m repro report [--params params.yaml]``: rebuild the report (tables, figures,
claims.md, index.html) from the existing run metrics, without training (`pipelines.report`).

``python -m repro pin``: after ``make repro PROFILE=smoke``, write this run's numbers to
``reports/pinned/smoke.json`` (the regression tests' pins; `repro.pins`)."""

from __future__ import annotations

import argparse
import sys


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m repro", description=__doc__)
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("report", help="rebuild reports/ from reports/metrics and runs/")
    r.add_argument("--params", default="params.yaml")
    sub.add_parser("pin", help="pin the smoke run's numbers in reports/pinned/smoke.json")
    a = ap.parse_args(argv)
    if a.cmd == "pin":
        import yaml

        from .pins import collect, write_pins

        name = (yaml.safe_load(open("params.yaml")) or {}).get("profile_name")
        if name != "smoke":
            print(f"pin: params.yaml is the {name!r} profile; run `make repro PROFILE=smoke` first",
                  file=sys.stderr)
            return 2
        print(f"pinned {write_pins(collect('.'))}", file=sys.stderr)
        return 0
    from pipelines.report import main as report_main

    return report_main(["--params", a.params])


if __name__ == "__main__":
    sys.exit(main())
