"""The training runs of the pipeline, from params.yaml: ``pretrain.runs`` and ``finetune.runs``
turned into `imrnet.train` configs.

Params layout (one profile; see profiles/*.yaml):

    train:          shared by every run: seed, data (root, crop, GOPs, flip, workers),
                    model (IMRNet's arguments), eval
    pretrain:       dataset, budget ({clips: N} per run, or {epochs: N}), optim, heldout?,
                    pmsp_reduction? (sum | mean),
                    runs: {name: {tasks, arch?, model?, weights?, seed?, replicate_of?}}
    finetune:       budget, optim, bn_stats? (keep | reset: a pretrained backbone's BatchNorm
                    statistics), models: {variant: {arch?, model?, streams?}},
                    runs: {name: {model: variant, init: scratch | <pretrain run>, dataset,
                    after: the file the run starts from, epochs?, seed?, optim? (this run's
                    overrides of the stage's optim, e.g. head_lr_mult for pretrained starts)}},
                    fusions?: {name: {imrnet: <finetune run>, flow: <finetune run of a
                    flow-input arch>, flow_weight? (default 1)}}: late fusions of two runs'
                    test scores (stage fuse@<name>, `imrnet.evaluate.fusion`); the report's
                    cell of a fusion is (<imrnet run's model>+<flow run's model>, the imrnet
                    run's init, their dataset)

Seeds: a run's ``seed`` (default ``train.seed``) replaces the shared one. A pretraining run
with ``replicate_of: <run>`` is another seed of that run (same tasks, network and weights): the
report treats both as one cell. A finetuning run from a pretrained start takes its pretraining
run's seed unless it sets its own, so seed s of a pretrained cell starts from pretraining seed
s. Finetuning runs of one (model, init, dataset) cell with different seeds are that cell's
seeds; comparisons pair them by seed (`repro.stats.seeded_bootstrap`).

A run's length is a clip budget: epochs = max(1, round(clips / training videos)), so a profile
states how much training each run gets whatever the dataset's size (`run_budget`). ``after`` is
what DVC tracks as the run's starting point: ``runs/pretrain/<init>/model.pt`` for a pretrained
start, ``data/mpeg4/<dataset>/index.json`` for a scratch one (DVC cannot make a dependency
conditional); `finetune_config` refuses any other value, so the DAG cannot silently miss an edge.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

from imrnet.settings import deep_merge

from .params import NAME, ParamsError, check, read_params, reports_dir

__all__ = ["load_params", "pretrain_config", "finetune_config", "fusion_spec", "run_budget",
           "train_videos", "run_seed", "finetune_seed", "RUNS_DIR", "metrics_dir", "timing_dir"]

RUNS_DIR = Path("runs")


def metrics_dir(params: dict) -> Path:
    """``reports/<profile>/metrics``: the runs' deterministic summaries (committed)."""
    return reports_dir(params) / "metrics"


def timing_dir(params: dict) -> Path:
    """``reports/<profile>/timing``: measured wall times (never committed)."""
    return reports_dir(params) / "timing"


# The sections' layout, checked by `check_sections` (`pipelines.params.check`: each error names
# the file, the key, the value and what is allowed). The training values inside ``train``,
# ``optim`` and ``model`` are checked per run by `imrnet.train.config.make_config`, before the
# run writes anything.
_ARCH = "choice:imrnet|coviar|imrnet_flow|dmcnet|flow"
_FLOW_INPUT = ("imrnet_flow", "flow")  # imrnet.train.config.FLOW_INPUT_ARCHS
TRAIN_SPEC = {"seed": ("int>=0", False), "data": ("mapping", False), "model": ("mapping", False),
              "eval": ("mapping", False)}
BUDGET_SPEC = {"clips": ("int>=1", False), "epochs": ("int>=1", False)}
PRETRAIN_SPEC = {"dataset": ("name", True), "budget": ("dict", True), "optim": ("mapping", False),
                 "runs": ("dict", True), "heldout": ("name", False),
                 "pmsp_reduction": ("choice:sum|mean", False)}
