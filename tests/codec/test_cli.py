"""python -m imrnet.codec: single file, directory tree with a bad file, resume."""

from __future__ import annotations

import json
import subprocess
import sys

import helpers


def _run(*args):
    return subprocess.run([sys.executable, "-m", "imrnet.codec", *args], capture_output=True,
                          text=True, timeout=300)


def test_single_file_and_probe(tmp_path):
    src = helpers.write_clip(tmp_path / "a.mkv", helpers.sprite_frames(n=13)[0])
    r = _run("encode", src, str(tmp_path / "a.mp4"), "--size", "128x48")
    assert r.returncode == 0, r.stderr
    info = json.loads(r.stdout)
    assert (info["width"], info["height"], info["frames"], info["gop_size"]) == (128, 48, 13, 12)
    r = _run("probe", str(tmp_path / "a.mp4"))
    assert r.returncode == 0 and json.loads(r.stdout)["gops"] == 2
    r = _run("encode", str(tmp_path / "missing.avi"), str(tmp_path / "m.mp4"))
    assert r.returncode == 2 and "missing.avi" in r.stderr


def test_directory_form_reports_failures_and_resumes(tmp_path):
    src = tmp_path / "videos"
    (src / "classA").mkdir(parents=True)
    (src / "classB").mkdir()
    helpers.write_clip(src / "classA" / "one.mkv", helpers.sprite_frames(n=12)[0])
    helpers.write_clip(src / "classB" / "two.avi", helpers.sprite_frames(n=12, vx=2)[0])
    (src / "classB" / "broken.avi").write_bytes(b"RIFF garbage" * 10)
    (src / "notes.txt").write_text("not a video, ignored")
    dst = tmp_path / "out"
    r = _run("encode", str(src), str(dst), "--workers", "2", "--short-side", "64")
    assert r.returncode == 1
    assert (dst / "classA" / "one.mp4").is_file() and (dst / "classB" / "two.mp4").is_file()
    report = json.loads((dst / "encode-failures.json").read_text())
    assert list(report) == [str(src / "classB" / "broken.avi")]
    assert "encoded 2, skipped 0 (already done), failed 1" in r.stderr
    before = (dst / "classA" / "one.mp4").stat().st_mtime_ns
    (src / "classB" / "broken.avi").unlink()
    r = _run("encode", str(src), str(dst), "--workers", "1", "--no-progress")
    assert r.returncode == 0, r.stderr
    assert "encoded 0, skipped 2" in r.stderr
    assert (dst / "classA" / "one.mp4").stat().st_mtime_ns == before
    assert not (dst / "encode-failures.json").exists()
    assert not list(dst.rglob(".*part*"))


def test_encoding_a_file_onto_itself_is_refused(tmp_path):
    src = helpers.write_clip(tmp_path / "a.avi", helpers.sprite_frames(n=12)[0], codec="mpeg4",
                             pix_fmt="yuv420p")
    before = open(src, "rb").read()
    r = _run("encode", src, src)
    assert r.returncode == 2 and "is the input" in r.stderr
    assert open(src, "rb").read() == before


def test_encoding_into_an_existing_directory_is_refused_without_a_part_file(tmp_path):
    src = helpers.write_clip(tmp_path / "a.mkv", helpers.sprite_frames(n=12)[0])
    (tmp_path / "out.mp4").mkdir()
    r = _run("encode", src, str(tmp_path / "out.mp4"))
    assert r.returncode == 2 and "is a directory" in r.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.mkv", "out.mp4"]


def test_two_sources_with_one_output_name_are_refused_before_writing(tmp_path):
    """clip.avi and clip.mkv both map to clip.mp4: one used to overwrite the other silently."""
    src = tmp_path / "videos"
    src.mkdir()
    helpers.write_clip(src / "clip.mkv", helpers.sprite_frames(n=12)[0])
    helpers.write_clip(src / "clip.avi", helpers.sprite_frames(n=12, vx=2)[0], codec="mpeg4",
                       pix_fmt="yuv420p")
    r = _run("encode", str(src), str(tmp_path / "out"))
    assert r.returncode == 2 and "written by two sources" in r.stderr and "clip.avi" in r.stderr
    assert not (tmp_path / "out").exists()


