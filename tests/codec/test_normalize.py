"""to_model_input: CoViAR's normalisation and docs/conventions.md's layout; motion_to_rgb; DataLoader use."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from imrnet.codec import motion_to_rgb, read_compressed, residual_to_rgb, to_model_input
from imrnet.codec.normalize import IMAGENET_MEAN, IMAGENET_STD, motion_scale_for


def _clip(t=2, p=3, h=4, w=6):
    rng = np.random.default_rng(0)
    return {
        "iframes": rng.integers(0, 256, (t, h, w, 3), dtype=np.uint8),
        "motion": rng.uniform(-30, 30, (t, p, h, w, 2)).astype(np.float32),
        "residual": rng.integers(-300, 300, (t, p, h, w, 3)).astype(np.int16),
    }


def test_shapes_and_gop_major_order():
    c = _clip()
    x = to_model_input(c)
    assert x["iframes"].shape == (3, 2, 4, 6) and x["iframes"].dtype == torch.float32
    assert x["motion"].shape == (2, 6, 4, 6) and x["residual"].shape == (3, 6, 4, 6)
    # frame index g*P + p
    g, p = 1, 2
    ref = to_model_input({k: v[g : g + 1, ...] if k == "iframes" else v[g : g + 1, p : p + 1]
                          for k, v in c.items()})
    torch.testing.assert_close(x["motion"][:, g * 3 + p], ref["motion"][:, 0])
    torch.testing.assert_close(x["residual"][:, g * 3 + p], ref["residual"][:, 0])


def test_coviar_values():
    c = _clip(t=1, p=1, h=1, w=1)
    c["iframes"][:] = [[[[255, 0, 128]]]]
    c["residual"][:] = [[[[[0, 300, -300]]]]]
    x = to_model_input(c, short_side=256)
    want_i = (np.array([255, 0, 128]) / 255 - IMAGENET_MEAN) / IMAGENET_STD
    np.testing.assert_allclose(x["iframes"].ravel(), want_i, rtol=1e-5, atol=1e-6)
    want_r = (np.array([128, 255, 0]) / 255 - 0.5) / np.array(IMAGENET_STD)
    np.testing.assert_allclose(x["residual"].ravel(), want_r, rtol=1e-5, atol=1e-6)
    for mv, want in ((0.0, 128 / 255 - 0.5), (20.0, 0.5), (-20.0, 0.5 / 255 - 0.5), (-50.0, -0.5), (50.0, 0.5), (10.0, (63.75 + 128) / 255 - 0.5)):
        c["motion"][:] = mv
        np.testing.assert_allclose(to_model_input(c, short_side=256)["motion"].ravel()[0], want, rtol=1e-5, atol=1e-6)
    # at half the resolution the same apparent motion is half as many pixels: +-10 px spans it
    assert motion_scale_for(128) == 10.0
    c["motion"][:] = 10.0
    assert to_model_input(c, short_side=128)["motion"].ravel()[0] == pytest.approx(0.5)


def test_real_clip_roundtrip(sprite_clip):
    clip = read_compressed(sprite_clip[0], num_gops=2)
    x = to_model_input(clip)
    assert x["iframes"].shape == (3, 2, 96, 256)
    assert x["motion"].shape == (2, 10, 96, 256) and x["residual"].shape == (3, 10, 96, 256)
    assert torch.isfinite(x["motion"]).all() and x["motion"].abs().max() <= 0.5
    # motion -4 px at a 96-px short side: 127.5/7.5 * -4 + 128 = 60
    m = x["motion"][0][clip.motion.reshape(10, 96, 256, 2)[..., 0] == -4]
    assert torch.allclose(m, torch.tensor(60 / 255 - 0.5), atol=1e-6)


def test_bad_shapes_are_rejected():
    c = _clip()
    c["motion"] = c["motion"][..., :1]
    with pytest.raises(ValueError, match="motion"):
        to_model_input(c)


def test_motion_to_rgb_directions_and_static():
    f = np.array([[[-3.0, 0.0], [3.0, 0.0], [0.0, 0.0], [0.0, -3.0]]], dtype=np.float32)
    rgb = motion_to_rgb(f)
    assert rgb.shape == (1, 4, 3) and rgb.dtype == np.uint8
    assert rgb[0, 0].tolist() == [255, 0, 0]      # object moves right: red
    assert rgb[0, 1].tolist() == [0, 255, 255]    # left: cyan
    assert rgb[0, 2].tolist() == [0, 0, 0]        # static: black
    assert rgb[0, 3, 0] > 100 and rgb[0, 3, 1] > 100  # down (+y): yellow-green side of the wheel
    assert motion_to_rgb(np.zeros((2, 2, 2))).max() == 0
    r = residual_to_rgb(np.array([[[0, 10, -300]]]), gain=2)
    assert r.tolist() == [[[128, 148, 0]]]


class _Clips(torch.utils.data.Dataset):
    def __init__(self, path):
        self.path = path

    def __len__(self):
        return 4

    def __getitem__(self, i):
        return to_model_input(read_compressed(self.path, num_gops=1, start_gop=i % 3))


def test_works_in_dataloader_workers(sprite_clip):
    """The decoder is opened per call: forked workers read the same bytes as the main process."""
    ds = _Clips(sprite_clip[0])
    main = [ds[i] for i in range(4)]
    loader = torch.utils.data.DataLoader(ds, batch_size=2, num_workers=2,
                                         multiprocessing_context="fork")
    got = [b for b in loader]
    for k in ("iframes", "motion", "residual"):
        torch.testing.assert_close(torch.cat([b[k] for b in got]), torch.stack([m[k] for m in main]),
                                   rtol=0, atol=0)
