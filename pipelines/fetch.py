"""DVC stage ``fetch``: put every dataset named in params ``fetch.datasets`` under
``fetch.root`` (default ``data/raw``).

Each entry is one of
    {kind: synthetic, seed, width, height, frames, scale}      generated (imrnet.data.synthetic)
    {kind: local, path}                                        a local copy, linked
    {kind: url, url, sha256, archive}                          downloaded (resumable, verified)
                                                               and safely extracted
A real dataset's layout is checked with its adapter (UCF-101, HMDB-51, Kinetics-400).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml

from imrnet.data import hmdb51, kinetics400, synthetic, ucf101
from imrnet.data.fetch import FetchError, download, link_local, safe_extract
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
        archive = root / "downloads" / entry.get("archive", entry["url"].rsplit("/", 1)[-1])
        download(entry["url"], archive, entry["sha256"], progress=progress)
        safe_extract(archive, dst)
    else:
        raise ValueError(f"fetch.datasets.{name}: kind must be synthetic, local or url, got {kind!r}")
    if name in ADAPTERS:
        n = len(ADAPTERS[name].list_videos(dst))
        return f"{name}: layout verified, {n} training videos (split 1)"
    return f"{name}: fetched"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
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
