"""Table rendering."""

import csv
import io

from repro.tables import Cell, dataset_label, render


def test_cells_and_three_formats():
    cols = [dataset_label("synthetic-ucf"), "UCF-101"]
    assert cols[0] == "synthetic-ucf (built-in stand-in for UCF-101)"
    rows = [("IMRNet-R18, scratch", {cols[0]: Cell(0.5, (0.354, 0.646))}),
            ("CoViAR", {cols[0]: Cell(0.25, (0.1, 0.4)), "UCF-101": Cell(paper=90.5)}),
            ("IMRNet-R50", {cols[0]: Cell(note="paper profile")})]
    t = render("Table 1: supervised", cols, rows, note="one seed per cell")
    assert "| IMRNet-R18, scratch | 50.0 [35.4, 64.6] | - |" in t["md"]
    assert "| CoViAR | 25.0 [10.0, 40.0] | - (paper 90.5) |" in t["md"]
    assert "paper profile" in t["md"] and t["md"].rstrip().endswith("one seed per cell")
    assert r"\toprule" in t["tex"] and r"50.0 {[}35.4, 64.6{]}" in t["tex"] and r"synthetic-ucf" in t["tex"]
    rows_csv = list(csv.DictReader(io.StringIO(t["csv"])))
    assert len(rows_csv) == 6 and rows_csv[0]["value"] == "0.5" and rows_csv[0]["ci_low"] == "0.354"
    assert rows_csv[3]["paper"] == "90.5" and rows_csv[4]["note"] == "paper profile"
