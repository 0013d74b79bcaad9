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
    shutil.copytree(ROOT / "reports/default/metrics", tmp_path / "reports/default/metrics")
    for d in ("tables", "figures"):
        (tmp_path / "reports" / "default" / d).mkdir()
        (tmp_path / "reports" / "default" / d / "committed.txt").write_text("keep me")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError, match=r"data/mpeg4/synthetic-ucf/index.json.*"
                                         r"runs/pretrain/pmsp_ctp/model.pt.*nothing under reports/"):
        report.build_report("params.yaml")
    assert report.main(["--params", "params.yaml"]) == 1
    for d in ("tables", "figures"):
        assert (tmp_path / "reports" / "default" / d / "committed.txt").read_text() == "keep me"


def _unreadable_inputs(tmp_path):
    """The report's inputs present, each unreadable: it fails after it began writing."""
    for f in ("data/mpeg4/synthetic-ucf/index.json", "runs/pretrain/pmsp_ctp/model.pt",
              "runs/pretrain/pmsp/model.pt", "runs/pretrain/ctp/model.pt"):
        (tmp_path / f).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / f).write_text("not what it should be")


def _fails_and_keeps_the_committed_ones(tmp_path, monkeypatch, dirs=("tables", "figures")):
    monkeypatch.chdir(tmp_path)
    assert report.main(["--params", "params.yaml"]) == 1
    rep = tmp_path / "reports" / "default"
    for d in dirs:
        assert sorted(p.name for p in (rep / d).iterdir()) == ["committed.txt"]
    top = {d.split("/")[0] for d in dirs}
    assert sorted(p.name for p in rep.iterdir()) == sorted(["metrics", *top])  # none made


def test_a_report_failing_half_way_leaves_the_old_tables_and_figures(tmp_path, monkeypatch):
    """The inputs are there but one is unreadable: the report fails after it began writing
    tables; the committed tables and figures are put back as they were."""
    shutil.copy(ROOT / "profiles/default.yaml", tmp_path / "params.yaml")
    shutil.copytree(ROOT / "reports/default/metrics", tmp_path / "reports/default/metrics")
    for d in ("tables", "figures"):
        (tmp_path / "reports" / "default" / d).mkdir()
        (tmp_path / "reports" / "default" / d / "committed.txt").write_text("keep me")
    _unreadable_inputs(tmp_path)
    _fails_and_keeps_the_committed_ones(tmp_path, monkeypatch)


def test_after_a_killed_report_the_next_one_keeps_the_last_complete_tables(tmp_path, monkeypatch):
    """A report killed half-way leaves the complete old tables set aside and a partial set in
    place; a second report that fails too puts the complete ones back, not the partial ones."""
    shutil.copy(ROOT / "profiles/default.yaml", tmp_path / "params.yaml")
    shutil.copytree(ROOT / "reports/default/metrics", tmp_path / "reports/default/metrics")
    rep = tmp_path / "reports" / "default"
    dirs = ("tables", "figures", "plots/confusion")
    for d in dirs:
        aside = (rep / d).with_name(f".{Path(d).name}.before-report")
        aside.mkdir(parents=True)
        (aside / "committed.txt").write_text("keep me")
        (rep / d).mkdir()
        (rep / d / "partial.txt").write_text("half a report")
    (rep / "plots" / "mine.json").write_text("a user's file beside the report's folder")
    _unreadable_inputs(tmp_path)
    _fails_and_keeps_the_committed_ones(tmp_path, monkeypatch, dirs)
    assert sorted(p.name for p in (rep / "plots").iterdir()) == ["confusion", "mine.json"]


def test_table3_prior_methods_show_their_own_papers_value_or_why_they_are_blank(tmp_path):
    """The third group: a sourced value (DPC) printed as its paper's; every blank's reason
    (its paper.yaml note) in the footnote, none left as a bare "paper value only"."""
    from pipelines.profiles import resolve_profile
    from repro.reference import load_reference
    from repro.results import Results

    res = Results(resolve_profile("default", ROOT), ROOT / "reports/default/metrics")
    ref = load_reference()
    md = report.tables(res, ref, tmp_path)["table3_selfsupervised"]["md"]
    dpc = next(line for line in md.splitlines() if line.startswith("| DPC (prior method)"))
    assert dpc.count("not run here (paper 75.7)") + dpc.count("not run here (paper 35.7)") == 2
    assert "paper value only" not in md
    for m in report.PRIOR_METHODS:
        assert f"| {m} (prior method) |" in md
        entries = [e for e in ref if e["table"] == 3 and e["row"] == m]
        assert len(entries) == 2 and all(e["value"] is not None or e["note"] in md
                                         for e in entries), m
    assert (tmp_path / "tables" / "table3_selfsupervised.csv").read_text().count("75.7") == 1


def test_coviar_and_dmcnet_rows_name_the_profiles_depths():
    """Table 1's "(R18/18/18)" is the default profile's CoViAR / DMC-Net; the paper profile's
    have a ResNet-152 I-frame network, and their rows say so."""
    from pipelines.profiles import resolve_profile

    rows = {lab: m for lab, m, *_ in report.TABLE1}
    for profile, want in (("default", "R18/18/18"), ("paper", "R152/18/18")):
        p = resolve_profile(profile, Path(__file__).resolve().parents[2])
        for label in ("CoViAR (R18/18/18), scratch", "DMC-Net (R18/18/18), scratch"):
            assert report._depths(label, p, rows[label]) == label.replace("R18/18/18", want)
        assert report._depths("IMRNet-R18, scratch", p, "imrnet") == "IMRNet-R18, scratch"
