"""`repro.bench.verdict`: within tolerance, a regression, a busy machine, other settings."""

from __future__ import annotations

from repro.bench import BUSY_SPREAD, TOLERANCE, verdict

SETTINGS = {"size": 64, "rounds": 7, "repeats": 9}


def _measured(ratio: float, spread: float = 1.2) -> dict:
    return {"settings": SETTINGS, "median": {"r": ratio}, "spread": {"r": spread},
            "load_at_start": 1.9, "cores": 2}


PINS = {"settings": SETTINGS, "median": {"r": 1.0}}


def test_within_tolerance_passes_whatever_the_load_average():
    code, lines = verdict(_measured(TOLERANCE * 0.99), PINS)
    assert code == 0 and "within x2: yes" in lines[-1]


def test_a_moved_ratio_on_a_quiet_machine_is_a_regression():
    code, lines = verdict(_measured(TOLERANCE * 1.01), PINS)
    assert code == 1 and "NO" in lines[-1]
    assert verdict(_measured(1 / (TOLERANCE * 1.01)), PINS)[0] == 1


def test_a_busy_machine_is_inconclusive_not_a_regression():
    code, lines = verdict(_measured(10.0, spread=BUSY_SPREAD * 1.1), PINS)
    assert code == 3 and "inconclusive" in lines[-1]


def test_pins_measured_otherwise_are_not_compared():
    code, lines = verdict(_measured(1.0), {**PINS, "settings": {**SETTINGS, "rounds": 3}})
    assert code == 4 and "not comparable" in lines[0]
