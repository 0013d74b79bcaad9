"""`pretrain(cfg)` and `finetune(cfg)`: one loop for both, exact resume, DDP under torchrun.

Per epoch: the global batches come from a permutation drawn from (seed, epoch); under torchrun
rank r takes the interleaved part ``batch[r::world]`` of every global batch (``micro_batches=N``
reproduces that split in one process: BatchNorm per micro-batch, gradients averaged, which is
what DDP computes). Every sample's randomness is its own (seed, epoch, index) generator, so the
number of DataLoader workers never changes a result. The LR follows a linear warm-up then a
half-period cosine, stepped per batch.

Files in ``cfg["out"]`` (rank 0 writes): ``checkpoint.pt`` (every epoch, atomic),
``metrics.jsonl`` (one JSON line per epoch: loss, accuracies, lr; deterministic),
``timing.jsonl`` (wall time and clips/s per epoch, kept apart so the metrics stay comparable
bit for bit), ``model.pt`` (final weights and params), and for finetuning ``metrics.json``
(three-crop test accuracy with its 95% bootstrap interval, per class, confusion matrix).
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from ..paths import write_bytes_atomic
from ..seeding import environment, seed_everything

from ..data.batch_side import finish_batch
from ..data.dataset import CompressedClipDataset, collate_clips
from ..data.extract import DatasetError, index_gop_size, load_index
from ..data.transforms import PAPER_SCALES
from ..evaluate.classify import evaluate_classification
from ..evaluate.pretext import heldout_pretext
from ..models.trained import STREAMS, backbone_state, build_network, load_backbone, mask_streams
from ..paths import exclusive
from ..pretext.tasks import Pretext, build_heads, task_losses
from ..pretext.tasks import check_weights
from .checkpoint import CheckpointMismatch, load_checkpoint, save_atomic, save_checkpoint
from .config import FLOW_INPUT_ARCHS, make_config, params_hash
from .distributed import (all_reduce_sums, barrier, broadcast_flag, global_batches,
                          init_distributed)

__all__ = ["pretrain", "finetune", "build_network", "Trainable", "lr_factor", "slice_batch", "backbone_state",
           "load_backbone", "read_log"]


class StreamMask(nn.Module):
    """The network with some inputs replaced by zeros (the normalised value of "no signal"
    differs per stream, but zeros carry no information either way): ablations such as
    "I-frames only" (`streams: [iframes]`)."""

    def __init__(self, net: nn.Module, streams):
        super().__init__()
        self.net, self.streams = net, tuple(streams)

    @property
    def uses_flow(self):
        return getattr(self.net, "uses_flow", False)

    def forward(self, iframes, motion, residual, *flow):
        return self.net(*mask_streams((iframes, motion, residual), self.streams), *flow)


class Trainable(nn.Module):
    """Backbone + heads; ``forward(batch) -> (loss, metrics, n)`` so DDP sees every parameter
    used (heads included)."""

    def __init__(self, net: nn.Module, heads: nn.ModuleDict, mode: str, weights: dict,
                 streams=("iframes", "motion", "residual"), pmsp_reduction: str = "sum"):
        super().__init__()
        self.net, self.heads, self.mode, self.weights = net, heads, mode, dict(weights)
        self.streams = tuple(streams)
        self.pmsp_reduction = pmsp_reduction

    def forward(self, batch: dict):
        dev = next(self.parameters()).device
        xs = mask_streams([batch[k].to(dev) for k in STREAMS], self.streams)
        if getattr(self.net, "uses_flow", False) or getattr(self.net, "trains_on_flow", False):
            xs.append(batch["flow"].to(dev))  # an input (IMRNet + flow), or a target (DMC-Net)
        out = self.net(*xs)
        if self.mode == "finetune":
            y = batch["label"].to(dev)
            if "stream_logits" in out:  # CoViAR: three networks trained on their own losses
                loss = sum(F.cross_entropy(v, y) for v in out["stream_logits"].values())
            else:
                loss = F.cross_entropy(out["logits"], y)
            metrics = {"acc": (out["logits"].argmax(1) == y).float().mean().item()}
            if "aux_loss" in out:  # DMC-Net: flow reconstruction (+ adversarial) terms
                loss = loss + out["aux_loss"]
                metrics.update({k: float(v) for k, v in out["aux_metrics"].items()})
        else:
            loss, metrics = task_losses(self.heads, out, batch, self.weights,
                                        pmsp_reduction=self.pmsp_reduction)
        return loss, metrics, int(batch["iframes"].shape[0])


def augment_target(setting: str, device: torch.device, tasks) -> str:
    """Where a run's training frames are resized, flipped and normalised (``data.augment_on``):
    "auto" is "device" (batch-side, `imrnet.data.batch_side`) when training on CUDA and no
    pretext task transforms the clip (CTP, rotation, arrow of time need the per-sample path),
    else "worker"."""
    if setting != "auto":
        return setting
    moving = [t for t in tasks if t not in ("pmsp", "supervised")]
    return "device" if torch.device(device).type == "cuda" and not moving else "worker"


SCALE_SLACK = 1.1


def check_test_scale(root, dataset: str, *, crop: int, resize_short: int | None,
                     scales=PAPER_SCALES) -> None:
    """ValueError when the test crops see objects at a scale the training crops never do.

    A training crop takes ``s x short side`` pixels (s in ``scales``) to ``crop`` pixels, a
    magnification of crop / (s x short); a test crop takes ``crop`` pixels of the frame after
    its short side is resized to ``resize_short`` (unset: as it is), crop / crop x
    resize_short / short. The test magnification must lie within the training ones, give or
    take 10% (`SCALE_SLACK`; for the median short side of the extracted set): at 128x96 with
    crop 64 and no resize, training saw 0.68-0.78x and the test 1.0x, a 1.37x mismatch
    (issue 13); a 64-pixel short side with crop 64 (training 1.03-1.18x, test 1.0x) passes."""
    rows = json.loads((Path(root) / dataset / "index.json").read_text())
    shorts = sorted(min(int(r["width"]), int(r["height"])) for r in rows
                    if r.get("width") and r.get("height"))
    if not shorts:
        return
    short = shorts[len(shorts) // 2]
    lo, hi = crop / (max(scales) * short), crop / (min(scales) * short)
    test = (resize_short / short) if resize_short else 1.0
    if not lo / SCALE_SLACK <= test <= hi * SCALE_SLACK:
        fix = int(round(crop / (sum(scales) / len(scales))))
        raise ValueError(
            f"data.resize_short: test crops would see {dataset} at {test:.2f}x, training crops "
            f"at {lo:.2f}-{hi:.2f}x (short side {short} px, crop {crop}, crop scales "
            f"{', '.join(map(str, scales))}); set data.resize_short: {fix} (crop / mean crop "
            "scale), so both see one scale")


def head_parameters(model: "Trainable") -> list:
    """The parameters a fresh run initialises for its task: the pretext heads (pretraining)
    and the classifier (``fc``/``fcs``: finetuning, the layers `load_backbone` drops)."""
    out = list(model.heads.parameters())
    out += [p for n, p in model.net.named_parameters() if n.startswith(("fc.", "fcs."))]
    return out


def make_optimizer(model: "Trainable", o: dict) -> torch.optim.Optimizer:
    """``optim.name`` (sgd with momentum, the paper's; or adam) over the model, the heads at
    ``lr x optim.head_lr_mult`` (one parameter group when the multiplier is 1)."""
    lr, mult = float(o["lr"]), float(o["head_lr_mult"])
    heads = {id(p) for p in head_parameters(model)}
    if mult == 1.0 or not heads:
        groups = [{"params": list(model.parameters())}]
    else:
        groups = [{"params": [p for p in model.parameters() if id(p) not in heads]},
                  {"params": [p for p in model.parameters() if id(p) in heads], "lr": lr * mult}]
    if o["name"] == "adam":
        return torch.optim.Adam(groups, lr=lr, weight_decay=float(o["weight_decay"]))
    return torch.optim.SGD(groups, lr=lr, momentum=float(o["momentum"]),
                           weight_decay=float(o["weight_decay"]))


def lr_factor(step: int, *, total: int, warmup: int) -> float:
    """Linear warm-up over ``warmup`` steps, then a half-period cosine to 0 at ``total``."""
    if step < warmup:
        return (step + 1) / warmup
    return 0.5 * (1 + math.cos(math.pi * (step - warmup) / max(1, total - warmup)))


def slice_batch(batch, r: int, m: int):
    """The interleaved part r of m of a collated batch (tensors, dicts of tensors, lists)."""
    if isinstance(batch, dict):
        return {k: slice_batch(v, r, m) for k, v in batch.items()}
    if torch.is_tensor(batch) or isinstance(batch, list):
        return batch[r::m]
    return batch


def _subset(records, n):
    if not n or n >= len(records):
        return records
    return type(records)([records[i * len(records) // n] for i in range(n)], classes=records.classes)


def _write_atomic(path: Path, text: str) -> None:
    write_bytes_atomic(path, text.encode())


def read_log(path: str | os.PathLike) -> list[dict]:
    """The rows of a run's ``metrics.jsonl`` or ``timing.jsonl`` (blank lines skipped)."""
    return [json.loads(x) for x in Path(path).read_text().splitlines() if x.strip()]


def _cut_log(path: Path, epochs: int) -> None:
    """Keep the first ``epochs`` lines (a resumed run rewrites the rest)."""
    if path.is_file():
        lines = path.read_text().splitlines()[:epochs]
        _write_atomic(path, "".join(line + "\n" for line in lines))


def heldout_records(cfg: dict):
    """(dataset, videos) of the held-out pretext check (`imrnet.evaluate.pretext`): the test
    subset of ``eval.heldout`` (an error naming the index when it lacks one, or when it holds
    fewer than 2 videos), else of the pretraining dataset when it has at least 2; (None, None)
    when there is none."""
    d = cfg["data"]
    name = cfg["eval"].get("heldout")
    if name is None:
        try:
            recs = load_index(d["root"], d["dataset"], subset=d["test_subset"], split=d["split"])
        except DatasetError:  # e.g. the built-in Kinetics stand-in has no test videos
            return None, None
        # CTP's RANDOM needs a partner: with one test video the check would fail only after
        # model.pt is written
        return (d["dataset"], recs) if len(recs) >= 2 else (None, None)
    recs = load_index(d["root"], name, subset=d["test_subset"], split=d["split"])
    if len(recs) < 2:
        raise ValueError(f"eval.heldout: {name} has {len(recs)} {d['test_subset']} video(s); "
                         "the held-out pretext check needs at least 2")
    return name, recs


def _run(cfg: dict, mode: str) -> dict:
    """`_train` holding the run folder's lock (rank 0, the one that writes): a second run on
    the same folder is refused (`imrnet.paths.Busy`), not interleaved."""
    cfg = make_config(cfg)
    if mode == "pretrain" and not cfg["tasks"]:  # before anything is written
        raise ValueError("tasks: pretraining needs at least one task (pmsp, ctp, ctp_binary, "
                         "rotation, arrow_of_time, supervised); got []")
    d = cfg["data"]  # a missing or damaged index: an error naming it before anything is written
    moving = [t for t in cfg["tasks"] if t not in ("pmsp", "supervised")] if mode == "pretrain" else []
    if d["augment_on"] == "device" and moving:  # before anything is written
        raise ValueError(f"data.augment_on='device' is for clips no pretext task transforms "
                         f"(tasks {moving} do): use 'worker' or 'auto'")
    load_index(d["root"], d["dataset"], subset=d["subset"], split=d["split"])
    checked = [t for t in cfg["tasks"] if t != "supervised"] if mode == "pretrain" else []
    held = heldout_records(cfg) if checked else (None, None)
    main = int(os.environ.get("RANK", "0")) == 0
    with exclusive(cfg["out"], "this training run") if main else contextlib.nullcontext():
        return _train(cfg, mode, held)


@dataclass
class _Run:
    """One training run's pieces, built by `_build` in a fixed order (the torch RNG draws of
    the network's and heads' initialisation must not move)."""

    cfg: dict
    mode: str
    info: object
    out: Path
    records: object
    ds: CompressedClipDataset
    model: "Trainable"
    opt: torch.optim.Optimizer
    sched: object
    T: int
    flow: bool
    batch: int


def _build(cfg: dict, mode: str, info) -> _Run:
    d, m, o = cfg["data"], cfg["model"], cfg["optim"]
    out = Path(cfg["out"])
    records = _subset(load_index(d["root"], d["dataset"], subset=d["subset"], split=d["split"]),
                      d["max_videos"])
    if mode == "finetune":  # before anything is written
        check_test_scale(d["root"], d["dataset"], crop=int(d["crop"]),
                         resize_short=d["resize_short"])
    if info.main:
        out.mkdir(parents=True, exist_ok=True)
    num_classes = len(records.classes)
    tasks = list(cfg["tasks"]) if mode == "pretrain" else []
    weights = check_weights(tasks, cfg["weights"]) if tasks else {}
    n_p = (index_gop_size(d["root"], d["dataset"]) - 1) // int(d["pframe_stride"])
    T = int(d["num_gops"])
    flow = cfg["arch"] in FLOW_INPUT_ARCHS  # flow an input: read in training and testing
    flow_target = cfg["arch"] == "dmcnet"  # DMC-Net: flow a training target only
    if (flow or flow_target) and tasks:
        raise ValueError(f"arch {cfg['arch']!r} (a flow baseline) is finetuned only (no pretext "
                         "tasks)")
    if "pmsp" in tasks and cfg["arch"] != "imrnet":
        raise ValueError(f"PMSP needs IMRNet's feature maps; arch {cfg['arch']!r} has none")
    augment_on = augment_target(d["augment_on"], info.device, tasks)
    ds = CompressedClipDataset(records, train=True, num_gops=T, pframe_stride=d["pframe_stride"],
                               crop_size=d["crop"], flip=d["flip"], seed=int(cfg["seed"]),
                               pmsp="pmsp" in tasks, pmsp_pframes=d["pmsp_pframes"],
                               with_flow=flow or flow_target,
                               pretext=Pretext(tasks, num_gops=T) if tasks else None,
                               augment_on=augment_on, cache_mb=float(d["cache_mb"]))
    torch.manual_seed(int(cfg["seed"]))
    net = build_network(cfg["arch"], m, frames=(T, T * n_p),
                        num_classes=num_classes if mode == "finetune" else None)
    heads = build_heads(tasks, net, num_classes=num_classes, num_gops=T) if tasks else nn.ModuleDict()
    if mode == "finetune" and cfg["init"]:
        load_backbone(net, load_checkpoint(cfg["init"]["checkpoint"]), cfg["init"]["checkpoint"])
        if cfg["init"].get("bn_stats", "keep") == "reset":  # re-estimated on the target data
            for mod in net.modules():
                if isinstance(mod, nn.modules.batchnorm._BatchNorm):
                    mod.reset_running_stats()
    model = Trainable(net, heads, mode, weights, cfg["streams"],
                      pmsp_reduction=cfg["pmsp_reduction"]).to(info.device)
    opt = make_optimizer(model, o)
    B = int(o["batch_size"])
    spe = len(ds) // B
    if spe < 1:
        raise ValueError(f"{len(ds)} training videos are fewer than one batch of {B}")
    if B % info.world:
        raise ValueError(f"batch size {B} is not divisible by the {info.world} processes")
    total, warm = spe * int(o["epochs"]), spe * int(o["warmup_epochs"])
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: lr_factor(s, total=total, warmup=warm))
    return _Run(cfg, mode, info, out, records, ds, model, opt, sched, T, flow, B)


