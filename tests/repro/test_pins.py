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


def _pins(**over):
    return {"finetune": {"run": {"n": 12, "top1": 2 / 12, "top5": 6 / 12, "train_loss": 7.37}},
            "pretrain": {"ctp": {"clips": 32, "ctp_acc": 8 / 32, "ctp_loss": 1.42, "loss": 1.42}},
            "profile": {"64": {"imrnet": {"gflops": 1.5, "params_m": 3.2}}},
            "modes": {"finetune/run": "avx2", "pretrain/ctp": "avx2"}, **over}


def test_other_kernels_are_compared_within_the_measured_cross_vendor_spread():
    """Where the kernels differ from the accepting machine's (another CPU vendor), training
    numbers are held to `CROSS_KERNEL` (sized from the Intel-vs-AMD spread) instead of
    exactly; FLOPs and test-set sizes stay exact; the same machine stays exact."""
    import copy

    from repro.pins import compare

    pin = _pins()
    near = copy.deepcopy(pin)
    near["finetune"]["run"].update(top1=3 / 12, train_loss=7.37 * 1.011)  # as Intel vs AMD
    near["pretrain"]["ctp"].update(ctp_loss=1.42 * (1 + 6e-6), loss=1.42 * (1 + 6e-6))
    assert len(compare(pin, near)) == 4  # exact: each moved number
    assert compare(pin, near, exact=False) == []
    far = copy.deepcopy(pin)
    far["finetune"]["run"].update(top1=5 / 12, train_loss=7.37 * 1.05, n=13)
    far["pretrain"]["ctp"].update(ctp_acc=12 / 32, loss=1.42 * 1.001)
    far["profile"]["64"]["imrnet"]["gflops"] = 1.5000001
    bad = compare(pin, far, exact=False)
    assert len(bad) == 6, bad
    assert any("n: 13, pinned 12 (exact)" in b for b in bad)
    assert any("top1" in b and "more than 2 of 12" in b for b in bad)
    assert any("ctp_acc" in b and "more than 2 of 32" in b for b in bad)
    assert any(b.startswith("profile/64/imrnet") for b in bad)


def test_the_kernel_check_needs_the_same_cpu_and_fingerprint():
    from repro.pins import same_kernels

    here = {"cpu": "AMD EPYC", "kernels": "abc"}
    assert same_kernels({"accepted_on": "AMD EPYC", "kernels": "abc"}, here)
    assert not same_kernels({"accepted_on": "AMD EPYC", "kernels": "abd"}, here)
    assert not same_kernels({"accepted_on": "Intel Xeon", "kernels": "abc"}, here)
    assert same_kernels({"accepted_on": "AMD EPYC"}, here)  # pins from before the fingerprint


def test_exact_misses_counts_pinned_numbers_only():
    """The warning on another CPU says how many of how many pinned numbers differ at all: a
    run missing from the measurement or a mode refusal is not a number."""
    from repro.pins import exact_misses

    pins = _pins()
    same = _pins()
    assert exact_misses(pins, same) == ([], 4 + 4 + 1)  # a profile row counts once
    moved = _pins(finetune={"run": {**pins["finetune"]["run"], "train_loss": 7.3700001}},
                  modes={"finetune/run": "native"})
    off, total = exact_misses(pins, moved)
    assert total == 9 and off == ["finetune/run train_loss: 7.3700001, pinned 7.37"]
    gone = _pins(pretrain={})
    assert exact_misses(pins, gone) == ([], 5)
