"""Correspondence type prediction (CTP, paper section 2.2): which temporal transformation was
applied to the P-frame streams relative to the I-frames.

Kinds (labels): ALIGNED 0 (untouched), RANDOM 1 (the P-streams of a different video), SHUFFLE 2
(the GOP blocks of both P-streams permuted by a random permutation that is neither the identity
nor a cyclic shift), SHIFT 3 (GOP order rotated by k in [1, T-1]: [1,2,3,4,5] -> [2,3,4,5,1] for
k = 1). The binary variant uses ALIGNED and RANDOM only. Motion and residuals of a GOP move
together, so the P-streams stay consistent with each other and lose only their correspondence
with the I-frames.

The kind, the permutation and the RANDOM partner are drawn per sample from the sample's
generator (seed, epoch, index; `imrnet.seeding.sample_rng`), never from the batch. A clip padded by
repeating its last GOP (a video shorter than T GOPs) can come out of SHUFFLE or SHIFT unchanged
where only repeated GOPs swap places: rare label noise, not filtered.
"""

from __future__ import annotations

import itertools

import numpy as np

__all__ = ["ALIGNED", "RANDOM", "SHUFFLE", "SHIFT", "CTP_KINDS", "CTP_BINARY_KINDS",
           "draw_ctp", "ctp_transform", "shuffle_permutations"]

ALIGNED, RANDOM, SHUFFLE, SHIFT = 0, 1, 2, 3
CTP_KINDS = ("aligned", "random", "shuffle", "shift")
CTP_BINARY_KINDS = ("aligned", "random")


def shuffle_permutations(num_gops: int) -> list[tuple[int, ...]]:
    """Permutations of the GOPs that are neither the identity nor a cyclic shift."""
    rotations = {tuple(np.roll(np.arange(num_gops), -k)) for k in range(num_gops)}
    return [p for p in itertools.permutations(range(num_gops)) if p not in rotations]


def draw_ctp(rng: np.random.Generator, num_gops: int, *, binary: bool = False) -> tuple[int, tuple]:
    """(kind, GOP order) for one sample: the order is the new position -> source GOP map."""
    n = 2 if binary else 4
    if num_gops < 3 and not binary:
        raise ValueError(f"CTP's shuffle needs >= 3 GOPs (a non-cyclic permutation), got {num_gops}")
    kind = int(rng.integers(n))
    order = tuple(range(num_gops))
    if kind == SHUFFLE:
        perms = shuffle_permutations(num_gops)
        order = perms[int(rng.integers(len(perms)))]
    elif kind == SHIFT:
        k = int(rng.integers(1, num_gops))
        order = tuple(int(v) for v in np.roll(np.arange(num_gops), -k))
    return kind, order


def ctp_transform(clip: dict, kind: int, order=None, partner: dict | None = None) -> dict:
    """Apply CTP ``kind`` to a clip's P-streams (I-frames untouched).

    Args:
        clip: dict with ``motion`` [T, P, H, W, 2] and ``residual`` [T, P, H, W, 3] (arrays,
            GOP-major; any other keys are passed through, ``flow`` moves with the P-streams).
        kind: ALIGNED, RANDOM, SHUFFLE or SHIFT.
        order: for SHUFFLE / SHIFT, the source GOP of each new position (from `draw_ctp`).
        partner: for RANDOM, another video's clip of the same shape (its geometry drawn as
            for any sample); its P-streams replace this clip's.
    """
    out = dict(clip)
    keys = [k for k in ("motion", "residual", "flow") if clip.get(k) is not None]
    if kind == ALIGNED:
        return out
    if kind == RANDOM:
        if partner is None:
            raise ValueError("CTP RANDOM needs a partner clip")
        for k in keys:
            if partner[k].shape != clip[k].shape:
                raise ValueError(f"partner {k} is {partner[k].shape}, clip's {clip[k].shape}")
            out[k] = partner[k]
        return out
    if kind not in (SHUFFLE, SHIFT):
        raise ValueError(f"unknown CTP kind {kind!r}")
    order = np.asarray(order)
    t = clip["motion"].shape[0]
    if sorted(order.tolist()) != list(range(t)) or (order == np.arange(t)).all():
        raise ValueError(f"order {order.tolist()} is not a non-identity permutation of {t} GOPs")
    for k in keys:
        out[k] = np.ascontiguousarray(clip[k][order])
    return out