PRETRAIN_RUN_SPEC = {"tasks": ("str-list", True), "arch": (_ARCH, False),
                     "model": ("mapping", False), "weights": ("mapping", False),
                     "epochs": ("int>=1", False), "seed": ("int>=0", False),
                     "replicate_of": ("str", False)}
FINETUNE_SPEC = {"budget": ("dict", True), "optim": ("mapping", False), "models": ("dict", True),
                 "runs": ("dict", True), "bn_stats": ("choice:keep|reset", False),
                 "fusions": ("mapping", False)}
FUSION_SPEC = {"imrnet": ("name", True), "flow": ("name", True), "flow_weight": ("number>0", False)}
FINETUNE_MODEL_SPEC = {"arch": (_ARCH, False), "model": ("mapping", False),
                       "streams": ("str-list", False)}
FINETUNE_RUN_SPEC = {"model": ("str", True), "init": ("str", True), "dataset": ("name", True),
                     "after": ("str", True), "epochs": ("int>=1", False),
                     "seed": ("int>=0", False), "optim": ("mapping", False)}
PROFILE_SPEC = {"sizes": ("list", True), "rounds": ("int>=1", False),
                "repeats": ("int>=1", False), "warmup": ("int>=0", False)}
PROFILE_SIZE_SPEC = {"size": ("int>=16", True), "i_width": ("int>=1", False),
                     "res5_stride": ("int-of:1|2", False),
                     "coviar_i_depth": ("int-of:18|34|50|101|152", False),
                     "depth50": ("bool", False)}
REPORT_SPEC = {"pmsp_videos": ("int>=1", False)}


def _mapping(where: str, v) -> dict:
    if not isinstance(v, dict):
        raise ParamsError(f"{where} must be a mapping, got {v!r}")
    return v


def _check_stages(p: dict, path) -> None:
    for key in ("train", "pretrain", "finetune"):
        if key not in p:
            raise ParamsError(f"{path}: no {key!r} section")
        _mapping(f"{path}: {key}", p[key])
    reports_dir(p, path)  # profile_name: one folder under reports/
    check(f"{path}: train", p["train"], TRAIN_SPEC)
    for stage, spec in (("pretrain", PRETRAIN_SPEC), ("finetune", FINETUNE_SPEC)):
        sec = check(f"{path}: {stage}", p[stage], spec)
        b = check(f"{path}: {stage}.budget", sec["budget"], BUDGET_SPEC)
        if len(b) != 1:
            raise ParamsError(f"{path}: {stage}.budget must hold one of clips or epochs, got {b!r}")
    for stage in ("pretrain", "finetune"):  # a run's name is its folder under runs/<stage>/
        for name in p[stage]["runs"]:
            if not isinstance(name, str) or not re.fullmatch(NAME, name):
                raise ParamsError(f"{path}: {stage}.runs: {name!r} is not a run name (letters, "
                                  "digits, '.', '_', '-', not starting with '.': one folder "
                                  f"under runs/{stage}/)")


def _check_pretrain_runs(p: dict, path) -> None:
    pre = p["pretrain"]["runs"]
    for name, run in pre.items():
        check(f"{path}: pretrain.runs.{name}", _mapping(f"{path}: pretrain.runs.{name}", run),
              PRETRAIN_RUN_SPEC)
    for name, run in pre.items():
        of = run.get("replicate_of")
        if of is None:
            continue
        where = f"{path}: pretrain.runs.{name}.replicate_of"
        if of not in pre or of == name or pre[of].get("replicate_of") is not None:
            raise ParamsError(f"{where}: {of!r} is not another run without replicate_of of "
                              f"its own (pretrain.runs: {', '.join(pre)})")
        same = {k: v for k, v in run.items() if k not in ("seed", "replicate_of")}
        orig = {k: v for k, v in pre[of].items() if k != "seed"}
        if same != orig:
            raise ParamsError(f"{where}: a replicate differs from {of!r} only in its seed; "
                              f"got {same!r} vs {orig!r}")
        if run_seed(p, run) == run_seed(p, pre[of]):
            raise ParamsError(f"{where}: same seed {run_seed(p, run)} as {of!r}: not another seed")


