"""`python -m imrnet.models.describe` regenerates Table 4 from the code."""

from __future__ import annotations

import subprocess
import sys

from imrnet.models.describe import architecture_rows, describe


def test_rows_carry_measured_sizes_and_laterals():
    rows, lat, net = architecture_rows(depth=18, size=112)
    table = {r[0]: r for r in rows}
    assert "5x28x28, 64 ch" in table["conv1"][1] and "25x28x28, 4 ch" in table["conv1"][2]
    assert "[1x3^2, 64; 1x3^2, 64] x2" in table["res2 (/1)"][1]
    assert "[3x3^2, 4; 1x3^2, 4] x2" in table["res2 (/1)"][2] and "(Table 4)" in table["res2 (/1)"][2]
    assert "5x4x4, 512 ch" in table["res5 (/2)"][1] and "25x4x4, 32 ch" in table["res5 (/2)"][2]
    assert [r[0] for r in lat] == ["after conv1", "after res2", "after res3", "after res4"]
    assert "conv 5x1^2 /(5,1,1), 4->8 ch" in lat[0][1] and "deconv 5x1^2 x(5,1,1), 64->1 ch" in lat[0][2]
    rows, lat, _ = architecture_rows(depth=50, size=64, i_width=16, res5_stride=1,
                                     connection="unidirectional", lateral="resample")
    assert "[3x1^2, 1; 1x3^2, 1; 1x1^2, 4] x3" in dict((r[0], r[2]) for r in rows)["res2 (/1)"]
    assert all("none (unidirectional)" == r[2] and "weight-free" in r[1] for r in lat)
    assert "| stage |" in describe(depth=18, size=64, markdown=True)


def test_cli_prints_both_depths():
    for depth in (18, 50):
        out = subprocess.run([sys.executable, "-m", "imrnet.models.describe", "--depth", str(depth),
                              "--size", "112"], capture_output=True, text=True, check=True).stdout
        assert f"IMRNet-R{depth}" in out and "res5" in out and "after res4" in out
    bad = subprocess.run([sys.executable, "-m", "imrnet.models.describe", "--connection", "x"],
                         capture_output=True, text=True)
    assert bad.returncode == 2 and "connection" in bad.stderr
