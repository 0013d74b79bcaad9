"""The pipeline's run configs (params -> imrnet.train configs), the default profile's clip
budget against the measured training speed, and the profiles' consistency with dvc.yaml."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from imrnet.data.synthetic import DATASETS
from imrnet.train.config import make_config
from pipelines import runs as R
from pipelines.profiles import resolve_profile

ROOT = Path(__file__).resolve().parents[2]
PROFILES = {p.stem: resolve_profile(p.stem, ROOT) for p in (ROOT / "profiles").glob("*.yaml")}

# Measured on this project's 2-core machine (2026-11-29, `make repro`, reports/timing/): clips per
# second of training at the default profile's sizes (96x72 built-in data, 3 GOPs, crop 64,
# IMRNet-R18 I width 16, 1 loader worker), the slowest task (PMSP + CTP); a finetuning run's
# three-crop test costs about a third of a training clip per view; fixed costs: fetch + extract,
# the runtime profile, the report, and DVC + interpreter start-up per stage.
CLIPS_PER_S = 16.5
FIXED_S = 80 + 60 + 60
PER_STAGE_S = 5


def _sizes(params):
    out = {}
    for name, e in params["fetch"]["datasets"].items():
        spec = DATASETS[name]
        n = lambda per, e=e: 0 if per == 0 else max(1, round(per * e["scale"]))  # noqa: E731
        out[name] = (n(spec.train_per_class) * len(spec.classes), n(spec.test_per_class) * len(spec.classes))
    return out


def budget_seconds(params) -> tuple[float, int]:
    sizes = _sizes(params)
    clips = 0.0
    pre = params["pretrain"]
    for run in pre["runs"].values():
        clips += R.run_budget(pre, sizes[pre["dataset"]][0], run) * sizes[pre["dataset"]][0]
    ft = params["finetune"]
    for run in ft["runs"].values():
        n_train, n_test = sizes[run["dataset"]]
        clips += R.run_budget(ft, n_train, run) * n_train + n_test  # 3 views x 1/3 cost
    stages = len(pre["runs"]) + len(ft["runs"]) + 5
    return clips / CLIPS_PER_S + FIXED_S + PER_STAGE_S * stages, int(clips)


def test_default_budget_fits_30_minutes():
    s, clips = budget_seconds(PROFILES["default"])
    assert clips > 10_000, "the default profile should train, not just smoke"
    assert s <= 30 * 60, f"default profile: {clips} clips, ~{s / 60:.1f} min at {CLIPS_PER_S} clips/s"


def test_smoke_budget_is_tiny():
    """The smoke profile trains on a few hundred clips in all (its time is start-up bound)."""
    _, clips = budget_seconds(PROFILES["smoke"])
    assert clips < 1000


def test_run_budget_rules():
    assert R.run_budget({"budget": {"clips": 450}}, 144) == 3
    assert R.run_budget({"budget": {"clips": 450}}, 60) == 8
    assert R.run_budget({"budget": {"clips": 1}}, 60) == 1
    assert R.run_budget({"budget": {"epochs": 20}}, 60) == 20
    assert R.run_budget({"budget": {"epochs": 20}}, 60, {"epochs": 500}) == 500
    with pytest.raises(ValueError, match="budget"):
        R.run_budget({}, 10)


@pytest.fixture
def fake_index(tmp_path, monkeypatch):
    """An extracted-looking root: index.json files are all `train_videos` reads."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(R, "train_videos", lambda root, ds, subset="train", split=1: 24)
    return tmp_path


@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_every_run_of_every_profile_makes_a_valid_config(profile, fake_index):
    p = PROFILES[profile]
    for name in p["pretrain"]["runs"]:
        cfg = make_config(R.pretrain_config(p, name))
        assert cfg["out"] == f"runs/pretrain/{name}" and cfg["tasks"]
    for name, run in p["finetune"]["runs"].items():
        cfg = make_config(R.finetune_config(p, name))
        assert cfg["out"] == f"runs/finetune/{name}" and cfg["tasks"] == []
        if run["init"] != "scratch":
            pre = make_config(R.pretrain_config(p, run["init"]))
            assert pre["arch"] == cfg["arch"], f"{name}: pretrained {pre['arch']} into {cfg['arch']}"
            assert pre["model"] == {**pre["model"], **{k: v for k, v in cfg["model"].items()
                                                      if k not in ("dropout",)}}, name


def test_after_must_be_the_runs_start(fake_index):
    p = json.loads(json.dumps(PROFILES["smoke"]))
    name = next(k for k, r in p["finetune"]["runs"].items() if r["init"] != "scratch")
    p["finetune"]["runs"][name]["after"] = "data/mpeg4/synthetic-ucf/index.json"
    with pytest.raises(ValueError, match="after must be"):
        R.finetune_config(p, name)
    with pytest.raises(ValueError, match="no finetuning run"):
        R.finetune_config(p, "nope")
    p["finetune"]["runs"][name]["init"] = "nothing"
    with pytest.raises(ValueError, match="neither 'scratch' nor a pretrain run"):
        R.finetune_config(p, name)


