"""The README's claims tables are generated from reports/<profile>/claims.md (repro.readme) and
stay in step with them."""

from __future__ import annotations

from pathlib import Path

import pytest

from repro.claims import claims_markdown
from repro.readme import claims_table, parse_claims, sync_readme

ROOT = Path(__file__).resolve().parents[2]


def test_the_readme_tables_match_the_committed_claims():
    assert "<!-- claims:default -->" in (ROOT / "README.md").read_text()
    assert sync_readme(ROOT / "README.md", ROOT / "reports", check=True) == [], \
        "README's claims table is stale: run `python -m repro readme`"


def test_parsing_gets_back_what_claims_markdown_wrote():
    cl = [{"claim": "X beats Y", "verdict": "holds", "how": "",
           "evidence": [{"what": "A = X, B = Y, scratch", "verdict": "holds",
                         "result": "A - B = +7.5 points, 95% CI [+3.0, +12.0] over 2016 shared "
                                   "test videos (A 90.0%, B 82.5%)"}]},
          {"claim": "Z is cheap", "verdict": "not tested", "how": "",
           "evidence": [{"what": "no profiling here", "result": "", "verdict": "not tested"}]}]
    md = claims_markdown(cl, {"profile_name": "t", "train": {"seed": 0},
                              "finetune": {"runs": {}}}) + "\n## Did the training work?\n\n- a: b -> c\n"
    got = parse_claims(md)
    assert [(c["claim"], c["verdict"], len(c["parts"])) for c in got] == \
        [("X beats Y", "holds", 1), ("Z is cheap", "not tested", 1)]
    table = claims_table(md, "t")
    assert "| X beats Y | **holds** | X vs Y: +7.5 points, 95% CI [+3.0, +12.0] (holds) |" in table
    assert "| Z is cheap | **not tested** | no profiling here: - (not tested) |" in table


def test_sync_rewrites_only_between_markers_and_names_a_missing_report(tmp_path):
    (tmp_path / "reports/p").mkdir(parents=True)
    (tmp_path / "reports/p/claims.md").write_text((ROOT / "reports/default/claims.md").read_text())
    readme = tmp_path / "README.md"
    readme.write_text("before\n<!-- claims:p -->\nold\n<!-- /claims:p -->\nafter\n")
    assert sync_readme(readme, tmp_path / "reports", check=True) == ["p"]
    assert "old" in readme.read_text()  # --check writes nothing
    assert sync_readme(readme, tmp_path / "reports") == ["p"]
    text = readme.read_text()
    assert text.startswith("before\n<!-- claims:p -->\n| claim (paper) |") and text.endswith(
        "<!-- /claims:p -->\nafter\n")
    assert sync_readme(readme, tmp_path / "reports") == []
    readme.write_text("<!-- claims:q -->\n<!-- /claims:q -->\n")
    with pytest.raises(ValueError, match="reports/q/claims.md is missing"):
        sync_readme(readme, tmp_path / "reports")


def test_sync_copies_marked_report_tables_and_names_a_missing_one(tmp_path):
    (tmp_path / "reports/p/tables").mkdir(parents=True)
    (tmp_path / "reports/p/tables/t1.md").write_text("**Table 1**\n\n| a |\n|---|\n| 1 |\n")
    readme = tmp_path / "README.md"
    readme.write_text("x\n<!-- table:p/t1 -->\nstale\n<!-- /table:p/t1 -->\ny\n")
    assert sync_readme(readme, tmp_path / "reports", check=True) == ["p/t1"]
    assert sync_readme(readme, tmp_path / "reports") == ["p/t1"]
    assert readme.read_text() == ("x\n<!-- table:p/t1 -->\n**Table 1**\n\n| a |\n|---|\n| 1 |\n"
                                  "<!-- /table:p/t1 -->\ny\n")
    assert sync_readme(readme, tmp_path / "reports") == []
    readme.write_text("<!-- table:p/t9 -->\n<!-- /table:p/t9 -->\n")
    with pytest.raises(ValueError, match="reports/p/tables/t9.md is missing"):
        sync_readme(readme, tmp_path / "reports")
