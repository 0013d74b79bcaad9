"""Report figures: drawn from real data, byte-identical across runs."""

import json

import numpy as np

import helpers
from imrnet.codec import encode_mpeg4, read_compressed
from repro.figures import ctp_figure, pmsp_figure, runtime_chart, save_png, training_curves


def test_training_curves_and_runtime_chart_are_reproducible(tmp_path):
    log = tmp_path / "m.jsonl"
    log.write_text("".join(json.dumps({"epoch": e, "loss": 3.0 / e, "ctp_loss": 1.4}) + "\n"
                           for e in range(1, 5)))
    a = save_png(training_curves({"ctp": log, "ctp (binary)": log}, ("loss", "ctp_loss")), tmp_path / "a.png")
    b = save_png(training_curves({"ctp": log, "ctp (binary)": log}, ("loss", "ctp_loss")), tmp_path / "b.png")
    assert a.read_bytes() == b.read_bytes() and a.stat().st_size > 5000
    table = {"size": 64, "threads": 2, "rows": [
        {"model": "IMRNet-R18", "gflops": 0.18, "pre_ms_per_frame": 0.3, "cnn_ms_per_frame": 0.9},
        {"model": "CoViAR", "gflops": 0.17, "pre_ms_per_frame": 0.3, "cnn_ms_per_frame": 1.7}]}
    c = save_png(runtime_chart(table), tmp_path / "c.png")
    d = save_png(runtime_chart(table), tmp_path / "d.png")
    assert c.read_bytes() == d.read_bytes()


def test_ctp_and_pmsp_figures_on_an_encoded_clip(tmp_path):
    clips = []
    for i, (vx, x0) in enumerate(((1, 10), (-1, 100))):
        frames, _ = helpers.sprite_frames(n=60, h=64, w=128, size=20, vx=vx, x0=x0, y0=20)
        path = encode_mpeg4(helpers.write_clip(tmp_path / f"{i}.mkv", frames), tmp_path / f"{i}.mp4",
                            short_side=None).path
        c = read_compressed(path, num_gops=5)
        clips.append({"iframes": c.iframes, "motion": c.motion, "residual": c.residual})
    img = ctp_figure(clips[0], clips[1])
    assert img.dtype == np.uint8 and img.shape[0] > 4 * 64 and img.shape[1] > 10 * 128
    p = pmsp_figure(clips[0])
    assert p.shape[0] > 3 * 64
    x = save_png(img, tmp_path / "ctp.png").read_bytes()
    assert x == save_png(ctp_figure(clips[0], clips[1]), tmp_path / "ctp2.png").read_bytes()
