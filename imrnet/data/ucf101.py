"""UCF-101 in its official layout.

    root/UCF-101/<Class>/v_<Class>_gXX_cYY.avi
    root/ucfTrainTestlist/classInd.txt, trainlist0{1,2,3}.txt, testlist0{1,2,3}.txt

Labels: ``classInd.txt``'s 1-based index minus 1 (its order, alphabetical). Train lists carry a
label, test lists do not; the class is always taken from the entry's folder, which is the one
``classInd`` names (``HandstandPushups/`` holds ``v_HandStandPushups_*`` files). Lists have
CRLF line ends. Every listed video must exist: a missing one is an error (UCF-101 ships whole).

UCF-101 is 25 fps. Re-encoding to the paper's 30 fps duplicates every sixth frame, which puts
zero-motion P-frames at fixed places in every GOP; the extraction stage's fps policy decides
(params ``extract.fps``).
"""

from __future__ import annotations

import os
from pathlib import Path

from .records import (DatasetError, VideoList, VideoRecord, check_split, check_subset, read_lines,
                      read_numbered_lines, require_videos, safe_relative)

__all__ = ["list_videos", "classes"]

VIDEOS, LISTS = "UCF-101", "ucfTrainTestlist"


def classes(root: str | os.PathLike) -> list[str]:
    """Class names by label (``classInd.txt`` order)."""
    path = Path(root) / LISTS / "classInd.txt"
    names = {}
    for ln in read_lines(path):
        parts = ln.split()
        if len(parts) != 2 or not parts[0].isdigit():
            raise DatasetError(path, f"bad line {ln!r} (want '<index> <ClassName>')")
        names[int(parts[0])] = parts[1]
    if sorted(names) != list(range(1, len(names) + 1)):
        raise DatasetError(path, "class indices are not 1..N")
    return [names[i] for i in range(1, len(names) + 1)]


def list_videos(root: str | os.PathLike, *, split: int = 1, subset: str = "train") -> VideoList:
    """The videos of one official split, in list-file order."""
    check_split(split)
    check_subset(subset, ("train", "test"))
    root = Path(root)
    names = classes(root)
    label_of = {n: i for i, n in enumerate(names)}
    lst = root / LISTS / f"{subset}list{split:02d}.txt"
    records, missing, absent_classes = [], [], set()
    for lineno, ln in read_numbered_lines(lst):
        parts = ln.replace("\\", "/").split()
        entry = safe_relative(lst, f"line {lineno}", parts[0])
        if entry.count("/") != 1:
            raise DatasetError(lst, f"line {lineno}: entry {entry!r} is not <class>/<video>")
        folder = entry.split("/")[0]
        if folder not in label_of:
            raise DatasetError(lst, f"entry {entry!r}: class {folder!r} is not in classInd.txt")
        label = label_of[folder]
        if len(parts) > 1 and not parts[1].isdigit():
            raise DatasetError(lst, f"entry {entry!r}: label {parts[1]!r} is not a number")
        if len(parts) > 1 and int(parts[1]) - 1 != label:
            raise DatasetError(lst, f"entry {entry!r}: label {parts[1]} disagrees with classInd "
                                    f"({label + 1} for {folder})")
        path = root / VIDEOS / entry
        if not (root / VIDEOS / folder).is_dir():
            absent_classes.add(folder)
        elif not path.is_file():
            missing.append(entry)
        records.append(VideoRecord(str(path), label, folder, Path(entry).stem))
    if absent_classes:
        raise DatasetError(root / VIDEOS, f"{len(absent_classes)} class folder(s) listed in "
                                          f"{lst.name} are absent: {sorted(absent_classes)[:5]}")
    if missing:
        raise DatasetError(root / VIDEOS, f"{len(missing)} video(s) listed in {lst.name} are "
                                          f"missing, e.g. {missing[:3]}")
    require_videos(records, lst, subset)
    return VideoList(records, classes=names)
