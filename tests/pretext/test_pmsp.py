"""PMSP labels (Algorithm 1) against a literal per-pixel port and hand-made fields."""

import numpy as np
import pytest

from imrnet.data import transforms as T
from imrnet.pretext import pmsp_key, parse_pmsp_key, pmsp_labels, pmsp_levels


def literal_labels(motion, grids=(2, 3, 4), scales=(1, 3, 5)):
    """Algorithm 1 written out with loops (slow; small fields only)."""
    Tn, P, H, W, _ = motion.shape
    refl = lambda i, n: -i if i < 0 else (2 * (n - 1) - i if i >= n else i)  # noqa: E731
    dx = np.zeros((Tn, P, H, W))
    dy = np.zeros((Tn, P, H, W))
    for g in range(Tn):
        for p in range(P):
            for y in range(H):
                for x in range(W):
                    for k in (-1, 0, 1):
                        dx[g, p, y, x] += (motion[g, p, refl(y + k, H), refl(x + 1, W), 0]
                                           - motion[g, p, refl(y + k, H), refl(x - 1, W), 0])
                        dy[g, p, y, x] += (motion[g, p, refl(y + 1, H), refl(x + k, W), 1]
                                           - motion[g, p, refl(y - 1, H), refl(x + k, W), 1])
    out = {}
    for s in grids:
        for t in scales:
            labels = []
            for q in range(t):
                sx = dx[q:q + Tn - t + 1].sum(axis=(0, 1))
                sy = dy[q:q + Tn - t + 1].sum(axis=(0, 1))
                mag = np.sqrt(sx ** 2 + sy ** 2)
                ey = np.floor(np.linspace(0, H, s + 1)).astype(int)
                ex = np.floor(np.linspace(0, W, s + 1)).astype(int)
                best, arg = -1.0, 0
                for r in range(s):
                    for c in range(s):
                        v = mag[ey[r]:ey[r + 1], ex[c]:ex[c + 1]].sum()
                        if v > best:
                            best, arg = v, r * s + c
                labels.append(arg)
            out[(s, t)] = np.array(labels)
    return out


def blob(T_=5, P=2, H=24, W=30, boxes=()):
    """Zero motion with moving patches: boxes of (gop, y0, y1, x0, x1, dx, dy)."""
    m = np.zeros((T_, P, H, W, 2), np.float32)
    for g, y0, y1, x0, x1, vx, vy in boxes:
        m[g, :, y0:y1, x0:x1] = (vx, vy)
    return m


def test_matches_literal_port_on_random_smooth_fields():
    rng = np.random.default_rng(3)
    for shape in [(5, 2, 13, 17), (5, 1, 8, 9), (3, 3, 11, 6)]:
        m = rng.normal(size=shape + (2,)).astype(np.float32)
        m = np.round(np.cumsum(np.cumsum(m, axis=2), axis=3) * 2) / 2  # half-pel, smooth
        scales = tuple(t for t in (1, 3, 5) if t <= shape[0])
        got = pmsp_labels(m, scales=scales)
        want = literal_labels(m, scales=scales)
        assert sorted(got) == sorted(want) == pmsp_levels(shape[0], scales=scales)
        for k in want:
            assert got[k].dtype == np.int64 and got[k].shape == (k[1],)
            np.testing.assert_array_equal(got[k], want[k], err_msg=str(k))


def test_moving_patch_labels_its_cell():
    # a patch in the bottom-right corner moves in every GOP: every level labels the last cell
    m = blob(boxes=[(g, 19, 23, 23, 29, -4, 0) for g in range(5)])
    labels = pmsp_labels(m)
    assert len(labels) == 9 and sum(len(v) for v in labels.values()) == 27
    for (s, t), v in labels.items():
        assert (v == s * s - 1).all(), (s, t, v)
    # top-left patch moving vertically: cell 0
    m = blob(boxes=[(g, 1, 5, 1, 6, 0, 3) for g in range(5)])
    assert all((v == 0).all() for v in pmsp_labels(m).values())


def test_windows_follow_time():
    # GOPs 0-1: top-left patch; GOPs 2-4: bottom-right patch (stronger in total)
    boxes = ([(g, 1, 5, 2, 6, -4, 0) for g in (0, 1)] +
             [(g, 19, 23, 23, 27, -4, 0) for g in (2, 3, 4)])
    labels = pmsp_labels(blob(boxes=boxes))
    np.testing.assert_array_equal(labels[(2, 5)], [0, 0, 3, 3, 3])  # one window per GOP
    np.testing.assert_array_equal(labels[(2, 1)], [3])             # all GOPs: 3 > 2
    np.testing.assert_array_equal(labels[(2, 3)], [0, 3, 3])       # GOPs 0-2, 1-3, 2-4


def test_uniform_motion_and_ties_go_to_lowest_index():
    # a whole-frame pan has no gradient anywhere: all cells tie at 0 -> label 0
    m = np.full((5, 2, 16, 16, 2), 3.5, np.float32)
    assert all((v == 0).all() for v in pmsp_labels(m).values())


def test_labels_follow_geometry():
    # a horizontal flip mirrors the columns; computing before the flip would be wrong
    m = blob(boxes=[(g, 2, 8, 3, 9, -4, 1) for g in range(5)])
    before = pmsp_labels(m)
    flipped = T.hflip({"motion": m})["motion"]
    after = pmsp_labels(flipped)
    for (s, t), v in before.items():
        r, c = np.divmod(v, s)
        np.testing.assert_array_equal(after[(s, t)], r * s + (s - 1 - c))
        assert (after[(s, t)] != v).all()


def test_keys_and_errors():
    assert pmsp_key(3, 5) == "s3_t5" and parse_pmsp_key("s3_t5") == (3, 5)
    with pytest.raises(ValueError, match="PMSP level key"):
        parse_pmsp_key("3x5")
    with pytest.raises(ValueError, match=r"\[T, P, H, W, 2\]"):
        pmsp_labels(np.zeros((5, 16, 16, 2)))
    with pytest.raises(ValueError, match="smaller than"):
        pmsp_labels(np.zeros((5, 2, 3, 16, 2)))
    with pytest.raises(ValueError, match="1 <= t <= T"):
        pmsp_labels(np.zeros((3, 2, 16, 16, 2)), scales=(1, 3, 5))
    assert sorted(pmsp_labels(np.zeros((3, 2, 16, 16, 2)))) == [(2, 1), (2, 3), (3, 1), (3, 3),
                                                                 (4, 1), (4, 3)]


def test_two_cell_tie_goes_to_the_lower_index():
    # identical patches in the top-right and bottom-left 2x2 cells (cells 1 and 2): label 1
    m = blob(boxes=[(g, 2, 6, 18, 24, -4, 0) for g in range(5)] +
                   [(g, 14, 18, 4, 10, -4, 0) for g in range(5)], H=24, W=30)
    assert pmsp_labels(m)[(2, 1)].tolist() == [1]
    m2 = blob(boxes=[(g, 14, 18, 4, 10, -4, 0) for g in range(5)], H=24, W=30)
    assert pmsp_labels(m2)[(2, 1)].tolist() == [2]
