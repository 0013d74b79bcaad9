"""Results: the cells of a profile with several training seeds."""

import json

import pytest

from repro.claims import _cmp
from repro.results import Results


def _write(d, stage, name, **kw):
    (d / stage).mkdir(parents=True, exist_ok=True)
    (d / stage / f"{name}.json").write_text(json.dumps(kw))


def _params():
    return {"train": {"seed": 0},
            "pretrain": {"runs": {"ctp": {"tasks": ["ctp"]},
                                  "ctp-s1": {"tasks": ["ctp"], "seed": 1, "replicate_of": "ctp"}}},
            "finetune": {"runs": {
                "a0": {"model": "imrnet", "init": "scratch", "dataset": "synthetic-ucf"},
                "a1": {"model": "imrnet", "init": "scratch", "dataset": "synthetic-ucf", "seed": 1},
                "b0": {"model": "imrnet", "init": "ctp", "dataset": "synthetic-ucf"},
                "b1": {"model": "imrnet", "init": "ctp-s1", "dataset": "synthetic-ucf"}}}}


def test_seeds_of_a_cell_pair_with_the_other_cells_seeds(tmp_path):
    vids = lambda right: [[f"v{i}", 0, 0 if i < right else 1] for i in range(10)]  # noqa: E731
    for name, seed, right in (("a0", 0, 5), ("a1", 1, 6), ("b0", 0, 8), ("b1", 1, 7)):
        _write(tmp_path, "finetune", name, seed=seed, videos=vids(right))
    for name in ("ctp", "ctp-s1"):
        _write(tmp_path, "pretrain", name, curve=[])
    res = Results(_params(), tmp_path)
    assert res.seeds() == [0, 1]
    assert sorted(res.correct("imrnet", "ctp", "synthetic-ucf")) == [0, 1]  # ctp-s1 is ctp's seed 1
    r = _cmp(res, ("imrnet", "ctp"), ("imrnet", "scratch"))
    assert r["seeds"] == 2 and r["per_seed"] == pytest.approx([0.3, 0.1])
    assert r["diff"] == pytest.approx(0.2) and r["a_acc"] == pytest.approx(0.75)
    # a cell with a third seed the other lacks: compared on the two both have, and said so
    p = _params()
    p["finetune"]["runs"]["a2"] = {"model": "imrnet", "init": "scratch",
                                   "dataset": "synthetic-ucf", "seed": 2}
    _write(tmp_path, "finetune", "a2", seed=2, videos=vids(1))
    r3 = _cmp(Results(p, tmp_path), ("imrnet", "ctp"), ("imrnet", "scratch"))
    assert {k: r3[k] for k in ("diff", "ci", "per_seed", "a_acc", "b_acc")} == \
        {k: r[k] for k in ("diff", "ci", "per_seed", "a_acc", "b_acc")}
    assert r3["seeds_used"] == [0, 1] and r3["seeds_left_out"] == [0, 1]
    from repro.claims import _fmt
    assert "x 2 seeds (the seeds every cell shares; left out: 1 seed of B)" in _fmt(r3)[0]
    _write(tmp_path, "finetune", "a1", seed=0, videos=vids(6))
    with pytest.raises(ValueError, match="same seed 0"):
        Results(_params(), tmp_path)


def test_plateau_and_the_preconditions_section(tmp_path):
    from repro.checks import plateau, preconditions_markdown

    rising = [{"acc": a} for a in (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8)]
    flat = [{"acc": a} for a in (0.1, 0.5, 0.7, 0.8, 0.81, 0.80, 0.82, 0.81)]
    assert plateau(rising)[0] == "still rising" and "+20.0 points over the last 2" in plateau(rising)[1]
    assert plateau(flat)[0] == "plateaued"
    assert plateau(flat[:3])[0] == "too few epochs"
    collapse = [{"acc": a} for a in (0.3, 0.5, 0.6, 0.7, 0.6, 0.4, 0.2, 0.1)]
    assert plateau(collapse)[0] == "falling"
    # saturated mid-way: the quarter before still climbed, the last sits at the ceiling
    saturated = [{"acc": a} for a in (0.5, 0.7, 0.9, 0.93, 0.96, 0.97, 0.99, 0.996)]
    v, ev = plateau(saturated)
    assert v == "plateaued" and "+2.8 points" in ev and "at the ceiling: 99.3% mean" in ev
    near = [{"acc": a} for a in (0.5, 0.7, 0.9, 0.93, 0.94, 0.95, 0.97, 0.98)]
    assert plateau(near)[0] == "still rising"  # 97.5% mean: 2.5 points left to gain
    held = {"dataset": "synthetic-ucf", "subset": "test", "tasks": {"ctp": {
        "n": 40, "loss": 1.2, "constant": 1.38, "uniform": 1.386, "margin": -0.18,
        "margin_ci95": [-0.3, -0.05], "left_chance": True, "acc": 0.5, "majority": 0.3}}}
    for name, seed in (("a0", 0), ("a1", 1), ("b0", 0), ("b1", 1)):
        _write(tmp_path, "finetune", name, seed=seed, videos=[], curve=flat)
    _write(tmp_path, "pretrain", "ctp", curve=[], heldout=held)
    _write(tmp_path, "pretrain", "ctp-s1", curve=[])
    md = preconditions_markdown(Results(_params(), tmp_path))
    assert "| ctp | ctp | 40 | 1.2000 | 1.3800 | 1.3860 | -0.1800 [-0.3000, -0.0500] | 50.0% (30.0%) | **left chance** |" in md
    assert "| a1 | 1 |" in md and md.count("| **plateaued** |") == 4



