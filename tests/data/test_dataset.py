"""CompressedClipDataset: shapes, geometry, and results independent of the worker count."""

from __future__ import annotations

import pytest
import torch

import helpers
from imrnet.codec import encode_mpeg4
from imrnet.data import CompressedClipDataset, VideoRecord, collate_clips
from imrnet.pretext import pmsp_labels


@pytest.fixture(scope="module")
def records(tmp_path_factory):
    d = tmp_path_factory.mktemp("ds")
    recs = []
    for i, (vx, n, x0) in enumerate(((1, 60, 40), (-1, 84, 150), (2, 30, 40))):
        frames, _ = helpers.sprite_frames(n=n, h=96, w=192, size=32, vx=vx, x0=x0, y0=24)
        src = helpers.write_clip(d / f"v{i}.mkv", frames)
        recs.append(VideoRecord(encode_mpeg4(src, d / f"v{i}.mp4", short_side=None).path, i, f"c{i}", f"v{i}"))
    return recs


def _load(ds, workers):
    loader = torch.utils.data.DataLoader(ds, batch_size=2, num_workers=workers,
                                         collate_fn=collate_clips, multiprocessing_context="fork"
                                         if workers else None)
    return list(loader)


def test_train_samples(records):
    ds = CompressedClipDataset(records, train=True, crop_size=64, num_gops=2)
    s = ds[0]
    assert s["iframes"].shape == (3, 2, 64, 64) and s["motion"].shape == (2, 10, 64, 64)
    assert s["residual"].shape == (3, 10, 64, 64) and s["label"] == 0
    assert 0 <= ds[1]["start_gop"] <= 5
    # 30 frames: 2 whole GOPs and 6 frames, too short for the P-frame at +10: never chosen
    for epoch in range(6):
        ds.set_epoch(epoch)
        assert (ds[2]["start_gop"], ds[2]["padded"]) == (0, 0)
    assert CompressedClipDataset(records, train=True, crop_size=64, num_gops=3)[2]["padded"] == 1


def test_test_samples_have_three_crops(records):
    ds = CompressedClipDataset(records, train=False, crop_size=64, num_gops=5)
    s = ds[2]  # 30 frames: 2 complete GOPs, padded to 5
    assert s["iframes"].shape == (3, 3, 5, 64, 64) and s["padded"] == 3
    assert not torch.equal(s["iframes"][0], s["iframes"][2])  # different crops


def test_same_results_with_0_and_2_workers_and_epochs_differ(records):
    ds = CompressedClipDataset(records * 2, train=True, crop_size=48, num_gops=2, seed=5)
    a, b = _load(ds, 0), _load(ds, 2)
    for x, y in zip(a, b, strict=True):
        for k in ("iframes", "motion", "residual", "label"):
            assert torch.equal(x[k], y[k])
        assert x["pmsp"].keys() == y["pmsp"].keys()
        assert all(torch.equal(x["pmsp"][k], y["pmsp"][k]) for k in x["pmsp"])
        assert x["start_gop"] == y["start_gop"]
    ds.set_epoch(1)
    c = _load(ds, 0)
    assert any(not torch.equal(x["iframes"], z["iframes"]) for x, z in zip(a, c, strict=True))


def test_tsn_multi_clip_testing(records):
    ds = CompressedClipDataset(records, train=False, crop_size=64, num_gops=2, test_clips=3)
    s = ds[1]  # 84 frames = 7 GOPs: windows start at GOPs 0, 3, 6
    assert s["iframes"].shape == (9, 3, 2, 64, 64)
    one = CompressedClipDataset(records, train=False, crop_size=64, num_gops=2)[1]
    assert one["iframes"].shape == (3, 3, 2, 64, 64)
    assert not torch.equal(s["iframes"][2], s["iframes"][8])  # right crop, first vs last window


