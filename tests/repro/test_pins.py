"""Which runs the smoke pins accept: only those whose numbers hold across machines."""

from __future__ import annotations

import pytest

from repro.pins import _mode, write_pins


def test_only_cross_machine_runs_count_as_the_mode():
    ok = {"reproducibility": {"mode": "avx2", "cross_machine": True}}
    assert _mode(ok) == "avx2"
    cuda = {"reproducibility": {"mode": "avx2", "cross_machine": False, "device": "cuda",
                                "cuda": "not bit-reproducible across GPU models"}}
    assert _mode(cuda) == "avx2, but not cross-machine (not bit-reproducible across GPU models)"
    broken = {"reproducibility": {"mode": "avx2", "cross_machine": False,
                                  "problems": ["oneDNN ISA is AVX512_CORE"]}}
    assert "oneDNN ISA is AVX512_CORE" in _mode(broken)
    assert _mode({}) == "unrecorded"


def test_pins_are_refused_from_a_run_that_does_not_hold_across_machines(tmp_path):
    measured = {"finetune": {}, "pretrain": {}, "profile": {},
                "modes": {"finetune/x": _mode({"reproducibility": {"mode": "avx2",
                                                                  "cross_machine": False}})}}
    with pytest.raises(ValueError, match="without the reproducibility mode"):
        write_pins(measured, tmp_path / "pins.json")
    assert not (tmp_path / "pins.json").exists()
