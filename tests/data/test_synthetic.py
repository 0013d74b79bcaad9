"""Built-in synthetic datasets: deterministic to the byte, appearance independent of the
label, classes that only motion inside a GOP tells apart."""

from __future__ import annotations

import hashlib
import json

import av
import numpy as np
import pytest

from imrnet.codec import encode_mpeg4, read_compressed
from imrnet.data import synthetic as S


def _rng(k):
    return np.random.default_rng(k)


def test_generate_is_deterministic_to_the_byte(tmp_path):
    idx = [S.generate("synthetic-hmdb", tmp_path / r, seed=3, width=64, height=48, frames=24,
                      scale=0.2) for r in ("a", "b")]
    assert idx[0] == idx[1] and len(idx[0]) == 2 * 10  # 1 train + 1 test clip per class
    a = hashlib.sha256((tmp_path / "a" / "synthetic-hmdb" / "index.json").read_bytes()).digest()
    b = hashlib.sha256((tmp_path / "b" / "synthetic-hmdb" / "index.json").read_bytes()).digest()
    assert a == b
    other = S.generate("synthetic-hmdb", tmp_path / "c", seed=4, width=64, height=48, frames=24,
                       scale=0.2)
    assert [r["sha256"] for r in other] != [r["sha256"] for r in idx[0]]
    labels = {r["class_name"]: r["label"] for r in idx[0]}
    assert labels == {c: i for i, c in enumerate(S.DATASETS["synthetic-hmdb"].classes)}
    assert json.loads((tmp_path / "a" / "synthetic-hmdb" / "index.json").read_text()) == idx[0]


def test_spin_direction_is_invisible_to_the_iframes():
    cw = S.render_clip("spin_cw", _rng(7), noise=0, distractors=(0, 0))
    ccw = S.render_clip("spin_ccw", _rng(7), noise=0, distractors=(0, 0))
    for i in range(0, 60, 12):  # I-frames of GOP 12: the same picture
        np.testing.assert_array_equal(cw[i], ccw[i])
    assert np.abs(cw[4].astype(int) - ccw[4]).mean() > 0.5  # inside a GOP they differ
    go = S.render_clip("stop_and_go", _rng(9), noise=0, distractors=(0, 0))
    steady = S.render_clip("move_right", _rng(9), noise=0, distractors=(0, 0))
    for i in range(0, 60, 12):
        np.testing.assert_array_equal(go[i], steady[i])
    assert np.abs(go[6].astype(int) - steady[6]).mean() > 0.5
    osc = S.render_clip("oscillate_fast", _rng(8), noise=0, distractors=(0, 0), camera=0)
    for i in range(12, 60, 12):
        np.testing.assert_array_equal(osc[0], osc[i])


def test_appearance_alone_does_not_give_the_class():
    """Nearest class mean on per-clip colour statistics (mean and std of each channel, over
    the I-frames) stays near chance: appearance is drawn independently of the label."""
    classes = S.DATASETS["synthetic-ucf"].classes
    feats, labels = [], []
    for label, cls in enumerate(classes):
        for k in range(8):
            v = S.render_clip(cls, _rng(1000 * label + k), width=64, height=48, frames=49)
            i = v[::12].reshape(-1, 3).astype(np.float64)
            feats.append(np.concatenate([i.mean(0), i.std(0)]))
            labels.append(label)
    x, y = np.array(feats), np.array(labels)
    correct = 0
    for j in range(len(y)):  # leave-one-out nearest class mean
        keep = np.arange(len(y)) != j
        means = np.stack([x[keep & (y == c)].mean(0) for c in range(len(classes))])
        correct += int(np.argmin(((means - x[j]) ** 2).sum(1)) == y[j])
    acc, chance = correct / len(y), 1 / len(classes)
    assert acc < 2.5 * chance, acc


def test_encoded_synthetic_clip_shows_the_class_motion(tmp_path):
    idx = S.generate("synthetic-ucf", tmp_path, seed=0, width=128, height=96, frames=60, scale=0.05)
    rec = next(r for r in idx if r["class_name"] == "move_right" and r["subset"] == "train")
    info = encode_mpeg4(tmp_path / "synthetic-ucf" / rec["path"], tmp_path / "mr.mp4", short_side=None)
    clip = read_compressed(info.path)
    dx = clip.motion[..., 0]
    assert np.median(dx[np.abs(dx) >= 1]) < 0  # moving right: sources lie to the left


def test_unknown_names_are_rejected(tmp_path):
    with pytest.raises(ValueError, match="unknown dataset"):
        S.generate("synthetic-imagenet", tmp_path)
    with pytest.raises(ValueError, match="unknown class"):
        S.sprite_state("teleport", 0.0, {"x": 0, "y": 0, "speed": 0, "phase": 0})


def test_long_clips_with_camera_pan_render():
    v = S.render_clip("circle", _rng(11), width=64, height=48, frames=150, camera=1.0)
    assert v.shape == (150, 48, 64, 3)


def test_changed_params_regenerate(tmp_path):
    a = S.generate("synthetic-hmdb", tmp_path, seed=0, width=48, height=32, frames=12, scale=0.1)
    b = S.generate("synthetic-hmdb", tmp_path, seed=0, width=48, height=32, frames=24, scale=0.1)
    assert [r["sha256"] for r in a] != [r["sha256"] for r in b]
    with av.open(str(tmp_path / "synthetic-hmdb" / b[0]["path"])) as c:
        assert sum(1 for _ in c.decode(video=0)) == 24


def test_a_test_set_grows_alone(tmp_path):
    """test_scale grows the test set for power (issue 13); the training set stays the same
    clips, byte for byte, and the test clips already there are among the new ones."""
    a = S.generate("synthetic-hmdb", tmp_path / "a", seed=1, width=32, height=32, frames=13,
                 scale=0.34)
    b = S.generate("synthetic-hmdb", tmp_path / "b", seed=1, width=32, height=32, frames=13,
                 scale=0.34, test_scale=1.0)
    train = lambda idx: {r["path"]: r["sha256"] for r in idx if r["subset"] == "train"}  # noqa: E731
    test = lambda idx: {r["path"]: r["sha256"] for r in idx if r["subset"] == "test"}  # noqa: E731
    assert train(a) == train(b) and len(train(a)) == 20  # 10 classes x 2
    assert len(test(a)) == 10 and len(test(b)) == 30  # x 1, then the spec's 3 per class
    assert test(a).items() <= test(b).items()
