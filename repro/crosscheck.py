"""Run the smoke pipeline in a scratch copy of the repository under other kernel settings and
list which pinned numbers move: ``python -m repro crosscheck [--isa avx512|avx2] [--native]``.

The proof behind docs/reproducibility.md, and a check a user can run on their own machine:

* ``python -m repro crosscheck --isa avx512`` asks every library for its AVX-512 kernels
  (``ATEN_CPU_CAPABILITY=avx512``, ``ONEDNN_MAX_CPU_ISA=AVX512_CORE_AMX``, ...); the
  reproducibility mode overrides them, so nothing may move (exit 0 when nothing does);
* ``--native`` turns the mode off (``IMRNET_CPU_MODE=native``): the libraries then use what the
  environment asks for, and the report lists every number that moves, with its relative change.

The scratch copy is a new folder (``--workdir``, default a temporary one); the repository's own
params.yaml, dvc.lock, runs/ and reports/ are never touched.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from .pins import PIN_FILE, collect, compare

__all__ = ["ISA_ENV", "scratch_copy", "run_dvc", "moved", "main"]

# What each kernel path asks of the libraries (the variables the mode sets, other values).
ISA_ENV = {
    "avx512": {"ATEN_CPU_CAPABILITY": "avx512", "ONEDNN_MAX_CPU_ISA": "AVX512_CORE_AMX",
               "MKL_CBWR": "AUTO", "MKL_ENABLE_INSTRUCTIONS": "AVX512",
               "OPENBLAS_CORETYPE": "SkylakeX", "NPY_DISABLE_CPU_FEATURES": "",
               "OPENCV_CPU_DISABLE": ""},
    "avx2": {"ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2", "MKL_CBWR": "COMPATIBLE",
             "MKL_ENABLE_INSTRUCTIONS": "AVX2", "OPENBLAS_CORETYPE": "Haswell"},
}


def scratch_copy(root: Path, dst: Path, profile: str = "smoke") -> Path:
    """Copy the repository's tracked and unignored files (reports/, data/ and runs/ aside, the
    pins kept) into the new folder ``dst``, with profile ``profile``'s params.yaml (written there
    by ``python -m pipelines.profiles``, run as a command: repro does not import pipelines) and
    no dvc.lock; ``dst`` must not exist or be empty."""
    if dst.exists() and any(dst.iterdir()):
        raise FileExistsError(f"{dst}: not empty; the scratch copy needs a new folder")
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=root,
                           check=True, capture_output=True).stdout.decode().split("\0")
    for f in filter(None, files):
        src = root / f
        if src.is_file() and not f.startswith(("reports/", "data/", "runs/")):
            (dst / f).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst / f)
    (dst / "reports/pinned").mkdir(parents=True, exist_ok=True)
    for p in (root / "reports/pinned").glob("*.json"):
        shutil.copy2(p, dst / "reports/pinned" / p.name)
    (dst / "params.yaml").unlink(missing_ok=True)
    r = subprocess.run([sys.executable, "-m", "pipelines.profiles", profile], cwd=dst,
                       capture_output=True, text=True)
    if r.returncode:
        raise ValueError(f"{dst}: profile {profile!r} could not be written "
                         f"({r.stderr.strip() or f'exit {r.returncode}'})")
    (dst / "dvc.lock").unlink(missing_ok=True)
    subprocess.run(["git", "init", "-q"], cwd=dst, check=True)
    return dst


def run_dvc(workspace: Path, *args: str, log: Path, env: dict | None = None,
            timeout: int = 1800) -> int:
    """``dvc ARGS`` in ``workspace`` with this interpreter's environment (+ ``env``), output
    appended to ``log``; the exit code."""
    bindir = Path(sys.executable).parent
    e = dict(os.environ, PATH=f"{bindir}:{os.environ.get('PATH', '')}", **(env or {}))
    with open(log, "a") as f:
        return subprocess.run([str(bindir / "dvc"), *args], cwd=workspace, env=e, stdout=f,
                              stderr=subprocess.STDOUT, timeout=timeout).returncode


def moved(pinned: dict, measured: dict) -> list[str]:
    """Every pinned training number that differs, with its relative change."""
    out = []
    for section in ("pretrain", "finetune"):
        for run, pins in sorted(pinned[section].items()):
            got = measured[section].get(run, {})
            for k, v in sorted(pins.items()):
                m = got.get(k)
                if m != v:
                    rel = (m - v) / abs(v) if isinstance(m, (int, float)) and v else float("nan")
                    out.append(f"{section}/{run} {k}: {m!r} vs pinned {v!r} ({rel:+.2%})")
    return out


def main(isa: str, native: bool, workdir: str | None = None, root: Path = Path(".")) -> int:
    root = root.resolve()
    base = Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix="imrnet-crosscheck-"))
    ws = scratch_copy(root, base / "repo")
    env = dict(ISA_ENV[isa], **({"IMRNET_CPU_MODE": "native"} if native else {}))
    log = base / "dvc.log"
    print(f"crosscheck: smoke pipeline in {ws} with {env} (log {log})", file=sys.stderr)
    if run_dvc(ws, "repro", log=log, env=env):
        print(f"crosscheck: dvc repro failed; see {log}", file=sys.stderr)
        return 2
    measured = collect(ws)
    pinned = json.loads((root / PIN_FILE).read_text())
    diffs = moved(pinned, measured)
    (base / "moved.json").write_text(json.dumps({"env": env, "moved": diffs,
                                                 "measured": measured}, indent=1) + "\n")
    label = "mode off (native)" if native else "mode on"
    print(f"{label}, {isa} asked for: {len(diffs)} of "
          f"{sum(len(v) for s in ('pretrain', 'finetune') for v in pinned[s].values())} "
          "pinned training numbers moved")
    print("\n".join(diffs))
    if not native:
        bad = compare(pinned, measured)
        return 1 if bad else 0
    return 0
