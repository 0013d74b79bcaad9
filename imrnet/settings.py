"""Params values and their merging, shared by the training config (`imrnet.train.config`) and
the pipeline's params files (`pipelines.params`, `pipelines.runs`): typed reads of YAML values
(`as_int`, `as_number`) and the one deep merge of an override into a base (`deep_merge`)."""

from __future__ import annotations

import copy
import math

__all__ = ["as_int", "as_number", "deep_merge", "REPLACED_WHOLE"]

# mappings an override replaces whole instead of merging key by key: a pretext task's loss
# weights are one choice (a run that names only CTP's weight drops PMSP's)
REPLACED_WHOLE = ("weights",)


def as_int(v) -> int | None:
    """``v`` when it is an int, else None: a bool, a float or a string ("2", which the code
    using the value would not take) is not an integer here."""
    if isinstance(v, bool) or not isinstance(v, int):
        return None
    return v


def as_number(v) -> float | None:
    """``v`` as a finite number when it is one (YAML reads ``1e-4``, without a dot, as a
    string: accepted, as ``float()`` always did), else None."""
    if isinstance(v, bool):
        return None
    if isinstance(v, str):
        try:
            v = float(v)
        except ValueError:
            return None
    if isinstance(v, (int, float)) and math.isfinite(v):
        return v
    return None


def deep_merge(base: dict, over: dict | None, *, strict: bool = False, what: str = "param",
               path: tuple = ()) -> dict:
    """A deep copy of ``base`` with ``over``'s values: nested mappings merged key by key, except
    those under `REPLACED_WHOLE` keys, and every other value replaced. ``strict``: every key of
    ``over`` must be a name ``base`` has, and a mapping in ``base`` can only be overridden by a
    mapping (a ValueError naming the ``what`` and its dotted path otherwise)."""
    out = copy.deepcopy(base)
    for k, v in (over or {}).items():
        if strict:
            if not isinstance(k, str):
                raise ValueError(f"{what}s: keys must be names, got {k!r}"
                                 + (f" under {'.'.join(path)}" if path else ""))
            if k not in base:
                raise ValueError(f"unknown {what} {'.'.join(path + (k,))!r}; known: "
                                 f"{', '.join(sorted(base))}")
            if isinstance(base[k], dict) and not isinstance(v, dict):
                raise ValueError(f"{'.'.join(path + (k,))} must be a mapping, got {v!r}")
        if isinstance(v, dict) and isinstance(out.get(k), dict) and k not in REPLACED_WHOLE:
            out[k] = deep_merge(out[k], v, strict=strict, what=what, path=path + (k,))
        else:
            out[k] = copy.deepcopy(v)
    return out
