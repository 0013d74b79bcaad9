"""The harness: paper reference numbers, results and their statistics, tables, figures, claims,
pins, benchmark checks; `python -m repro ...` (report, pin, bench, crosscheck, kernelprobe,
readme)."""

import imrnet  # noqa: F401  (first: the CPU reproducibility mode, before NumPy loads)
