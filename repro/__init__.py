"""The harness: params, paper reference numbers, tables, figures, claims, pins, benchmark checks."""

import imrnet  # noqa: F401  (first: the CPU reproducibility mode, before NumPy loads)