def test_output_tree_inside_the_source_tree_is_refused(tmp_path):
    src = tmp_path / "videos"
    src.mkdir()
    helpers.write_clip(src / "one.mkv", helpers.sprite_frames(n=12)[0])
    r = _run("encode", str(src), str(src / "encoded"))
    assert r.returncode == 2 and "lies inside the input" in r.stderr
    assert not (src / "encoded").exists()


def test_a_y4m_header_with_no_frame_is_a_clear_error(tmp_path):
    """It used to end in a FileNotFoundError traceback (the temporary output that the muxer
    never created was unlinked)."""
    y4m = tmp_path / "empty.y4m"
    y4m.write_bytes(b"YUV4MPEG2 W64 H48 F30:1 Ip A1:1 C420jpeg\n")
    r = _run("encode", str(y4m), str(tmp_path / "out.mp4"))
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
    assert f"{y4m}: no decodable frame" in r.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty.y4m"]  # nothing written


def test_links_that_loop_or_dangle_are_listed_in_the_failure_report(tmp_path):
    """They used to be skipped without a line; linked folders were not read at all."""
    src = tmp_path / "videos"
    (src / "a").mkdir(parents=True)
    helpers.write_clip(src / "a" / "good.mkv", helpers.sprite_frames(n=13)[0])
    (tmp_path / "elsewhere").mkdir()
    helpers.write_clip(tmp_path / "elsewhere" / "linked.mkv", helpers.sprite_frames(n=13)[0])
    (src / "b").symlink_to(tmp_path / "elsewhere", target_is_directory=True)  # followed
    (src / "a" / "loop1.avi").symlink_to("loop2.avi")
    (src / "a" / "loop2.avi").symlink_to("loop1.avi")
    (src / "a" / "up").symlink_to("..", target_is_directory=True)
    (src / "a" / "gone.avi").symlink_to("missing.avi")
    out = tmp_path / "out"
    out.mkdir()  # a resumed run: the output tree exists
    (src / "a" / "into_out").symlink_to(out, target_is_directory=True)
    r = _run("encode", str(src), str(out), "--workers", "1", "--no-progress")
    assert r.returncode == 1, r.stderr
    report = json.loads((out / "encode-failures.json").read_text())
    assert report == {
        str(src / "a" / "gone.avi"): "broken symbolic link (its target is missing)",
        str(src / "a" / "into_out"): f"symbolic link into the output folder {out}: skipped",
        str(src / "a" / "loop1.avi"): "symbolic link loop",
        str(src / "a" / "loop2.avi"): "symbolic link loop",
        str(src / "a" / "up"): ("symbolic link to a folder already read here (a loop, or a "
                                f"second link to {src}): skipped")}
    assert (out / "a" / "good.mp4").is_file() and (out / "b" / "linked.mp4").is_file()


