"""Geometry moves motion values with the pixels: checked on a real encoded clip."""

from __future__ import annotations

import numpy as np
import pytest

from imrnet.codec import read_compressed
from imrnet.data import transforms as T
from imrnet.pretext.baselines import rot90


@pytest.fixture(scope="module")
def clip(sprite_clip):
    c = read_compressed(sprite_clip[0], num_gops=2)
    return {"iframes": c.iframes, "motion": c.motion, "residual": c.residual, "label": 3}


def _sprite_dx(clip):
    m = clip["motion"][..., 0]
    return np.median(m[m != 0])


def test_crop_keeps_values(clip):
    out = T.crop(clip, 10, 20, 64, 128)
    assert out["iframes"].shape == (2, 64, 128, 3) and out["motion"].shape == (2, 5, 64, 128, 2)
    np.testing.assert_array_equal(out["motion"], clip["motion"][:, :, 10:74, 20:148])
    assert out["label"] == 3
    with pytest.raises(ValueError):
        T.crop(clip, 50, 0, 64, 10)


def test_resize_scales_dx_and_dy_by_their_own_factors(clip):
    assert _sprite_dx(clip) == -4
    out = T.resize(clip, 48, 64)  # 96x256 -> 48x64: x by 1/4, y by 1/2
    assert out["motion"].shape == (2, 5, 48, 64, 2) and out["residual"].dtype == np.int16
    assert _sprite_dx(out) == -1.0
    m = np.zeros_like(clip["motion"])
    m[..., 1] = 6.0
    assert np.all(T.resize({**clip, "motion": m}, 48, 64)["motion"][..., 1] == 3.0)
    # nearest-neighbour: no new vector values appear
    assert set(np.unique(out["motion"][..., 0])) <= set(np.unique(clip["motion"][..., 0] / 4))
    assert out["iframes"].dtype == np.uint8


def test_hflip_negates_dx_and_rot90_maps_dx_dy(clip):
    f = T.hflip(clip)
    assert _sprite_dx(f) == 4
    np.testing.assert_array_equal(f["iframes"][:, :, ::-1], clip["iframes"])
    r = rot90(clip)
    assert r["motion"].shape == (2, 5, 256, 96, 2)
    # a sprite moving right moves up after a counter-clockwise turn: (dx, dy) = (-4, 0) -> (0, 4)
    dy = r["motion"][..., 1]
    assert np.median(dy[dy != 0]) == 4 and np.median(r["motion"][..., 0][dy == 4]) == 0
    back = rot90(rot90(rot90(r)))
    np.testing.assert_array_equal(back["motion"], clip["motion"])


def test_crop_params():
    rng = np.random.default_rng(0)
    for _ in range(50):
        top, left, h, w = T.multiscale_crop_params(256, 340, rng)
        assert {h, w} <= {250, 230, 218} and top + h <= 256 and left + w <= 340
    assert T.three_crops(256, 340, 224) == [(16, 0, 224, 224), (16, 58, 224, 224), (16, 116, 224, 224)]
    assert T.three_crops(340, 256, 224)[2] == (116, 16, 224, 224)