def _resume(run: _Run) -> int:
    """The first epoch to train: from ``checkpoint.pt`` when resuming (model, optimiser,
    scheduler and RNG restored, the logs cut to it), else 0 with fresh logs."""
    cfg, info, out = run.cfg, run.info, run.out
    start = 0
    ckpt = out / "checkpoint.pt"
    resume = broadcast_flag(bool(cfg["resume"]) and ckpt.is_file(), info)  # rank 0 decides
    if resume and not ckpt.is_file():
        raise ValueError(f"{ckpt}: rank 0 resumes from it but rank {info.rank} cannot see it; "
                         "multi-node runs need a shared out folder")
    if resume:
        state = load_checkpoint(ckpt, cfg)
        if int(state.get("world", 1)) != info.world:
            raise CheckpointMismatch(f"{ckpt}: written by {state.get('world', 1)} process(es), "
                                     f"resumed by {info.world}: the BatchNorm batches would differ")
        run.model.load_state_dict(state["model"])
        run.opt.load_state_dict(state["optimizer"])
        run.sched.load_state_dict(state["scheduler"])
        start = int(state["epoch"])
        torch.set_rng_state(state["torch_rng"])
        if state.get("cuda_rng") and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(list(state["cuda_rng"]))
        if info.main:
            for log in ("metrics.jsonl", "timing.jsonl"):
                _cut_log(out / log, start)
    elif info.main:
        for log in ("metrics.jsonl", "timing.jsonl"):
            (out / log).unlink(missing_ok=True)
    return start


