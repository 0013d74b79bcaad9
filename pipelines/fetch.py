"""DVC stage ``fetch``: put every dataset named in params ``fetch.datasets`` under
``fetch.root`` (default ``data/raw``).

Each entry is one of
    {kind: synthetic, seed, width, height, frames, scale, test_scale}   generated (imrnet.data.synthetic)
    {kind: local, path}                                        a local copy, linked
    {kind: url, url, sha256, archive}                          downloaded (resumable, verified)
                                                               and safely extracted
    {kind: url, archives: [{url, sha256, archive}, ...],       several downloads extracted side
     nested: true}                                             by side; nested: extract the
                                                               archives inside (HMDB-51's
                                                               per-class .rar files)
e.g. UCF-101: UCF101.rar + UCF101TrainTestSplits-RecognitionTask.zip; HMDB-51: hmdb51_org.rar
(nested) + test_train_splits.rar (the URLs and checksums are the user's to fill in).
``fetch.archive_limits`` ({max_members, max_ratio}) raises the caps on what one archive may
expand to (`imrnet.data.fetch.LIMITS`: 15,000 members, 100x its size).
A real dataset's layout is checked with its adapter (UCF-101, HMDB-51, Kinetics-400).
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from imrnet.data import hmdb51, kinetics400, synthetic, ucf101
from imrnet.data.extract import dataset_jobs
from imrnet.data.fetch import (FetchError, check_limits, download, extract_archives, link_local,
                               safe_extract)
from imrnet.data.records import DatasetError

from .params import NAME, ParamsError, check, load_section

ADAPTERS = {"ucf101": ucf101, "hmdb51": hmdb51, "kinetics400": kinetics400}
_ARCHIVE = {"url": ("str", True), "sha256": ("str", True), "archive": ("str", False)}
SPECS = {
    "synthetic": {"kind": ("str", True), "seed": ("int>=0", False), "width": ("int>=16", True),
                  "height": ("int>=16", True), "frames": ("int>=1", False),
                  "scale": ("number>0", False), "test_scale": ("number>0?", False)},
    "local": {"kind": ("str", True), "path": ("str", True)},
    "url": {"kind": ("str", True), "archives": ("list?", False), "nested": ("bool", False),
            **{k: (t, False) for k, (t, _) in _ARCHIVE.items()}},
}


def load_params(path: str) -> dict:
    """The ``fetch`` section, every dataset entry checked for its kind (`ParamsError` names the
    dataset, the key and the value)."""
    p = check(f"{path}: fetch", load_section(path, "fetch"),
              {"root": ("str", False), "datasets": ("dict", True),
               "archive_limits": ("mapping", False)})
    try:
        check_limits(p.get("archive_limits"))
    except ValueError as e:
        raise ParamsError(f"{path}: fetch.{e}") from None
    for name, entry in p["datasets"].items():
        where = f"{path}: fetch.datasets.{name}"
        if not isinstance(name, str) or not re.fullmatch(NAME, name):
            raise ParamsError(f"{path}: fetch.datasets: {name!r} is not a dataset name (letters, "
                              "digits, '.', '_', '-'; one folder under fetch.root)")
        if not isinstance(entry, dict) or not isinstance(entry.get("kind"), str) \
                or entry.get("kind") not in SPECS:
            got = entry.get("kind") if isinstance(entry, dict) else entry
            raise ParamsError(f"{where}.kind must be one of {', '.join(SPECS)}, got {got!r}")
        check(where, entry, SPECS[entry["kind"]])
        if entry["kind"] == "url":
            archives = entry.get("archives") or [entry]
            if not isinstance(archives, list) or not archives:
                raise ParamsError(f"{where}.archives must be a non-empty list, got {archives!r}")
            for i, a in enumerate(archives):
                if not isinstance(a, dict):
                    raise ParamsError(f"{where}.archives[{i}] must be a mapping, got {a!r}")
                at = f"{where}.archives[{i}]" if entry.get("archives") else where
                check(at, {k: a[k] for k in _ARCHIVE if k in a}, _ARCHIVE)
                name_ = a.get("archive", str(a["url"]).rsplit("/", 1)[-1])
                if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._+-]*", name_):
                    raise ParamsError(f"{at}.archive: {name_!r} is not a file name (it is "
                                      "saved as <fetch.root>/downloads/<archive>; letters, "
                                      "digits, '.', '_', '+', '-')")
    return p


def fetch_one(name: str, entry: dict, root: Path, progress: bool = True,
              limits: dict | None = None) -> str:
    kind = entry.get("kind")
    if kind == "synthetic":
        idx = synthetic.generate(name, root, seed=int(entry.get("seed", 0)),
                                 width=int(entry["width"]), height=int(entry["height"]),
                                 frames=int(entry.get("frames", 60)),
                                 scale=float(entry.get("scale", 1.0)),
                                 test_scale=(None if entry.get("test_scale") is None
                                             else float(entry["test_scale"])),
                                 progress=progress)
        return f"{name}: {len(idx)} clips generated"
    dst = root / name
    if kind == "local":
        link_local(entry["path"], dst)
    elif kind == "url":
        files = []
        for a in entry.get("archives") or [entry]:
            archive = root / "downloads" / a.get("archive", a["url"].rsplit("/", 1)[-1])
            files.append(download(a["url"], archive, a["sha256"], progress=progress))
        if len(files) == 1 and not entry.get("nested"):
            safe_extract(files[0], dst, limits=limits)
        else:
            extract_archives(files, dst, nested=bool(entry.get("nested")), limits=limits)
    else:
        raise ValueError(f"fetch.datasets.{name}: kind must be synthetic, local or url, got {kind!r}")
    if name in ADAPTERS:  # every split and subset present, as the extract stage will read them
        missing: list = []
        jobs = dataset_jobs(name, root, missing)
        gone = f", {len(missing)} listed but absent" if missing else ""
        return f"{name}: layout verified, {len(jobs)} videos over its splits{gone}"
    return f"{name}: fetched"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m pipelines.fetch", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--params", default="params.yaml")
    ap.add_argument("--no-progress", action="store_true")
    args = ap.parse_args(argv)
    try:
        params = load_params(args.params)
    except ParamsError as e:
        print(f"fetch: {e}", file=sys.stderr)
        return 2
    root = Path(params.get("root", "data/raw"))
    root.mkdir(parents=True, exist_ok=True)
    for name, entry in params["datasets"].items():
        try:
            print(fetch_one(name, entry, root, progress=not args.no_progress,
                            limits=params.get("archive_limits")), file=sys.stderr)
        except (FetchError, DatasetError, KeyError, ValueError, OSError) as e:
            print(f"fetch {name}: {e}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
