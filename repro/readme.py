"""The README's generated parts (never typed by hand): the claims tables, from
``reports/<profile>/claims.md`` (one row per claim with its verdict and, per part, the
difference and its interval), and the report's tables, copied from
``reports/<profile>/tables/<name>.md``.

    python -m repro readme            # rewrite the README's generated parts between their markers
    python -m repro readme --check    # exit 1 when one differs from its source

A claims table sits between ``<!-- claims:<profile> -->`` and ``<!-- /claims:<profile> -->``, a
report table between ``<!-- table:<profile>/<name> -->`` and ``<!-- /table:<profile>/<name> -->``;
`tests/repro/test_readme.py` checks that every one matches its source.
"""

from __future__ import annotations

import re
from pathlib import Path

__all__ = ["parse_claims", "claims_table", "sync_readme"]

_MARK = re.compile(r"(<!-- claims:([\w.-]+) -->\n)(.*?)(<!-- /claims:\2 -->)", re.S)
_TABLE = re.compile(r"(<!-- table:([\w.-]+)/([\w.-]+) -->\n)(.*?)(<!-- /table:\2/\3 -->)", re.S)
_PART = re.compile(r"^- (.*?): (.*) -> ([a-z ]+)$")


def parse_claims(md: str) -> list[dict]:
    """The claims of a claims.md (`repro.claims.claims_markdown`): [{"claim", "verdict",
    "parts": [(what, result, verdict)]}] in its order; sections after the claims (the training
    checks) are not claims and are left out."""
    out: list[dict] = []
    names = {m.group(1) for m in re.finditer(r"^\| (.+?) \| \*\*[a-z ]+\*\* \|$", md, re.M)}
    cur = None
    for line in md.splitlines():
        if line.startswith("## "):
            head = re.match(r"^## (.+): ([a-z ]+)$", line)
            cur = None
            if head and head.group(1) in names:
                cur = {"claim": head.group(1), "verdict": head.group(2), "parts": []}
                out.append(cur)
        elif cur is not None and (m := _PART.match(line)):
            cur["parts"].append(m.groups())
    return out


def _short(result: str) -> str:
    """A part's result in a table cell: the difference and its interval, else the whole result
    (never cut: a cell says what claims.md says)."""
    m = re.search(r"([+-]\d+\.\d points, 95% CI \[[^\]]+\])", result)
    if m:
        return m.group(1)
    return result or "-"


def _label(what: str) -> str:
    """A part's name in a table cell: "A vs B" of a comparison, else its description without
    its explanatory "(the ...)" aside (kept in claims.md); never cut mid-word."""
    m = re.match(r"A = (.+?), B = (.+?)(?:, scratch|, finetuned accuracy)?$", what)
    if m:
        return f"{m.group(1)} vs {m.group(2)}"
    return re.sub(r" \(the [^()]*\)", "", what)


def claims_table(md: str, profile: str) -> str:
    """The README table of one profile's claims.md."""
    rows = [f"| claim (paper) | {profile} profile | evidence per part: A - B, 95% interval (verdict) |",
            "|---|---|---|"]
    for c in parse_claims(md):
        ev = "; ".join(f"{_label(w)}: {_short(r)} ({v})" for w, r, v in c["parts"]) or "-"
        rows.append(f"| {c['claim']} | **{c['verdict']}** | {ev} |")
    return "\n".join(rows) + "\n"


def sync_readme(readme: str | Path = "README.md", reports: str | Path = "reports",
                check: bool = False) -> list[str]:
    """Rewrite (or, with ``check``, only compare) every marked claims table and report table of
    ``readme``; returns the profiles (claims) and ``<profile>/<table>`` names (tables) that were
    (or would be) changed. A marked part without its source file is a ValueError naming it."""
    readme, reports = Path(readme), Path(reports)
    text = readme.read_text()
    changed = []

    def fill(m):
        src = reports / m.group(2) / "claims.md"
        if not src.is_file():
            raise ValueError(f"{readme}: a claims table for {m.group(2)!r}, but {src} is missing")
        table = claims_table(src.read_text(), m.group(2))
        if table != m.group(3):
            changed.append(m.group(2))
        return m.group(1) + table + m.group(4)

    def copy(m):
        src = reports / m.group(2) / "tables" / f"{m.group(3)}.md"
        if not src.is_file():
            raise ValueError(f"{readme}: a copy of {m.group(2)}/{m.group(3)}, but {src} is missing")
        table = src.read_text().rstrip("\n") + "\n"
        if table != m.group(4):
            changed.append(f"{m.group(2)}/{m.group(3)}")
        return m.group(1) + table + m.group(5)

    new = _TABLE.sub(copy, _MARK.sub(fill, text))
    if changed and not check:
        readme.write_text(new)
    return changed