def _train_epoch(run: _Run, ddp, epoch: int) -> dict:
    """One epoch: its metrics row (appended to metrics.jsonl with its timing, and a checkpoint
    written, by rank 0)."""
    from tqdm import tqdm

    cfg, info, o, opt = run.cfg, run.info, run.cfg["optim"], run.opt
    micro = 1 if info.active else int(cfg["micro_batches"])
    use_bf16 = bool(cfg["bf16_cuda"]) and info.device.type == "cuda"
    # the decoded-window cache lives in the process that reads: workers, forked anew each
    # epoch, would lose it (CompressedClipDataset, cache_mb); the test passes still use them
    workers = 0 if run.ds.cache_bytes else int(cfg["data"]["workers"])
    run.ds.set_epoch(epoch)
    mine = [b[info.rank::info.world]
            for b in global_batches(len(run.ds), run.batch, int(cfg["seed"]), epoch)]
    loader = torch.utils.data.DataLoader(run.ds, batch_sampler=mine, num_workers=workers,
                                         collate_fn=collate_clips,
                                         multiprocessing_context="fork" if workers else None)
    sums, t0 = defaultdict(float), time.perf_counter()
    bar = tqdm(loader, disable=not (cfg["progress"] and info.main), unit="batch",
               desc=f"{run.mode} {epoch + 1}/{o['epochs']}")
    ddp.train()
    lr_used = opt.param_groups[0]["lr"]
    for batch in bar:
        batch = finish_batch(batch, info.device)  # augment_on="device": frames resized here
        lr_used = opt.param_groups[0]["lr"]
        opt.zero_grad(set_to_none=True)
        for r in range(micro):
            chunk = slice_batch(batch, r, micro) if micro > 1 else batch
            with torch.autocast("cuda", dtype=torch.bfloat16, enabled=use_bf16):
                loss, metrics, n = ddp(chunk)
            (loss / micro).backward()
            sums["n"] += n
            sums["loss"] += float(loss.detach()) * n
            for k, v in metrics.items():
                sums[k] += v * n
        opt.step()
        run.sched.step()
        if info.main and cfg["progress"]:
            acc = sums.get("acc", sums.get("ctp_acc", sums.get("pmsp_acc", 0.0)))
            bar.set_postfix(loss=f"{sums['loss'] / sums['n']:.3f}",
                            acc=f"{acc / sums['n']:.3f}",
                            clips_s=f"{sums['n'] * info.world / (time.perf_counter() - t0):.1f}")
    sums = all_reduce_sums(dict(sums), info)
    n = sums.pop("n")
    row = {"epoch": epoch + 1, "lr": lr_used, "clips": int(n),
           **{k: v / n for k, v in sorted(sums.items())}}
    wall = time.perf_counter() - t0
    if info.main:
        with open(run.out / "metrics.jsonl", "a") as f:
            f.write(json.dumps(row) + "\n")
        with open(run.out / "timing.jsonl", "a") as f:
            f.write(json.dumps({"epoch": epoch + 1, "wall_s": round(wall, 3),
                                "clips_per_s": round(n / wall, 2)}) + "\n")
        save_checkpoint(run.out / "checkpoint.pt", cfg=cfg, epoch=epoch + 1, model=run.model,
                        optimizer=opt, scheduler=run.sched, world=info.world)
    barrier(info)
    return row


