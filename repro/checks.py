"""Did the training work? Two checks every comparison in ``claims.md`` rests on (issue 13):
each pretext task's loss left chance on held-out clips (`imrnet.evaluate.pretext`), and each
finetuning run's training accuracy reached a plateau. A claim drawn from a network that never
left chance, or from one still climbing when its budget ran out, says little about the method;
these tables show which runs that applies to."""

from __future__ import annotations

from imrnet.pretext.tasks import check_weights

__all__ = ["plateau", "preconditions_markdown", "recipe_markdown", "PLATEAU_POINTS"]

# training accuracy gained over the last quarter of the epochs, at most, for a plateau
PLATEAU_POINTS = 2.0


def plateau(curve: list[dict], key: str = "acc") -> tuple[str, str]:
    """(verdict, evidence) for one finetuning run's training curve: the mean ``key`` (an
    accuracy in [0, 1]) of the last quarter of its epochs minus that of the quarter before,
    "plateaued" when within +-`PLATEAU_POINTS` points, or when the last quarter's mean is
    within `PLATEAU_POINTS` of 100% (at the ceiling: it cannot rise by more than that, however
    steep the climb before it; a long run that saturated mid-way has a quarter before it that
    still climbed). Else "still rising" (a gain) or "falling" (a collapse is no plateau); runs
    of fewer than 4 epochs cannot tell."""
    ys = [r[key] for r in curve if key in r]
    if len(ys) < 4:
        return "too few epochs", f"{len(ys)} epoch(s); a plateau needs >= 4 to be seen"
    q = len(ys) // 4
    last, before = ys[-q:], ys[-2 * q:-q]
    gain = 100 * (sum(last) / q - sum(before) / q)
    ceiling = 100 * (1 - sum(last) / q) <= PLATEAU_POINTS
    verdict = ("plateaued" if abs(gain) <= PLATEAU_POINTS or (gain > 0 and ceiling) else
               "still rising" if gain > 0 else "falling")
    return verdict, (f"{100 * ys[-1]:.1f}% at the end; {gain:+.1f} points over the last {q} "
                     f"epoch(s)" + (f" (at the ceiling: {100 * sum(last) / q:.1f}% mean)"
                                    if ceiling and gain > PLATEAU_POINTS else ""))


def preconditions_markdown(res) -> str:
    """The two checks as markdown sections (empty string when the profile has no runs)."""
    lines = ["", "# Did the training work?", ""]
    rows = []
    for name, r in sorted(res.pre.items()):
        h = r.get("heldout")
        if not h:
            continue
        for task, v in sorted(h["tasks"].items()):
            lo, hi = v["margin_ci95"]
            rows.append(f"| {name} | {task} | {v['n']} | {v['loss']:.4f} | {v['constant']:.4f} "
                        f"| {v['uniform']:.4f} | {v['margin']:+.4f} [{lo:+.4f}, {hi:+.4f}] | "
                        f"{100 * v['acc']:.1f}% ({100 * v['majority']:.1f}%) | "
                        f"**{'left chance' if v['left_chance'] else 'at chance'}** |")
    lines += ["## Pretext tasks on held-out clips", ""]
    if rows:
        ds = sorted({f"{r['heldout']['dataset']} ({r['heldout']['subset']})"
                     for r in res.pre.values() if r.get("heldout")})
        lines += [f"Each pretraining run's pretext loss on the test videos of {', '.join(ds)} "
                  "(videos no pretraining saw), one seeded clip each, against the best constant "
                  "prediction (the held-out labels' own frequencies: what an input-blind "
                  "network could at best reach) and uniform chance (ln K; PMSP: averaged over its "
                  "levels and windows). **left chance** when the 95% bootstrap interval over "
                  "clips of loss minus constant lies below 0.", "",
                  "| pretraining run | task | clips | loss | constant | uniform | margin [95% CI] "
                  "| accuracy (majority) | check |", "|---|---|---|---|---|---|---|---|---|", *rows]
    else:
        lines += ["No pretraining run of this profile recorded a held-out check (made before "
                  "it existed, or no held-out videos: `pretrain.heldout`)."]
    rows = []
    for name, r in sorted(res.ft.items()):
        v, ev = plateau(r.get("curve", []))
        seed = r.get("seed", res.params["train"].get("seed", 0))
        rows.append(f"| {name} | {seed} | {ev} | **{v}** |")
    lines += ["", "## Finetuning: did training accuracy plateau?", "",
              f"Training accuracy (the epochs' running mean) of each finetuning run: "
              f"**plateaued** when the last quarter of its epochs is within "
              f"+-{PLATEAU_POINTS:g} points of the quarter before, or at the ceiling (its mean "
              f"within {PLATEAU_POINTS:g} points of 100%: no more than that left to gain) "
              "(curves: figures/curves_finetune_*.png).", "",
              "| finetuning run | seed | training accuracy | check |", "|---|---|---|---|", *rows]
    return "\n".join(lines) + "\n"


