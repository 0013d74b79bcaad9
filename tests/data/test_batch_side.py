"""Batch-side augmentation (`augment_on="device"`): the worker crops, `finish_batch` resizes,
flips and normalises per batch; on CPU the batch is the per-sample path's, bit for bit."""

from __future__ import annotations

import pytest
import torch

from imrnet.data import CompressedClipDataset, VideoRecord, collate_clips
from imrnet.data.batch_side import DeferredFrames, finish_batch
from imrnet.pretext import Pretext


def _bytes(t):
    return t.contiguous().numpy().tobytes()


@pytest.mark.parametrize("crop", [112, 224])
def test_device_batches_equal_worker_batches(bikes_mpeg4, crop):
    recs = [VideoRecord(bikes_mpeg4.path, i, "c", f"b{i}") for i in range(4)]
    kw = dict(train=True, crop_size=crop, num_gops=3, seed=3, pretext=Pretext(["pmsp"], num_gops=3))
    worker = CompressedClipDataset(recs, **kw)
    device = CompressedClipDataset(recs, augment_on="device", **kw)
    flips = set()
    for epoch in range(2):
        worker.set_epoch(epoch)
        device.set_epoch(epoch)
        a = collate_clips([worker[i] for i in range(4)])
        raw = collate_clips([device[i] for i in range(4)])
        assert "iframes" not in raw and all(isinstance(d, DeferredFrames) for d in raw["deferred"])
        flips |= {d.flip for d in raw["deferred"]}
        b = finish_batch(raw, "cpu")
        assert "deferred" not in b
        for k in ("iframes", "motion", "residual"):
            assert a[k].shape == b[k].shape and _bytes(a[k]) == _bytes(b[k]), k
        for k in a["pmsp"]:
            assert torch.equal(a["pmsp"][k], b["pmsp"][k])
        assert torch.equal(a["label"], b["label"]) and a["start_gop"] == b["start_gop"]
    assert flips == {False, True}  # both branches were compared


def test_device_batches_through_workers_and_without_resizing(sprite_clip):
    # crop 86 = 0.9 x the sprite's 96-pixel short side: some crops need no resize; 2 workers
    # hand the deferred frames over as shared-memory tensors
    recs = [VideoRecord(sprite_clip[0], i % 2, "c", f"s{i}") for i in range(8)]
    kw = dict(train=True, crop_size=86, num_gops=2, seed=1, flip=True)
    worker = CompressedClipDataset(recs, **kw)
    device = CompressedClipDataset(recs, augment_on="device", **kw)
    same_size = 0
    for epoch in range(3):
        worker.set_epoch(epoch)
        device.set_epoch(epoch)
        a = list(torch.utils.data.DataLoader(worker, batch_size=4, collate_fn=collate_clips))
        raw = list(torch.utils.data.DataLoader(device, batch_size=4, num_workers=2,
                                               collate_fn=collate_clips,
                                               multiprocessing_context="fork"))
        for x, r in zip(a, raw, strict=True):
            same_size += sum(tuple(d.iframes.shape[1:3]) == (86, 86) for d in r["deferred"])
            y = finish_batch(r)
            for k in ("iframes", "motion", "residual"):
                assert _bytes(x[k]) == _bytes(y[k]), k
    assert same_size > 0  # the no-resize branch was compared


def test_finish_batch_leaves_a_finished_batch_alone():
    batch = {"iframes": torch.zeros(1, 3, 2, 4, 4)}
    assert finish_batch(batch) is batch


def test_device_augmentation_refuses_clip_transforms_and_testing(bikes_mpeg4):
    recs = [VideoRecord(bikes_mpeg4.path, 0, "c", "b")] * 2
    with pytest.raises(ValueError, match=r"tasks \['ctp'\]"):
        CompressedClipDataset(recs, train=True, augment_on="device", pretext=Pretext(["pmsp", "ctp"]))
    with pytest.raises(ValueError, match="testing samples"):
        CompressedClipDataset(recs, train=False, augment_on="device")
    with pytest.raises(ValueError, match="augment_on must be"):
        CompressedClipDataset(recs, train=True, augment_on="gpu")
