"""Training: end to end, exact resume after SIGKILL, refused mismatched checkpoints, worker-count
invariance, and torchrun/DDP (gloo, 2 processes) against the one-process reference."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from imrnet.train import CheckpointMismatch, finetune, pretrain
from imrnet.train.loop import lr_factor, slice_batch


def _cfg(root, out, **over):
    cfg = {"out": str(out), "progress": False, "seed": 3,
           "data": {"root": str(root), "dataset": "synthetic-ucf", "crop": 64, "max_videos": 8},
           "model": {"i_width": 8}, "tasks": ["pmsp", "ctp"],
           "optim": {"epochs": 2, "warmup_epochs": 1, "batch_size": 4, "lr": 0.01},
           "eval": {"bootstrap": 100, "batch_size": 4}}
    for k, v in over.items():
        if isinstance(v, dict):
            cfg.setdefault(k, {}).update(v)
        else:
            cfg[k] = v
    return cfg


def _weights(path):
    return torch.load(path, map_location="cpu", weights_only=True)["model"]


def test_lr_schedule_and_batch_slicing():
    f = [lr_factor(s, total=10, warmup=2) for s in range(10)]
    assert f[:2] == [0.5, 1.0] and f[2] == 1.0 and f[-1] < 0.05 and f == sorted(f[:2]) + sorted(f[2:], reverse=True)
    b = {"x": torch.arange(6), "d": {"k": torch.arange(6) * 10}, "ids": list("abcdef"), "n": 3}
    s = slice_batch(b, 1, 2)
    assert s["x"].tolist() == [1, 3, 5] and s["d"]["k"].tolist() == [10, 30, 50]
    assert s["ids"] == ["b", "d", "f"] and s["n"] == 3


def test_pretrain_then_finetune_end_to_end(tiny_data, tmp_path):
    res = pretrain(_cfg(tiny_data, tmp_path / "pre"))
    lines = (tmp_path / "pre" / "metrics.jsonl").read_text().splitlines()
    assert len(lines) == 2 and {"pmsp_loss", "ctp_loss", "pmsp_acc_s4_t5"} <= set(json.loads(lines[0]))
    assert res["train"]["epoch"] == 2 and (tmp_path / "pre" / "model.pt").is_file()
    # the held-out pretext check: the 12 test videos, against the best constant prediction
    h = res["heldout"]
    assert h["dataset"] == "synthetic-ucf" and h["subset"] == "test" and set(h["tasks"]) == {"pmsp", "ctp"}
    import math
    for v in h["tasks"].values():
        assert v["n"] == 12 and v["constant"] <= v["uniform"] + 1e-9
        assert v["margin"] == pytest.approx(v["loss"] - v["constant"])
        assert v["margin_ci95"][0] <= v["margin"] <= v["margin_ci95"][1]
        assert v["left_chance"] == (v["margin_ci95"][1] < 0) and 0 <= v["acc"] <= 1
    assert h["tasks"]["ctp"]["uniform"] == pytest.approx(math.log(4))
    # PMSP's levels weigh by their windows (1, 3, 5 for each grid): the grids' mean of ln(s*s)
    assert h["tasks"]["pmsp"]["uniform"] == pytest.approx(np.mean([math.log(s * s) for s in (2, 3, 4)]))
    saved = json.loads((tmp_path / "pre" / "metrics.json").read_text())
    assert saved["heldout"] == h
    ft = finetune(_cfg(tiny_data, tmp_path / "ft", tasks=[],
                       init={"checkpoint": str(tmp_path / "pre" / "model.pt")}))
    t = ft["test"]
    assert t["n"] == 12 and len(t["confusion"]) == 12 and len(t["videos"]) == 12
    assert sum(y == p for _, y, p in t["videos"]) / 12 == t["top1"] and 0 <= t["top1_ci95"][0] <= t["top1"] <= t["top1_ci95"][1]
    saved = json.loads((tmp_path / "ft" / "metrics.json").read_text())
    assert saved["test"]["top1"] == t["top1"] and saved["classes"][0] == "move_right"
    # rerunning a finished run retrains nothing and reports the same
    again = finetune(_cfg(tiny_data, tmp_path / "ft", tasks=[],
                          init={"checkpoint": str(tmp_path / "pre" / "model.pt")}))
    assert again["test"] == t and again["train"] == ft["train"]
    # heads dropped, backbone loaded: at learning rate 0 a finetuned run keeps every pretrained
    # weight of the backbone (BN running statistics aside), while a scratch run starts elsewhere
    pre = _weights(tmp_path / "pre" / "model.pt")
    still = finetune(_cfg(tiny_data, tmp_path / "still", tasks=[], optim={"epochs": 1, "lr": 0.0},
                          init={"checkpoint": str(tmp_path / "pre" / "model.pt")}))
    assert still["test"]["n"] == 12
    kept = _weights(tmp_path / "still" / "model.pt")
    backbone = [k for k, v in pre.items() if k.startswith("net.") and k in kept
                and v.is_floating_point() and "running_" not in k]
    assert "net.i_path.stem.0.weight" in backbone and len(backbone) > 20
    assert all(torch.equal(pre[k], kept[k]) for k in backbone)
    assert not any(k.startswith("net.fc") for k in pre)  # the pretext run has no classifier
    scratch = finetune(_cfg(tiny_data, tmp_path / "scratch", tasks=[], optim={"epochs": 1, "lr": 0.0}))
    assert scratch["test"]["n"] == 12
    assert not torch.equal(pre["net.i_path.stem.0.weight"],
                           _weights(tmp_path / "scratch" / "model.pt")["net.i_path.stem.0.weight"])
    with pytest.raises(ValueError, match="backbone does not match"):
        finetune(_cfg(tiny_data, tmp_path / "bad", tasks=[], model={"i_width": 16},
                      init={"checkpoint": str(tmp_path / "pre" / "model.pt")}))


def test_the_unnamed_heldout_check_needs_two_test_videos(monkeypatch):
    from imrnet.train import loop
    from imrnet.train.config import make_config

    cfg = make_config({"data": {"dataset": "synthetic-ucf"}})
    monkeypatch.setattr(loop, "load_index", lambda *a, **k: ["only"])
    assert loop.heldout_records(cfg) == (None, None)  # CTP's RANDOM would find no partner
    monkeypatch.setattr(loop, "load_index", lambda *a, **k: ["a", "b"])
    assert loop.heldout_records(cfg) == ("synthetic-ucf", ["a", "b"])


def test_changed_params_refuse_the_checkpoint(tiny_data, tmp_path):
    pretrain(_cfg(tiny_data, tmp_path / "r", optim={"epochs": 1}, tasks=["ctp"]))
    with pytest.raises(CheckpointMismatch, match=r"optim\.lr: 0\.01 -> 0\.02"):
        pretrain(_cfg(tiny_data, tmp_path / "r", optim={"epochs": 1, "lr": 0.02}, tasks=["ctp"]))


def test_same_metrics_with_0_and_2_workers(tiny_data, tmp_path):
    a = finetune(_cfg(tiny_data, tmp_path / "w0", tasks=[], optim={"epochs": 1}))
    b = finetune(_cfg(tiny_data, tmp_path / "w2", tasks=[], optim={"epochs": 1},
                      data={"workers": 2}))
    assert (tmp_path / "w0" / "metrics.jsonl").read_bytes() == (tmp_path / "w2" / "metrics.jsonl").read_bytes()
    assert a["test"] == b["test"]
    wa, wb = _weights(tmp_path / "w0" / "model.pt"), _weights(tmp_path / "w2" / "model.pt")
    assert all(torch.equal(wa[k], wb[k]) for k in wa)
    pretrain(_cfg(tiny_data, tmp_path / "p0", optim={"epochs": 1}))
    pretrain(_cfg(tiny_data, tmp_path / "p2", optim={"epochs": 1}, data={"workers": 2}))
    assert (tmp_path / "p0" / "metrics.jsonl").read_bytes() == (tmp_path / "p2" / "metrics.jsonl").read_bytes()


def test_the_decoded_window_cache_changes_no_metric_weight_or_hash(tiny_data, tmp_path):
    from imrnet.train.config import make_config, params_hash

    for run, tasks in (("finetune", []), ("pretrain", ["pmsp", "ctp"])):
        f = finetune if run == "finetune" else pretrain
        a = f(_cfg(tiny_data, tmp_path / f"{run}0", tasks=tasks))  # 2 epochs: the 2nd reads it
        b = f(_cfg(tiny_data, tmp_path / f"{run}c", tasks=tasks,  # workers: the test pass's
                   data={"cache_mb": 256, "workers": 2}))
        ma, mb = ((tmp_path / f"{run}{x}" / "metrics.jsonl").read_bytes() for x in "0c")
        assert ma == mb and a.get("test") == b.get("test")
        wa, wb = (_weights(tmp_path / f"{run}{x}" / "model.pt") for x in "0c")
        assert wa.keys() == wb.keys() and all(torch.equal(wa[k], wb[k]) for k in wa)
    cached = make_config(_cfg(tiny_data, tmp_path / "h", data={"cache_mb": 256}))
    assert params_hash(cached) == params_hash(make_config(_cfg(tiny_data, tmp_path / "h")))


def test_auto_augments_on_the_device_only_on_cuda_without_clip_transforms():
    from imrnet.train.loop import augment_target

    cuda, cpu = torch.device("cuda", 0), torch.device("cpu")
    assert augment_target("auto", cuda, []) == "device"
    assert augment_target("auto", cuda, ["pmsp"]) == "device"
    assert augment_target("auto", cuda, ["pmsp", "ctp"]) == "worker"
    assert augment_target("auto", cpu, []) == "worker"
    assert augment_target("device", cpu, []) == "device" and augment_target("worker", cuda, []) == "worker"


def test_same_metrics_with_the_frames_augmented_on_the_device(tiny_data, tmp_path):
    # augment_on="device" (batch-side resize/flip/normalisation) on CPU: the same run, bit for
    # bit, as the per-sample path; flips and multi-scale crops on
    over = dict(tasks=[], optim={"epochs": 1})
    a = finetune(_cfg(tiny_data, tmp_path / "w", data={"flip": True}, **over))
    b = finetune(_cfg(tiny_data, tmp_path / "d", data={"flip": True, "augment_on": "device"}, **over))
    assert (tmp_path / "w" / "metrics.jsonl").read_bytes() == (tmp_path / "d" / "metrics.jsonl").read_bytes()
    assert a["test"] == b["test"]
    wa, wb = _weights(tmp_path / "w" / "model.pt"), _weights(tmp_path / "d" / "model.pt")
    assert all(torch.equal(wa[k], wb[k]) for k in wa)
    with pytest.raises(ValueError, match="tasks \\['ctp'\\] do"):
        pretrain(_cfg(tiny_data, tmp_path / "p", data={"augment_on": "device"}))
    assert not (tmp_path / "p").exists()  # refused before the first write


def _run_cli(cfg: dict, path: Path, *launcher) -> subprocess.Popen:
    path.write_text(yaml.safe_dump(cfg))
    return subprocess.Popen([sys.executable, *launcher, "-m", "imrnet.train", "pretrain",
                             "--config", str(path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**os.environ, "OMP_NUM_THREADS": "1"})


def test_sigkill_mid_epoch_then_resume_equals_uninterrupted(tiny_data, tmp_path):
    kw = dict(optim={"epochs": 4, "batch_size": 2}, data={"max_videos": 12})
    clean = _run_cli(_cfg(tiny_data, tmp_path / "clean", **kw), tmp_path / "c.yaml")
    assert clean.wait(timeout=300) == 0, clean.stderr.read().decode()[-2000:]
    cfg = _cfg(tiny_data, tmp_path / "killed", **kw)
    proc = _run_cli(cfg, tmp_path / "k.yaml")
    ckpt = tmp_path / "killed" / "checkpoint.pt"
    deadline = time.time() + 300
    while time.time() < deadline and not ckpt.exists():
        time.sleep(0.02)
    time.sleep(0.6)  # into epoch 2
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done = torch.load(ckpt, weights_only=True)["epoch"]
    assert 1 <= done < 4, done  # really killed before the end
    again = _run_cli(cfg, tmp_path / "k.yaml")
    assert again.wait(timeout=300) == 0, again.stderr.read().decode()[-2000:]
    assert ((tmp_path / "killed" / "metrics.jsonl").read_bytes()
            == (tmp_path / "clean" / "metrics.jsonl").read_bytes())
    wa, wb = _weights(tmp_path / "clean" / "model.pt"), _weights(tmp_path / "killed" / "model.pt")
    assert all(torch.equal(wa[k], wb[k]) for k in wa)


def test_ddp_two_processes_match_the_micro_batched_reference(tiny_data, tmp_path):
    kw = dict(optim={"epochs": 2, "batch_size": 4}, data={"max_videos": 8})
    ref = _run_cli(_cfg(tiny_data, tmp_path / "ref", micro_batches=2, **kw), tmp_path / "r.yaml")
    assert ref.wait(timeout=300) == 0, ref.stderr.read().decode()[-2000:]
    ddp = _run_cli(_cfg(tiny_data, tmp_path / "ddp", **kw), tmp_path / "d.yaml",
                   "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2")
    assert ddp.wait(timeout=300) == 0, ddp.stderr.read().decode()[-3000:]
    ra = [json.loads(x) for x in (tmp_path / "ref" / "metrics.jsonl").read_text().splitlines()]
    rb = [json.loads(x) for x in (tmp_path / "ddp" / "metrics.jsonl").read_text().splitlines()]
    assert len(ra) == len(rb) == 2
    for x, y in zip(ra, rb, strict=True):
        assert x["clips"] == y["clips"] and abs(x["loss"] - y["loss"]) < 1e-5 * max(1, abs(x["loss"]))
    wa, wb = _weights(tmp_path / "ref" / "model.pt"), _weights(tmp_path / "ddp" / "model.pt")
    for k in wa:
        if "running_" in k or "num_batches_tracked" in k:
            continue  # DDP broadcasts rank 0's BatchNorm statistics
        torch.testing.assert_close(wa[k], wb[k], rtol=1e-5, atol=1e-5, msg=k)


def test_retrieval_cli(tiny_data, tmp_path):
    from imrnet.evaluate.__main__ import main

    pretrain(_cfg(tiny_data, tmp_path / "pre", optim={"epochs": 1}, tasks=["ctp"]))
    assert main(["retrieval", "--model", str(tmp_path / "pre" / "model.pt"), "--root", str(tiny_data),
                 "--dataset", "synthetic-ucf", "--out", str(tmp_path / "ret")]) == 0
    res = json.loads((tmp_path / "ret" / "retrieval.json").read_text())
    assert res["queries"] == 12 and res["gallery"] == 12 and res["R@1"] <= res["R@5"] <= res["R@20"] == 1.0
    assert (tmp_path / "ret" / "retrieval.png").stat().st_size > 1000
    assert main(["retrieval", "--model", str(tmp_path / "nope.pt"), "--root", str(tiny_data),
                 "--dataset", "synthetic-ucf"]) == 1


def test_finetune_starts_from_the_pretrained_backbone(tiny_data, tmp_path):
    pretrain(_cfg(tiny_data, tmp_path / "pre", optim={"epochs": 1}, tasks=["rotation", "ctp_binary"],
                  weights={"ctp_binary": 0.5}))
    finetune(_cfg(tiny_data, tmp_path / "ft", tasks=[], optim={"epochs": 1, "lr": 0.0},
                  model={"dropout": 0.0}, init={"checkpoint": str(tmp_path / "pre" / "model.pt")}))
    pre, ft = _weights(tmp_path / "pre" / "model.pt"), _weights(tmp_path / "ft" / "model.pt")
    assert not [k for k in ft if k.startswith("heads.")]
    for k, v in pre.items():  # lr 0: every backbone weight is the pretrained one
        if k.startswith("net.") and "running_" not in k and "num_batches" not in k:
            assert torch.equal(v, ft[k]), k
    with pytest.raises(ValueError, match="not among the tasks"):
        pretrain(_cfg(tiny_data, tmp_path / "w", tasks=["ctp"], weights={"rotation": 2.0}))


def test_supervised_pretraining_then_finetune(tiny_data, tmp_path):
    res = pretrain(_cfg(tiny_data, tmp_path / "sup", optim={"epochs": 1}, tasks=["supervised"]))
    assert "supervised_loss" in res["train"]
    ft = finetune(_cfg(tiny_data, tmp_path / "ft", tasks=[], optim={"epochs": 1},
                       init={"checkpoint": str(tmp_path / "sup" / "model.pt")}))
    assert ft["test"]["n"] == 12


def test_resume_cuts_the_log_back(tiny_data, tmp_path):
    cfg = _cfg(tiny_data, tmp_path / "c", tasks=["ctp"])
    pretrain(cfg)
    log = tmp_path / "c" / "metrics.jsonl"
    first = log.read_text().splitlines()
    state = torch.load(tmp_path / "c" / "checkpoint.pt", weights_only=True)
    state["epoch"] = 1  # as if killed after epoch 1's checkpoint, with a later line written
    torch.save(state, tmp_path / "c" / "checkpoint.pt")
    log.write_text(log.read_text() + '{"epoch": 99}\n')
    pretrain(cfg)
    lines = log.read_text().splitlines()
    assert len(lines) == 2 and lines[0] == first[0] and '"epoch": 99' not in log.read_text()


def test_stream_mask_hides_the_other_streams():
    from imrnet.models import build_imrnet
    from imrnet.train.loop import StreamMask

    torch.manual_seed(0)
    net = StreamMask(build_imrnet(i_width=8, num_classes=3), ["iframes"]).eval()
    i, m, r = torch.randn(1, 3, 5, 32, 32), torch.randn(1, 2, 25, 32, 32), torch.randn(1, 3, 25, 32, 32)
    with torch.no_grad():
        a, b = net(i, m, r)["logits"], net(i, m + 1, r - 1)["logits"]
        c = net(i + 1, m, r)["logits"]
    assert torch.equal(a, b) and not torch.equal(a, c)
    from imrnet.train import make_config
    with pytest.raises(ValueError, match="streams"):
        make_config({"streams": ["flow"]})


def test_coviar_finetune_and_supervised_pretraining(tiny_data, tmp_path):
    """CoViAR trains through the same loop: its three streams' losses summed, fused scores
    tested; a supervised CoViAR backbone loads into the finetuned one (classifiers dropped)."""
    def cov(out, **over):
        c = _cfg(tiny_data, tmp_path / out, tasks=[], optim={"epochs": 1}, **over)
        return c | {"arch": "coviar", "model": {"width": 8}}

    ft = finetune(cov("cov"))
    assert ft["test"]["n"] == 12 and ft["params"]["model"]["i_depth"] == 18
    pretrain(cov("covsup") | {"tasks": ["supervised"]})
    ft2 = finetune(cov("covft", init={"checkpoint": str(tmp_path / "covsup" / "model.pt")}))
    assert ft2["test"]["n"] == 12
    with pytest.raises(ValueError, match="feature maps"):
        pretrain(cov("covpmsp") | {"tasks": ["pmsp"]})
    with pytest.raises(ValueError, match="backbone does not match"):  # CoViAR weights into IMRNet
        finetune(_cfg(tiny_data, tmp_path / "x", tasks=[], optim={"epochs": 1},
                      init={"checkpoint": str(tmp_path / "covsup" / "model.pt")}))
    with pytest.raises(ValueError, match="arch must be"):
        finetune(_cfg(tiny_data, tmp_path / "y", arch="i3d"))


@pytest.fixture(scope="module")
def flow_data(tmp_path_factory):
    """tiny_data's videos with their Farneback flow stored at extraction."""
    from imrnet.data import synthetic
    from imrnet.data.extract import extract

    d = tmp_path_factory.mktemp("flowdata")
    synthetic.generate("synthetic-ucf", d / "raw", seed=0, width=85, height=64, frames=60, scale=0.1)
    extract("synthetic-ucf", d / "raw", d / "mp4", progress=False, flow=True,
            encode={"short_side": None, "gop_size": 12, "quality": 1})
    return d / "mp4"