# the paper's recipe (its section 3, "Final Objective" and "Implementation Detail"): SGD with
# momentum 0.9 and weight decay 1e-4 in both stages, L_PMSP summed over its cells + 1 x L_CTP,
# one learning rate for the network and its heads, M/R pathways 1/gamma of the I pathway's width
# (imrnet.train.config.NEUTRAL holds the same values as the training defaults: not imported, it
# would make the report stage depend on the training loop; tests/repro/test_results.py checks
# they agree)
PAPER_RECIPE = {"optim": "sgd", "pmsp_reduction": "sum", "ctp_weight": 1.0, "head_lr_mult": 1.0,
                "p_min_width": 1}


def _optim(o: dict) -> str:
    name = o.get("name", "sgd")
    return (f"{'Adam' if name == 'adam' else 'SGD (momentum ' + str(o.get('momentum', 0.9)) + ')'}"
            f", lr {o.get('lr', '?'):g}, batch {o.get('batch_size', '?')}")


def _values(vals, fmt=lambda v: f"{v:g}") -> str:
    return ", ".join(fmt(v) for v in sorted(set(vals)))


def recipe_markdown(res) -> str:
    """The training recipe of the profile where it departs from the paper's
    (`PAPER_RECIPE`): one row per setting with this profile's value, the paper's, and whether
    it is a deviation; and the epochs each finetuning cell trained (issue 13: an optimiser or
    loss balance chosen for a CPU budget is said in the report)."""
    p = res.params
    pre, ft = p.get("pretrain", {}), p.get("finetune", {})
    rows = []

    def row(what, ours, paper, deviates):
        rows.append(f"| {what} | {ours} | {paper} | {'**yes**' if deviates else 'no'} |")

    stages = [("pretraining", pre, res.pre), ("finetuning", ft, res.ft)]
    for label, sec, ran in stages:
        if ran:
            o = sec.get("optim", {})
            row(f"{label} optimiser", _optim(o), "SGD (momentum 0.9), batch 100",
                o.get("name", "sgd") != PAPER_RECIPE["optim"])
    spec = {n: pre["runs"].get(n) or {} for n in res.pre}
    pmsp = [n for n in res.pre if "pmsp" in spec[n].get("tasks", [])]
    if pmsp:
        red = pre.get("pmsp_reduction") or PAPER_RECIPE["pmsp_reduction"]
        row("PMSP loss over its levels and windows", red, PAPER_RECIPE["pmsp_reduction"],
            red != PAPER_RECIPE["pmsp_reduction"])
    ctp = [n for n in res.pre if {"ctp", "ctp_binary"} & set(spec[n].get("tasks", []))]
    if ctp:  # the weights keyed by head, as training reads them (ctp_binary's head is ctp)
        lam = [check_weights(spec[n]["tasks"], spec[n].get("weights")).get(
            "ctp", PAPER_RECIPE["ctp_weight"]) for n in ctp]
        row("CTP weight lambda (L = L_PMSP + lambda L_CTP)", _values(lam),
            f"{PAPER_RECIPE['ctp_weight']:g}", set(lam) != {PAPER_RECIPE["ctp_weight"]})
    if res.ft:  # a run's optim over its stage's, as the finetuning stage merges them
        stage = ft.get("optim", {})
        mult = [float({**stage, **((ft["runs"][n] or {}).get("optim") or {})}.get(
            "head_lr_mult", PAPER_RECIPE["head_lr_mult"])) for n in res.ft]
        row("classifier lr multiplier", _values(mult, lambda v: f"{v:g}x"),
            f"{PAPER_RECIPE['head_lr_mult']:g}x", set(mult) != {PAPER_RECIPE["head_lr_mult"]})
    width = int(p.get("train", {}).get("model", {}).get("p_min_width",
                                                        PAPER_RECIPE["p_min_width"]))
    row("M/R pathway width floor (channels)", width, "none (I width / gamma)",
        width != PAPER_RECIPE["p_min_width"])
    cells: dict = {}
    for r in res.ft.values():
        cell = (r["model"], res.pre_cell.get(r["init"], r["init"]))  # seeds share a cell
        cells.setdefault(cell, set()).add(r.get("epochs"))
    lines = ["", "## The training recipe, against the paper's", "",
             "Settings of this profile that the paper fixes otherwise (section 3: SGD with "
             "momentum 0.9 and batch 100 in both stages, L_PMSP + 1 x L_CTP with PMSP summed over "
             "its cells, 20 pretraining and 300-500 finetuning epochs); a deviation is chosen for "
             "this profile's CPU budget (docs/experiments/decisive.md).", "",
             "| setting | this profile | the paper's | deviation |", "|---|---|---|---|", *rows]
    if cells:
        lines += ["", "Finetuning epochs per cell: " + "; ".join(
            f"{m}, {i}: {_values([e for e in eps if e is not None], str) or '?'}"
            for (m, i), eps in sorted(cells.items())) + "."]
    return "\n".join(lines) + "\n"
