"""DVC stage ``fetch``: put every dataset named in params ``fetch.datasets`` under
``fetch.root`` (default ``data/raw``).

Each entry is one of
    {kind: synthetic, seed, width, height, frames, scale}      generated (imrnet.data.synthetic)
    {kind: local, path}                                        a local copy, linked
    {kind: url, url, sha256, archive}                          downloaded (resumable, verified)
                                                               and safely extracted
    {kind: url, archives: [{url, sha256, archive}, ...],       several downloads extracted side
     nested: true}                                             by side; nested: extract the
                                                               archives inside (HMDB-51's
                                                               per-class .rar files)
e.g. UCF-101: UCF101.rar + UCF101TrainTestSplits-RecognitionTask.zip; HMDB-51: hmdb51_org.rar
(nested) + test_train_splits.rar (the URLs and checksums are the user's to fill in).
A real dataset's layout is checked with its adapter (UCF-101, HMDB-51, Kinetics-400).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml

from imrnet.data import hmdb51, kinetics400, synthetic, ucf101
from imrnet.data.fetch import FetchError, download, extract_archives, link_local, safe_extract
from imrnet.data.records import DatasetError

ADAPTERS = {"ucf101": ucf101, "hmdb51": hmdb51, "kinetics400": kinetics400}


def fetch_one(name: str, entry: dict, root: Path, progress: bool = True) -> str:
    kind = entry.get("kind")
    if kind == "synthetic":
        idx = synthetic.generate(name, root, seed=int(entry.get("seed", 0)),
                                 width=int(entry["width"]), height=int(entry["height"]),
                                 frames=int(entry.get("frames", 60)),
                                 scale=float(entry.get("scale", 1.0)), progress=progress)
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
            safe_extract(files[0], dst)
        else:
            extract_archives(files, dst, nested=bool(entry.get("nested")))
    else:
        raise ValueError(f"fetch.datasets.{name}: kind must be synthetic, local or url, got {kind!r}")
    if name in ADAPTERS:
        n = len(ADAPTERS[name].list_videos(dst))
        return f"{name}: layout verified, {n} training videos (split 1)"
    return f"{name}: fetched"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m pipelines.fetch", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--params", default="params.yaml")
    ap.add_argument("--no-progress", action="store_true")
    args = ap.parse_args(argv)
    params = yaml.safe_load(Path(args.params).read_text())["fetch"]
    root = Path(params.get("root", "data/raw"))
    root.mkdir(parents=True, exist_ok=True)
    for name, entry in params["datasets"].items():
        try:
            print(fetch_one(name, entry, root, progress=not args.no_progress), file=sys.stderr)
        except (FetchError, DatasetError, KeyError, ValueError, OSError) as e:
            print(f"fetch {name}: {e}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
