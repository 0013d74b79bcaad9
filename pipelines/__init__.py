"""One thin module per DVC stage: parse its params section, call imrnet/repro, write its outs.

Importing the package applies the CPU reproducibility mode (`imrnet`, first, before NumPy loads)
and checks that it holds, so no stage computes a number under settings it would not record.
"""

import sys

import imrnet  # noqa: F401  (first: the CPU reproducibility mode, before NumPy loads)
from imrnet.reproducibility import ReproducibilityError, check

try:
    check()
except ReproducibilityError as _e:
    sys.exit(f"error: {_e}")
