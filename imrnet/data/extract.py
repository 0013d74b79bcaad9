"""Re-encode a dataset to MPEG-4 Part 2 and index it (the ``extract`` stage's library).

Jobs come from the dataset's own listing (the synthetic index, or the official split files of
UCF-101 / HMDB-51 / Kinetics-400); each video becomes ``<dst>/<name>/<relative path>.mp4``.
Finished outputs are skipped (writes are atomic), so a killed run resumes; a run over a shard
(`shard_of`) writes ``index.shard-I-of-N.json`` and `merge_shards` joins the shards into the
``index.json`` one machine would have written.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sys
import time
from pathlib import Path

from ..codec import VideoError, probe_mpeg4
from ..codec.encode import made_by_encode
from ..paths import Busy, exclusive, refuse_overlap, within, write_bytes_atomic
from ..codec.jobs import encode_jobs, write_failures
from . import hmdb51, kinetics400, ucf101
from .flow import FLOW_METHODS, flow_jobs, flow_path
from .records import (DatasetError, VideoList, VideoRecord, reset_if_changed, safe_relative,
                      stamp_matches)

__all__ = ["dataset_jobs", "extract", "merge_shards", "shard_of", "load_index", "subset_tag",
           "index_gop_size"]

_REAL = {"ucf101": (ucf101, [(s, t) for s in (1, 2, 3) for t in ("train", "test")]),
         "hmdb51": (hmdb51, [(s, t) for s in (1, 2, 3) for t in ("train", "test")]),
         "kinetics400": (kinetics400, [(1, "train"), (1, "val")])}


_SPLIT_FILES = {"ucf101": "ucfTrainTestlist/trainlist0{split}.txt",
                "hmdb51": "testTrainMulti_7030_splits/*_test_split{split}.txt"}


def _has_split(name: str, base: Path, split: int) -> bool:
    pattern = _SPLIT_FILES.get(name)
    return pattern is None or any(base.glob(pattern.format(split=split)))


def _optional(name: str, base: Path, split: int, subset: str) -> bool:
    """Splits 2 and 3 (UCF-101, HMDB-51) and Kinetics-400's val set may be absent (training
    here pretrains on Kinetics' train set); when present, their errors count."""
    if name == "kinetics400" and subset == "val":
        return not (base / "annotations" / "val.csv").is_file()
    return split != 1 and not _has_split(name, base, split)


def subset_tag(name: str, subset: str, split: int = 1) -> str:
    """How the index tags membership: "train1" / "test1" (UCF-101, HMDB-51: split 1..3),
    "train" / "val" (Kinetics-400), "train" / "test" (built-in sets, one split)."""
    return f"{subset}{split}" if name in ("ucf101", "hmdb51") else subset


def read_rows(idx: Path, keys: dict) -> list[dict]:
    """The rows of index file ``idx`` (a JSON list of objects), each holding ``keys`` ({key:
    type}); else `DatasetError` naming the file, the row and what is wrong with it."""
    try:
        rows = json.loads(idx.read_text())
    except OSError as e:
        raise DatasetError(idx, f"cannot read ({e.strerror})") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise DatasetError(idx, f"not valid JSON ({e})") from None
    if not isinstance(rows, list):
        raise DatasetError(idx, f"must be a JSON list of videos, got {type(rows).__name__}")
    for i, r in enumerate(rows):
        if not isinstance(r, dict):
            raise DatasetError(idx, f"entry {i} must be an object, got {r!r:.80}")
        for k, t in keys.items():
            if k not in r:
                raise DatasetError(idx, f"entry {i} lacks {k!r}: {json.dumps(r)[:120]}")
            if not isinstance(r[k], t) or isinstance(r[k], bool):
                raise DatasetError(idx, f"entry {i}: {k} must be a {t.__name__}, got {r[k]!r:.80}")
    return rows


_SOURCE_ROW = {"video_id": str, "label": int, "class_name": str, "subset": str, "path": str}
_INDEX_ROW = {"video_id": str, "label": int, "class_name": str, "subsets": list, "path": str}


