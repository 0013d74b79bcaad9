"""What a dataset adapter returns: one `VideoRecord` per video, and the adapters' errors."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

__all__ = ["VideoRecord", "VideoList", "DatasetError", "read_lines", "read_numbered_lines",
           "safe_relative", "check_subset", "check_split", "require_videos"]


@dataclass(frozen=True)
class VideoRecord:
    """One video of a dataset split.

    Attributes:
        path: the video file.
        label: 0-based class index (the adapter's documented order).
        class_name: the class's name as the dataset spells it.
        video_id: the file's stem (unique within the dataset).
    """

    path: str
    label: int
    class_name: str
    video_id: str


class VideoList(list):
    """A list of `VideoRecord` in a stable order, plus the videos the split lists but the root
    lacks (``missing``: (video_id, expected path) pairs; empty unless the adapter tolerates
    missing videos, as Kinetics-400's does) and the class names by label (``classes``)."""

    def __init__(self, records=(), *, missing=(), classes=()):
        super().__init__(records)
        self.missing = list(missing)
        self.classes = list(classes)


class DatasetError(ValueError):
    """A dataset root that does not match the official layout; the message names the file."""

    def __init__(self, path: str | os.PathLike, reason: str):
        self.path, self.reason = os.fspath(path), reason
        super().__init__(f"{self.path}: {reason}")

    def __reduce__(self):
        return (self.__class__, (self.path, self.reason))


def read_lines(path: Path) -> list[str]:
    """Non-empty, stripped lines of a text file (CRLF or LF; UTF-8 with a BOM or Latin-1)."""
    return [ln for _, ln in read_numbered_lines(path)]


def safe_relative(listing: Path, where: str, entry: str, *, single: bool = False) -> str:
    """``entry`` (a path a split or annotation file gives, relative to the dataset root) when it
    stays inside the root: no absolute path, no ``..``, no NUL; with ``single``, one name (no
    folder). Else a `DatasetError` naming the file and ``where`` (e.g. "line 12")."""
    norm = entry.replace("\\", "/")
    parts = norm.split("/")
    bad = (not norm or "\0" in norm or norm.startswith("/") or ".." in parts or "." in parts
           or "" in parts or (len(norm) > 1 and norm[1] == ":") or (single and len(parts) > 1))
    if bad:
        what = "a file name" if single else "a path inside the dataset root"
        raise DatasetError(listing, f"{where}: entry {entry!r} is not {what} (refused: it "
                                    "could read or write outside the dataset)")
    return norm


def read_numbered_lines(path: Path) -> list[tuple[int, str]]:
    """(1-based line number, stripped text) of the non-empty lines of a text file."""
    if not path.is_file():
        raise DatasetError(path, "missing split/annotation file (is the official download "
                                 "extracted next to the videos?)")
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    lines = [(i, ln.strip()) for i, ln in enumerate(text.splitlines(), start=1) if ln.strip()]
    if not lines:  # a list that lists nothing would otherwise surface only in training
        raise DatasetError(path, "is empty: it lists nothing (a damaged or partial download?)")
    return lines


def require_videos(records: list, listing: Path, subset: str) -> None:
    """A split that selects no video is an error naming its list, not an empty dataset that
    fails only in training."""
    if not records:
        raise DatasetError(listing, f"lists no {subset} video")


def check_split(split: int, allowed=(1, 2, 3)) -> int:
    if split not in allowed:
        raise ValueError(f"split must be one of {allowed}, got {split!r}")
    return split


def check_subset(subset: str, allowed: tuple[str, ...]) -> str:
    if subset not in allowed:
        raise ValueError(f"subset must be one of {allowed}, got {subset!r}")
    return subset


def stamp_matches(base: Path, params: dict, *, stamp: str = ".params.json") -> bool:
    """Whether ``base`` holds the stamp `reset_if_changed` writes for ``params``."""
    f = Path(base) / stamp
    try:
        return f.read_text() == _stamp_text(params)
    except OSError:
        return False


def _stamp_text(params: dict) -> str:
    import json

    return json.dumps(params, sort_keys=True, indent=1) + "\n"


def reset_if_changed(base: Path, params: dict, *, stamp: str = ".params.json") -> bool:
    """Keep ``base`` (a stage's own output folder) only if it was built with ``params``.

    Stages resume by keeping finished files; after a change of params those files would be
    stale and silently mixed with new ones. A stamp of the params is kept in ``base``: when it
    differs, ``base`` is deleted (it holds only this stage's outputs) and True is returned. A
    non-empty ``base`` without a stamp was not made by a stage: `DatasetError`, nothing deleted.
    """
    import shutil
    import sys

    base = Path(base)
    text = _stamp_text(params)
    f = base / stamp
    changed = base.is_dir() and (not f.is_file() or f.read_text() != text) and any(base.iterdir())
    if changed and not f.is_file():
        raise DatasetError(base, f"not empty and not made by this stage (no {stamp}); refusing "
                                 "to delete it: move it away or choose another output folder")
    if changed:
        print(f"{base}: built with other params; rebuilding it", file=sys.stderr)
        shutil.rmtree(base)
    base.mkdir(parents=True, exist_ok=True)
    from ..paths import write_bytes_atomic

    write_bytes_atomic(f, text.encode())  # a failed write leaves no stray file behind
    return changed
