"""HMDB-51 in its official layout.

    root/<class>/<video>.avi                       (the 51 per-class .rar archives extracted)
    root/testTrainMulti_7030_splits/<class>_test_split{1,2,3}.txt

Each split file line is ``<video>.avi <tag>``: 1 = train, 2 = test, 0 = not used in that split.
Labels: the class names sorted (Python string order), index = label. Every listed video must
exist.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from .records import (DatasetError, VideoList, VideoRecord, check_split, check_subset,
                      read_numbered_lines, require_videos, safe_relative)

__all__ = ["list_videos", "classes"]

SPLITS = "testTrainMulti_7030_splits"
_TAG = {"train": "1", "test": "2"}


def _split_files(root: Path, split: int) -> dict[str, Path]:
    """{class: split file} for one split. The class list is the union over all three splits'
    file names, so labels never depend on which split is read; a class without a file for
    this split is an error, not a silently shifted label."""
    d = root / SPLITS
    if not d.is_dir():
        raise DatasetError(d, "missing split folder (extract test_train_splits.rar here)")
    pat = re.compile(r"^(.+)_test_split([123])\.txt$")
    found = [(m.group(1), int(m.group(2)), p) for p in d.iterdir() if (m := pat.match(p.name))]
    for c, _, p in found:  # the class name becomes a folder name
        safe_relative(p, "class name from the file name", c, single=True)
    names = {c for c, _, _ in found}
    files = {c: p for c, s, p in found if s == split}
    if not files:
        raise DatasetError(d, f"no <class>_test_split{split}.txt files")
    lacking = sorted(names - set(files))
    if lacking:
        raise DatasetError(d, f"split {split} files missing for {len(lacking)} class(es): {lacking[:5]}")
    return files


def classes(root: str | os.PathLike, split: int = 1) -> list[str]:
    """Class names by label (sorted)."""
    return sorted(_split_files(Path(root), check_split(split)))


def list_videos(root: str | os.PathLike, *, split: int = 1, subset: str = "train") -> VideoList:
    """The videos of one official split: classes in label order, videos as listed."""
    check_split(split)
    check_subset(subset, ("train", "test"))
    root = Path(root)
    files = _split_files(root, split)
    names = sorted(files)
    records, missing = [], []
    for label, name in enumerate(names):
        if not (root / name).is_dir():
            raise DatasetError(root / name, f"class folder listed by {files[name].name} is absent "
                                            f"(extract {name}.rar here)")
        for lineno, ln in read_numbered_lines(files[name]):
            parts = ln.split()
            if len(parts) != 2 or parts[1] not in ("0", "1", "2"):
                raise DatasetError(files[name], f"line {lineno}: bad line {ln!r} (want "
                                                "'<video>.avi <0|1|2>')")
            safe_relative(files[name], f"line {lineno}", parts[0], single=True)
            if parts[1] != _TAG[subset]:
                continue
            path = root / name / parts[0]
            if not path.is_file():
                missing.append(f"{name}/{parts[0]}")
            records.append(VideoRecord(str(path), label, name, Path(parts[0]).stem))
    if missing:
        raise DatasetError(root, f"{len(missing)} listed video(s) are missing, e.g. {missing[:3]}")
    require_videos(records, root / SPLITS, f"split-{split} {subset}")
    return VideoList(records, classes=names)