def dataset_jobs(name: str, src_root: Path, missing: list | None = None) -> list[dict]:
    """Every video of dataset ``name`` under ``src_root / name``: id, label, class, subset(s),
    source path, relative output path; in a stable order. Videos an annotation lists but the
    disk lacks (Kinetics-400's taken-down videos) are appended to ``missing``."""
    base = src_root / name
    if name.startswith("synthetic-"):
        idx = base / "index.json"
        if not idx.is_file():
            raise DatasetError(idx, "missing: run the fetch stage first")
        rows = read_rows(idx, _SOURCE_ROW)
        jobs = [{"video_id": r["video_id"], "label": r["label"], "class_name": r["class_name"],
                 "subsets": [r["subset"]], "src": str(base / r["path"]),
                 "rel": str(Path(safe_relative(idx, f"entry {i}", r["path"])).with_suffix(".mp4"))}
                for i, r in enumerate(rows)]
        return _one_source_per_output(idx, sorted(jobs, key=lambda j: j["rel"]))
    if name not in _REAL:
        raise ValueError(f"unknown dataset {name!r}")
    module, lists = _REAL[name]
    jobs: dict[str, dict] = {}
    for split, subset in lists:
        if _optional(name, base, split, subset):
            continue
        records = module.list_videos(base, split=split, subset=subset)
        if missing is not None:
            missing.extend({"video_id": v, "path": str(p), "subset": subset}
                           for v, p in records.missing)
        for r in records:
            j = jobs.setdefault(r.path, {"video_id": r.video_id, "label": r.label,
                                         "class_name": r.class_name, "subsets": [], "src": r.path,
                                         "rel": str(Path(os.path.relpath(r.path, base)).with_suffix(".mp4"))})
            tag = subset_tag(name, subset, split)
            if tag not in j["subsets"]:
                j["subsets"].append(tag)
    return _one_source_per_output(base, sorted(jobs.values(), key=lambda j: j["rel"]))


def _one_source_per_output(where, jobs: list) -> list:
    """``jobs`` when no two sources map to one output (``v.avi`` and ``v.mkv`` -> ``v.mp4``:
    one would overwrite the other and both rows would point at its pixels), else
    `DatasetError` naming both, before anything is written."""
    seen: dict = {}
    for j in jobs:
        other = seen.setdefault(j["rel"], j["src"])
        if other != j["src"]:
            raise DatasetError(where, f"{other} and {j['src']} would both be encoded to "
                                      f"{j['rel']}; rename one of them")
    return jobs


def shard_of(jobs: list, shard: tuple[int, int] | None) -> list:
    """Jobs of shard i of n (round-robin over the stable order); None: all."""
    if shard is None:
        return jobs
    i, n = shard
    if not 0 <= i < n:
        raise ValueError(f"shard {i}/{n} out of range")
    return jobs[i::n]


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def extract(name: str, src_root: str | os.PathLike, dst_root: str | os.PathLike, *,
            encode: dict, workers: int = 1, shard: tuple[int, int] | None = None,
            max_failed_fraction: float = 0.0, progress: bool = True, flow: bool = False,
            flow_method: str = "farneback", verify: str = "sha256") -> dict:
    """`_extract` under the dataset's lock (``<dst_root>/.<name>.lock``): a second run on the
    same output is refused (`imrnet.paths.Busy`) instead of mixing its files in. The input
    and output folders must be apart (`imrnet.paths.refuse_overlap`). ``flow_method``
    (`imrnet.opticalflow.FLOW_METHODS`): the flow stored with ``flow``; the folder's stamp
    holds it, so a change of method resets the folder (every video encoded and its flow
    computed again), as any change of the extraction's params does."""
    if verify not in VERIFY:
        raise ValueError(f"verify must be one of {VERIFY}, got {verify!r}")
    if flow_method not in FLOW_METHODS:
        raise ValueError(f"flow_method must be one of {', '.join(FLOW_METHODS)}, got "
                         f"{flow_method!r}")
    if not name.startswith("synthetic-") and name not in _REAL:
        raise ValueError(f"unknown dataset {name!r}")
    safe_relative(Path(src_root), "dataset name", name, single=True)
    refuse_overlap(Path(src_root) / name, Path(dst_root) / name, what="extracted dataset")
    missing: list = []  # the source's layout is read (and its errors raised) before any write
    jobs = shard_of(dataset_jobs(name, Path(src_root), missing), shard)
    _refuse_sources_inside(Path(dst_root) / name, jobs)
    stamp = {"encode": encode, "flow": bool(flow)}
    if flow and flow_method != "farneback":  # Farneback's stamp stays what it was before methods
        stamp["flow_method"] = flow_method
    kw = dict(encode=encode, workers=workers, shard=shard, max_failed_fraction=max_failed_fraction,
              progress=progress, flow=flow and flow_method, verify=verify, jobs=jobs,
              missing=missing)
    with _dataset_lock(Path(dst_root), name, stamp, sharded=shard is not None):
        if shard is None:
            return _extract(name, src_root, dst_root, **kw)
        lock = f"{name}.shard-{shard[0]}-of-{shard[1]}"
        with exclusive(dst_root, f"the extraction of {lock}", name=lock):
            return _extract(name, src_root, dst_root, **kw)


