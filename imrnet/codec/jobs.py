"""Re-encoding many videos: a tree mirrored to MPEG-4 (`encode_tree`), a list of (source,
destination) pairs (`encode_jobs`), or any per-item job (`run_jobs`) in worker processes that
die with their parent; bad items are reported, never fatal (`write_failures`). The library
under ``python -m imrnet.codec`` (`imrnet.codec.cli`) and the extract stage
(`imrnet.data.extract`).
"""

from __future__ import annotations

import json
import os
import sys
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from ..paths import refuse_overlap, within, write_bytes_atomic
from .encode import encode_mpeg4, made_by_encode
from .errors import VideoError

__all__ = ["VIDEO_SUFFIXES", "FAILURES", "walk_videos", "encode_jobs", "run_jobs", "encode_tree",
           "write_failures", "die_with_parent"]

VIDEO_SUFFIXES = {".avi", ".mp4", ".mkv", ".mov", ".webm", ".m4v", ".mpg", ".mpeg", ".flv",
                  ".wmv", ".3gp", ".ts", ".mts", ".ogv", ".y4m"}
FAILURES = "encode-failures.json"


def _encode_one(src: str, dst: str, kw: dict) -> tuple[str, dict | None, str | None]:
    try:
        return src, encode_mpeg4(src, dst, **kw).to_dict(), None
    except VideoError as e:
        return src, None, e.reason
    except Exception as e:  # noqa: BLE001 - reported per file, the batch goes on
        return src, None, f"{type(e).__name__}: {e}"


def walk_videos(root: Path, avoid: Path | None = None) -> tuple[list[Path], dict[str, str]]:
    """The video files under ``root`` (symbolic links to files and folders followed, in
    sorted order), and {path: reason} for what cannot be read: a link whose target is
    missing or loops, and a folder reached a second time (a link back up the tree, or two
    links to one folder), which would otherwise be skipped without a word or read forever;
    a link into ``avoid`` (the output tree) is reported and not followed."""
    import errno

    files, problems, seen = [], {}, set()
    avoid_real = os.path.realpath(avoid) if avoid is not None else None

    def visit(folder: Path) -> None:
        real = os.path.realpath(folder)
        if real in seen:
            problems[str(folder)] = ("symbolic link to a folder already read here (a loop, or "
                                     f"a second link to {real}): skipped")
            return
        seen.add(real)
        if avoid_real and (real == avoid_real or real.startswith(avoid_real + os.sep)):
            problems[str(folder)] = f"symbolic link into the output folder {avoid}: skipped"
            return
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as e:
            problems[str(folder)] = f"cannot list this folder ({e.strerror})"
            return
        for entry in entries:
            path = Path(entry.path)
            try:
                os.stat(path)  # follows links
            except OSError as e:
                if entry.is_symlink() and (path.suffix.lower() in VIDEO_SUFFIXES
                                           or e.errno == errno.ELOOP):
                    problems[str(path)] = ("symbolic link loop" if e.errno == errno.ELOOP
                                           else "broken symbolic link (its target is missing)")
                continue
            if path.is_dir():
                visit(path)
            elif path.is_file() and path.suffix.lower() in VIDEO_SUFFIXES:
                files.append(path)

    visit(root)
    return files, problems


def _tree_jobs(src: Path, dst: Path, suffix: str,
               problems: dict | None = None) -> list[tuple[str, str]]:
    """(source, output) pairs of a tree; ValueError when the trees overlap or two sources
    would share one output (``clip.avi`` and ``clip.mkv``), before anything is written.
    Unreadable links and loops (`walk_videos`) go to ``problems``."""
    refuse_overlap(src, dst, what="output folder")
    jobs, by_out = [], {}
    found, bad = walk_videos(src, avoid=dst)
    if problems is not None:
        problems.update(bad)
    for path in found:
        out = (dst / path.relative_to(src)).with_suffix(suffix)
        by_out.setdefault(str(out), []).append(str(path))
        jobs.append((str(path), str(out)))
    clashes = {o: s for o, s in by_out.items() if len(s) > 1}
    if clashes:
        o, s = next(iter(sorted(clashes.items())))
        raise ValueError(f"{len(clashes)} output(s) would be written by two sources, e.g. "
                         f"{o} by {' and '.join(s)}; rename one of them")
    return jobs