def test_imrnet_flow_finetune(flow_data, tmp_path):
    """IMRNet + a flow stream reads the Farneback flow stored at extraction."""
    res = finetune(_cfg(flow_data, tmp_path / "flow", arch="imrnet_flow", tasks=[],
                        model={"i_width": 8, "flow_width": 4}, optim={"epochs": 1}))
    assert res["test"]["n"] == 12 and 0 <= res["test"]["top1"] <= 1


def test_flow_network_finetunes_on_flow_and_fuses_with_an_imrnet_run(flow_data, tmp_path):
    """The flow network alone (arch flow) trains on the stored flow; each run's metrics.json
    keeps its per-video softmax scores; their late fusion is the weighted mean of both."""
    from imrnet.evaluate.fusion import late_fusion, load_test_scores

    cfg = _cfg(flow_data, tmp_path / "flow", arch="flow", tasks=[], optim={"epochs": 1})
    cfg["model"] = {"width": 4}  # none of IMRNet's keys
    with pytest.raises(ValueError, match="finetuned only"):
        pretrain(dict(cfg, tasks=["ctp"]))
    res = finetune(cfg)
    assert res["params"]["arch"] == "flow" and res["test"]["n"] == 12
    im = finetune(_cfg(flow_data, tmp_path / "im", tasks=[], model={"i_width": 8},
                       optim={"epochs": 1}))
    a, b = load_test_scores(tmp_path / "im"), load_test_scores(tmp_path / "flow")
    assert a["scores"].shape == (12, len(a["classes"])) and a["ids"] == b["ids"]
    assert np.allclose(a["scores"].sum(1), 1, atol=1e-5)  # softmax, averaged over the views
    assert [int(x) for x in a["scores"].argmax(1)] == [v[2] for v in im["test"]["videos"]]
    fused = late_fusion(a, b, weight_b=1.5)
    want = (a["scores"] + 1.5 * b["scores"]) / 2.5
    assert np.array_equal(np.array(fused["scores"]), want)
    assert fused["top1"] == float((want.argmax(1) == a["labels"]).mean())
    assert [v[2] for v in fused["videos"]] == [int(x) for x in want.argmax(1)]
    from imrnet.evaluate.retrieval import retrieval

    with pytest.raises(ValueError, match="not a retrieval backbone"):
        retrieval(tmp_path / "flow" / "model.pt", str(flow_data), "synthetic-ucf")