def test_killing_the_parent_leaves_no_worker_behind(tmp_path):
    """SIGKILL of `python -m imrnet.codec encode DIR OUT --workers 2` while it encodes: its
    pool workers die with it (they used to go on as orphans)."""
    import os
    import signal
    import time

    src = tmp_path / "videos"
    src.mkdir()
    frames = helpers.sprite_frames(n=36)[0]
    for i in range(40):
        helpers.write_clip(src / f"v{i:02d}.mkv", frames)
    proc = subprocess.Popen([sys.executable, "-m", "imrnet.codec", "encode", str(src),
                             str(tmp_path / "out"), "--workers", "2", "--no-progress"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def children():
        try:
            return [int(c) for c in open(f"/proc/{proc.pid}/task/{proc.pid}/children").read().split()]
        except OSError:
            return []

    deadline = time.monotonic() + 120
    while len(children()) < 2 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    workers = children()
    assert len(workers) >= 2, "the pool never started"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()

    def alive(pid):
        try:
            return open(f"/proc/{pid}/stat").read().split()[2] != "Z"
        except OSError:
            return False

    deadline = time.monotonic() + 20
    while any(alive(w) for w in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    left = [w for w in workers if alive(w)]
    for w in left:
        os.kill(w, signal.SIGKILL)
    assert not left, f"orphaned workers {left}"


def test_an_output_inside_the_input_through_a_bind_mount_is_refused(tmp_path):
    """``view`` is a bind mount of ``data``: ``view/out`` lies inside ``data`` although no
    path comparison can tell; the check compares (device, inode) too. Runs in a private
    mount namespace (``unshare -rm``), skipped where the kernel allows none."""
    import shutil

    import pytest

    if not shutil.which("unshare"):
        pytest.skip("no unshare(1)")
    data, view = tmp_path / "data", tmp_path / "view"
    data.mkdir()
    view.mkdir()
    helpers.write_clip(data / "a.mkv", helpers.sprite_frames(n=12)[0])
    script = (f"mount --bind {data} {view} && {sys.executable} -m imrnet.codec encode "
              f"{data} {view / 'out'}; echo rc=$?")
    r = subprocess.run(["unshare", "-rm", "sh", "-c", script], capture_output=True, text=True,
                       timeout=300)
    if "rc=" not in r.stdout:
        pytest.skip(f"no private mount namespace here: {r.stderr.strip()[:200]}")
    assert "rc=2" in r.stdout and "lies inside the input" in r.stderr, (r.stdout, r.stderr)
    assert sorted(p.name for p in data.iterdir()) == ["a.mkv"]


def test_an_existing_file_the_encoder_did_not_write_is_never_overwritten(tmp_path):
    """``encode a.avi notes.mp4`` used to replace the user's file; the directory form counted
    such a file as "already done". Both now refuse it and keep it; the encoder's own earlier
    output is still replaced (single file) or skipped (directory form), as before."""
    src = helpers.write_clip(tmp_path / "a.mkv", helpers.sprite_frames(n=12)[0])
    notes = tmp_path / "notes.mp4"
    notes.write_text("my notes")
    r = _run("encode", src, str(notes))
    assert r.returncode == 2 and "was not written by encode_mpeg4" in r.stderr
    assert notes.read_text() == "my notes"
    assert _run("encode", src, str(tmp_path / "ok.mp4")).returncode == 0
    assert _run("encode", src, str(tmp_path / "ok.mp4")).returncode == 0  # ours: replaced
    tree, out = tmp_path / "tree", tmp_path / "out"
    tree.mkdir()
    helpers.write_clip(tree / "b.mkv", helpers.sprite_frames(n=12)[0])
    helpers.write_clip(tree / "c.mkv", helpers.sprite_frames(n=12)[0])
    out.mkdir()
    (out / "b.mp4").write_text("not a video of ours")
    r = _run("encode", str(tree), str(out))
    assert r.returncode == 1 and "encoded 1, skipped 0" in r.stderr, r.stderr
    assert (out / "b.mp4").read_text() == "not a video of ours"
    report = json.loads((out / "encode-failures.json").read_text())
    assert "was not written by encode_mpeg4" in report[str(tree / "b.mkv")]


def test_encode_tree_refuses_a_link_out_of_the_output_and_a_file_as_destination(tmp_path, capsys):
    """`encode SRC DST` with DST/sub a link to a folder outside: nothing is written there;
    a destination that is a file is a one-line error, not a traceback."""
    from imrnet.codec.cli import main

    src, dst, victim = tmp_path / "src", tmp_path / "dst", tmp_path / "victim"
    (src / "sub").mkdir(parents=True)
    helpers.write_clip(src / "sub" / "v.mkv", helpers.sprite_frames(n=13)[0])
    victim.mkdir()
    dst.mkdir()
    (dst / "sub").symlink_to(victim, target_is_directory=True)
    assert main(["encode", str(src), str(dst), "--no-progress"]) == 1
    assert list(victim.iterdir()) == []
    assert "through a symbolic link" in capsys.readouterr().err
    f = tmp_path / "afile.mp4"
    f.write_bytes(b"x")
    assert main(["encode", str(src), str(f), "--no-progress"]) == 2
    assert "afile.mp4" in capsys.readouterr().err and f.read_bytes() == b"x"
