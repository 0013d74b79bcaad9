"""The smoke pipeline, run for real (DVC, PyAV, torch) in a scratch copy of the repository: once,
then once more forced with no run cache, for the byte-identity check. The workspace's own
params.yaml, dvc.lock and reports/ are never touched."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _copy_repo(dst: Path) -> None:
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT,
                           check=True, capture_output=True).stdout.decode().split("\0")
    for f in filter(None, files):
        src = ROOT / f
        if src.is_file() and not f.startswith(("reports/", "data/", "runs/")):
            (dst / f).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst / f)
    (dst / "reports/pinned").mkdir(parents=True, exist_ok=True)
    for p in (ROOT / "reports/pinned").glob("*.json"):
        shutil.copy2(p, dst / "reports/pinned" / p.name)
    shutil.copy2(ROOT / "profiles/smoke.yaml", dst / "params.yaml")
    (dst / "dvc.lock").unlink(missing_ok=True)
    subprocess.run(["git", "init", "-q"], cwd=dst, check=True)


def dvc(workspace: Path, *args: str, log: Path) -> None:
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}")
    with open(log, "a") as f:
        r = subprocess.run([str(Path(sys.executable).parent / "dvc"), *args], cwd=workspace,
                           env=env, stdout=f, stderr=subprocess.STDOUT, timeout=1200)
    if r.returncode:
        tail = log.read_text()[-4000:]
        pytest.fail(f"dvc {' '.join(args)} failed in {workspace} (log {log}):\n{tail}")


def snapshot(workspace: Path) -> dict[str, bytes]:
    """Every file under reports/ except reports/timing/ (wall time lives only there)."""
    rep = workspace / "reports"
    return {str(p.relative_to(rep)): p.read_bytes() for p in sorted(rep.rglob("*"))
            if p.is_file() and not p.relative_to(rep).parts[0] == "timing"}


@pytest.fixture(scope="session")
def smoke_workspace(tmp_path_factory):
    """A scratch copy of the repository after `dvc repro` of the smoke profile."""
    ws = tmp_path_factory.mktemp("smoke") / "repo"
    ws.mkdir()
    _copy_repo(ws)
    dvc(ws, "repro", log=ws.parent / "repro1.log")
    return ws
