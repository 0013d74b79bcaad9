"""The kernel probe that compares machines op by op: on one machine each op's hash is the same
every time, and turning oneDNN off changes the convolutions' (it is on their path) but not
BatchNorm's or cross-entropy's (ATen's own kernels either way)."""

from __future__ import annotations

from repro.kernelprobe import probe


def test_hashes_are_stable_and_onednn_is_on_the_convolutions_path():
    a, b = probe(onednn=True), probe(onednn=True)
    assert a == b and set(a) == {"conv3d", "conv2d", "linear", "batchnorm3d", "cross_entropy",
                                 "imrnet_sgd_step"}
    off = probe(onednn=False)
    assert off["conv3d"] != a["conv3d"] and off["conv2d"] != a["conv2d"]
    assert off["batchnorm3d"] == a["batchnorm3d"] and off["cross_entropy"] == a["cross_entropy"]
    import torch

    assert torch.backends.mkldnn.enabled  # put back


def test_the_fingerprint_is_stable_in_one_process_and_names_the_kernels():
    from repro.kernelprobe import fingerprint

    a = fingerprint()
    assert a == fingerprint() and len(a) == 16 and int(a, 16) >= 0


def test_the_channels_last_stem_column_moves_the_imrnet_step_alone_and_is_put_back():
    from imrnet.models import resnet3d

    had = "forward" in vars(resnet3d.Stem3d)
    a, cl = probe(), probe(channels_last_stem=True)
    assert ("forward" in vars(resnet3d.Stem3d)) == had  # put back as it was
    assert cl["imrnet_sgd_step"] != a["imrnet_sgd_step"]  # another kernel (oneDNN's brgemm)
    assert {k: v for k, v in cl.items() if k != "imrnet_sgd_step"} == \
        {k: v for k, v in a.items() if k != "imrnet_sgd_step"}
