"""The one-pass sample path gives the bits of the path it replaced (tests/data/reference_path.py,
the previous code verbatim): crop + resize + flip, the model-input normalisation, the PMSP
labels, and whole training and test samples of the dataset, on real footage (bikes at CoViAR's
340x256, exact and coviar compensation) and a synthetic sprite."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from imrnet.codec import read_compressed, to_model_input
from imrnet.codec.normalize import normalize_motion
from imrnet.data import CompressedClipDataset, VideoRecord
from imrnet.data import transforms as T
from imrnet.pretext import pmsp_labels
from imrnet.seeding import sample_rng

from . import reference_path as ref


def _same(a, b, what=""):
    a, b = np.asarray(a), np.asarray(b)
    assert a.dtype == b.dtype and a.shape == b.shape, what
    # bit for bit: compare the bytes (so -0.0 vs 0.0 and NaN payloads count)
    assert np.ascontiguousarray(a).tobytes() == np.ascontiguousarray(b).tobytes(), what


@pytest.fixture(scope="module", params=["coviar", "exact"])
def clip(request, bikes_mpeg4):
    c = read_compressed(bikes_mpeg4.path, num_gops=3, mc=request.param)
    return {"iframes": c.iframes, "motion": c.motion, "residual": c.residual}


def test_crop_resize_flip_matches_the_previous_path(clip):
    rng = np.random.default_rng(0)
    h, w = clip["iframes"].shape[1:3]
    cases = [(0, 0, h, w, 224, 224), (5, 7, 112, 112, 112, 112), (0, 0, h, w, h, w),
             (3, 11, 250, 200, 320, 96)]  # up- and anisotropic resizing too
    for _ in range(8):
        top, left, ch, cw = T.multiscale_crop_params(h, w, rng)
        cases.append((top, left, ch, cw, 112 if rng.random() < 0.5 else 224, 224))
    for top, left, ch, cw, oh, ow in cases:
        for flip in (False, True):
            want = ref.resize(ref.crop(clip, top, left, ch, cw), oh, ow)
            if flip:
                want = ref.hflip(want)
            got = T.crop_resize(clip, top, left, ch, cw, oh, ow, flip=flip)
            for k in ("iframes", "motion", "residual"):
                _same(got[k], want[k], f"{k} {top, left, ch, cw, oh, ow, flip}")
    _same(T.resize(clip, 100, 130)["motion"], ref.resize(clip, 100, 130)["motion"])
    # a mirrored (negative-stride) result resized again, and float64 motion (NumPy fallback)
    flipped = T.crop_resize(clip, 2, 3, 200, 180, 150, 150, flip=True)
    want = ref.resize(ref.hflip(ref.resize(ref.crop(clip, 2, 3, 200, 180), 150, 150)), 90, 90)
    for k, v in T.resize(flipped, 90, 90).items():
        _same(v, want[k], k)
    m64 = {"motion": clip["motion"].astype(np.float64)}
    _same(T.crop_resize(m64, 1, 2, 100, 120, 64, 64, flip=True)["motion"],
          ref.hflip(ref.resize(ref.crop(m64, 1, 2, 100, 120), 64, 64))["motion"])


def test_crop_resize_refuses_a_box_outside_the_clip(clip):
    with pytest.raises(ValueError, match="outside"):
        T.crop_resize(clip, 10, 0, 256, 100, 64, 64)


def test_normalisation_matches_the_previous_path(clip):
    mirrored = T.crop_resize(clip, 4, 9, 200, 150, 112, 112, flip=True)  # negative strides
    assert min(mirrored["iframes"].strides) < 0
    for c in (clip, T.crop(clip, 4, 9, 200, 150), ref.hflip(clip), mirrored):
        plain = {k: np.ascontiguousarray(v) for k, v in c.items()}  # what the old path took
        for short in (None, 201.5):
            got, want = to_model_input(c, short_side=short), ref.to_model_input(plain, short_side=short)
            for k in want:
                assert got[k].is_contiguous()
                _same(got[k].numpy(), want[k].numpy(), k)
    # any dtype the old path took: float I-frames, int32 residuals, float64 motion, tensors
    odd = {"iframes": clip["iframes"].astype(np.float64) + 0.25,
           "motion": torch.from_numpy(clip["motion"].astype(np.float64) * 1.3),
           "residual": clip["residual"].astype(np.int32) * 3}
    got, want = to_model_input(odd), ref.to_model_input(odd)
    for k in want:
        _same(got[k].numpy(), want[k].numpy(), k)
    # float16 and big-endian arrays, bool I-frames: converted exactly, as torch's .float() did
    small = {k: v[:2, ..., :40, :48, :] for k, v in clip.items()}
    odd = {"iframes": small["iframes"] > 100, "motion": small["motion"].astype(np.float16),
           "residual": small["residual"].astype(">i2")}
    plain = {"iframes": odd["iframes"].astype(np.uint8), "motion": odd["motion"].astype(np.float32),
             "residual": odd["residual"].astype(np.int16)}
    got, want = to_model_input(odd), ref.to_model_input(plain)
    for k in want:
        _same(got[k].numpy(), want[k].numpy(), k)
    with pytest.raises(ValueError, match="motion: expected real numbers"):
        normalize_motion(small["motion"].astype(np.complex64), short_side=40)
    flow = np.random.default_rng(1).normal(0, 30, (2, 3, 16, 20, 2)).astype(np.float32)
    flow[0, 0, 0, 0] = [np.nan, np.inf]
    _same(normalize_motion(flow, short_side=80).numpy(), ref.normalize_motion(flow, short_side=80).numpy())


def test_pmsp_labels_match_the_per_frame_prewitt(clip):
    rng = np.random.default_rng(2)
    h, w = clip["iframes"].shape[1:3]
    for _ in range(6):
        top, left, ch, cw = T.multiscale_crop_params(h, w, rng)
        m = T.crop_resize(clip, top, left, ch, cw, 112, 112, flip=bool(rng.random() < 0.5))["motion"]
        got, want = pmsp_labels(m), ref.pmsp_labels(m)
        assert got.keys() == want.keys()
        for k in want:
            _same(got[k], want[k], str(k))
    # a non-contiguous view and arbitrary floats (labels agree; sums may round differently)
    view = clip["motion"][:, :, 10:120, 30:200]
    for k, v in ref.pmsp_labels(view).items():
        _same(pmsp_labels(view)[k], v)
    noise = np.random.default_rng(3).normal(0, 4, (5, 2, 40, 48, 2)).astype(np.float32)
    for k, v in ref.pmsp_labels(noise).items():
        _same(pmsp_labels(noise)[k], v)
    for odd in (noise.astype(np.float16), noise.astype(">f4"), torch.from_numpy(noise)):
        want = ref.pmsp_labels(np.asarray(odd).astype(np.float32))
        for k, v in pmsp_labels(odd).items():
            _same(v, want[k])


def _reference_train_sample(ds, index, seen=None):
    """What `CompressedClipDataset.__getitem__` returned in training before the fast path
    (no pretext); ``seen`` collects (flipped, resized) of each sample."""
    rec = ds.records[index]
    rng = sample_rng(ds.seed, ds.epoch, index)
    windows = max(1, ds._num_gops(rec.path) - ds.num_gops + 1)
    start = int(rng.integers(windows))
    all_p = ds.pmsp and ds.pmsp_pframes == "all"
    clip = read_compressed(rec.path, num_gops=ds.num_gops, pframe_stride=1 if all_p else ds.stride,
                           start_gop=start, mc=ds.mc, pad="repeat")
    c = {"iframes": clip.iframes, "motion": clip.motion, "residual": clip.residual}
    h, w = clip.iframes.shape[1:3]
    top, left, ch, cw = T.multiscale_crop_params(h, w, rng, ds.scales)
    c = ref.resize(ref.crop(c, top, left, ch, cw), ds.crop_size, ds.crop_size)
    flipped = rng.random() < 0.5 and ds.flip
    if flipped:
        c = ref.hflip(c)
    if seen is not None:
        seen.add((flipped, (ch, cw) != (ds.crop_size, ds.crop_size)))
    short = min(h, w) * float(np.sqrt(ds.crop_size / ch * ds.crop_size / cw))
    labels = {k: torch.from_numpy(v) for k, v in ref.pmsp_labels(c["motion"]).items()}
    if all_p:
        n_p = c["motion"].shape[1] // ds.stride
        keep = slice(ds.stride - 1, ds.stride * n_p, ds.stride)
        c = dict(c, motion=c["motion"][:, keep], residual=c["residual"][:, keep])
    x = ref.to_model_input({k: np.ascontiguousarray(v) for k, v in c.items()}, short_side=short)
    x["pmsp"] = labels
    return x


@pytest.mark.parametrize("crop,mc,pframes", [(112, "coviar", "sampled"), (224, "coviar", "sampled"),
                                              (112, "exact", "all")])
def test_training_samples_match_the_previous_path(bikes_mpeg4, sprite_clip, crop, mc, pframes):
    recs = [VideoRecord(bikes_mpeg4.path, 0, "c", "bikes"), VideoRecord(sprite_clip[0], 1, "d", "sprite")]
    if crop == 224:
        recs = recs[:1]  # the sprite is 96 pixels high
    ds = CompressedClipDataset(recs, train=True, crop_size=crop, num_gops=3, seed=7, mc=mc,
                               pmsp_pframes=pframes)
    seen = set()
    for epoch in range(4):
        ds.set_epoch(epoch)
        for i in range(len(recs)):
            got, want = ds[i], _reference_train_sample(ds, i, seen)
            for k in ("iframes", "motion", "residual"):
                _same(got[k].numpy(), want[k].numpy(), f"{k} epoch {epoch} video {i}")
            assert got["pmsp"].keys() == want["pmsp"].keys()
            for k in want["pmsp"]:
                _same(got["pmsp"][k].numpy(), want["pmsp"][k].numpy(), str(k))
    assert {f for f, _ in seen} == {False, True}  # both the flipped and the plain path compared


def test_test_samples_match_the_previous_path(bikes_mpeg4):
    ds = CompressedClipDataset([VideoRecord(bikes_mpeg4.path, 0, "c", "bikes")], train=False,
                               crop_size=112, num_gops=2, resize_short=128)
    got = ds[0]
    start = got["start_gop"]
    clip = read_compressed(bikes_mpeg4.path, num_gops=2, start_gop=start, pad="repeat")
    c = ref.resize({"iframes": clip.iframes, "motion": clip.motion, "residual": clip.residual}, 128, 170)
    for v, box in enumerate(T.three_crops(128, 170, 112)):
        x = ref.to_model_input(ref.crop(c, *box), short_side=128)
        for k in ("iframes", "motion", "residual"):
            _same(got[k][v].numpy(), x[k].numpy(), f"{k} view {v}")
        for k, lab in ref.pmsp_labels(ref.crop(c, *box)["motion"]).items():
            _same(got["pmsp"][k][v].numpy(), lab)