def test_dmcnet_finetune_trains_on_flow_and_tests_without_it(flow_data, tmp_path, monkeypatch):
    """DMC-Net reads the stored flow as its generator's target in training (its loss in the
    log), and tests on the compressed streams alone: the flow files are gone by then."""
    cfg = _cfg(flow_data, tmp_path / "dmc", arch="dmcnet", tasks=[], optim={"epochs": 1})
    cfg["model"] = {"width": 8, "gen_width": 4, "adversarial_weight": 0.5}  # no IMRNet keys
    with pytest.raises(ValueError, match="finetuned only"):
        pretrain(dict(cfg, tasks=["ctp"]))
    import imrnet.train.loop as loop

    real_evaluate = loop._evaluate

    def evaluate_without_flow(run, heldout):
        for f in Path(flow_data, "synthetic-ucf").rglob("*.flow.npz"):
            f.rename(f.with_name(f.name + ".hidden"))
        try:
            return real_evaluate(run, heldout)
        finally:
            for f in Path(flow_data, "synthetic-ucf").rglob("*.flow.npz.hidden"):
                f.rename(f.with_name(f.name[:-len(".hidden")]))

    monkeypatch.setattr(loop, "_evaluate", evaluate_without_flow)
    res = finetune(cfg)
    row = json.loads((tmp_path / "dmc" / "metrics.jsonl").read_text().splitlines()[0])
    assert {"flow_mse", "adv_generator", "adv_discriminator", "acc"} <= set(row)
    assert row["flow_mse"] > 0 and res["test"]["n"] == 12