def _check_finetune_runs(p: dict, path) -> None:
    pre = p["pretrain"]["runs"]
    for name, var in p["finetune"]["models"].items():
        check(f"{path}: finetune.models.{name}",
              _mapping(f"{path}: finetune.models.{name}", {} if var is None else var),
              FINETUNE_MODEL_SPEC)
    for name, run in p["finetune"]["runs"].items():
        check(f"{path}: finetune.runs.{name}", _mapping(f"{path}: finetune.runs.{name}", run),
              FINETUNE_RUN_SPEC)
    for name, run in p["finetune"]["runs"].items():
        init = run.get("init")
        if run.get("seed") is not None and init in pre and run_seed(p, pre[init]) != run["seed"]:
            raise ParamsError(f"{path}: finetune.runs.{name}.seed: {run['seed']} but it starts "
                              f"from pretrain run {init!r} of seed {run_seed(p, pre[init])}; seed s "
                              "of a pretrained cell starts from pretraining seed s (add a "
                              "replicate_of run of that seed, or drop this seed)")


def _arch_of(p: dict, run: dict) -> str:
    return ((p["finetune"]["models"].get(run.get("model")) or {}).get("arch") or "imrnet")


def _check_fusions(p: dict, path) -> None:
    runs = p["finetune"]["runs"]
    for name, f in (p["finetune"].get("fusions") or {}).items():
        where = f"{path}: finetune.fusions.{name}"
        if not isinstance(name, str) or not re.fullmatch(NAME, name):
            raise ParamsError(f"{path}: finetune.fusions: {name!r} is not a name (letters, "
                              "digits, '.', '_', '-', not starting with '.')")
        check(where, _mapping(where, f), FUSION_SPEC)
        if name in runs:
            raise ParamsError(f"{where}: also the name of a finetuning run; a fusion needs its "
                              "own name")
        for role in ("imrnet", "flow"):
            if f[role] not in runs:
                raise ParamsError(f"{where}.{role}: {f[role]!r} is not a finetuning run "
                                  f"(finetune.runs: {', '.join(runs)})")
        a, b = runs[f["imrnet"]], runs[f["flow"]]
        if _arch_of(p, b) not in _FLOW_INPUT:
            raise ParamsError(f"{where}.flow: run {f['flow']!r} is a {_arch_of(p, b)!r} network, "
                              f"not one that reads optical flow ({' or '.join(_FLOW_INPUT)})")
        if _arch_of(p, a) in _FLOW_INPUT:
            raise ParamsError(f"{where}.imrnet: run {f['imrnet']!r} reads optical flow itself "
                              f"(arch {_arch_of(p, a)!r}): the fusion adds flow to a network "
                              "that has none")
        if a["dataset"] != b["dataset"]:
            raise ParamsError(f"{where}: its runs test on different datasets ({a['dataset']!r} "
                              f"and {b['dataset']!r})")
        if finetune_seed(p, a) != finetune_seed(p, b):
            raise ParamsError(f"{where}: its runs have different seeds ({finetune_seed(p, a)} "
                              f"and {finetune_seed(p, b)}); a fused cell's seed is both runs'")


def fusion_spec(params: dict, name: str) -> dict:
    """``finetune.fusions[name]`` with what it fuses: ``imrnet`` and ``flow`` (run names),
    ``flow_weight`` (default 1), ``model`` (the report's variant: "<imrnet model>+<flow
    model>"), ``init`` and ``dataset`` (the imrnet run's)."""
    fus = params["finetune"].get("fusions") or {}
    if name not in fus:
        raise ValueError(f"no fusion {name!r} in params (finetune.fusions: "
                         f"{', '.join(fus) or 'none'})")
    f, runs = fus[name], params["finetune"]["runs"]
    a, b = runs[f["imrnet"]], runs[f["flow"]]
    return {"imrnet": f["imrnet"], "flow": f["flow"],
            "flow_weight": float(f.get("flow_weight", 1.0)),
            "model": f"{a['model']}+{b['model']}", "init": a["init"], "dataset": a["dataset"]}


