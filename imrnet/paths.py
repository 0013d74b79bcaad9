"""Guards shared by the commands that write: an output never is, contains or lies inside its
input, so no command deletes or overwrites what it did not create; one process at a time writes
an output folder (docs/reliability.md)."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

__all__ = ["refuse_overlap", "exclusive", "Busy", "atomic_path", "write_bytes_atomic", "WriteFailed"]


def refuse_overlap(src: str | os.PathLike, dst: str | os.PathLike, *, what: str = "output") -> None:
    """ValueError, before anything is written, when ``dst`` is ``src`` (symbolic links
    followed), lies inside it, or contains it."""
    s, d = Path(src).resolve(), Path(dst).resolve()
    # by path, and by identity (device, inode) for what exists: one folder reached by two
    # paths that resolve differently (a bind mount) is still one folder
    s_id, d_id = _identity(s), _identity(d)
    if s == d or (s_id is not None and s_id == d_id):
        raise ValueError(f"{dst}: the {what} is the input {src} itself; refusing to overwrite it")
    if s in d.parents or (s_id is not None and s_id in _ancestor_ids(d)):
        raise ValueError(f"{dst}: the {what} lies inside the input {src}; choose a folder "
                         "outside it")
    if d in s.parents or (d_id is not None and d_id in _ancestor_ids(s)):
        raise ValueError(f"{dst}: the {what} contains the input {src}; choose a folder beside "
                         "it")


def within(path: str | os.PathLike, folder: str | os.PathLike) -> bool:
    """Whether ``path`` is ``folder`` or lies inside it, symbolic links followed, by path or
    by the identity (device, inode) of an existing folder (one reached through a bind mount)."""
    p, f = Path(path).resolve(), Path(folder).resolve()
    if p == f or f in p.parents:
        return True
    f_id = _identity(f)
    return f_id is not None and (f_id == _identity(p) or f_id in _ancestor_ids(p))


def _identity(p: Path) -> tuple[int, int] | None:
    try:
        st = p.stat()
    except OSError:
        return None
    return st.st_dev, st.st_ino


def _ancestor_ids(p: Path) -> set:
    """(device, inode) of each existing folder above ``p``."""
    return {i for i in map(_identity, p.parents) if i is not None}


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


class WriteFailed(OSError):
    """An output that could not be written (disk full, quota, permissions); the message names
    the output and the system's reason, and nothing partial is left behind."""


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, *, suffix: str = ""):
    """Yield a temporary path beside ``path`` (``.<name>.part-<pid><suffix>``) to write; when
    the block ends normally it is renamed onto ``path``, else removed. An `OSError` inside
    (``ENOSPC``, ``EDQUOT``, ``EFBIG``, ``EACCES``...) becomes `WriteFailed` naming ``path``, so
    a full disk never surfaces as a library's bare message or leaves a ``.part`` file."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.part-{os.getpid()}{suffix}")
    try:
        yield tmp
        os.replace(tmp, path)
    except OSError as e:
        if isinstance(e, WriteFailed):
            raise
        raise WriteFailed(e.errno, f"{path}: cannot write ({e.strerror or e})") from e
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()


def write_bytes_atomic(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` through `atomic_path`, flushed to disk before the rename."""
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
