"""The paper's numbers as data (`paper.yaml`): one source per number, null where unknown.

`load_reference()` returns the rows, checked; `lookup(table, row, dataset, metric)` one value
(None when unknown). The tables put these beside the reproduced cells; a user with the paper's
PDF fills the nulls and regenerates.
"""

from __future__ import annotations

from pathlib import Path

import yaml

__all__ = ["load_reference", "lookup", "REFERENCE_FILE"]

REFERENCE_FILE = Path(__file__).with_name("paper.yaml")
_FIELDS = {"table", "row", "dataset", "metric", "value", "split", "pretraining", "source"}


def load_reference(path: str | Path = REFERENCE_FILE) -> list[dict]:
    """Rows of the reference file; every known value names its source, and no cell repeats."""
    rows = yaml.safe_load(Path(path).read_text())["numbers"]
    seen = set()
    for i, r in enumerate(rows):
        missing = _FIELDS - set(r)
        if missing:
            raise ValueError(f"{path}: entry {i} lacks {sorted(missing)}")
        if r["value"] is not None and not r["source"]:
            raise ValueError(f"{path}: entry {i} ({r['row']}, {r['dataset']}) has a value but no source")
        key = (str(r["table"]), r["row"], r["dataset"], r["metric"])
        if key in seen:
            raise ValueError(f"{path}: {key} appears twice (one source per number)")
        seen.add(key)
    return rows


def lookup(table, row: str, dataset: str, metric: str = "top1", rows=None):
    """The paper's value for one cell, or None when unknown."""
    for r in rows if rows is not None else load_reference():
        if (str(r["table"]), r["row"], r["dataset"], r["metric"]) == (str(table), row, dataset, metric):
            return r["value"]
    return None
