"""``python -m imrnet.train {pretrain,finetune} --config CFG.yaml [--section KEY] [--set a.b=v ...]``

Under ``torchrun --nproc_per_node N`` the same command trains with DistributedDataParallel.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml

from ..paths import Busy
from .checkpoint import CheckpointMismatch
from .loop import finetune, pretrain


def _set(cfg: dict, item: str) -> None:
    key, _, value = item.partition("=")
    node = cfg
    parts = key.split(".")
    for p in parts[:-1]:
        if not isinstance(node.get(p), dict):
            node[p] = {}
        node = node[p]
    node[parts[-1]] = yaml.safe_load(value)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m imrnet.train", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("mode", choices=("pretrain", "finetune"))
    ap.add_argument("--config", required=True, help="YAML file")
    ap.add_argument("--section", default=None, help="use this top-level key of the file")
    ap.add_argument("--set", action="append", default=[], help="override, e.g. optim.epochs=2")
    a = ap.parse_args(argv)
    try:
        cfg = yaml.safe_load(Path(a.config).read_text()) or {}
        if a.section:
            if not isinstance(cfg, dict) or a.section not in cfg:
                raise ValueError(f"{a.config}: no {a.section!r} section (--section)")
            cfg = cfg[a.section]
        if not isinstance(cfg, dict):
            raise ValueError(f"{a.config}: a training config must be a mapping, got {cfg!r}")
        for item in a.set:
            _set(cfg, item)
        res = (pretrain if a.mode == "pretrain" else finetune)(cfg)
    except yaml.YAMLError as e:
        print(f"{a.mode}: {a.config} or a --set value is not valid YAML ({e})", file=sys.stderr)
        return 1
    except (CheckpointMismatch, ValueError, KeyError, OSError, Busy) as e:
        print(f"{a.mode}: {e}", file=sys.stderr)
        return 1
    if "test" in res:
        t = res["test"]
        print(f"test top-1 {t['top1']:.3f} (95% CI {t['top1_ci95'][0]:.3f}-{t['top1_ci95'][1]:.3f}), "
              f"top-5 {t['top5']:.3f}, n={t['n']}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
