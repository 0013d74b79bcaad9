"""The claims ledger at a glance: every difference with a bootstrap interval in
`repro.claims.claims` (one row per comparison, grouped by claim) as a forest plot and as a CSV.

Each row is "A - B" in accuracy points (or, for the PMSP prediction check, the margin over
chance), with its 95% interval; the paper's direction is always to the right of 0 (every claim
is phrased "A beats B", the gap contrast "> 0 when it narrows"); the band around 0 is the
+-5 points within which an interval around 0 reads "absent" (`repro.stats.DECIDES`). The
colour is the part's verdict; the half-width is written beside each row.
"""

from __future__ import annotations

import csv
import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from .stats import DECIDES  # noqa: E402

__all__ = ["VERDICT_COLOURS", "forest_rows", "forest_csv", "forest_plot", "without_interval"]

VERDICT_COLOURS = {"holds": "#2e8b3e", "contradicted": "#c0392b", "absent": "#7f8c8d",
                   "inconclusive": "#e08e0b", "not tested": "#bbbbbb"}
FIELDS = ("claim", "claim_verdict", "comparison", "diff_points", "ci_low_points",
          "ci_high_points", "half_width_points", "videos", "seeds", "verdict",
          "training_checks_failed")


def _label(what: str) -> str:
    if what.startswith("A = ") and ", B = " in what:
        a, b = what[4:].split(", B = ", 1)
        for tail in (", scratch", ", finetuned accuracy"):
            b = b.removesuffix(tail)
        return f"{a} - {b}"
    if what.startswith("(IMRNet - CoViAR) from scratch minus"):
        return "IMRNet-CoViAR gap: scratch - after supervised pretraining"
    if what.startswith("PMSP head of "):
        return what.split(" on ")[0] + ": margin over chance"
    return what if len(what) <= 60 else what[:57].rstrip() + "..."


def forest_rows(cl: list[dict]) -> list[dict]:
    """One row per evidence part that carries an interval, in the ledger's order; values in
    accuracy points (x100), rounded to 0.1 (what claims.md prints)."""
    out = []
    for c in cl:
        for e in c["evidence"]:
            iv = e.get("interval")
            if not iv:
                continue
            pts = lambda x: round(100 * x, 1)  # noqa: E731
            out.append({"claim": c["claim"], "claim_verdict": c["verdict"],
                        "comparison": _label(e["what"]), "diff_points": pts(iv["diff"]),
                        "ci_low_points": pts(iv["lo"]), "ci_high_points": pts(iv["hi"]),
                        "half_width_points": round(50 * (iv["hi"] - iv["lo"]), 1),
                        "videos": iv["n"], "seeds": iv.get("seeds", 1), "verdict": e["verdict"],
                        "training_checks_failed": bool(iv.get("checks_failed", False))})
    return out


def without_interval(cl: list[dict]) -> list[tuple[str, str]]:
    """(claim, verdict) of the claims none of whose parts has an interval."""
    return [(c["claim"], c["verdict"]) for c in cl
            if not any(e.get("interval") for e in c["evidence"])]


def forest_csv(rows: list[dict]) -> str:
    """The rows as CSV (a header, then one line per comparison), for other tools to plot."""
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=FIELDS, lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    return buf.getvalue()


