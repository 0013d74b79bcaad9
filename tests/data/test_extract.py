"""Extraction stage: index, resume after a kill to identical outputs, shards + merge, failures."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from imrnet.data import synthetic
from pipelines import extract as stage


@pytest.fixture(scope="module")
def raw(tmp_path_factory):
    root = tmp_path_factory.mktemp("raw")
    synthetic.generate("synthetic-hmdb", root, seed=2, width=64, height=48, frames=36, scale=0.4)
    return root


def _params(tmp_path, raw, dst, **over):
    p = {"extract": {"src_root": str(raw), "dst_root": str(dst), "datasets": ["synthetic-hmdb"],
                     "gop_size": 12, "quality": 1, "short_side": None, "fps": None, "workers": 1,
                     "max_failed_fraction": 0.0, **over}}
    path = tmp_path / f"params-{dst.name}.yaml"
    path.write_text(yaml.safe_dump(p))
    return str(path)


def _tree(d: Path) -> dict:
    return {str(p.relative_to(d)): p.read_bytes() for p in sorted(d.rglob("*")) if p.is_file()}


def test_index_and_resume_after_kill(tmp_path, raw):
    clean = tmp_path / "clean"
    assert stage.main(["--params", _params(tmp_path, raw, clean), "--no-progress"]) == 0
    index = json.loads((clean / "synthetic-hmdb" / "index.json").read_text())
    assert len(index) == 30 and {r["gops"] for r in index} == {3}
    assert index[0].keys() >= {"video_id", "label", "subsets", "frames", "fps", "width", "sha256", "path"}
    # a run killed half-way, then rerun
    killed = tmp_path / "killed"
    params = _params(tmp_path, raw, killed)
    proc = subprocess.Popen([sys.executable, "-m", "pipelines.extract", "--params", params,
                             "--no-progress"], stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while time.time() < deadline and len(list(killed.rglob("*.mp4"))) < 5:
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    partial = len(list(killed.rglob("*.mp4")))
    assert 0 < partial < 30  # really interrupted half-way
    assert stage.main(["--params", params, "--no-progress"]) == 0
    assert _tree(killed / "synthetic-hmdb") == _tree(clean / "synthetic-hmdb"), partial


def test_shards_merge_to_the_unsharded_index(tmp_path, raw):
    one = tmp_path / "one"
    assert stage.main(["--params", _params(tmp_path, raw, one), "--no-progress"]) == 0
    sharded = tmp_path / "sharded"
    params = _params(tmp_path, raw, sharded)
    assert stage.main(["--params", params, "--shard", "0/2", "--no-progress"]) == 0
    os.environ["RANK"], os.environ["WORLD_SIZE"] = "1", "2"
    try:
        assert stage.main(["--params", params, "--no-progress"]) == 0
    finally:
        del os.environ["RANK"], os.environ["WORLD_SIZE"]
    assert stage.main(["--params", params, "--merge", "2"]) == 0
    assert ((sharded / "synthetic-hmdb" / "index.json").read_bytes()
            == (one / "synthetic-hmdb" / "index.json").read_bytes())
    assert not (sharded / "synthetic-hmdb" / "encode-failures.json").exists()  # none failed
    assert stage.main(["--params", params, "--merge", "3"]) == 1  # shards of another N
    assert stage.main(["--params", params, "--shard", "2/2"]) == 2
    assert stage.main(["--params", params, "--shard", "x"]) == 2


def test_array_job_shard_and_failures_over_shards(tmp_path, raw, monkeypatch):
    import shutil
    bad_raw = tmp_path / "badraw"
    shutil.copytree(raw, bad_raw)
    victim = sorted((bad_raw / "synthetic-hmdb" / "train").rglob("*.mkv"))[0]
    victim.write_bytes(b"broken")
    dst = tmp_path / "arr"
    params = _params(tmp_path, bad_raw, dst, max_failed_fraction=0.1)  # 1 of 15 per shard
    for i in (0, 1):
        monkeypatch.setenv("SLURM_ARRAY_TASK_ID", str(i))
        monkeypatch.setenv("SLURM_ARRAY_TASK_COUNT", "2")
        assert stage.main(["--params", params, "--no-progress"]) == 0
    out = dst / "synthetic-hmdb"
    assert sorted(p.name for p in out.glob("index.shard-*")) == ["index.shard-0-of-2.json",
                                                                "index.shard-1-of-2.json"]
    assert stage.main(["--params", params, "--merge", "2"]) == 0
    assert list(json.loads((out / "encode-failures.json").read_text())) == [str(victim)]
    assert len(json.loads((out / "index.json").read_text())) == 29
    strict = _params(tmp_path, bad_raw, dst, max_failed_fraction=0.02)
    assert stage.main(["--params", strict, "--merge", "2"]) == 1  # 1 of 30 > 2% over all shards


def test_changed_params_rebuild_instead_of_mixing(tmp_path, raw):
    dst = tmp_path / "p"
    assert stage.main(["--params", _params(tmp_path, raw, dst), "--no-progress"]) == 0
    small = json.loads((dst / "synthetic-hmdb" / "index.json").read_text())
    assert stage.main(["--params", _params(tmp_path, raw, dst, size=[32, 24]),
                       "--no-progress"]) == 0
    big = json.loads((dst / "synthetic-hmdb" / "index.json").read_text())
    assert {(r["width"], r["height"]) for r in small} == {(64, 48)}
    assert {(r["width"], r["height"]) for r in big} == {(32, 24)}


def test_failures_are_reported_and_thresholded(tmp_path, raw):
    bad_raw = tmp_path / "badraw"
    import shutil
    shutil.copytree(raw, bad_raw)
    victim = next((bad_raw / "synthetic-hmdb" / "train").rglob("*.mkv"))
    victim.write_bytes(b"broken")
    dst = tmp_path / "out"
    assert stage.main(["--params", _params(tmp_path, bad_raw, dst), "--no-progress"]) == 1
    report = json.loads((dst / "synthetic-hmdb" / "encode-failures.json").read_text())
    assert list(report) == [str(victim)]
    assert stage.main(["--params", _params(tmp_path, bad_raw, dst, max_failed_fraction=0.05),
                       "--no-progress"]) == 0
    assert len(json.loads((dst / "synthetic-hmdb" / "index.json").read_text())) == 29


def test_flow_computed_once_at_extraction(tmp_path, raw):
    from imrnet.data import CompressedClipDataset, VideoRecord
    from imrnet.data.flow import flow_path, load_flow

    dst = tmp_path / "flow"
    assert stage.main(["--params", _params(tmp_path, raw, dst, flow=["synthetic-hmdb"]),
                       "--no-progress"]) == 0
    out = dst / "synthetic-hmdb"
    index = json.loads((out / "index.json").read_text())
    assert all((out / r["flow"]).is_file() and r["flow"].endswith(".flow.npz") for r in index)
    first = (out / index[0]["flow"]).read_bytes()
    (out / index[0]["flow"]).unlink()  # rerun recomputes only what is missing, same bytes
    assert stage.main(["--params", _params(tmp_path, raw, dst, flow=["synthetic-hmdb"]),
                       "--no-progress"]) == 0
    assert (out / index[0]["flow"]).read_bytes() == first
    recs = [VideoRecord(str(out / r["path"]), r["label"], r["class_name"], r["video_id"])
            for r in index[:2]]
    s = CompressedClipDataset(recs, train=True, crop_size=32, num_gops=2, with_flow=True)[0]
    assert s["flow"].shape == s["motion"].shape == (2, 10, 32, 32)
    assert s["flow"].abs().max() <= 0.5
    t = CompressedClipDataset(recs, train=False, crop_size=32, num_gops=2, with_flow=True)[1]
    assert t["flow"].shape == t["motion"].shape == (3, 2, 10, 32, 32)
    with pytest.raises(ValueError, match="flow file"):
        load_flow(flow_path(out / "nothing.mp4"), [0])


def test_dst_root_equal_to_src_root_is_refused_and_the_source_kept(tmp_path, raw, capsys):
    """dst_root == src_root used to take the stamp check's "rebuilding" branch and delete the
    whole source dataset."""
    before = _tree(raw)
    assert stage.main(["--params", _params(tmp_path, raw, raw), "--no-progress"]) == 1
    assert "is the input" in capsys.readouterr().err
    assert _tree(raw) == before


def test_dst_inside_the_source_is_refused(tmp_path, raw, capsys):
    inner = raw / "synthetic-hmdb" / "out"
    assert stage.main(["--params", _params(tmp_path, raw, inner), "--no-progress"]) == 1
    assert "lies inside the input" in capsys.readouterr().err and not inner.exists()


def test_a_folder_the_stage_did_not_make_is_never_deleted(tmp_path, raw, capsys):
    dst = tmp_path / "foreign"
    (dst / "synthetic-hmdb").mkdir(parents=True)
    (dst / "synthetic-hmdb" / "thesis.tex").write_text("years of work")
    assert stage.main(["--params", _params(tmp_path, raw, dst), "--no-progress"]) == 1
    assert "not made by this stage" in capsys.readouterr().err
    assert (dst / "synthetic-hmdb" / "thesis.tex").read_text() == "years of work"


def test_a_second_extract_on_the_same_output_is_refused_while_the_first_runs(tmp_path, raw,
                                                                              capsys):
    from imrnet.paths import exclusive

    dst = tmp_path / "locked"
    with exclusive(dst, "an extraction", name="synthetic-hmdb"):  # the first run, still going
        assert stage.main(["--params", _params(tmp_path, raw, dst), "--no-progress"]) == 1
    assert "another process" in capsys.readouterr().err
    assert not (dst / "synthetic-hmdb").exists()
    assert stage.main(["--params", _params(tmp_path, raw, dst), "--no-progress"]) == 0  # released


@pytest.mark.parametrize("change", ["append", "flip"])
def test_an_output_changed_after_indexing_is_encoded_again(tmp_path, raw, capsys, change):
    """An extracted .mp4 changed on disk used to be skipped as finished (and re-indexed with
    its new hash): the rerun checks it against the index and encodes it again."""
    dst = tmp_path / "v"
    params = _params(tmp_path, raw, dst)
    assert stage.main(["--params", params, "--no-progress"]) == 0
    before = _tree(dst)
    row = json.loads((dst / "synthetic-hmdb" / "index.json").read_text())[0]
    video = dst / "synthetic-hmdb" / row["path"]
    data = bytearray(video.read_bytes())
    if change == "append":
        data += b"\0" * 100
    else:
        data[len(data) // 2] ^= 0xFF
    video.write_bytes(bytes(data))
    assert stage.main(["--params", params, "--no-progress"]) == 0
    assert "changed on disk since it was indexed" in capsys.readouterr().err
    assert _tree(dst) == before  # the same bytes as the first encode, the same index


@pytest.mark.parametrize("index", ["deleted", "damaged"])
def test_a_changed_output_is_encoded_again_when_the_index_is_gone(tmp_path, raw, capsys, index):
    """Without a readable index a changed output used to be kept as finished and indexed with
    its new hash (wrong pixels, no error). An output no run recorded writing is now encoded
    again, so the rerun gives the first run's bytes."""
    dst = tmp_path / "v"
    params = _params(tmp_path, raw, dst)
    assert stage.main(["--params", params, "--no-progress"]) == 0
    before = _tree(dst)
    idx = dst / "synthetic-hmdb" / "index.json"
    video = dst / "synthetic-hmdb" / json.loads(idx.read_text())[3]["path"]
    data = bytearray(video.read_bytes())
    data[len(data) // 2] ^= 0xFF
    video.write_bytes(bytes(data))
    if index == "deleted":
        idx.unlink()
    else:
        idx.write_text('[{"path": ')
    assert stage.main(["--params", params, "--no-progress"]) == 0
    err = capsys.readouterr().err
    assert f"{video}: no run recorded writing it" in err
    assert _tree(dst) == before
    assert not list((dst / "synthetic-hmdb").glob(".encoded*"))  # the journal is gone with the run


def test_the_journal_of_a_killed_run_spares_what_it_recorded(tmp_path, raw, capsys):
    """A run killed before its index keeps a journal line per output it wrote; the rerun keeps
    those (checked against their recorded hash) and encodes only what no line records."""
    from imrnet.data import extract as E

    dst = tmp_path / "j"
    assert stage.main(["--params", _params(tmp_path, raw, dst), "--no-progress"]) == 0
    out = dst / "synthetic-hmdb"
    before = _tree(dst)
    rows = json.loads((out / "index.json").read_text())
    (out / "index.json").unlink()
    kept, unrecorded = rows[:5], rows[5:]
    (out / f"{E.JOURNAL}.jsonl").write_text(
        "".join(json.dumps({k: r[k] for k in ("path", "size", "sha256")}) + "\n" for r in kept)
        + '{"path": "cut sh')  # the line a kill cut short
    mtimes = {r["path"]: (out / r["path"]).stat().st_mtime_ns for r in rows}
    assert stage.main(["--params", _params(tmp_path, raw, dst), "--no-progress"]) == 0
    assert _tree(dst) == before
    for r in kept:
        assert (out / r["path"]).stat().st_mtime_ns == mtimes[r["path"]], r["path"]
    assert sum((out / r["path"]).stat().st_mtime_ns != mtimes[r["path"]]
               for r in unrecorded) == len(unrecorded)
    assert "no run recorded writing it" in capsys.readouterr().err


def test_a_foreign_file_without_a_record_is_not_deleted(tmp_path, raw, capsys):
    dst = tmp_path / "f"
    params = _params(tmp_path, raw, dst)
    assert stage.main(["--params", params, "--no-progress"]) == 0
    idx = dst / "synthetic-hmdb" / "index.json"
    video = dst / "synthetic-hmdb" / json.loads(idx.read_text())[0]["path"]
    video.write_bytes(b"the user's own file")
    idx.unlink()
    assert stage.main(["--params", params, "--no-progress"]) == 1  # it fails, it is reported
    assert video.read_bytes() == b"the user's own file"
    assert "was not written by encode_mpeg4; not overwritten" in capsys.readouterr().err


def test_a_source_folder_linked_into_the_output_is_refused(tmp_path, raw):
    """A source tree whose class folder is a symbolic link into the stamped output folder:
    a params change would delete it with the outputs (`reset_if_changed`). Refused, naming the
    source, before any write."""
    import shutil

    from imrnet.data import extract as E
    from imrnet.data.records import DatasetError

    enc = {"gop_size": 12, "quality": 1, "short_side": None, "fps": None}
    src = tmp_path / "src"
    shutil.copytree(raw, src)
    dst = tmp_path / "out"
    E.extract("synthetic-hmdb", src, dst, encode=enc, progress=False)
    row = json.loads((src / "synthetic-hmdb" / "index.json").read_text())[0]
    cls = (src / "synthetic-hmdb" / row["path"]).parent
    stash = dst / "synthetic-hmdb" / "stash"
    shutil.move(cls, stash)
    cls.symlink_to(stash, target_is_directory=True)
    before = _tree(dst)
    with pytest.raises(DatasetError, match=r"lies inside the output folder"):
        E.extract("synthetic-hmdb", src, dst, encode={**enc, "quality": 5}, progress=False)
    assert _tree(dst) == before  # the stash (the user's sources) is still there


def test_shards_and_unsharded_runs_with_other_params_exclude_each_other(tmp_path, raw, monkeypatch):
    """Per-shard locks alone let an unsharded run, or a shard with other params, reset the
    folder other shards were writing into. Shards now hold the dataset's lock shared (after
    one of them reset the folder to their params, holding it exclusively); a shard meeting
    other params, or an unsharded run, is refused and deletes nothing."""
    import fcntl

    from imrnet.data import extract as E
    from imrnet.paths import Busy, exclusive

    monkeypatch.setattr(E, "SHARD_WAIT_S", 0.3)
    dst = tmp_path / "sh"
    enc_a = {"gop_size": 12, "quality": 1, "short_side": None, "fps": None}
    enc_b = {**enc_a, "quality": 5}
    E.extract("synthetic-hmdb", raw, dst, encode=enc_a, shard=(0, 2), progress=False)
    done = _tree(dst / "synthetic-hmdb")
    assert any(k.endswith(".mp4") for k in done)
    fd = os.open(dst / ".synthetic-hmdb.lock", os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH)  # shard 0 of params A still running
        with pytest.raises(Busy, match="other shards are writing it with other params"):
            E.extract("synthetic-hmdb", raw, dst, encode=enc_b, shard=(1, 2), progress=False)
        with pytest.raises(Busy, match="another process is extracting synthetic-hmdb"):
            E.extract("synthetic-hmdb", raw, dst, encode=enc_b, progress=False)
        assert _tree(dst / "synthetic-hmdb") == done  # nothing of shard 0's deleted
        # a shard of the same params runs beside it
        E.extract("synthetic-hmdb", raw, dst, encode=enc_a, shard=(1, 2), progress=False)
    finally:
        os.close(fd)
    with exclusive(dst, "an unsharded extraction", name="synthetic-hmdb"):
        with pytest.raises(Busy, match="unsharded"):
            E.extract("synthetic-hmdb", raw, dst, encode=enc_a, shard=(0, 2), progress=False)
    merged = E.merge_shards("synthetic-hmdb", dst, 2)
    assert len(json.loads(merged.read_text())) == 30


def test_a_link_inside_the_output_tree_is_neither_written_through_nor_deleted_through(tmp_path, raw):
    """A class folder of the output replaced by a symbolic link to a folder outside (the
    index gone, so its videos count as unrecorded): the rerun neither deletes the files the
    link leads to nor writes new ones there; those videos are reported as failed."""
    import shutil

    from imrnet.data import extract as E

    enc = {"gop_size": 12, "quality": 1, "short_side": None, "fps": None}
    dst = tmp_path / "out"
    E.extract("synthetic-hmdb", raw, dst, encode=enc, progress=False)
    out = dst / "synthetic-hmdb"
    row = json.loads((out / "index.json").read_text())[0]
    cls = (out / row["path"]).parent
    victim = tmp_path / "victim"
    shutil.copytree(cls, victim)
    (victim / "mine.txt").write_text("user data")
    shutil.rmtree(cls)
    cls.symlink_to(victim, target_is_directory=True)
    (out / "index.json").unlink()
    before = _tree(victim)
    with pytest.raises(RuntimeError, match="failed"):
        E.extract("synthetic-hmdb", raw, dst, encode=enc, progress=False)
    assert _tree(victim) == before
    rep = json.loads((out / "encode-failures.json").read_text())
    assert any("through a symbolic link" in why for why in rep.values())


@pytest.mark.parametrize("content,msg", [
    ('[{"video_id": "v1"}]', "entry 0 lacks 'label'"),
    ('{"a": 1}', "must be a JSON list of videos"),
    ('[{"video_id": "v1", "label": 0, "class_name": "c", "subset": "train", "path": 5}]',
     "entry 0: path must be a str, got 5"),
    ('[{"video_id": "v1", "label": 0, ', "not valid JSON"),
])
def test_a_damaged_index_is_an_error_naming_the_file_and_the_entry(tmp_path, content, msg):
    """Source and extracted indexes alike: no KeyError or TypeError traceback, and the
    extracted one is refused before a training run writes anything."""
    from imrnet.data import extract as E
    from imrnet.data.records import DatasetError
    from imrnet.train import pretrain

    src = tmp_path / "raw" / "synthetic-x"
    src.mkdir(parents=True)
    (src / "index.json").write_text(content)
    with pytest.raises(DatasetError, match=msg) as e:
        E.dataset_jobs("synthetic-x", tmp_path / "raw")
    assert str(src / "index.json") in str(e.value)
    out = tmp_path / "mp4" / "synthetic-x"
    out.mkdir(parents=True)
    (out / "index.json").write_text(content.replace('"subset": "train"', '"subsets": ["train"]'))
    with pytest.raises(DatasetError, match="index.json"):
        E.load_index(tmp_path / "mp4", "synthetic-x")
    with pytest.raises(DatasetError):
        pretrain({"out": str(tmp_path / "run"), "data": {"root": str(tmp_path / "mp4"),
                                                          "dataset": "synthetic-x"}})
    assert not (tmp_path / "run").exists()