def _refuse_sources_inside(out: Path, jobs: list) -> None:
    """`DatasetError` naming the first source that is, once symbolic links are followed (or by
    a folder's identity: a bind mount), inside the output folder ``out``: a source tree whose
    ``UCF-101`` folder links into the outputs would be deleted by a params change
    (`reset_if_changed`) or overwritten by its own re-encode. Checked before any write."""
    seen: dict = {}
    for j in jobs:
        src = Path(j["src"])
        if src.parent not in seen:
            seen[src.parent] = within(src.parent, out)
        if seen[src.parent] or (src.is_symlink() and within(src, out)):
            raise DatasetError(src, f"lies inside the output folder {out} (through a symbolic "
                                    "link or a mount); the sources and the outputs must be apart")


SHARD_WAIT_S = 30.0  # how long a shard waits for another shard's brief reset phase


@contextlib.contextmanager
def _dataset_lock(dst_root: Path, name: str, stamp: dict, *, sharded: bool):
    """``<dst_root>/.<name>.lock``: an unsharded run holds it exclusively throughout; shards
    hold it shared (they run in parallel, each also holding its own shard's lock), after
    one of them, holding it exclusively, has reset the folder to their params
    (`reset_if_changed`). A shard that finds the folder stamped with other params while
    other runs hold it is refused (`Busy`): two runs with different params never write
    one output, and none deletes what another is writing."""
    import fcntl

    out = dst_root / name
    dst_root.mkdir(parents=True, exist_ok=True)
    fd = os.open(dst_root / f".{name}.lock", os.O_RDWR | os.O_CREAT, 0o644)

    def busy(why: str) -> Busy:
        holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "?"
        return Busy(f"{out}: {why} (pid {holder}); wait for it to finish, or use another "
                    "output folder")

    def take(kind) -> bool:
        try:
            fcntl.flock(fd, kind | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            return False

    try:
        if take(fcntl.LOCK_EX):
            os.ftruncate(fd, 0)
            os.pwrite(fd, str(os.getpid()).encode(), 0)
            reset_if_changed(out, stamp)  # stale outputs never mix in
            if sharded:
                fcntl.flock(fd, fcntl.LOCK_SH)  # let the other shards in
        elif not sharded:
            raise busy(f"another process is extracting {name} into it")
        else:
            deadline = time.monotonic() + SHARD_WAIT_S
            while not take(fcntl.LOCK_SH):
                if time.monotonic() > deadline:
                    raise busy(f"another process is extracting {name} into it, unsharded")
                time.sleep(0.1)
        if sharded and not stamp_matches(out, stamp):
            raise busy("other shards are writing it with other params")
        yield
    finally:
        os.close(fd)


VERIFY = ("sha256", "size")


def _records(out: Path, suffix: str) -> dict:
    """{relative output path: {"size", "sha256"}} of what earlier runs recorded writing: the
    merged index (for a shard), this run's index, then the journal a killed run left (newest
    last, so it wins). An unreadable file records nothing."""
    rows: dict = {}
    names = ([] if not suffix else ["index.json"]) + [f"index{suffix}.json"]
    for name in names:
        try:
            rows.update({r["path"]: r for r in json.loads((out / name).read_text())})
        except FileNotFoundError:
            pass
        except (OSError, ValueError, KeyError, TypeError):
            print(f"{out / name}: unreadable; the outputs it listed are checked as unrecorded",
                  file=sys.stderr)
    journal = out / f"{JOURNAL}{suffix}.jsonl"
    if journal.is_file():
        for line in journal.read_text(errors="replace").splitlines():
            try:
                r = json.loads(line)
                rows[r["path"]] = r
            except (ValueError, KeyError, TypeError):
                continue  # a line cut short by a kill: that output counts as unrecorded
    return rows


JOURNAL = ".encoded"  # <out>/.encoded[.shard-i-of-n].jsonl: a line per output as it is written


def _drop_changed(out: Path, suffix: str, jobs: list, pairs: list, verify: str, shas: dict) -> None:
    """Delete the outputs that differ from what an earlier run recorded writing (`_records`:
    size, and with ``verify="sha256"`` the hash), or that no run recorded (an index deleted
    or damaged, a kill between a file's write and its journal line), and their flow, so they
    are encoded again: a file changed on disk would otherwise be skipped as done and read
    back as wrong pixels. Only files the encoder wrote (`made_by_encode`) are deleted; any
    other file is left for `encode_jobs` to refuse. The hashes known here go to ``shas`` for
    the new index (with ``verify="size"``, the recorded ones: nothing recorded is hashed
    again)."""
    rows = _records(out, suffix)
    for j, (_, dst) in zip(jobs, pairs, strict=True):
        row, d = rows.get(j["rel"]), Path(dst)
        if not d.is_file() or d.is_symlink():
            continue
        if row is None:
            why = "no run recorded writing it (its index is missing or unreadable)"
        elif d.stat().st_size != row.get("size"):
            why = "changed on disk since it was indexed"
        elif verify == "size" and row.get("sha256"):
            shas[dst] = row["sha256"]  # trusted as recorded: no hashing at all
            continue
        else:
            shas[dst] = _sha(d)
            if shas[dst] == row.get("sha256"):
                continue
            why = "changed on disk since it was indexed"
        shas.pop(dst, None)
        if not made_by_encode(d) or not within(d, out):
            continue  # not ours, or reached through a link out of the tree: encode_jobs refuses it
        print(f"{d}: {why}; encoding it again", file=sys.stderr)
        d.unlink()
        flow_path(d).unlink(missing_ok=True)


def _extract(name, src_root, dst_root, *, encode, workers, shard, max_failed_fraction, progress,
             flow, verify, jobs, missing) -> dict:
    """Encode (a shard of) dataset ``name`` and write its index; returns a summary.

    With ``flow`` (False, or the method's name), that flow of every encoded video is computed
    once here (`imrnet.data.flow`, ``<video>.flow.npz``) for the flow baselines; the index
    names the file.

    Raises:
        RuntimeError: more than ``max_failed_fraction`` of the videos failed (the failure report
            ``encode-failures.json`` names them).
    """
    src_root, out = Path(src_root), Path(dst_root) / name
    pairs = [(j["src"], str(out / j["rel"])) for j in jobs]
    suffix = "" if shard is None else f".shard-{shard[0]}-of-{shard[1]}"
    shas: dict = {}
    _drop_changed(out, suffix, jobs, pairs, verify, shas)
    if shard is None or shard[0] == 0:
        write_bytes_atomic(out / "missing.json", (json.dumps(missing, indent=1) + "\n").encode())
    rel = {dst: j["rel"] for j, (_, dst) in zip(jobs, pairs, strict=True)}
    by_src = dict(pairs)
    journal_path = out / f"{JOURNAL}{suffix}.jsonl"
    out.mkdir(parents=True, exist_ok=True)
    with open(journal_path, "a") as journal:
        def record(src, _info):  # each output as it is written, so a killed run's count
            dst = by_src[src]
            shas[dst] = _sha(Path(dst))
            journal.write(json.dumps({"path": rel[dst], "size": os.path.getsize(dst),
                                      "sha256": shas[dst]}) + "\n")
            journal.flush()

        _, failed = encode_jobs(pairs, workers=workers, progress=progress, desc=name,
                                on_done=record, root=out, **encode)
    infos = _probe_usable(pairs, failed, int(encode.get("gop_size", 12)))
    if flow:
        encoded = {d: s for s, d in pairs if s not in failed and os.path.exists(d)}
        bad = flow_jobs(list(encoded), workers=workers, progress=progress, desc=f"{name} flow",
                        method=flow)
        failed.update({encoded[d]: f"optical flow: {why}" for d, why in bad.items()})
    index = []
    for j, (_, dst) in zip(jobs, pairs, strict=True):
        if j["src"] in failed or not os.path.exists(dst):
            continue
        info = infos[dst]
        index.append({**{k: j[k] for k in ("video_id", "label", "class_name", "subsets")},
                      "path": j["rel"], "frames": info.frames, "gops": info.gops,
                      "gop_size": info.gop_size, "fps": info.fps, "width": info.width,
                      "height": info.height, "size": os.path.getsize(dst),
                      "sha256": shas.get(dst) or _sha(Path(dst))})
        if flow:
            index[-1]["flow"] = str(flow_path(j["rel"]))
    write_bytes_atomic(out / f"index{suffix}.json", (json.dumps(index, indent=1) + "\n").encode())
    journal_path.unlink(missing_ok=True)  # the index now records every output
    report = out / f"encode-failures{suffix}.json"
    write_failures(report, failed)
    frac = len(failed) / max(1, len(jobs))
    if frac > max_failed_fraction:
        raise RuntimeError(f"{name}: {len(failed)} of {len(jobs)} videos failed ({frac:.1%} > "
                           f"{max_failed_fraction:.1%}); see {report}")
    return {"videos": len(jobs), "indexed": len(index), "failed": len(failed),
            "missing": len(missing)}


def _probe_usable(pairs: list, failed: dict, gop_size: int) -> dict:
    """{output: VideoInfo} of the encoded videos that hold at least one complete GOP (training
    reads whole GOPs, repeating the last when a video is short); a shorter one (a 1-frame or
    cut-short source) or an output that no longer probes goes to ``failed`` with the reason,
    so it is listed in the failure report instead of failing later in training."""
    infos = {}
    for src, dst in pairs:
        if src in failed or not os.path.exists(dst):
            continue
        try:
            info = probe_mpeg4(dst)
        except VideoError as e:
            failed[src] = f"the encoded file does not probe: {e.reason}"
            continue
        if info.frames < gop_size:
            failed[src] = (f"only {info.frames} decodable frame(s): not one complete GOP of "
                           f"{gop_size} (training reads whole GOPs)")
            continue
        infos[dst] = info
    return infos


def merge_shards(name: str, dst_root: str | os.PathLike, n: int, *,
                 max_failed_fraction: float = 0.0) -> Path:
    """Join ``index.shard-*-of-n.json`` into ``index.json`` in the unsharded order, and the
    shards' failure reports into ``encode-failures.json``; the failure threshold applies to
    the whole dataset.

    Raises:
        DatasetError: a shard's index is missing or two shards indexed the same video.
        RuntimeError: more than ``max_failed_fraction`` of all videos failed.
    """
    out = Path(dst_root) / name
    rows, failed = [], {}
    for i in range(n):
        p = out / f"index.shard-{i}-of-{n}.json"
        if not p.is_file():
            raise DatasetError(p, f"shard {i} of {n} has not been extracted")
        rows.extend(read_rows(p, _INDEX_ROW))
        f = out / f"encode-failures.shard-{i}-of-{n}.json"
        if f.is_file():
            failed.update(json.loads(f.read_text()))
    paths = [r["path"] for r in rows]
    if len(set(paths)) != len(paths):
        dup = sorted({q for q in paths if paths.count(q) > 1})[:3]
        raise DatasetError(out, f"shards overlap (e.g. {dup}): were they run with different N?")
    rows.sort(key=lambda r: r["path"])
    dst = out / "index.json"
    write_bytes_atomic(dst, (json.dumps(rows, indent=1) + "\n").encode())
    report = out / "encode-failures.json"
    write_failures(report, failed)
    total = len(rows) + len(failed)
    if failed and len(failed) / total > max_failed_fraction:
        raise RuntimeError(f"{name}: {len(failed)} of {total} videos failed over {n} shards "
                           f"(> {max_failed_fraction:.1%}); see {report}")
    return dst


def index_gop_size(dst_root: str | os.PathLike, name: str) -> int:
    """The GOP size the extract stage recorded for dataset ``name`` (12 when the index cannot
    say: `load_index` reports a missing or broken index with its own error)."""
    try:
        rows = json.loads((Path(dst_root) / name / "index.json").read_text())
        return int(rows[0]["gop_size"]) if rows else 12
    except (OSError, ValueError, KeyError, IndexError, TypeError):
        return 12


def load_index(dst_root: str | os.PathLike, name: str, *, subset: str = "train",
               split: int = 1) -> VideoList:
    """The `VideoRecord`s of an extracted dataset's subset (paths to the MPEG-4 files), in the
    index's order, with the class names by label.

    Args:
        subset: "train" or "test" ("val" for Kinetics-400); split: 1..3 for UCF-101 / HMDB-51.
    """
    idx = Path(dst_root) / name / "index.json"
    if not idx.is_file():
        raise DatasetError(idx, "missing: run the extract stage first")
    rows = read_rows(idx, _INDEX_ROW)
    tag = subset_tag(name, subset, split)
    recs = [VideoRecord(str(idx.parent / r["path"]), int(r["label"]), r["class_name"],
                        r["video_id"]) for r in rows if tag in r["subsets"]]
    if not recs:
        tags = sorted({t for r in rows for t in r["subsets"]})
        raise DatasetError(idx, f"no videos tagged {tag!r} (the index has {tags})")
    classes = {int(r["label"]): r["class_name"] for r in rows}
    return VideoList(recs, classes=[classes.get(i, "") for i in range(max(classes) + 1)])
