"""The finetuning and pretraining summaries of one pipeline run (``reports/metrics/``), looked up
by what they are: (model variant, initialisation, dataset)."""

from __future__ import annotations

import json
from pathlib import Path

from .stats import correctness

__all__ = ["Results", "load_json", "read_jsonl"]

METRICS_DIR = Path("reports/metrics")


def read_jsonl(path: str | Path) -> list[dict]:
    """The rows of a JSON-lines file such as a run's ``metrics.jsonl`` (blank lines skipped)."""
    return [json.loads(x) for x in Path(path).read_text().splitlines() if x.strip()]


def load_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as e:
        raise ValueError(f"{path}: cannot read the run's metrics ({e})") from None


class Results:
    """The finetuning and pretraining summaries of one profile, looked up by what they are."""

    def __init__(self, params: dict, metrics_dir: Path = METRICS_DIR):
        self.params = params
        self.ft, self.pre = {}, {}
        for name, run in params["finetune"].get("runs", {}).items():
            p = metrics_dir / "finetune" / f"{name}.json"
            if not p.is_file():
                raise ValueError(f"{p}: missing; run `dvc repro finetune@{name}` first")
            self.ft[name] = load_json(p) | {"model": run["model"], "init": run["init"],
                                            "dataset": run["dataset"]}
        for name in params["pretrain"].get("runs", {}):
            p = metrics_dir / "pretrain" / f"{name}.json"
            if not p.is_file():
                raise ValueError(f"{p}: missing; run `dvc repro pretrain@{name}` first")
            self.pre[name] = load_json(p)
        seen = {}
        for name, r in self.ft.items():
            key = (r["model"], r["init"], r["dataset"])
            if key in seen:
                raise ValueError(f"finetune runs {seen[key]!r} and {name!r} are the same cell {key}")
            seen[key] = name
        self.by_cell = seen
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

    def run(self, model: str, init: str, dataset: str) -> dict | None:
        name = self.by_cell.get((model, init, dataset))
        return self.ft[name] if name else None

    def correct(self, model, init, dataset):
        r = self.run(model, init, dataset)
        return None if r is None else {f"{dataset}/{k}": v for k, v in correctness(r["videos"]).items()}