def test_profiles_share_the_dag():
    """Smoke and default run the same stages; every profile has every section."""
    keys = lambda p: (sorted(p["pretrain"]["runs"]), sorted(p["finetune"]["runs"]))  # noqa: E731
    assert keys(PROFILES["smoke"]) == keys(PROFILES["default"])
    assert {"default", "smoke", "paper"} <= set(PROFILES)
    for p in PROFILES.values():
        assert set(p) >= {"profile_name", "fetch", "extract", "train", "pretrain", "finetune",
                          "profile", "report"}


def test_seeds_replicates_and_their_errors(fake_index):
    """A run's seed replaces train.seed; a pretrained finetuning run inherits its pretraining
    seed; replicate_of must name another run that differs in its seed only."""
    from pipelines.params import ParamsError

    p = json.loads(json.dumps(PROFILES["smoke"]))
    p["pretrain"]["runs"]["pmsp_ctp-s1"] = dict(p["pretrain"]["runs"]["pmsp_ctp"], seed=1,
                                                replicate_of="pmsp_ctp")
    run = next(r for r in p["finetune"]["runs"].values() if r["init"] == "pmsp_ctp")
    p["finetune"]["runs"]["x-s1"] = dict(run, init="pmsp_ctp-s1",
                                         after="runs/pretrain/pmsp_ctp-s1/model.pt")
    R.check_sections(p, "p.yaml")
    assert R.pretrain_config(p, "pmsp_ctp-s1")["seed"] == 1
    assert R.pretrain_config(p, "pmsp_ctp")["seed"] == p["train"].get("seed", 0)
    assert R.finetune_config(p, "x-s1")["seed"] == 1
    p["finetune"]["runs"]["x-s1"]["seed"] = 5
    assert R.finetune_config(p, "x-s1")["seed"] == 5
    bad = json.loads(json.dumps(p))
    bad["pretrain"]["runs"]["pmsp_ctp-s1"]["tasks"] = ["pmsp"]
    with pytest.raises(ParamsError, match=r"pretrain.runs.pmsp_ctp-s1.replicate_of: .*only in its seed"):
        R.check_sections(bad, "p.yaml")
    bad = json.loads(json.dumps(p))
    bad["pretrain"]["runs"]["pmsp_ctp-s1"]["seed"] = p["train"].get("seed", 0)
    with pytest.raises(ParamsError, match="same seed"):
        R.check_sections(bad, "p.yaml")
    bad = json.loads(json.dumps(p))
    bad["pretrain"]["runs"]["pmsp_ctp-s1"]["replicate_of"] = "nope"
    with pytest.raises(ParamsError, match="'nope' is not another run"):
        R.check_sections(bad, "p.yaml")


def test_stage_knobs_reach_the_run_configs(fake_index):
    """pretrain.pmsp_reduction and finetune.bn_stats (profile-wide) land in each run's config;
    at their paper values they change no params hash."""
    from imrnet.train.config import params_hash

    p = json.loads(json.dumps(PROFILES["smoke"]))
    ft = next(k for k, r in p["finetune"]["runs"].items() if r["init"] != "scratch")
    before = (params_hash(make_config(R.pretrain_config(p, "pmsp_ctp"))),
              params_hash(make_config(R.finetune_config(p, ft))))
    p["pretrain"].pop("pmsp_reduction")
    p["finetune"].pop("bn_stats")
    assert before == (params_hash(make_config(R.pretrain_config(p, "pmsp_ctp"))),
                      params_hash(make_config(R.finetune_config(p, ft))))
    p["pretrain"]["pmsp_reduction"] = "mean"
    p["finetune"]["bn_stats"] = "reset"
    assert R.pretrain_config(p, "pmsp_ctp")["pmsp_reduction"] == "mean"
    assert R.finetune_config(p, ft)["init"]["bn_stats"] == "reset"