def test_a_second_run_on_the_same_folder_is_refused_while_the_first_runs(tiny_data, tmp_path):
    from imrnet.paths import Busy, exclusive

    out = tmp_path / "busy"
    with exclusive(out, "a training run"):  # the first run, still going
        with pytest.raises(Busy, match=rf"another process \(pid {os.getpid()}\)"):
            pretrain(_cfg(tiny_data, out, optim={"epochs": 1}, tasks=["ctp"]))
    assert sorted(p.name for p in out.iterdir()) == [".lock"]  # nothing of the run written


@pytest.mark.parametrize("over,msg", [
    ({"data": {"crop": 0}}, "data.crop must be an integer >= 1, got 0"),
    ({"data": {"num_gops": 0}}, "data.num_gops must be an integer >= 1, got 0"),
    ({"data": {"workers": "two"}}, "data.workers must be an integer >= 0, got 'two'"),
    ({"optim": {"lr": "fast"}}, "optim.lr must be a finite number >= 0, got 'fast'"),
    ({"optim": {"batch_size": 2.5}}, "optim.batch_size must be an integer >= 1, got 2.5"),
    ({"seed": True}, "seed must be an integer >= 0 and < 2**32, got True"),
    ({"tasks": [3]}, "tasks must be a list of task names, got [3]"),
    ({"seed": float("inf")}, "seed must be an integer >= 0 and < 2**32, got inf"),
    ({"optim": {"lr": float("inf")}}, "optim.lr must be a finite number >= 0, got inf"),
    ({"data": 5}, "data must be a mapping, got 5"),
    ({"data": {"crop": 224.0}}, "data.crop must be an integer >= 1, got 224.0"),
    ({"data": {"cache_mb": -1}}, "data.cache_mb must be a finite number >= 0, got -1"),
])
def test_bad_values_name_the_key_value_and_what_is_allowed(over, msg):
    from imrnet.train.config import make_config

    with pytest.raises(ValueError) as e:
        make_config(over)
    assert str(e.value) == msg