def forest_plot(rows: list[dict], *, title: str = "", without_interval=()):
    """The forest plot of ``rows`` (`forest_rows`): a header line per claim with its verdict,
    then its comparisons, each a point at A - B with its 95% interval (bootstrap percentiles
    at one seed, not symmetric; the videos x seeds t interval at several: both ends are
    written beside it with the half-width).
    ``without_interval``: (claim, verdict) of the claims decided otherwise (a cost ratio, a
    timing), named under the plot so that no claim is silently missing."""
    lines: list[tuple[str, dict | None]] = []
    for r in rows:  # rows come grouped by claim (forest_rows keeps the ledger's order)
        if not lines or lines[-1][0] != r["claim"]:
            lines.append((r["claim"], None))
        lines.append((r["claim"], r))
    n = len(lines)
    fig, ax = plt.subplots(figsize=(14, 0.32 * n + 1.9))
    lo = min([r["ci_low_points"] for r in rows] + [-10])
    hi = max([r["ci_high_points"] for r in rows] + [10])
    pad = 0.08 * (hi - lo)
    ax.set_xlim(lo - pad, hi + pad)
    ax.axvspan(-100 * DECIDES, 100 * DECIDES, color="#eeeeee", zorder=0)
    ax.axvline(0, color="black", lw=1, zorder=1)
    labels = []
    for i, (claim, r) in enumerate(lines):
        if r is None:
            verdicts = {x["claim_verdict"] for x in rows if x["claim"] == claim}
            labels.append(f"{claim}  [{'/'.join(sorted(verdicts))}]")
            continue
        if r["comparison"].endswith("margin over chance"):  # not an A - B of two models
            r = r | {"comparison": r["comparison"] + " (accuracy - best baseline)"}
        labels.append("    " + r["comparison"] + ("  (!)" if r["training_checks_failed"] else ""))
        col = VERDICT_COLOURS.get(r["verdict"], "black")
        ax.plot([r["ci_low_points"], r["ci_high_points"]], [i, i], color=col, lw=2.2, zorder=2)
        ax.plot([r["diff_points"]], [i], "o", color=col, ms=5, zorder=3)
        ax.text(1.01, i, f"{r['diff_points']:+.1f} [{r['ci_low_points']:+.1f}, "
                f"{r['ci_high_points']:+.1f}], half-width {r['half_width_points']:.1f}",
                va="center", fontsize=7, color=col, clip_on=False,
                transform=ax.get_yaxis_transform())
    ax.set_yticks(range(n), labels, fontsize=7.5)
    for t, (_, r) in zip(ax.get_yticklabels(), lines, strict=True):
        if r is None:
            t.set_fontweight("bold")
    ax.set_ylim(n - 0.5, -0.5)
    ax.set_xlabel("difference in accuracy points (A - B) with its 95% interval")
    ax.text(1.0, 1.005, "paper's direction: A better \u2192", transform=ax.transAxes,
            ha="right", va="bottom", fontsize=8.5, color="#333333")
    ax.text(0.0, 1.005, "\u2190 B better", transform=ax.transAxes, ha="left", va="bottom",
            fontsize=8.5, color="#333333")
    handles = [plt.Line2D([], [], color=c, marker="o", lw=2, label=v)
               for v, c in VERDICT_COLOURS.items() if v != "not tested"]
    handles.append(plt.Rectangle((0, 0), 1, 1, color="#eeeeee",
                                 label=f"\u00b1{100 * DECIDES:.0f} points: inside it, \"absent\""))
    fig.legend(handles=handles, fontsize=8, loc="lower center", ncol=len(handles),
               frameon=False, bbox_to_anchor=(0.5, 0.0))
    ax.grid(axis="x", alpha=0.3)
    note = ("(!): a training check failed behind the comparison (claims.md)"
            if any(r["training_checks_failed"] for r in rows) else "")
    if without_interval:
        import textwrap

        rest = "Decided without an interval (claims.md): " + "; ".join(
            f"{c} [{v}]" for c, v in without_interval)
        fig.text(0.01, 0.045, "\n".join(textwrap.wrap(rest, 190)), ha="left", va="bottom",
                 fontsize=7.5, color="#333333")
    if title:
        fig.suptitle(title, fontsize=11, x=0.01, ha="left")
    if note:
        fig.text(0.99, 0.985, note, ha="right", va="top", fontsize=8, color="#555555")
    fig.tight_layout(rect=(0, 0.035 + 0.03 * bool(without_interval), 0.86, 0.985))
    return fig