def _check_profile_report(p: dict, path) -> None:
    if "profile" in p:
        prof = check(f"{path}: profile", _mapping(f"{path}: profile", p["profile"]), PROFILE_SPEC)
        for i, entry in enumerate(prof["sizes"]):
            check(f"{path}: profile.sizes[{i}]", _mapping(f"{path}: profile.sizes[{i}]", entry),
                  PROFILE_SIZE_SPEC)
    if "report" in p:
        check(f"{path}: report", _mapping(f"{path}: report", p["report"] or {}), REPORT_SPEC)


def check_sections(p: dict, path: str | Path) -> dict:
    """``p`` (a whole params file) when its ``train``, ``pretrain``, ``finetune``, ``profile``
    and ``report`` sections are laid out as the specs above say, else `ParamsError`."""
    _check_stages(p, path)
    _check_pretrain_runs(p, path)
    _check_finetune_runs(p, path)
    _check_fusions(p, path)
    _check_profile_report(p, path)
    return p


def load_params(path: str | Path = "params.yaml") -> dict:
    """The params file at ``path``, its training, profile and report sections checked
    (`check_sections`); errors are `pipelines.params.ParamsError` (a ValueError) naming the
    file and the key."""
    return check_sections(read_params(path), path)


def train_videos(root: str | Path, dataset: str, subset: str = "train", split: int = 1) -> int:
    """Number of training videos of an extracted dataset (its index)."""
    from imrnet.data.extract import load_index

    return len(load_index(root, dataset, subset=subset, split=split))


def run_budget(section: dict, n_videos: int, run: dict | None = None) -> int:
    """Epochs of a run: the run's ``epochs`` if set, else the section's ``budget``:
    ``{epochs: N}``, or ``{clips: N}`` spread over ``n_videos`` training videos (at least 1)."""
    run = run or {}
    if run.get("epochs") is not None:
        return int(run["epochs"])
    b = section.get("budget") or {}
    if b.get("epochs") is not None:
        return int(b["epochs"])
    if b.get("clips") is None:
        raise ValueError("a pretrain/finetune section needs budget: {clips: N} or {epochs: N}")
    return max(1, round(int(b["clips"]) / max(1, n_videos)))


def run_seed(params: dict, run: dict | None) -> int:
    """A pretraining run's seed: its ``seed``, else ``train.seed`` (default 0)."""
    run = run or {}
    return int(run["seed"]) if run.get("seed") is not None else int(params["train"].get("seed", 0))


def finetune_seed(params: dict, run: dict) -> int:
    """A finetuning run's seed: its ``seed``; else its pretraining run's; else ``train.seed``."""
    if run.get("seed") is not None:
        return int(run["seed"])
    pre = params["pretrain"].get("runs", {})
    if run.get("init", "scratch") != "scratch" and run.get("init") in pre:
        return run_seed(params, pre[run["init"]])
    return run_seed(params, None)


def _base(params: dict, section: dict, dataset: str, spec: dict) -> dict:
    """The shared ``train`` section, the stage's optimiser and ``dataset``, with the network of
    ``spec`` (a pretraining run or a finetuning model variant): its ``arch`` and ``model``
    overrides (CoViAR and DMC-Net take none of IMRNet's ``train.model`` keys)."""
    t = params["train"]
    cfg = {"seed": t.get("seed", 0), "progress": False,
           "data": copy.deepcopy(t.get("data", {})), "model": copy.deepcopy(t.get("model", {})),
           "eval": copy.deepcopy(t.get("eval", {})),
           "optim": copy.deepcopy(section.get("optim", {}))}
    cfg["data"]["dataset"] = dataset
    arch = spec.get("arch", "imrnet")
    if arch != "imrnet":
        cfg["arch"] = arch
        if arch in ("coviar", "dmcnet", "flow"):  # not IMRNet: none of IMRNet's keys
            cfg["model"] = {}
    cfg["model"] = deep_merge(cfg["model"], spec.get("model"))
    return cfg