def test_pretraining_with_no_task_is_refused(tiny_data, tmp_path):
    with pytest.raises(ValueError, match="pretraining needs at least one task"):
        pretrain(_cfg(tiny_data, tmp_path / "none", tasks=[]))
    assert not (tmp_path / "none").exists()


def test_finetune_can_reset_the_pretrained_batchnorm_statistics(tiny_data, tmp_path):
    """init.bn_stats: reset re-estimates BatchNorm's running statistics on the target data
    (issue 13); keep (the default) continues the pretrained ones."""
    pretrain(_cfg(tiny_data, tmp_path / "pre", optim={"epochs": 1}, tasks=["rotation"]))
    ck = str(tmp_path / "pre" / "model.pt")
    for how in ("keep", "reset"):
        finetune(_cfg(tiny_data, tmp_path / how, tasks=[], optim={"epochs": 1, "lr": 0.0},
                      init={"checkpoint": ck, "bn_stats": how}))
    pre, keep, reset = (_weights(p) for p in (tmp_path / "pre" / "model.pt",
                                               tmp_path / "keep" / "model.pt",
                                               tmp_path / "reset" / "model.pt"))
    k = next(k for k in pre if k.startswith("net.") and k.endswith("num_batches_tracked"))
    steps = int(reset[k])
    assert steps > 0 and int(keep[k]) == int(pre[k]) + steps  # reset counted from zero


def test_a_heldout_dataset_without_test_videos_is_refused_before_training(tiny_data, tmp_path):
    with pytest.raises(Exception, match="no videos tagged|index.json"):
        pretrain(_cfg(tiny_data, tmp_path / "h", tasks=["ctp"], eval={"heldout": "synthetic-hmdb"}))
    assert not (tmp_path / "h").exists()
