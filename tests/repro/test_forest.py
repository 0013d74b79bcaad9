"""The claims' forest plot and its CSV (repro.forest), the keyed figures (repro.figures) and the
report page's first screen (repro.page), on small hand-made inputs."""

from __future__ import annotations

import csv
import io

import numpy as np

from imrnet.png import save_png
from repro.figures import keyed_image, training_curves
from repro.forest import forest_csv, forest_plot, forest_rows
from repro.page import index_html


def _iv(diff, lo, hi, n=100, seeds=3, failed=False):
    return {"diff": diff, "lo": lo, "hi": hi, "n": n, "seeds": seeds, "checks_failed": failed}


CL = [{"claim": "X beats Y", "verdict": "holds", "how": "",
       "evidence": [{"what": "A = X, B = Y, scratch", "result": "...", "verdict": "holds",
                     "interval": _iv(0.075, 0.03, 0.12)}]},
      {"claim": "Z is cheap", "verdict": "holds", "how": "",
       "evidence": [{"what": "GFLOPs ratio", "result": "0.36", "verdict": "holds"}]},
      {"claim": "P beats Q and R", "verdict": "partly holds", "how": "",
       "evidence": [{"what": "A = P, B = Q", "result": "...", "verdict": "absent",
                     "interval": _iv(0.001, -0.02, 0.021, failed=True)},
                    {"what": "A = P, B = R", "result": "...", "verdict": "holds",
                     "interval": _iv(0.2, 0.15, 0.25)}]}]


def test_rows_and_csv_hold_every_interval_in_points():
    rows = forest_rows(CL)
    assert [r["comparison"] for r in rows] == ["X - Y", "P - Q", "P - R"]  # no interval: no row
    assert rows[0]["diff_points"] == 7.5 and rows[0]["videos"] == 100 and rows[0]["seeds"] == 3
    assert (rows[0]["ci_low_points"], rows[0]["ci_high_points"], rows[0]["half_width_points"]) \
        == (3.0, 12.0, 4.5)
    assert rows[1]["training_checks_failed"] and rows[1]["claim_verdict"] == "partly holds"
    back = list(csv.DictReader(io.StringIO(forest_csv(rows))))
    assert len(back) == 3 and back[2]["diff_points"] == "20.0" and back[1]["verdict"] == "absent"


def test_forest_plot_is_byte_reproducible(tmp_path):
    a = save_png(forest_plot(forest_rows(CL), title="t"), tmp_path / "a.png").read_bytes()
    b = save_png(forest_plot(forest_rows(CL), title="t"), tmp_path / "b.png").read_bytes()
    assert a == b and a[:8] == b"\x89PNG\r\n\x1a\n"


def test_curves_keep_a_run_colour_in_every_panel():
    runs = {"a": [{"epoch": 1, "loss": 2.0}, {"epoch": 2, "loss": 1.0}],  # no acc: absent there
            "b": [{"epoch": 1, "loss": 3.0, "acc": 0.1}, {"epoch": 2, "loss": 2.0, "acc": 0.3}]}
    fig = training_curves(runs, ("loss", "acc"))
    colour = {}
    for ax in fig.axes:
        for line in ax.get_lines():
            ys = tuple(line.get_ydata())
            name = "a" if ys == (2.0, 1.0) else "b"
            colour.setdefault(name, set()).add(line.get_color())
        ticks = [t for t in ax.get_xticks() if 1 <= t <= 2]
        assert all(float(t).is_integer() for t in ticks)
    assert all(len(c) == 1 for c in colour.values()) and colour["a"] != colour["b"]
    assert len(fig.legends) == 1 and [t.get_text() for t in fig.legends[0].get_texts()] == ["a", "b"]


def test_keyed_image_names_its_columns_rows_and_colours(tmp_path):
    img = np.zeros((40, 90, 3), np.uint8)
    fig = keyed_image(img, title="T", x_ticks=[(10, "col")], y_ticks=[(20, "row")],
                      top_labels=[(45, "group")], legend=[((255, 0, 0), "red thing")], note="n")
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["col"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["row"]
    assert "group" in [t.get_text() for t in ax.texts]
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["red thing"]
    save_png(fig, tmp_path / "k.png")


def test_first_screen_comes_first(tmp_path):
    figs = tmp_path / "figures"
    figs.mkdir()
    save_png(forest_plot(forest_rows(CL)), figs / "claims_forest.png")
    save_png(np.zeros((8, 8, 3), np.uint8), figs / "other.png")
    params = {"profile_name": "t", "pretrain": {"runs": {"p": {}}, "budget": {"clips": 10}},
              "finetune": {"runs": {"f": {"dataset": "synthetic-ucf"}}, "budget": {"clips": 5}}}
    page = index_html(params, {}, "| a |\n|---|\n| b |", "# claims\n\n| claim | verdict |\n",
                      {}, figs, claims_list=CL, settings="S.", seeds=[0, 1])
    first = page[:page.index('<h2 id="claims">')]
    assert "synthetic-ucf (the built-in synthetic data" in first and "2 training seeds" in first
    assert "3 claims</b>: " in first and "2 holds" in first and "1 partly holds" in first
    assert 'alt="claims forest plot"' in first and first.count("data:image/png;base64,") == 1
    assert page.count('alt="claims forest plot"') == 1 and 'alt="other"' in page
    assert 'href="figures/other.png"' in page and 'href="#figures"' in page
