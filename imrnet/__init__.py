"""IMRNet on compressed video: codec, data, models, pretext tasks, training, evaluation, profiling.

Importing the package applies the CPU reproducibility mode (`imrnet.reproducibility`) before
NumPy or torch compute anything; ``IMRNET_CPU_MODE=native`` turns it off.
"""

from . import reproducibility as _reproducibility

_reproducibility.apply()
