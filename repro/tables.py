"""Tables as Markdown, LaTeX and CSV: each reproduced cell with its 95% interval and the paper's
value beside it where known (`repro.reference`), datasets named as what they are."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

__all__ = ["Cell", "render", "dataset_label"]

_STANDS_IN = {"synthetic-ucf": "UCF-101", "synthetic-hmdb": "HMDB-51",
              "synthetic-kinetics": "Kinetics-400"}


def dataset_label(name: str) -> str:
    """``synthetic-ucf`` -> "synthetic-ucf (built-in stand-in for UCF-101)"; real names as is."""
    if name in _STANDS_IN:
        return f"{name} (built-in stand-in for {_STANDS_IN[name]})"
    return name


@dataclass
class Cell:
    """A reproduced value (a fraction or a number), its 95% interval, the paper's value (same
    unit as printed: percent for accuracies), and a note such as "paper profile"."""

    value: float | None = None
    ci: tuple[float, float] | None = None
    paper: float | None = None
    note: str = ""
    percent: bool = True

    def _fmt(self, v):
        return f"{100 * v:.1f}" if self.percent else f"{v:.3g}"

    def text(self) -> str:
        if self.value is None:
            main = self.note or "-"
        else:
            main = self._fmt(self.value)
            if self.ci is not None:
                main += f" [{self._fmt(self.ci[0])}, {self._fmt(self.ci[1])}]"
        if self.paper is not None:
            main += f" (paper {self.paper:g})"
        return main


def render(title: str, columns: list[str], rows: list[tuple[str, dict]], *, note: str = "") -> dict:
    """{"md", "tex", "csv"} texts of one table. ``rows``: (label, {column: Cell}); a missing
    cell prints "-". The CSV has separate value / ci_low / ci_high / paper columns."""
    head = ["", *columns]
    body = [[label, *[(cells.get(c) or Cell()).text() for c in columns]] for label, cells in rows]
    md = [f"**{title}**", "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    md += ["| " + " | ".join(r) + " |" for r in body]
    if note:
        md += ["", note]

    def esc(s: str) -> str:
        for a, b in (("\\", r"\textbackslash{}"), ("&", r"\&"), ("%", r"\%"), ("_", r"\_"),
                     ("#", r"\#"), ("[", "{[}"), ("]", "{]}")):
            s = s.replace(a, b)
        return s

    tex = [r"\begin{table}[t]", r"\centering", r"\caption{" + esc(title) + "}",
           r"\begin{tabular}{l" + "c" * len(columns) + "}", r"\toprule",
           " & ".join(esc(h) for h in head) + r" \\", r"\midrule"]
    tex += [" & ".join(esc(x) for x in r) + r" \\" for r in body]
    tex += [r"\bottomrule", r"\end{tabular}", r"\end{table}"]
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["row", "column", "value", "ci_low", "ci_high", "paper", "note"])
    for label, cells in rows:
        for c in columns:
            cell = cells.get(c) or Cell()
            lo, hi = cell.ci if cell.ci is not None else ("", "")
            w.writerow([label, c, "" if cell.value is None else cell.value, lo, hi,
                        "" if cell.paper is None else cell.paper, cell.note])
    return {"md": "\n".join(md) + "\n", "tex": "\n".join(tex) + "\n", "csv": buf.getvalue()}
