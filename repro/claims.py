"""The paper's claims, each checked against a pipeline run: evidence and a verdict (holds /
inconclusive / contradicted) from a paired bootstrap over the shared test videos (`repro.stats`).
Runtime claims use the deterministic GFLOPs, or a measured ratio reduced to a threshold verdict
so that no wall-clock number enters ``claims.md``."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from .checks import plateau
from .stats import DECIDES, contrast_bootstrap, seeded_bootstrap, underpowered, verdict
from .tables import dataset_label

if TYPE_CHECKING:
    from .results import Results

__all__ = ["claims", "claims_markdown"]


def _pool(res, cell, datasets):
    """{seed: {video: correct}} of a cell pooled over ``datasets`` (None when one lacks it)."""
    out: dict[int, dict] = {}
    for d in datasets:
        x = res.correct(*cell, d)
        if x is None:
            return None
        for s_, c in x.items():
            out.setdefault(s_, {}).update(c)
    return out


def _cmp(res, a, b, datasets=None):
    """Seed-paired bootstrap of model-cell a minus b, pooled over the datasets both ran on."""
    ds = [d for d in datasets or res.datasets
          if res.correct(*a, d) is not None and res.correct(*b, d) is not None]
    if not ds:
        return None
    ca, cb = _pool(res, a, ds), _pool(res, b, ds)
    r = seeded_bootstrap([(1, ca), (-1, cb)])
    ca, cb = ({s_: c[s_] for s_ in r["seeds_used"]} for c in (ca, cb))  # A and B: those seeds
    acc = lambda c: float(sum(sum(v.values()) for v in c.values())  # noqa: E731
                          / sum(len(v) for v in c.values()))
    return r | {"a_acc": acc(ca), "b_acc": acc(cb)}


def _interval(r, videos="videos") -> str:
    """"+6.4 points, 95% CI [-3.8, +16.7] over 78 videos" of a bootstrap result (and "x 2
    seeds" when it pooled several)."""
    seeds = f" x {r['seeds']} seeds" if r.get("seeds", 1) > 1 else ""
    if any(r.get("seeds_left_out", ())):
        seeds += (" (the seeds every cell shares; left out: "
                  + ", ".join(f"{k} seed{'s' * (k > 1)} of {'ABCD'[i]}" for i, k in enumerate(r["seeds_left_out"]) if k)
                  + ")")
    return (f"{100 * r['diff']:+.1f} points, 95% CI [{100 * r['ci'][0]:+.1f}, "
            f"{100 * r['ci'][1]:+.1f}] over {r['n']} {videos}{seeds}")


def _fmt(r):
    if r is None:
        return "not run in this profile", "not tested"
    wide = f"; wider than +-{100 * DECIDES:.0f} points" if underpowered(r) else ""
    return (f"A - B = {_interval(r, 'shared test videos')} "
            f"(A {100 * r['a_acc']:.1f}%, B {100 * r['b_acc']:.1f}%){wide}", verdict(r))


def _training_failures(res, cells, datasets=None) -> list[str]:
    """The failed "Did the training work?" checks behind a comparison: finetuning runs of the
    compared cells whose training accuracy did not plateau, and pretraining runs they start
    from whose pretext loss stayed at chance on held-out clips (`repro.checks`)."""
    out = []
    for model, init in cells:
        for d in datasets or res.datasets:
            for r in res.runs(model, init, d).values():
                v, _ = plateau(r.get("curve", []))
                if v in ("still rising", "falling"):
                    out.append(f"{r.get('run', model)} {v}")
        if init != "scratch":
            for name, cell in res.pre_cell.items():
                held = (res.pre[name].get("heldout") or {}).get("tasks", {})
                bad = [t for t, h in sorted(held.items()) if not h["left_chance"]]
                if cell == init and bad:
                    out.append(f"pretrain {name}: {', '.join(bad)} at chance on held-out clips")
    return list(dict.fromkeys(out))


def _all(verdicts):
    """All parts hold -> holds; none holds and one is contradicted -> contradicted; every part
    absent -> absent; some hold and every other part is decided (absent or contradicted) ->
    partly holds; a claim with untested or underpowered parts cannot hold as a whole."""
    v = [x for x in verdicts if x != "not tested"]
    if not v:
        return "not tested"
    if len(v) < len(verdicts) and all(x in ("holds", "absent") for x in v):
        return "inconclusive"
    if all(x == "holds" for x in v):
        return "holds"
    if "holds" not in v and "contradicted" in v:
        return "contradicted"
    if all(x == "absent" for x in v):
        return "absent"
    if "holds" in v and "inconclusive" not in v and len(v) == len(verdicts):
        return "partly holds"
    return "inconclusive"


def _saturation(curve, key):
    """Share of the total loss decrease reached by the first half of the epochs."""
    ys = [r[key] for r in curve if key in r]
    if len(ys) < 4:
        return None
    total = ys[0] - min(ys)
    if total <= 0:
        return 1.0
    return (ys[0] - min(ys[: max(1, len(ys) // 2)])) / total


SC = "scratch"
PRETEXTS = [("pmsp_ctp", "PMSP + CTP"), ("pmsp", "PMSP"), ("ctp", "CTP"),
            ("ctp_binary", "CTP (binary)"), ("rotation", "rotation"), ("arrow_of_time", "arrow of time")]


def _numbers(r, **more) -> dict | None:
    """A bootstrap result's difference and 95% interval (fractions), its videos and seeds: what
    the forest plot and claims_forest.csv draw (`repro.forest`)."""
    if r is None:
        return None
    return {"diff": r["diff"], "lo": r["ci"][0], "hi": r["ci"][1], "n": r["n"],
            "seeds": r.get("seeds", 1), **more}


def _cmp_part(res, what, a, b, datasets=None):
    """(what, result, verdict, numbers) of the seed-paired comparison of cell a minus cell b,
    with the training checks that failed behind it."""
    try:
        r = _cmp(res, a, b, datasets)
        text, v = _fmt(r)
    except ValueError as e:  # e.g. the two cells were trained with other seeds
        return (what, f"cannot compare {a} with {b}: {e}", "not tested", None)
    fails = []
    if v != "not tested":
        fails = _training_failures(res, (a, b), datasets)
        if fails:
            text += f" [training checks failed: {'; '.join(fails)}]"
    nums = _numbers(r, a_acc=r["a_acc"], b_acc=r["b_acc"], checks_failed=bool(fails)) if r else None
    return (what, text, v, nums)


def _ucf(res):
    return [d for d in res.datasets if "ucf" in d][:1] or res.datasets[:1]


# Each claim's evaluator: (inputs) -> (evidence parts, how the verdict is reached) or None when
# the profile has nothing to check it with. A part is (what, result, verdict[, numbers]):
# numbers (`_numbers`) for a difference with a bootstrap interval, drawn in the forest plot.

def _imrnet_vs_coviar(res, **_):
    return [_cmp_part(res, "A = IMRNet-R18, B = CoViAR (R18/18/18), scratch",
                      ("imrnet", SC), ("coviar", SC))], ""


def _gap_narrows(res, **_):
    cells = [("imrnet", SC), ("coviar", SC), ("imrnet", "supervised"), ("coviar", "supervised_coviar")]
    ds = [d for d in res.datasets if all(res.correct(*cc, d) is not None for cc in cells)]
    terms = [(w, _pool(res, cell, ds) if ds else {})
             for w, cell in zip((1, -1, -1, 1), cells, strict=True)]
    if terms[0][1]:
        r = seeded_bootstrap(terms)
        parts = [("(IMRNet - CoViAR) from scratch minus (IMRNet - CoViAR) after Kinetics "
                  "supervised pretraining", _interval(r), verdict(r), _numbers(r))]
    else:
        parts = [("gap contrast", "not run in this profile", "not tested")]
    return parts, "the gap from scratch minus the gap after pretraining, > 0 when it narrows"


def _connections(res, **_):
    t2 = _ucf(res)
    return [_cmp_part(res, "A = bidirectional, B = unidirectional", ("imrnet", SC),
                      ("unidirectional", SC), t2),
            _cmp_part(res, "A = unidirectional, B = no connection", ("unidirectional", SC),
                      ("no_connection", SC), t2)], ""


def _conv_lateral(res, **_):
    return [_cmp_part(res, "A = conv, B = resampling only (no conv)", ("imrnet", SC), ("no_conv", SC),
                      _ucf(res))], ""


def _gated_attention(res, **_):
    return [_cmp_part(res, "A = gated, B = no attention", ("imrnet", SC), ("no_attention", SC),
                      _ucf(res))], ""


def _every_pretext(res, **_):
    return [_cmp_part(res, f"A = {lab} pretraining, B = scratch", ("imrnet", k), ("imrnet", SC))
            for k, lab in PRETEXTS], ""


def _both_tasks(res, **_):
    return [_cmp_part(res, "A = PMSP + CTP, B = PMSP", ("imrnet", "pmsp_ctp"), ("imrnet", "pmsp")),
            _cmp_part(res, "A = PMSP + CTP, B = CTP", ("imrnet", "pmsp_ctp"), ("imrnet", "ctp"))], ""


def _ctp_vs_binary(res, **_):
    parts = [_cmp_part(res, "A = CTP, B = CTP (binary), finetuned accuracy", ("imrnet", "ctp"),
                       ("imrnet", "ctp_binary"))]
    sat = {k: _saturation(res.pre[k]["curve"], "ctp_loss") if k in res.pre else None
           for k in ("ctp", "ctp_binary")}
    chance = {"ctp": math.log(4), "ctp_binary": math.log(2)}
    flat = [k for k in ("ctp", "ctp_binary") if k in res.pre
            and min((r.get("ctp_loss", math.inf) for r in res.pre[k]["curve"]),
                    default=math.inf) > 0.99 * chance[k]]
    if flat:
        parts.append(("loss saturation", f"the CTP loss of {', '.join(flat)} never went 1% below "
                      "chance (ln 4, ln 2): the task was not learned at this budget, so which "
                      "saturates first cannot be said", "inconclusive"))
    elif sat["ctp"] is not None and sat["ctp_binary"] is not None:
        v = "holds" if sat["ctp_binary"] > sat["ctp"] else "contradicted"
        parts.append(("CTP (binary)'s pretraining loss saturates faster (share of its total "
                      "decrease reached in the first half of the epochs; one run each, descriptive)",
                      f"binary {sat['ctp_binary']:.2f}, four-way {sat['ctp']:.2f}", v))
    else:
        parts.append(("loss saturation", "needs >= 4 pretraining epochs of both", "not tested"))
    return parts, ""


def _beats_rotation(res, **_):
    return [_cmp_part(res, f"A = {lab}, B = rotation", ("imrnet", k), ("imrnet", "rotation"))
            for k, lab in PRETEXTS[:3]], ""


def _pmsp_predictions(res, pmsp_pred, **_):
    if pmsp_pred is None:
        return [("no PMSP pretraining in this profile", "", "not tested")], ""
    lv = pmsp_pred["levels"]
    beat = sum(v["accuracy"] > max(v["chance"], v["majority"]) for v in lv.values())
    r = contrast_bootstrap([(1, pmsp_pred["video_margin"])])
    return [(f"{pmsp_pred['source']} on {pmsp_pred['n_videos']} test videos, {len(lv)} levels",
             f"mean accuracy {pmsp_pred['mean_accuracy']:.3f} against chance "
             f"{pmsp_pred['mean_chance']:.3f} (majority label {pmsp_pred['mean_majority']:.3f}); "
             f"margin over the better of the two, averaged over levels: "
             f"{_interval(r)}; {beat} of {len(lv)} levels above both", verdict(r),
             _numbers(r))], (
        "a bootstrap over test videos of each video's accuracy minus the better of uniform "
        "chance and always predicting the most frequent label, averaged over the levels; "
        "holds when its 95% interval lies above 0")


def _cost_per_frame(res, prof, **_):
    if prof is None:
        return None
    parts = []
    for t in prof["tables"]:
        rows = {r["model"]: r for r in t["rows"]}
        imr = rows.get("IMRNet-R18")
        cov = next((r for k, r in rows.items() if k.startswith("CoViAR")), None)
        if imr and cov:
            ratio = (imr["gflops"] / imr["frames"]) / (cov["gflops"] / cov["frames"])
            parts.append((f"GFLOPs per consumed frame at {t['size']}px, IMRNet-R18 / "
                          f"{cov['model']} (I width {t['i_width']}"
                          + (f", M/R width >= {t['p_min_width']}" if t.get("p_min_width", 1) != 1
                             else "") + ")", f"{ratio:.2f}",
                          "holds" if ratio <= 2 else "contradicted"))
    return parts, ("holds when IMRNet's GFLOPs per consumed frame are at most twice CoViAR's "
                   "(cheaper counts); measured ms per frame in timing/ beside this file")


def _flow_cost(res, timing, **_):
    if not timing:
        return None
    parts = []
    for size, t in sorted(timing.items()):
        pre = t["preprocessing_ms_per_frame"]
        where = f"the ratios are in timing/runtime/runtime_{size}.md"
        if "flow_tvl1" in pre:  # the flow the paper means: it decides
            ratio = pre["flow_tvl1"] / pre["motion_vectors"]
            parts.append((f"TV-L1 optical flow (OpenCV contrib, default settings, CPU) vs reading "
                          f"the motion vectors, ms per field at {size}px ({where}, Farneback's "
                          "beside it)", "ratio >= 100" if ratio >= 100 else "ratio < 100",
                          "holds" if ratio >= 100 else "contradicted"))
        else:  # a timing made before TV-L1 was timed: Farneback alone cannot decide
            ratio = pre["flow"] / pre["motion_vectors"]
            parts.append((f"Farneback optical flow (OpenCV, CPU) vs reading the motion vectors, "
                          f"ms per field at {size}px ({where}; the paper compares with TV-L1, "
                          "which this timing lacks)", "ratio >= 100" if ratio >= 100
                          else "ratio < 100", "holds" if ratio >= 100 else "inconclusive"))
    return parts, ("holds when TV-L1 flow, the flow the paper compares with, costs at least "
                   "100x as much per field as reading the motion vectors (two orders of "
                   "magnitude), contradicted below. Farneback, a faster flow, is timed beside it "
                   "and does not decide (measured times: the exact ratios are kept in timing/, "
                   "out of this file)")


# The paper's claims, in the order the ledger lists them: (claim, evaluator).
CLAIMS = [
    ("IMRNet beats CoViAR when both train from scratch", _imrnet_vs_coviar),
    ("Supervised pretraining narrows the gap between IMRNet and CoViAR", _gap_narrows),
    ("Bidirectional connections beat unidirectional ones, which beat none", _connections),
    ("The convolutional lateral connection helps", _conv_lateral),
    ("The multimodal gated attention helps", _gated_attention),
    ("Every pretext task beats training from scratch", _every_pretext),
    ("PMSP + CTP beats each task alone", _both_tasks),
    ("CTP beats CTP (binary), whose loss saturates faster", _ctp_vs_binary),
    ("The proposed pretext tasks beat rotation prediction", _beats_rotation),
    ("PMSP predictions beat chance", _pmsp_predictions),
    ("IMRNet costs no more than CoViAR per frame", _cost_per_frame),
    ("Motion vectors are orders of magnitude cheaper to get than optical flow", _flow_cost),
]


def claims(res: Results, prof, pmsp_pred, timing) -> list[dict]:
    """Every claim of `CLAIMS` the profile can check: its evidence parts and its verdict
    (`_all` over the parts)."""
    out = []
    for claim, evaluate in CLAIMS:
        got = evaluate(res, prof=prof, pmsp_pred=pmsp_pred, timing=timing)
        if got is None:
            continue
        parts, how = got
        out.append({"claim": claim,
                    "evidence": [{"what": p[0], "result": p[1], "verdict": p[2],
                                  **({"interval": p[3]} if len(p) > 3 and p[3] else {})}
                                 for p in parts],
                    "verdict": _all([p[2] for p in parts]), "how": how})
    return out


def claims_markdown(cl: list[dict], params: dict, settings: str = "",
                    seeds: list[int] | None = None) -> str:
    seeds = seeds or [int(params["train"].get("seed", 0))]
    if len(seeds) == 1:
        how = ("Each accuracy comparison is a paired bootstrap (10 000 resamples) of the accuracy "
               "difference A - B over the test videos both models were tested on, pooled over the "
               "datasets both ran on; ")
        seeding = f"Every cell is one training seed (seed {seeds[0]}); "
    else:
        how = (f"Each accuracy comparison is the accuracy difference A - B averaged over "
               f"{len(seeds)} training seeds per cell ({', '.join(map(str, seeds))}; seed s of A "
               "and of B share their data order, and a pretrained cell's seed s starts from "
               "pretraining seed s) and over the test videos both were tested on, pooled over "
               "the datasets both ran on. Its 95% interval is the two-way (videos x seeds) "
               "random-effects t interval: the per-seed means' spread (S - 1 degrees of "
               "freedom) plus the videos the seeds share, Satterthwaite degrees of freedom; "
               "the two-way bootstrap's percentile interval (10 000 resamples of videos and "
               "seeds together) covered only 86-88% at 3 seeds in simulation "
               "(docs/experiments/power.md, \"Three seeds are few\"); ")
        seeding = ""
    lines = ["# The paper's claims, checked", "",
             f"Profile **{params.get('profile_name', 'default')}**, datasets: "
             + ", ".join(dataset_label(d) for d in sorted({r['dataset'] for r in params['finetune']['runs'].values()}))
             + ".", "",
             how + "**holds** when its 95% interval lies above 0, **contradicted** below 0; an "
             "interval around 0 is **absent** when it lies within +-5 points (any effect is "
             "smaller than that at this scale) and **inconclusive** otherwise (too little power "
             "to tell); never by overlapping intervals. A comparison whose runs failed a "
             "training check below (a plateau, a pretext task at chance) says so beside it. A claim with "
             "several parts holds when all hold (**partly holds**: some hold, the others are "
             "decided against). " + seeding + "The built-in data stands in for the "
             "paper's datasets and the budgets are far below the paper's, so a verdict here is "
             "about this profile, not about the paper.", "", *([settings, ""] if settings else []),
             "| claim | verdict |", "|---|---|"]
    lines += [f"| {c['claim']} | **{c['verdict']}** |" for c in cl]
    for c in cl:
        lines += ["", f"## {c['claim']}: {c['verdict']}", ""]
        if c["how"]:
            lines += [f"Rule: {c['how']}.", ""]
        lines += [f"- {e['what']}: {e['result']} -> {e['verdict']}" for e in c["evidence"]]
    return "\n".join(lines) + "\n"