def _evaluate(run: _Run, heldout) -> dict:
    """Rank 0's evaluation after training: the three-crop test of a finetuning run, the
    held-out pretext check of a pretraining run."""
    cfg, d, info = run.cfg, run.cfg["data"], run.info
    workers, T = int(d["workers"]), run.T
    held_name, held = heldout
    out = {}
    if run.mode == "finetune":
        test = load_index(d["root"], d["dataset"], subset=d["test_subset"], split=d["split"])
        tds = CompressedClipDataset(test, train=False, num_gops=T,
                                    pframe_stride=d["pframe_stride"], crop_size=d["crop"],
                                    resize_short=d["resize_short"], test_clips=d["test_clips"],
                                    pmsp=False, with_flow=run.flow)
        out["test"] = evaluate_classification(
            StreamMask(run.model.net, cfg["streams"]), tds,
            batch_size=int(cfg["eval"]["batch_size"]), workers=workers, device=info.device,
            bootstrap=int(cfg["eval"]["bootstrap"]), seed=int(cfg["seed"]),
            num_classes=len(run.records.classes))
        out["classes"] = list(run.records.classes)
    if held is not None:  # did each pretext task leave chance on videos it never saw?
        checked = [t for t in cfg["tasks"] if t != "supervised"]
        hds = CompressedClipDataset(held, train=True, num_gops=T,
                                    pframe_stride=d["pframe_stride"], crop_size=d["crop"],
                                    flip=d["flip"], seed=int(cfg["seed"]), pmsp="pmsp" in checked,
                                    pmsp_pframes=d["pmsp_pframes"],
                                    pretext=Pretext(checked, num_gops=T))
        hds.set_epoch(0)
        out["heldout"] = {
            "dataset": held_name, "subset": d["test_subset"],
            "tasks": heldout_pretext(run.model.net, nn.ModuleDict(
                {k: h for k, h in run.model.heads.items() if k != "supervised"}), hds,
                batch_size=int(cfg["eval"]["batch_size"]), workers=workers,
                device=info.device, bootstrap=int(cfg["eval"]["bootstrap"]),
                seed=int(cfg["seed"]))}
    return out