def _fields(motion, num_gops):
    """Model-input motion [2, T*P, H, W] back to [T, P, H, W, 2]."""
    c, tp, h, w = motion.shape
    return motion.permute(1, 2, 3, 0).reshape(num_gops, tp // num_gops, h, w, c).numpy()


def test_pmsp_labels_come_from_the_motion_after_geometry(records):
    ds = CompressedClipDataset(records, train=True, crop_size=64, num_gops=5, seed=1)
    for epoch in range(4):
        ds.set_epoch(epoch)
        s = ds[1]
        assert sorted(s["pmsp"]) == [(a, b) for a in (2, 3, 4) for b in (1, 3, 5)]
        # normalisation scales dx and dy alike, so the labels of the model's input equal them
        want = pmsp_labels(_fields(s["motion"], 5))
        for k, v in want.items():
            assert s["pmsp"][k].dtype == torch.long and s["pmsp"][k].tolist() == v.tolist()
    batch = collate_clips([ds[0], ds[1]])
    assert batch["pmsp"][(3, 5)].shape == (2, 5)
    test = CompressedClipDataset(records, train=False, crop_size=64, num_gops=5)[1]
    assert test["pmsp"][(4, 3)].shape == (3, 3)  # three crops
    for i in range(3):
        want = pmsp_labels(_fields(test["motion"][i], 5))
        assert all(test["pmsp"][k][i].tolist() == v.tolist() for k, v in want.items())


def test_pmsp_from_all_pframes(records):
    kw = dict(train=True, crop_size=64, num_gops=5, seed=2)
    sampled = CompressedClipDataset(records, **kw)[1]
    allp = CompressedClipDataset(records, pmsp_pframes="all", **kw)[1]
    for k in ("iframes", "motion", "residual"):  # the model sees the same P-frames
        assert torch.equal(sampled[k], allp[k])
    # the labels are Algorithm 1's over all 11 P-frames of each GOP, after the same geometry
    from imrnet.codec import read_compressed
    from imrnet.data import transforms as T
    from imrnet.seeding import sample_rng
    rng = sample_rng(2, 0, 1)
    clip = read_compressed(records[1].path, num_gops=5, pframe_stride=1, pad="repeat",
                           start_gop=int(rng.integers(3)))
    box = T.multiscale_crop_params(*clip.iframes.shape[1:3], rng, T.PAPER_SCALES)
    m = T.resize(T.crop({"motion": clip.motion}, *box), 64, 64)
    if rng.random() < 0.5:
        m = T.hflip(m)
    assert m["motion"].shape[:2] == (5, 11)
    want = pmsp_labels(m["motion"])
    assert all(allp["pmsp"][k].tolist() == v.tolist() for k, v in want.items())
    assert sorted(allp["pmsp"]) == sorted(sampled["pmsp"])
    assert not CompressedClipDataset(records, pmsp=False, **kw)[1].get("pmsp")
    with pytest.raises(ValueError, match="pmsp_pframes"):
        CompressedClipDataset(records, pmsp_pframes="every", **kw)


def test_flip_can_be_turned_off_where_direction_is_the_class(records):
    zero = 128 / 255 - 0.5  # normalised value of dx = 0
    signs = {}
    for flip in (True, False):
        ds = CompressedClipDataset(records[:1], train=True, crop_size=48, num_gops=2, seed=3,
                                   flip=flip)
        signs[flip] = set()
        for epoch in range(8):
            ds.set_epoch(epoch)
            dx = ds[0]["motion"][0]
            moving = (dx - zero).abs() > 1e-3
            signs[flip].add(bool((dx[moving] - zero).mean() < 0))  # rightwards: dx < 0
    assert signs[False] == {True} and signs[True] == {True, False}


def test_ctp_random_partner_is_the_other_samples_own_clip(records):
    from imrnet.pretext import Pretext

    recs = records * 2  # 6 samples
    plain = CompressedClipDataset(recs, train=True, crop_size=48, num_gops=2, seed=4, pmsp=False)
    ctp = CompressedClipDataset(recs, train=True, crop_size=48, num_gops=2, seed=4, pmsp=False,
                                pretext=Pretext(["ctp_binary"], num_gops=2))
    found = 0
    for epoch in range(3):
        plain.set_epoch(epoch)
        ctp.set_epoch(epoch)
        for i in range(len(recs)):
            s = ctp[i]
            assert torch.equal(s["iframes"], plain[i]["iframes"])  # the anchor's own I-frames
            if s["ctp"] == 1:
                j = int(s["ctp_partner"])
                assert j != i
                # the partner's P-streams, normalised as the partner's own sample would be
                torch.testing.assert_close(s["motion"], plain[j]["motion"], atol=1e-5, rtol=0)
                assert torch.equal(s["residual"], plain[j]["residual"])
                found += 1
            else:
                assert torch.equal(s["motion"], plain[i]["motion"]) and s["ctp_partner"] == -1
    assert found >= 3
    # the draws depend only on (seed, epoch, index): a lone sample equals the same in a batch
    ctp.set_epoch(1)
    batch = collate_clips([ctp[k] for k in range(4)])
    assert batch["ctp"].tolist() == [int(ctp[k]["ctp"]) for k in range(4)]


def _same_sample(x: dict, y: dict) -> None:
    assert x.keys() == y.keys()
    for k, v in x.items():
        if isinstance(v, dict):
            assert v.keys() == y[k].keys() and all(torch.equal(v[j], y[k][j]) for j in v)
        elif isinstance(v, torch.Tensor):
            assert torch.equal(v, y[k]), k
        else:
            assert v == y[k], k


@pytest.mark.parametrize("tasks", [["pmsp", "ctp"], ["rotation", "arrow_of_time"]])
def test_cached_windows_give_the_uncached_samples_bit_for_bit(records, tasks):
    from imrnet.pretext import Pretext

    recs = records * 2
    kw = dict(train=True, crop_size=48, num_gops=3, seed=3, pmsp="pmsp" in tasks)
    plain = CompressedClipDataset(recs, **kw, pretext=Pretext(tasks, num_gops=3))
    cached = CompressedClipDataset(recs, **kw, pretext=Pretext(tasks, num_gops=3), cache_mb=64)
    for epoch in range(3):  # epoch 0 fills the cache, the others read it (partners included)
        plain.set_epoch(epoch)
        cached.set_epoch(epoch)
        for i in range(len(recs)):
            _same_sample(cached[i], plain[i])
    assert cached._cache and cached.cached_bytes <= cached.cache_bytes
    assert plain._cache == {} and plain.cached_bytes == 0  # off by default


def test_a_cached_window_is_copied_out_and_the_cap_holds(records):
    ds = CompressedClipDataset(records, train=True, crop_size=48, num_gops=2, cache_mb=64)
    _, c = ds._read(records[0].path, 0)
    c["motion"][:] = 1e6  # the caller's arrays are its own: the cache keeps the decode
    c["iframes"][:] = 0
    _, again = ds._read(records[0].path, 0)
    assert again["motion"].max() < 1e6 and again["iframes"].any()
    one = ds.cached_bytes
    assert one == sum(v.nbytes for v in again.values() if v is not None)
    tiny = CompressedClipDataset(records, train=True, crop_size=48, num_gops=2,
                                 cache_mb=0.9 * one / 2 ** 20)  # smaller than one window
    tiny._read(records[0].path, 0)
    assert tiny._cache == {} and tiny.cached_bytes == 0  # read as usual, not cached


@pytest.mark.parametrize("bad", [-1, "64", True, None])
def test_a_bad_cache_size_is_refused(records, bad):
    with pytest.raises(ValueError, match="cache_mb must be a number >= 0"):
        CompressedClipDataset(records, train=True, cache_mb=bad)
