"""Late fusion of two runs' test scores (imrnet.evaluate.fusion) and its DVC stage
(pipelines.fuse): the weighted mean, and every refusal naming the files."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from imrnet.evaluate.fusion import late_fusion, load_test_scores
from pipelines import fuse

ROOT = Path(__file__).resolve().parents[2]
CLASSES = ["a", "b", "c"]


def _run(folder: Path, scores, labels, *, ids=None, seed=0, dataset="synthetic-ucf",
         classes=CLASSES, with_scores=True) -> Path:
    """A finetuning run's metrics.json as imrnet.train.finetune writes it (the fields read)."""
    scores = np.asarray(scores, dtype=np.float64)
    ids = ids or [f"v{i}" for i in range(len(labels))]
    test = {"videos": [[v, int(y), int(s.argmax())] for v, y, s in zip(ids, labels, scores, strict=True)]}
    if with_scores:
        test["scores"] = scores.tolist()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "metrics.json").write_text(json.dumps(
        {"test": test, "classes": classes, "params": {"seed": seed, "data": {"dataset": dataset}}}))
    return folder


A = [[0.6, 0.3, 0.1], [0.2, 0.5, 0.3], [0.4, 0.4, 0.2], [0.1, 0.2, 0.7]]
B = [[0.1, 0.8, 0.1], [0.1, 0.2, 0.7], [0.9, 0.05, 0.05], [0.2, 0.2, 0.6]]
Y = [1, 2, 0, 2]


def test_the_fused_scores_are_the_weighted_mean_and_the_metrics_follow(tmp_path):
    a = load_test_scores(_run(tmp_path / "a", A, Y))
    b = load_test_scores(_run(tmp_path / "b", B, Y))
    for w in (1.0, 1.5):
        f = late_fusion(a, b, weight_b=w, bootstrap=200)
        want = (np.array(A) + w * np.array(B)) / (1 + w)
        assert np.array_equal(np.array(f["scores"]), want)
        pred = want.argmax(1)
        assert f["top1"] == float((pred == np.array(Y)).mean()) and f["n"] == 4
        assert [v[2] for v in f["videos"]] == [int(p) for p in pred]
        assert np.array(f["confusion"]).sum() == 4
    # a alone gets 2 of 4 (its tie goes to the first class), b 4 of 4, the plain mean 4 of 4
    assert late_fusion(a, b)["top1"] == 1.0


def test_mismatched_runs_are_refused_naming_both_files(tmp_path):
    a = load_test_scores(_run(tmp_path / "a", A, Y))
    cases = {
        "different classes": _run(tmp_path / "c", B, Y, classes=["a", "b", "z"]),
        "not the same test videos": _run(tmp_path / "i", B, Y, ids=["v0", "v1", "v2", "x"]),
        "video 'v1' has label 2 in one and 0": _run(tmp_path / "l", B, [1, 0, 0, 2]),
    }
    for msg, folder in cases.items():
        with pytest.raises(ValueError, match=msg) as e:
            late_fusion(a, load_test_scores(folder))
        assert str(tmp_path / "a") in str(e.value) and str(folder) in str(e.value)
    order = load_test_scores(_run(tmp_path / "o", B, Y, ids=["v1", "v0", "v2", "v3"]))
    with pytest.raises(ValueError, match="same order"):
        late_fusion(a, order)
    with pytest.raises(ValueError, match="weight must be > 0"):
        late_fusion(a, a, weight_b=0)


def test_unreadable_or_scoreless_runs_are_refused_naming_the_file(tmp_path):
    with pytest.raises(ValueError, match=r"missing/metrics.json: cannot read"):
        load_test_scores(tmp_path / "missing")
    with pytest.raises(ValueError, match="no per-video scores.*rerun it"):
        load_test_scores(_run(tmp_path / "old", A, Y, with_scores=False))
    (tmp_path / "pre").mkdir()
    (tmp_path / "pre" / "metrics.json").write_text(json.dumps({"train": {}}))
    with pytest.raises(ValueError, match="not a finetuning run"):
        load_test_scores(tmp_path / "pre")
    bad = _run(tmp_path / "shape", A, Y)
    m = json.loads((bad / "metrics.json").read_text())
    m["classes"] = ["a", "b"]
    (bad / "metrics.json").write_text(json.dumps(m))
    with pytest.raises(ValueError, match=r"scores of shape \(4, 3\) for 4 videos and 2 classes"):
        load_test_scores(bad)


def test_the_fuse_stage_writes_the_summary_the_report_reads(tmp_path, monkeypatch, capsys):
    """pipelines.fuse on the default profile's fusion: its summary holds the cell, the fused
    test and each part's own top-1; runs of other seeds are refused (exit 1, both files named)."""
    from repro.results import Results

    shutil.copy(ROOT / "params.yaml", tmp_path / "params.yaml")
    monkeypatch.chdir(tmp_path)
    from pipelines.runs import load_params

    params = load_params("params.yaml")
    (name, f), = params["finetune"]["fusions"].items()
    _run(tmp_path / "runs/finetune" / f["imrnet"], A, Y)
    _run(tmp_path / "runs/finetune" / f["flow"], B, Y)
    assert fuse.main([name]) == 0
    s = json.loads((tmp_path / "reports/default/metrics/fuse" / f"{name}.json").read_text())
    assert (s["model"], s["init"], s["dataset"], s["seed"]) == ("imrnet+flow", "supervised",
                                                                 "synthetic-ucf", 0)
    assert s["top1"] == 1.0 and s["parts_top1"] == {f["imrnet"]: 0.5, f["flow"]: 1.0}
    assert s["classes"] == CLASSES and len(s["videos"]) == 4
    res = Results.__new__(Results)  # the cell lookup alone (the other runs' files are absent)
    res.fused, res.ft, res.pre_cell = {name: s}, {}, {"supervised": "supervised"}
    res.by_cell = {("imrnet+flow", "supervised", "synthetic-ucf"): {0: name}}
    assert res.run("imrnet+flow", "supervised", "synthetic-ucf")["top1"] == 1.0
    _run(tmp_path / "runs/finetune" / f["flow"], B, Y, seed=3)
    assert fuse.main([name]) == 1
    err = capsys.readouterr().err
    assert "seed 0 and 3" in err and f["flow"] in err