def test_the_recipe_section_names_each_deviation_from_the_papers_recipe(tmp_path):
    """recipe_markdown: the optimiser of each stage, the PMSP reduction, the CTP weight, the
    classifier's lr multiplier and the width floor against the paper's, and each cell's
    finetuning epochs (a cell's seeds share their row)."""
    from repro.checks import recipe_markdown

    params = _params()
    params["pretrain"]["runs"] = {"ctp": {"tasks": ["pmsp", "ctp"], "weights": {"ctp": 2}},
                                  "ctp-s1": {"tasks": ["pmsp", "ctp"], "seed": 1,
                                             "replicate_of": "ctp", "weights": {"ctp": 2}}}
    params["pretrain"].update(optim={"name": "adam", "lr": 0.001, "batch_size": 8},
                              pmsp_reduction="mean")
    params["finetune"]["optim"] = {"lr": 0.02, "batch_size": 8}
    params["train"]["model"] = {"p_min_width": 4}
    for name, seed, epochs in (("a0", 0, 12), ("a1", 1, 12), ("b0", 0, 10), ("b1", 1, 10)):
        _write(tmp_path, "finetune", name, seed=seed, videos=[], curve=[], epochs=epochs)
    for name in ("ctp", "ctp-s1"):
        _write(tmp_path, "pretrain", name, curve=[])
    md = recipe_markdown(Results(params, tmp_path))
    assert "| pretraining optimiser | Adam, lr 0.001, batch 8 | SGD (momentum 0.9), batch 100 | **yes** |" in md
    assert "| finetuning optimiser | SGD (momentum 0.9), lr 0.02, batch 8 |" in md and md.count("**yes**") == 4
    assert "| PMSP loss over its levels and windows | mean | sum | **yes** |" in md
    assert "| CTP weight lambda (L = L_PMSP + lambda L_CTP) | 2 | 1 | **yes** |" in md
    assert "| classifier lr multiplier | 1x | 1x | no |" in md
    assert "| M/R pathway width floor (channels) | 4 |" in md
    assert "imrnet, ctp: 10; imrnet, scratch: 12." in md

def test_a_comparison_names_its_failed_training_checks_and_a_seed_mismatch_is_not_tested(tmp_path):
    """claims(): a compared run whose training accuracy still rose, and the pretraining it
    started from at chance on held-out clips, are named beside the comparison; cells trained
    with other seeds give "not tested" with the reason, not a failed report."""
    from repro.claims import claims

    rising = [{"acc": a} for a in (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8)]
    vids = [[f"v{i}", 0, 0] for i in range(10)]
    for name, seed in (("a0", 0), ("a1", 1), ("b0", 0), ("b1", 1)):
        _write(tmp_path, "finetune", name, run=name, seed=seed, videos=vids, curve=rising)
    held = {"dataset": "synthetic-ucf", "subset": "test", "tasks": {"ctp": {
        "n": 40, "loss": 1.39, "constant": 1.38, "uniform": 1.386, "margin": 0.01,
        "margin_ci95": [-0.02, 0.04], "left_chance": False, "acc": 0.25, "majority": 0.3}}}
    _write(tmp_path, "pretrain", "ctp", curve=[], heldout=held)
    _write(tmp_path, "pretrain", "ctp-s1", curve=[])
    cl = claims(Results(_params(), tmp_path), None, None, None)
    part = next(e for c in cl for e in c["evidence"] if e["what"] == "A = CTP pretraining, B = scratch")
    assert "a0 still rising" in part["result"] and "pretrain ctp: ctp at chance" in part["result"]
    assert part["verdict"] == "absent"  # identical predictions: a 0-wide interval at 0
    _write(tmp_path, "finetune", "b1", run="b1", seed=2, videos=vids, curve=rising)
    p = _params()
    p["finetune"]["runs"]["b1"]["seed"] = 2
    cl = claims(Results(p, tmp_path), None, None, None)
    part = next(e for c in cl for e in c["evidence"] if e["what"] == "A = CTP pretraining, B = scratch")
    assert part["verdict"] == "not tested" and "different seeds" in part["result"]


def test_the_flow_cost_claim_is_decided_by_tv_l1_and_farneback_alone_never_decides():
    from repro.claims import _flow_cost

    def timing(**pre):
        return {64: {"preprocessing_ms_per_frame": {"motion_vectors": 0.1, "flow": 5.0, **pre}}}

    parts, _ = _flow_cost(None, timing(flow_tvl1=50.0))  # 500x: holds
    assert [p[2] for p in parts] == ["holds"] and "TV-L1" in parts[0][0]
    parts, _ = _flow_cost(None, timing(flow_tvl1=5.0))  # 50x: the paper's claim fails
    assert [p[2] for p in parts] == ["contradicted"] and parts[0][1] == "ratio < 100"
    parts, _ = _flow_cost(None, timing())  # an old timing without TV-L1: Farneback's 50x
    assert [p[2] for p in parts] == ["inconclusive"] and "lacks" in parts[0][0]
    assert _flow_cost(None, None) is None


def test_the_papers_recipe_is_the_training_defaults():
    """repro.checks.PAPER_RECIPE restates imrnet.train.config's neutral values (the report stage
    must not import the training loop): they must agree, and a task's weight defaults to 1."""
    from imrnet.pretext.tasks import check_weights
    from imrnet.train.config import DEFAULTS, NEUTRAL
    from repro.checks import PAPER_RECIPE

    assert PAPER_RECIPE == {
        "optim": NEUTRAL[("optim", "name")], "pmsp_reduction": NEUTRAL[("pmsp_reduction",)],
        "head_lr_mult": NEUTRAL[("optim", "head_lr_mult")],
        "p_min_width": NEUTRAL[("model", "p_min_width")],
        "ctp_weight": check_weights(["pmsp", "ctp"], DEFAULTS["weights"]).get("ctp", 1.0)}