def _length_and_out(cfg: dict, section: dict, run: dict, stage: str, name: str) -> dict:
    """Epochs from the run's budget over the dataset's training videos, warm-up capped at
    them, and the run's folder."""
    d = cfg["data"]
    cfg["optim"]["epochs"] = run_budget(section, train_videos(d["root"], d["dataset"],
                                                              split=d.get("split", 1)), run)
    cfg["optim"]["warmup_epochs"] = min(int(cfg["optim"].get("warmup_epochs", 0)),
                                        cfg["optim"]["epochs"])
    cfg["out"] = str(RUNS_DIR / stage / name)
    return cfg


def pretrain_config(params: dict, name: str) -> dict:
    """The `imrnet.train.pretrain` config of ``pretrain.runs[name]``."""
    sec = params["pretrain"]
    if name not in sec.get("runs", {}):
        raise ValueError(f"no pretraining run {name!r} in params (pretrain.runs: "
                         f"{', '.join(sec.get('runs', {}))})")
    run = sec["runs"][name] or {}
    cfg = _base(params, sec, sec["dataset"], run)
    cfg["tasks"] = list(run["tasks"])
    cfg["seed"] = run_seed(params, run)
    if sec.get("heldout") is not None:
        cfg["eval"]["heldout"] = sec["heldout"]
    if sec.get("pmsp_reduction") is not None:
        cfg["pmsp_reduction"] = sec["pmsp_reduction"]
    if run.get("weights"):
        cfg["weights"] = dict(run["weights"])
    return _length_and_out(cfg, sec, run, "pretrain", name)


def finetune_config(params: dict, name: str) -> dict:
    """The `imrnet.train.finetune` config of ``finetune.runs[name]``."""
    sec = params["finetune"]
    runs = sec.get("runs", {})
    if name not in runs:
        raise ValueError(f"no finetuning run {name!r} in params (finetune.runs: {', '.join(runs)})")
    run = runs[name]
    for k in ("model", "init", "dataset", "after"):
        if k not in run:
            raise ValueError(f"finetune.runs.{name} lacks {k!r}")
    variants = sec.get("models", {})
    if run["model"] not in variants:
        raise ValueError(f"finetune.runs.{name}: model {run['model']!r} is not among "
                         f"finetune.models ({', '.join(variants)})")
    var = variants[run["model"]] or {}
    cfg = _base(params, sec, run["dataset"], var)
    cfg["tasks"] = []
    cfg["seed"] = finetune_seed(params, run)
    cfg["optim"] = deep_merge(cfg["optim"], run.get("optim"))  # the run's own overrides
    if var.get("streams"):
        cfg["streams"] = list(var["streams"])
    root = cfg["data"]["root"]
    if run["init"] == "scratch":
        expected = f"{root}/{run['dataset']}/index.json"
        cfg["init"] = None
    else:
        if run["init"] not in params["pretrain"].get("runs", {}):
            raise ValueError(f"finetune.runs.{name}: init {run['init']!r} is neither 'scratch' "
                             "nor a pretrain run")
        expected = str(RUNS_DIR / "pretrain" / run["init"] / "model.pt")
        cfg["init"] = {"checkpoint": expected}
        if sec.get("bn_stats") is not None and sec["bn_stats"] != "keep":
            cfg["init"]["bn_stats"] = sec["bn_stats"]
    if str(Path(run["after"])) != str(Path(expected)):
        raise ValueError(f"finetune.runs.{name}: after must be {expected!r} (what the run starts "
                         f"from, for DVC), got {run['after']!r}")
    return _length_and_out(cfg, sec, run, "finetune", name)


def write_json(path: Path, obj) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.part")
    tmp.write_text(json.dumps(obj, indent=1, sort_keys=True) + "\n")
    tmp.replace(path)