def test_the_decisive_profile_is_what_its_generator_writes_and_pairs_its_seeds(tmp_path, monkeypatch):
    """profiles/decisive.yaml is make_decisive.py's output (no hand edits drift from it);
    every compared cell has every seed; seed s of a pretrained cell starts from pretraining
    seed s; the compared test set holds ~2000 videos and the training set 288; CoViAR trains
    longer than IMRNet (each cell to its plateau) and CTP is weighted 4 (docs/experiments/
    power.md; decisive.md "The final design", "Plateau pilot" and "The next recipe")."""
    import importlib.util
    import shutil

    for f in ("make_decisive.py", "default.yaml"):
        shutil.copy(ROOT / "profiles" / f, tmp_path / f)
    spec = importlib.util.spec_from_file_location("make_decisive", tmp_path / "make_decisive.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    mod.main()
    assert (tmp_path / "decisive.yaml").read_text() == (ROOT / "profiles/decisive.yaml").read_text()
    p = PROFILES["decisive"]
    R.check_sections(p, "decisive.yaml")
    cells: dict = {}
    for name, run in p["finetune"]["runs"].items():
        seed = R.finetune_seed(p, run)
        init = run["init"]
        if init != "scratch":
            pre = p["pretrain"]["runs"][init]
            assert R.run_seed(p, pre) == seed, name
            init = pre.get("replicate_of", init)
        cells.setdefault((run["model"], init, run["dataset"]), set()).add(seed)
    # 5 seeds of the IMRNet cells, CoViAR's 3 among them (power.md, "The fourth design")
    assert len(cells) == 3 and cells == {
        ("imrnet", "scratch", "synthetic-ucf"): set(mod.SEEDS),
        ("imrnet", "pmsp_ctp", "synthetic-ucf"): set(mod.SEEDS),
        ("coviar", "scratch", "synthetic-ucf"): set(mod.SEEDS[:mod.MODEL_SEEDS["coviar"]])}, cells
    assert len(mod.SEEDS) == 5 and mod.MODEL_SEEDS == {"coviar": 3}
    ucf = p["fetch"]["datasets"]["synthetic-ucf"]
    assert round(4 * ucf["test_scale"]) * 12 == 1008 and round(12 * ucf["scale"]) * 12 == 288
    assert set(p["fetch"]["datasets"]) == {"synthetic-kinetics", "synthetic-ucf"}
    epochs = {run["model"]: R.run_budget(p["finetune"], 288, run)
              for run in p["finetune"]["runs"].values()}
    assert epochs == mod.EPOCHS == {"imrnet": 48, "coviar": 48}
    assert all(r["weights"] == {"ctp": mod.CTP_WEIGHT} for r in p["pretrain"]["runs"].values())
    assert p["train"]["data"]["cache_mb"] == mod.CACHE_MB > 0  # changes no result, saves time
    assert not any("optim" in r for r in p["finetune"]["runs"].values())  # one classifier lr
    # the profile stage measures the IMRNet it trains (M/R pathways >= 4 wide)
    from pipelines.params import ParamsError
    from pipelines.profile import trained_p_min_width

    assert trained_p_min_width(p["train"]) == 4 and trained_p_min_width(PROFILES["default"]["train"]) == 1
    with pytest.raises(ParamsError, match="p_min_width"):
        trained_p_min_width({"model": {"p_min_width": 0}}, "x.yaml")


def test_a_pretrained_finetuning_seed_must_be_its_pretraining_seed():
    from pipelines.params import ParamsError

    p = json.loads(json.dumps(PROFILES["smoke"]))
    name = next(k for k, r in p["finetune"]["runs"].items() if r["init"] != "scratch")
    p["finetune"]["runs"][name]["seed"] = 7
    with pytest.raises(ParamsError, match=rf"finetune.runs.{name}.seed: 7 but it starts from"):
        R.check_sections(p, "p.yaml")


def test_fusions_name_two_finetuning_runs_one_of_which_reads_flow():
    """finetune.fusions: an IMRNet run and a flow network's run of one dataset and seed; the
    report's cell is "<imrnet model>+<flow model>" with the IMRNet run's init. Each wrong
    entry is refused with the key that is wrong."""
    from pipelines.params import ParamsError

    p = json.loads(json.dumps(PROFILES["default"]))
    (name, f), = p["finetune"]["fusions"].items()
    assert R.fusion_spec(p, name) == {"imrnet": f["imrnet"], "flow": f["flow"], "flow_weight": 1.0,
                                      "model": "imrnet+flow", "init": "supervised",
                                      "dataset": "synthetic-ucf"}
    for change, msg in [({"flow": "nope"}, r"fusions\.\S+\.flow: 'nope' is not a finetuning run"),
                        ({"flow": "imrnet-scratch-ucf"}, "not one that reads optical flow"),
                        ({"imrnet": "imrnet-flow-scratch-ucf"}, "reads optical flow itself"),
                        ({"flow_weight": 0}, "flow_weight"),
                        ({"imrnet": "imrnet-supervised-hmdb"}, "different datasets")]:
        bad = json.loads(json.dumps(p))
        bad["finetune"]["fusions"][name].update(change)
        with pytest.raises(ParamsError, match=msg):
            R.check_sections(bad, "p.yaml")
    bad = json.loads(json.dumps(p))
    bad["finetune"]["runs"][f["flow"]]["seed"] = 3
    with pytest.raises(ParamsError, match="different seeds"):
        R.check_sections(bad, "p.yaml")
    bad = json.loads(json.dumps(p))
    bad["finetune"]["fusions"] = {f["flow"]: f}
    with pytest.raises(ParamsError, match="also the name of a finetuning run"):
        R.check_sections(bad, "p.yaml")
    with pytest.raises(ValueError, match="no fusion 'x'"):
        R.fusion_spec(p, "x")
