"""`python -m repro report` in a fresh clone (metrics committed, no data, no weights) used to
delete the committed tables and figures and then fail: it now names what is missing first."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pipelines import report

ROOT = Path(__file__).resolve().parents[2]


def test_report_without_data_changes_nothing_and_names_the_missing_files(tmp_path, monkeypatch):
    shutil.copy(ROOT / "profiles/default.yaml", tmp_path / "params.yaml")
    shutil.copytree(ROOT / "reports/metrics", tmp_path / "reports/metrics")
    for d in ("tables", "figures"):
        (tmp_path / "reports" / d).mkdir()
        (tmp_path / "reports" / d / "committed.txt").write_text("keep me")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError, match=r"data/mpeg4/synthetic-ucf/index.json.*"
                                         r"runs/pretrain/pmsp_ctp/model.pt.*nothing under reports/"):
        report.build_report("params.yaml")
    assert report.main(["--params", "params.yaml"]) == 1
    for d in ("tables", "figures"):
        assert (tmp_path / "reports" / d / "committed.txt").read_text() == "keep me"
