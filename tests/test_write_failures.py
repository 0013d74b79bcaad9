"""A full disk while writing a checkpoint or a flow file: an error naming the output and the
system's reason (not torch's ``basic_ios::clear``), and no ``.part`` file left behind.

The disk is filled for real in a child process by a file-size limit (``RLIMIT_FSIZE``, with
SIGXFSZ ignored): every write past the limit fails in the kernel with ``EFBIG``, down the same
path as ``ENOSPC``, on any machine and without root."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import helpers

CHILD = textwrap.dedent("""
    import resource, signal, sys
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    kind, dst, video = sys.argv[1], sys.argv[2], sys.argv[3]
    import torch
    from imrnet.paths import WriteFailed
    from imrnet.train.checkpoint import save_atomic
    from imrnet.data.flow import write_flow, _flow_one
    resource.setrlimit(resource.RLIMIT_FSIZE, (1_000, 1_000))
    try:
        if kind == "checkpoint":
            save_atomic({"w": torch.arange(10_000, dtype=torch.float32)}, dst)
        elif kind == "flow":
            write_flow(video, dst)
        else:  # the flow stage's per-video job: a failure line, the batch goes on
            print("JOB", _flow_one(video)[2])
            sys.exit(0)
    except WriteFailed as e:
        print("WRITEFAILED", e)
        sys.exit(3)
    sys.exit(0)
""")


def _child(kind, dst, video=""):
    return subprocess.run([sys.executable, "-c", CHILD, kind, str(dst), str(video)],
                          capture_output=True, text=True, timeout=300)


def test_checkpoint_on_a_full_disk_names_the_file_and_leaves_nothing(tmp_path):
    dst = tmp_path / "run" / "checkpoint.pt"
    dst.parent.mkdir()
    res = _child("checkpoint", dst)
    assert res.returncode == 3, res.stderr[-2000:]
    assert f"{dst}: cannot write (File too large)" in res.stdout
    assert "basic_ios" not in res.stdout + res.stderr
    assert list(dst.parent.iterdir()) == []  # no checkpoint, no .part file


def test_flow_on_a_full_disk_names_the_file_and_leaves_nothing(tmp_path):
    frames = [helpers.smooth_pattern(64, 96, 7, 6, phase=0.3 * i) for i in range(6)]
    video = helpers.write_clip(tmp_path / "v.avi", frames, codec="mpeg4", pix_fmt="yuv420p")
    dst = tmp_path / "out" / "v.flow.npz"
    dst.parent.mkdir()
    res = _child("flow", dst, video)
    assert res.returncode == 3, res.stderr[-2000:]
    assert f"{dst}: cannot write (File too large)" in res.stdout
    assert list(dst.parent.iterdir()) == []
    res = _child("job", dst, video)  # the stage reports it as that video's failure
    assert res.returncode == 0, res.stderr[-2000:]
    assert "v.flow.npz: cannot write (File too large)" in res.stdout
    assert [p.name for p in tmp_path.iterdir() if ".part" in p.name] == []


STAGE = textwrap.dedent("""
    import resource, signal, sys
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (50, 50))
    from pipelines import extract
    sys.exit(extract.main(["--params", sys.argv[1], "--no-progress"]))
""")


def test_the_extract_stage_on_a_full_disk_fails_cleanly_and_can_run_again(tmp_path):
    """Its first write (the params stamp) used to leave ``.params.json.<pid>`` behind, after
    which every run refused the folder as "not made by this stage"; and the error was a bare
    traceback. Now: one line naming the file, nothing left, and the next run works."""
    import yaml

    from imrnet.data import synthetic

    synthetic.generate("synthetic-hmdb", tmp_path / "raw", seed=0, width=32, height=32,
                       frames=24, scale=0.2)
    p = tmp_path / "params.yaml"
    p.write_text(yaml.safe_dump({"extract": {
        "src_root": str(tmp_path / "raw"), "dst_root": str(tmp_path / "out"),
        "datasets": ["synthetic-hmdb"], "gop_size": 12, "quality": 1, "workers": 1}}))
    r = subprocess.run([sys.executable, "-c", STAGE, str(p)], capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 1, r.stderr
    assert "Traceback" not in r.stderr and ".params.json: cannot write" in r.stderr, r.stderr
    assert not [f for f in (tmp_path / "out").rglob("*") if f.is_file() and ".lock" not in f.name]
    from pipelines import extract

    assert extract.main(["--params", str(p), "--no-progress"]) == 0
