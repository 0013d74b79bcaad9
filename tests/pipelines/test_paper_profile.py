"""The paper profile can't run on 2 CPU cores; here it is dry-run through DVC and one training
step of each of its distinct networks is taken at its sizes (224 crops, 5 GOPs)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from imrnet.train.config import make_config
from imrnet.train.loop import Trainable, build_network
from pipelines import runs as R
from pipelines.profiles import resolve_profile

ROOT = Path(__file__).resolve().parents[2]
PAPER = resolve_profile("paper", ROOT)


def test_every_paper_run_resolves_to_the_papers_schedule(monkeypatch):
    """Each pretraining and finetuning run of the paper profile goes through the path its stage
    takes (override file over the base, run config, budget over the training videos, the
    trainer's validation) and comes out with the paper's schedule ("Implementation Detail":
    SGD, momentum 0.9, weight decay 1e-4, batch 100; pretraining 20 epochs with 5 of warm-up;
    finetuning 500 epochs on UCF-101 and 300 on HMDB-51 with 30 of warm-up; 224 crops, 5 GOPs)."""
    sizes = {"ucf101": 9537, "hmdb51": 3570, "kinetics400": 240_000}
    monkeypatch.setattr(R, "train_videos", lambda root, dataset, **k: sizes[dataset])
    pre = {k: make_config(R.pretrain_config(PAPER, k)) for k in PAPER["pretrain"]["runs"]}
    fine = {k: make_config(R.finetune_config(PAPER, k)) for k in PAPER["finetune"]["runs"]}
    assert pre and fine
    for cfg in [*pre.values(), *fine.values()]:
        assert cfg["data"]["crop"] == 224 and cfg["data"]["num_gops"] == 5 and cfg["data"]["flip"]
        o = cfg["optim"]
        assert o["batch_size"] == 100 and o["name"] == "sgd" and o["momentum"] == 0.9
        assert o["weight_decay"] == 1e-4
    assert {(c["optim"]["epochs"], c["optim"]["warmup_epochs"]) for c in pre.values()} == {(20, 5)}
    epochs = {(c["data"]["dataset"], c["optim"]["epochs"], c["optim"]["warmup_epochs"])
              for c in fine.values()}
    assert epochs == {("ucf101", 500, 30), ("hmdb51", 300, 30)}
    assert {c.get("arch", "imrnet") for c in fine.values()} >= {"imrnet", "coviar"}
    assert {c["model"].get("depth", 18) for c in fine.values() if c.get("arch", "imrnet") == "imrnet"} \
        == {18, 50}
    assert PAPER["extract"]["fps"] == 30 and PAPER["launch"].startswith("torchrun")
    assert all(e["kind"] == "local" for e in PAPER["fetch"]["datasets"].values())


def test_paper_profile_dry_run(tmp_path):
    """`dvc repro --dry` of the paper profile lists every stage in order with its command. DVC's
    dry run still hashes every dependency, so the inputs upstream stages would write are laid
    down as empty placeholders first (nothing is trained or fetched)."""
    from repro.crosscheck import scratch_copy

    scratch_copy(ROOT, tmp_path, profile="paper")
    placeholders = ["data/raw/.placeholder", "reports/paper/metrics/profile.json",
                    "reports/paper/timing/runtime/.placeholder",
                    "reports/paper/metrics/pretrain/.placeholder",
                    "reports/paper/metrics/finetune/.placeholder"]
    placeholders += [f"data/mpeg4/{d}/index.json" for d in PAPER["extract"]["datasets"]]
    placeholders += [f"runs/pretrain/{k}/model.pt" for k in PAPER["pretrain"]["runs"]]
    placeholders += [f"runs/finetune/{k}/metrics.json" for k in PAPER["finetune"]["runs"]]
    for f in placeholders:
        (tmp_path / f).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / f).write_text("{}")
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}")
    r = subprocess.run([str(Path(sys.executable).parent / "dvc"), "repro", "--dry"], cwd=tmp_path,
                       env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    ran = [ln.split("'")[1] for ln in r.stdout.splitlines() if ln.startswith("Running stage")]
    want = {"fetch", "extract", "profile", "report"} | {f"pretrain@{k}" for k in PAPER["pretrain"]["runs"]} \
        | {f"finetune@{k}" for k in PAPER["finetune"]["runs"]} \
        | {f"fuse@{k}" for k in PAPER["finetune"]["fusions"]}
    assert want <= set(ran)
    assert {"finetune@dmcnet-scratch-ucf101", "fuse@imrnet-r50-flow-r50-supervised-r50-ucf101"} <= want
    for name, f in PAPER["finetune"]["fusions"].items():  # Table 1's late fusion rows
        assert ran.index(f"finetune@{f['imrnet']}") < ran.index(f"fuse@{name}") < ran.index("report")
        assert ran.index(f"finetune@{f['flow']}") < ran.index(f"fuse@{name}")
    assert ran.index("fetch") < ran.index("extract") < ran.index("pretrain@pmsp_ctp") \
        < ran.index("finetune@imrnet-pmsp-ctp-ucf101") < ran.index("report")
    assert "> torchrun --nproc_per_node 4 -m pipelines.pretrain pmsp_ctp" in r.stdout
    assert not (tmp_path / "data/raw/ucf101").exists()  # nothing ran


@pytest.mark.parametrize("variant", ["imrnet", "imrnet_r50", "coviar", "dmcnet", "flow_r50"])
def test_one_training_step_at_paper_sizes(variant, monkeypatch):
    monkeypatch.setattr(R, "train_videos", lambda *a, **k: 9537)
    name = next(k for k, r in PAPER["finetune"]["runs"].items()
                if r["model"] == variant and r["init"] == "scratch" and r["dataset"] == "ucf101")
    cfg = make_config(R.finetune_config(PAPER, name))
    assert cfg["optim"]["epochs"] == 500 and cfg["data"]["crop"] == 224
    if variant == "dmcnet":  # the authors' network: ResNet-152 I-frames, generator width 32
        assert (cfg["model"]["i_depth"], cfg["model"]["gen_width"]) == (152, 32)
    torch.manual_seed(0)
    net = build_network(cfg["arch"], cfg["model"], frames=(5, 25), num_classes=101)
    model = Trainable(net, torch.nn.ModuleDict(), "finetune", {})
    opt = torch.optim.SGD(model.parameters(), lr=cfg["optim"]["lr"], momentum=0.9)
    batch = {"iframes": torch.randn(2, 3, 5, 224, 224), "motion": torch.randn(2, 2, 25, 224, 224),
             "residual": torch.randn(2, 3, 25, 224, 224), "label": torch.tensor([3, 7]),
             "flow": torch.randn(2, 2, 25, 224, 224)}  # DMC-Net's target, the flow network's input
    loss, metrics, n = model(batch)
    loss.backward()
    opt.step()
    assert n == 2 and torch.isfinite(loss) and 0 <= metrics["acc"] <= 1
