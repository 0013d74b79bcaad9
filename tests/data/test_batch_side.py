"""Batch-side augmentation (`augment_on="device"`): the worker crops, `finish_batch` resizes,
flips and normalises per batch; on CPU the batch is the per-sample path's, bit for bit."""

from __future__ import annotations

import numpy as np
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
