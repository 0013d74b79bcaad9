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
