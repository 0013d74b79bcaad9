"""Paired bootstrap verdicts."""

import pytest

from repro.stats import correctness, paired_bootstrap, verdict


def _models(n, a_right, b_right):
    ids = [f"v{i}" for i in range(n)]
    return ({v: int(i < a_right) for i, v in enumerate(ids)},
            {v: int(i < b_right) for i, v in enumerate(ids)})


def test_clear_win_loss_and_tie():
    a, b = _models(100, 80, 40)
    r = paired_bootstrap(a, b, n=2000)
    assert r["diff"] == pytest.approx(0.4) and r["n"] == 100 and verdict(r) == "holds"
    assert verdict(paired_bootstrap(b, a, n=2000)) == "contradicted"
    a, b = _models(20, 10, 9)
    assert verdict(paired_bootstrap(a, b, n=2000)) == "inconclusive"


def test_pairing_beats_overlapping_intervals():
    """B is right on a subset of A's videos plus nothing else: A - B is >= 0 on every video, so
    the paired interval excludes 0 even where unpaired 95% intervals of 0.60 and 0.50 on 100
    videos would overlap."""
    a, b = _models(100, 60, 50)
    r = paired_bootstrap(a, b, n=4000)
    assert r["ci"][0] > 0 and verdict(r) == "holds"


def test_errors_and_correctness():
    assert correctness([["x", 1, 1], ["y", 2, 0]]) == {"x": 1, "y": 0}
    with pytest.raises(ValueError, match="twice"):
        correctness([["x", 1, 1], ["x", 1, 0]])
    with pytest.raises(ValueError, match="different videos"):
        paired_bootstrap({"a": 1}, {"b": 1})
    with pytest.raises(ValueError, match="no shared"):
        paired_bootstrap({}, {})


def test_contrast_bootstrap_gap_narrowing():
    """(A - B) - (C - D): A beats B on 40 videos, C beats D on 10; the gap narrows by 0.3."""
    from repro.stats import contrast_bootstrap

    a, b = _models(100, 80, 40)
    c, d = _models(100, 60, 50)
    r = contrast_bootstrap([(1, a), (-1, b), (-1, c), (1, d)], n=2000)
    assert r["diff"] == pytest.approx(0.3) and r["n"] == 100 and verdict(r) == "holds"
    with pytest.raises(ValueError, match="different videos"):
        contrast_bootstrap([(1, a), (-1, {"x": 1})])
