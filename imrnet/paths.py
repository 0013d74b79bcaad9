"""Guards shared by the commands that write: an output never is, contains or lies inside its
input, so no command deletes or overwrites what it did not create; one process at a time writes
an output folder (docs/reliability.md)."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

__all__ = ["refuse_overlap", "exclusive", "Busy"]


def refuse_overlap(src: str | os.PathLike, dst: str | os.PathLike, *, what: str = "output") -> None:
    """ValueError, before anything is written, when ``dst`` is ``src`` (symbolic links
    followed), lies inside it, or contains it."""
    s, d = Path(src).resolve(), Path(dst).resolve()
    if s == d:
        raise ValueError(f"{dst}: the {what} is the input {src} itself; refusing to overwrite it")
    if s in d.parents:
        raise ValueError(f"{dst}: the {what} lies inside the input {src}; choose a folder "
                         "outside it")
    if d in s.parents:
        raise ValueError(f"{dst}: the {what} contains the input {src}; choose a folder beside "
                         "it")


class Busy(RuntimeError):
    """Another process holds the lock of an output folder."""


@contextlib.contextmanager
def exclusive(folder: str | os.PathLike, what: str = "this folder", *, name: str = ""):
    """Hold ``<folder>/.lock`` (``.<name>.lock`` with ``name``: an advisory ``flock``,
    released when the process ends, however it ends) for the block; `Busy` at once when
    another process holds it, so two runs never write one output together. DVC ignores these
    files (.dvcignore)."""
    import fcntl

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    fd = os.open(folder / (f".{name}.lock" if name else ".lock"), os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "?"
            raise Busy(f"{folder}: another process (pid {holder}) is writing {what}; wait for "
                       "it to finish, or use another output folder") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        yield
    finally:
        os.close(fd)
