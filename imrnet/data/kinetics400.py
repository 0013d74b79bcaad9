"""Kinetics-400 in its official layout.

    root/annotations/{train,val}.csv   label,youtube_id,time_start,time_end,split[,is_cc]
    root/{train,val}/<youtube_id>_<start:06d>_<end:06d>.mp4          (flat), or
    root/{train,val}/<label>/<youtube_id>_<start:06d>_<end:06d>.mp4  (class folders; spaces in
                                                                      the label kept or '_')

Labels: the class names of the annotation files sorted (Python string order). YouTube ids may
start with '-' and labels come quoted; the csv module handles both. Videos that were taken down
are normal: they are left out and listed in ``VideoList.missing`` (id, expected path), with
their count, rather than raising.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

from .records import DatasetError, VideoList, VideoRecord, check_subset, safe_relative

__all__ = ["list_videos", "classes"]

SUBSETS = ("train", "val")


def _rows(root: Path, subset: str) -> list[dict]:
    path = root / "annotations" / f"{subset}.csv"
    if not path.is_file():
        raise DatasetError(path, "missing annotation file")
    with open(path, newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        need = {"label", "youtube_id", "time_start", "time_end"}
        if reader.fieldnames is None or not need <= set(reader.fieldnames):
            raise DatasetError(path, f"header must include {sorted(need)}, got {reader.fieldnames}")
        rows = []
        for i, row in enumerate(reader, start=2):
            try:
                row["time_start"], row["time_end"] = int(float(row["time_start"])), int(float(row["time_end"]))
            except (TypeError, ValueError):
                raise DatasetError(path, f"line {i}: bad time_start/time_end {row}") from None
            for key in ("label", "youtube_id"):  # both become parts of a path
                safe_relative(path, f"line {i}", str(row[key] or ""), single=True)
            rows.append(row)
    return rows


def classes(root: str | os.PathLike) -> list[str]:
    """Class names by label: sorted over the annotation files present."""
    root = Path(root)
    names = set()
    for subset in SUBSETS:
        if (root / "annotations" / f"{subset}.csv").is_file():
            names.update(r["label"] for r in _rows(root, subset))
    if not names:
        raise DatasetError(root / "annotations", "no train.csv or val.csv, or they list no "
                                                 "video")
    return sorted(names)


def list_videos(root: str | os.PathLike, *, split: int = 1, subset: str = "train") -> VideoList:
    """The videos of ``subset`` present under the root, in annotation order (``split`` is
    accepted for a uniform signature; Kinetics-400 has one split)."""
    check_subset(subset, SUBSETS)
    if split != 1:
        raise ValueError(f"Kinetics-400 has one split, got split={split!r}")
    root = Path(root)
    names = classes(root)
    label_of = {n: i for i, n in enumerate(names)}
    base = root / subset
    if not base.is_dir():
        raise DatasetError(base, "missing video folder")
    records, missing = [], []
    for row in _rows(root, subset):
        name = f"{row['youtube_id']}_{row['time_start']:06d}_{row['time_end']:06d}"
        label = row["label"]
        candidates = [base / f"{name}.mp4", base / label / f"{name}.mp4",
                      base / label.replace(" ", "_") / f"{name}.mp4"]
        path = next((p for p in candidates if p.is_file()), None)
        if path is None:
            missing.append((name, str(candidates[0])))
            continue
        records.append(VideoRecord(str(path), label_of[label], label, name))
    if not records:
        raise DatasetError(root / "annotations" / f"{subset}.csv",
                           f"none of its {len(missing)} listed {subset} videos is under {base}"
                           if missing else f"lists no {subset} video")
    return VideoList(records, missing=missing, classes=names)