def _train(cfg: dict, mode: str, heldout=(None, None)) -> dict:
    info = init_distributed()
    seed_everything(int(cfg["seed"]))
    run = _build(cfg, mode, info)
    start = _resume(run)
    barrier(info)
    ddp = (torch.nn.parallel.DistributedDataParallel(run.model, device_ids=[info.local_rank]
                                                     if info.device.type == "cuda" else None)
           if info.active else run.model)
    epochs, out = int(cfg["optim"]["epochs"]), run.out
    row = {}
    if start >= epochs and (out / "metrics.jsonl").is_file():  # rerun of a finished run
        lines = (out / "metrics.jsonl").read_text().splitlines()
        row = json.loads(lines[-1]) if lines else {}
    for epoch in range(start, epochs):
        row = _train_epoch(run, ddp, epoch)
    result = {"params": cfg, "params_hash": params_hash(cfg), "train": row,
              "environment": environment(info.device)}
    if info.main:
        save_atomic({"model": run.model.state_dict(), "params": json.dumps(cfg, sort_keys=True),
                     "params_hash": params_hash(cfg), "epoch": epochs}, out / "model.pt")
        result.update(_evaluate(run, heldout))
        _write_atomic(out / "metrics.json", json.dumps(result, indent=1, sort_keys=True) + "\n")
    barrier(info)
    return result


def pretrain(cfg: dict) -> dict:
    """Self-supervised (or, with ``tasks: [supervised]``, supervised) pretraining."""
    return _run(cfg, "pretrain")


def finetune(cfg: dict) -> dict:
    """Supervised training of the classifier: from scratch, or from a pretraining checkpoint
    (``init: {checkpoint: .../model.pt}``; its heads are dropped); then the three-crop test."""
    return _run(cfg, "finetune")