def encode_jobs(jobs: list[tuple[str, str]], *, workers: int = 1, progress: bool = True,
                desc: str = "encode", on_done=None, root=None, **kw) -> tuple[dict, dict]:
    """Encode (src, dst) pairs, skipping those whose dst exists (finished: writes are atomic).

    Returns ({src: VideoInfo dict} for the files encoded now, {src: reason} for failures); a
    bad file or a crashed worker is reported and the rest go on. ``on_done(src, info)`` is
    called in this process as each file is finished (a journal of what this run wrote). With
    ``root``, an output whose folder leads outside ``root`` (a symbolic link inside the output
    tree) is refused, not written.
    """
    escaped = {} if root is None else {
        s: (f"{d}: its folder leads outside {root} (to {Path(d).parent.resolve()}) through a "
            "symbolic link; not written") for s, d in jobs if not within(Path(d).parent, root)}
    for why in escaped.values():
        print(f"FAILED {why}", file=sys.stderr)
    jobs = [(s, d) for s, d in jobs if s not in escaped]
    foreign = {s: (f"{d}: exists and was not written by encode_mpeg4; not overwritten (move "
                   "it away)") for s, d in jobs if os.path.lexists(d) and not made_by_encode(d)}
    for why in foreign.values():
        print(f"FAILED {why}", file=sys.stderr)
    todo = [(s, d) for s, d in jobs if not os.path.lexists(d)]
    for _, d in todo:  # temp files of a killed earlier run (encode_mpeg4 writes .<stem>.part-<pid>)
        dp = Path(d)
        for stale in dp.parent.glob(f".{dp.stem}.part-*{dp.suffix}") if dp.parent.is_dir() else ():
            stale.unlink()
    done, failed = run_jobs(_encode_one, [(s, d, kw) for s, d in todo], workers=workers,
                            progress=progress, desc=desc, on_done=on_done,
                            died="the worker process died while encoding this batch (rerun to "
                                 "retry the files not yet written)")
    failed.update(foreign)
    failed.update(escaped)
    return done, failed


def die_with_parent(parent: int) -> None:
    """In a worker process: ask the kernel to kill it when its parent dies (Linux
    ``PR_SET_PDEATHSIG``), so a killed stage leaves no orphaned workers encoding on; exit at
    once if the parent is already gone. Elsewhere a no-op."""
    import ctypes
    import signal

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # died before the call above took effect
        os._exit(1)


def run_jobs(fn, jobs: list[tuple], *, workers: int = 1, progress: bool = True,
             desc: str = "", died: str = "the worker process died",
             fail_prefix: str = "FAILED", on_done=None) -> tuple[dict, dict]:
    """Run ``fn(*job) -> (key, value, error)`` over ``jobs`` (in a process pool when
    ``workers`` > 1) with a progress bar; returns ({key: value} for successes, {key: reason}
    for failures). A failure, or a crashed worker (reported as ``died`` under the job's first
    item), is written to stderr and the rest go on. ``on_done(key, value)`` is called here,
    in order of completion, for each success."""
    from tqdm import tqdm

    done, failed = {}, {}
    bar = tqdm(total=len(jobs), disable=not progress, unit="video", desc=desc)

    def tally(res):
        key, value, err = res
        if err is None:
            done[key] = value
            if on_done is not None:
                on_done(key, value)
        else:
            failed[key] = err
            bar.write(f"{fail_prefix} {key}: {err}", file=sys.stderr)
        bar.update(1)

    if workers <= 1:
        for job in jobs:
            tally(fn(*job))
    else:
        with ProcessPoolExecutor(max_workers=workers, initializer=die_with_parent,
                                 initargs=(os.getpid(),)) as pool:
            futures = {pool.submit(fn, *job): job[0] for job in jobs}
            for fut in as_completed(futures):
                try:
                    res = fut.result()
                except BrokenProcessPool:  # a worker died (a crash in FFmpeg/OpenCV): go on
                    res = (futures[fut], None, died)
                tally(res)
    bar.close()
    return done, failed


def encode_tree(src: str, dst: str, *, workers: int = 1, suffix: str = ".mp4",
                progress: bool = True, **kw) -> dict:
    """Encode every video under ``src`` into the mirrored tree ``dst``; returns a summary dict
    (``encoded``, ``skipped``, ``failed``: {path: reason}) also written, failures only, to
    ``dst/encode-failures.json``."""
    problems: dict = {}
    jobs = _tree_jobs(Path(src), Path(dst), suffix, problems)
    Path(dst).mkdir(parents=True, exist_ok=True)
    for path, why in problems.items():
        print(f"FAILED {path}: {why}", file=sys.stderr)
    skipped = sum(made_by_encode(d) for _, d in jobs if os.path.lexists(d))
    done, failed = encode_jobs(jobs, workers=workers, progress=progress, root=dst, **kw)
    failed.update(problems)
    write_failures(Path(dst) / FAILURES, failed)
    return {"encoded": len(done), "skipped": skipped, "failed": failed}


def write_failures(report: Path, failed: dict) -> None:
    """Write {path: reason} sorted to ``report``; remove a stale report when nothing failed."""
    if failed:
        write_bytes_atomic(report, (json.dumps(dict(sorted(failed.items())), indent=2) + "\n").encode())
    elif report.exists():
        report.unlink()
