"""One thin module per DVC stage: parse its params section, call imrnet/repro, write its outs."""

import imrnet  # noqa: F401  (first: the CPU reproducibility mode, before NumPy loads)
