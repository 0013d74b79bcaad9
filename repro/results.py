"""The finetuning, fusion and pretraining summaries of one pipeline run
(``reports/<profile>/metrics/``), looked up by what they are: (model variant, initialisation,
dataset). A late fusion's cell (``finetune.fusions``, stage ``fuse``) is the one its summary
names: ("<imrnet model>+<flow model>", the imrnet run's init, the dataset)."""

from __future__ import annotations

import json
from pathlib import Path

from .stats import correctness

__all__ = ["Results", "load_json", "read_jsonl"]


def read_jsonl(path: str | Path) -> list[dict]:
    """The rows of a JSON-lines file such as a run's ``metrics.jsonl`` (blank lines skipped)."""
    return [json.loads(x) for x in Path(path).read_text().splitlines() if x.strip()]


def load_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as e:
        raise ValueError(f"{path}: cannot read the run's metrics ({e})") from None


def _summaries(metrics_dir: Path, stage: str, names) -> dict[str, dict]:
    """{name: ``<metrics_dir>/<stage>/<name>.json``} for every name; a missing one is a
    ValueError naming it and the DVC stage that writes it."""
    out = {}
    for name in names:
        p = metrics_dir / stage / f"{name}.json"
        if not p.is_file():
            raise ValueError(f"{p}: missing; run `dvc repro {stage}@{name}` first")
        out[name] = load_json(p)
    return out


class Results:
    """The finetuning and pretraining summaries of one profile, looked up by what they are."""

    def __init__(self, params: dict, metrics_dir: Path | None = None):
        """``metrics_dir``: default ``reports/<profile_name>/metrics``."""
        self.params = params
        if metrics_dir is None:
            metrics_dir = Path("reports") / params.get("profile_name", "default") / "metrics"
        runs = params["finetune"].get("runs", {})
        self.ft = {name: m | {"model": runs[name]["model"], "init": runs[name]["init"],
                              "dataset": runs[name]["dataset"]}
                   for name, m in _summaries(metrics_dir, "finetune", runs).items()}
        self.pre = _summaries(metrics_dir, "pretrain", params["pretrain"].get("runs", {}))
        self.fused = _summaries(metrics_dir, "fuse", params["finetune"].get("fusions") or {})
        seed0 = int(params["train"].get("seed", 0))
        # a pretraining run's cell: itself, or the run it replicates with another seed
        self.pre_cell = {name: (params["pretrain"]["runs"][name] or {}).get("replicate_of") or name
                         for name in self.pre}
        seen: dict[tuple, dict[int, str]] = {}
        for name, r in [*self.ft.items(), *self.fused.items()]:
            init = r["init"] if r["init"] == "scratch" else self.pre_cell.get(r["init"], r["init"])
            key = (r["model"], init, r["dataset"])
            seed = int(r.get("seed", seed0))
            if seed in seen.setdefault(key, {}):
                raise ValueError(f"finetune runs {seen[key][seed]!r} and {name!r} are the same "
                                 f"cell {key} with the same seed {seed}")
            seen[key][seed] = name
        self.by_cell = seen  # (model, init cell, dataset) -> {seed: finetune run}
        order = ["synthetic-ucf", "synthetic-hmdb", "ucf101", "hmdb51"]
        ds = {r["dataset"] for r in self.ft.values()}
        self.datasets = [d for d in order if d in ds] + sorted(ds - set(order))

    def settings(self) -> str:
        """One sentence on the CPU reproducibility settings the runs recorded
        (`imrnet.reproducibility.record`), or which runs differ."""
        recs = {}
        for name, r in [*self.pre.items(), *self.ft.items()]:
            recs.setdefault(json.dumps(r.get("reproducibility"), sort_keys=True), []).append(name)
        if len(recs) > 1:
            return ("Runs were made under different reproducibility settings: " + "; ".join(
                f"{json.loads(k) and json.loads(k).get('mode', '?')}: {', '.join(sorted(v))}"
                for k, v in sorted(recs.items())) + ".")
        rec = json.loads(next(iter(recs), "null"))
        if not rec:
            return "The runs recorded no reproducibility settings."
        libs = ", ".join(f"{k} {v}" for k, v in sorted(rec.get("libraries", {}).items()))
        if rec.get("mode") != "avx2":
            return (f"Numbers made with the reproducibility mode off ({rec.get('mode')}): they "
                    f"hold on the machine that made them only ({libs}).")
        if not rec.get("cross_machine"):
            why = "; ".join(rec.get("problems", [])) or rec.get("cuda") or "see the metrics"
            return (f"Numbers made with the reproducibility mode asked for but not holding "
                    f"({why}): they hold on the machine that made them only ({libs}).")
        return (f"Numbers made under the CPU reproducibility mode (kernels capped at AVX2, "
                f"{rec['torch_threads']} torch threads; {libs}): the same bits whatever ISA "
                "extensions a machine has, within a CPU family; an Intel Xeon and an AMD EPYC "
                "give other training numbers (docs/reproducibility.md).")

    def runs(self, model: str, init: str, dataset: str) -> dict[int, dict]:
        """{seed: finetuning summary} of a cell (empty when the profile has none)."""
        return {s: self.ft.get(n) or self.fused[n]
                for s, n in sorted(self.by_cell.get((model, init, dataset), {}).items())}

    def run(self, model: str, init: str, dataset: str) -> dict | None:
        """The cell's run of its lowest seed (None: not in this profile)."""
        rs = self.runs(model, init, dataset)
        return next(iter(rs.values()), None)

    def seeds(self) -> list[int]:
        """Every finetuning seed of the profile."""
        return sorted({s for cell in self.by_cell.values() for s in cell})

    def correct(self, model, init, dataset):
        """{seed: {"<dataset>/<video>": 0|1}} of a cell, or None when the profile lacks it."""
        rs = self.runs(model, init, dataset)
        if not rs:
            return None
        return {s: {f"{dataset}/{k}": v for k, v in correctness(r["videos"]).items()}
                for s, r in rs.items()}
