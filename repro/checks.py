"""Did the training work? Two checks every comparison in ``claims.md`` rests on (issue 13):
each pretext task's loss left chance on held-out clips (`imrnet.evaluate.pretext`), and each
finetuning run's training accuracy reached a plateau. A claim drawn from a network that never
left chance, or from one still climbing when its budget ran out, says little about the method;
these tables show which runs that applies to."""

from __future__ import annotations

__all__ = ["plateau", "preconditions_markdown", "PLATEAU_POINTS"]

# training accuracy gained over the last quarter of the epochs, at most, for a plateau
PLATEAU_POINTS = 2.0


def plateau(curve: list[dict], key: str = "acc") -> tuple[str, str]:
    """(verdict, evidence) for one finetuning run's training curve: the mean ``key`` of the
    last quarter of its epochs minus that of the quarter before, "plateaued" when within
    +-`PLATEAU_POINTS` points ("still rising" above, "falling" below: a collapse is no
    plateau); runs of fewer than 4 epochs cannot tell."""
    ys = [r[key] for r in curve if key in r]
    if len(ys) < 4:
        return "too few epochs", f"{len(ys)} epoch(s); a plateau needs >= 4 to be seen"
    q = len(ys) // 4
    last, before = ys[-q:], ys[-2 * q:-q]
    gain = 100 * (sum(last) / q - sum(before) / q)
    verdict = ("plateaued" if abs(gain) <= PLATEAU_POINTS else
               "still rising" if gain > 0 else "falling")
    return verdict, f"{100 * ys[-1]:.1f}% at the end; {gain:+.1f} points over the last {q} epoch(s)"


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
              f"+-{PLATEAU_POINTS:g} points of the quarter before (curves: "
              "figures/curves_finetune_*.png).", "",
              "| finetuning run | seed | training accuracy | check |", "|---|---|---|---|", *rows]
    return "\n".join(lines) + "\n"
