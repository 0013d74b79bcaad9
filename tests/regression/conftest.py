"""The smoke pipeline, run for real (DVC, PyAV, torch) in a scratch copy of the repository: once,
then once more forced with no run cache, for the byte-identity check. The workspace's own
params.yaml, dvc.lock and reports/ are never touched."""

from __future__ import annotations

from pathlib import Path

import pytest

from repro.crosscheck import run_dvc, scratch_copy

ROOT = Path(__file__).resolve().parents[2]


def dvc(workspace: Path, *args: str, log: Path) -> None:
    if run_dvc(workspace, *args, log=log, timeout=1200):
        tail = log.read_text()[-4000:]
        pytest.fail(f"dvc {' '.join(args)} failed in {workspace} (log {log}):\n{tail}")


def snapshot(workspace: Path) -> dict[str, bytes]:
    """Every file under reports/ except reports/<profile>/timing/ (wall time lives only there)."""
    rep = workspace / "reports"
    return {str(p.relative_to(rep)): p.read_bytes() for p in sorted(rep.rglob("*"))
            if p.is_file() and "timing" not in p.relative_to(rep).parts[:2]}


@pytest.fixture(scope="session")
def smoke_workspace(tmp_path_factory):
    """A scratch copy of the repository after `dvc repro` of the smoke profile."""
    ws = scratch_copy(ROOT, tmp_path_factory.mktemp("smoke") / "repo")
    dvc(ws, "repro", log=ws.parent / "repro1.log")
    return ws
