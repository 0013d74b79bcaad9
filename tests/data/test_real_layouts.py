"""UCF-101, HMDB-51 and Kinetics-400 adapters on miniature trees in the official layouts,
holding real tiny videos that encode_mpeg4 can re-encode."""

from __future__ import annotations

from pathlib import Path

import pytest

import helpers
from imrnet.codec import encode_mpeg4, read_compressed
from imrnet.data import DatasetError, ucf101, hmdb51, kinetics400


@pytest.fixture(scope="module")
def tiny_video(tmp_path_factory):
    """One real 13-frame MPEG-4 AVI, copied into every tree (tiny, decodable)."""
    frames = [helpers.smooth_pattern(48, 64, 7, 6, phase=0.3 * i) for i in range(13)]
    path = tmp_path_factory.mktemp("tiny") / "tiny.avi"
    return helpers.write_clip(path, frames, codec="mpeg4", pix_fmt="yuv420p", options={"g": "12"})


def _put(path: Path, video: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(Path(video).read_bytes())


@pytest.fixture
def ucf_root(tmp_path, tiny_video):
    root = tmp_path / "ucf"
    lists = root / "ucfTrainTestlist"
    lists.mkdir(parents=True)
    (lists / "classInd.txt").write_bytes(b"1 ApplyEyeMakeup\r\n2 HandstandPushups\r\n3 YoYo\r\n")
    train = ["ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01.avi 1",
             "HandstandPushups/v_HandStandPushups_g08_c01.avi 2", "YoYo/v_YoYo_g09_c02.avi 3"]
    test = ["ApplyEyeMakeup/v_ApplyEyeMakeup_g01_c01.avi", "YoYo/v_YoYo_g01_c03.avi"]
    (lists / "trainlist01.txt").write_bytes(("\r\n".join(train) + "\r\n").encode())
    (lists / "testlist01.txt").write_bytes(("\r\n".join(test) + "\r\n").encode())
    for entry in train + test:
        _put(root / "UCF-101" / entry.split()[0], tiny_video)
    return root


def test_ucf101_train_and_test(ucf_root):
    tr = ucf101.list_videos(ucf_root)
    assert [(r.video_id, r.label, r.class_name) for r in tr] == [
        ("v_ApplyEyeMakeup_g08_c01", 0, "ApplyEyeMakeup"),
        ("v_HandStandPushups_g08_c01", 1, "HandstandPushups"),  # class from the folder
        ("v_YoYo_g09_c02", 2, "YoYo")]
    te = ucf101.list_videos(ucf_root, subset="test")
    assert [r.label for r in te] == [0, 2] and te.classes == ["ApplyEyeMakeup", "HandstandPushups", "YoYo"]
    info = encode_mpeg4(tr[1].path, ucf_root / "enc" / "v.mp4", short_side=48)
    assert read_compressed(info.path, num_gops=1).motion.shape == (1, 5, 48, 64, 2)


def test_ucf101_errors(ucf_root):
    with pytest.raises(DatasetError, match="trainlist02.txt"):
        ucf101.list_videos(ucf_root, split=2)
    (ucf_root / "UCF-101" / "YoYo" / "v_YoYo_g01_c03.avi").unlink()
    with pytest.raises(DatasetError, match="missing"):
        ucf101.list_videos(ucf_root, subset="test")
    import shutil
    shutil.rmtree(ucf_root / "UCF-101" / "HandstandPushups")
    with pytest.raises(DatasetError, match="absent"):
        ucf101.list_videos(ucf_root)
    with pytest.raises(ValueError):
        ucf101.list_videos(ucf_root, split=4)
    with pytest.raises(ValueError):
        ucf101.list_videos(ucf_root, subset="val")


@pytest.fixture
def hmdb_root(tmp_path, tiny_video):
    root = tmp_path / "hmdb"
    splits = root / "testTrainMulti_7030_splits"
    splits.mkdir(parents=True)
    content = {"brush_hair": [("April_09_brush_hair_u_nm_np1_ba_goo_0.avi", 1),
                              ("April_09_brush_hair_u_nm_np1_ba_goo_1.avi", 2),
                              ("Blonde_being_brushed_brush_hair_f_nm_np2_ri_med_0.avi", 0)],
               "cartwheel": [("Bodenturnen_2004_cartwheel_f_cm_np1_le_med_0.avi", 2),
                             ("Turnen_cartwheel_f_cm_np1_ri_med_1.avi", 1)]}
    for cls, vids in content.items():
        for s in (1, 2, 3):
            (splits / f"{cls}_test_split{s}.txt").write_text(
                "".join(f"{v} {t} \n" for v, t in vids))
        for v, _ in vids:
            _put(root / cls / v, tiny_video)
    return root


def test_hmdb51_tags(hmdb_root):
    tr = hmdb51.list_videos(hmdb_root)
    assert [(r.class_name, r.label, r.video_id) for r in tr] == [
        ("brush_hair", 0, "April_09_brush_hair_u_nm_np1_ba_goo_0"),
        ("cartwheel", 1, "Turnen_cartwheel_f_cm_np1_ri_med_1")]
    te = hmdb51.list_videos(hmdb_root, subset="test", split=3)
    assert [r.video_id for r in te] == ["April_09_brush_hair_u_nm_np1_ba_goo_1",
                                        "Bodenturnen_2004_cartwheel_f_cm_np1_le_med_0"]
    assert all(Path(r.path).is_file() for r in te)


def test_hmdb51_errors(hmdb_root, tmp_path):
    with pytest.raises(DatasetError, match="split folder"):
        hmdb51.list_videos(tmp_path / "nowhere")
    (hmdb_root / "cartwheel" / "Turnen_cartwheel_f_cm_np1_ri_med_1.avi").unlink()
    with pytest.raises(DatasetError, match="missing"):
        hmdb51.list_videos(hmdb_root)
    (hmdb_root / "testTrainMulti_7030_splits" / "cartwheel_test_split2.txt").unlink()
    with pytest.raises(DatasetError, match="split 2 files missing"):
        hmdb51.list_videos(hmdb_root, split=2)
    (hmdb_root / "testTrainMulti_7030_splits" / "cartwheel_test_split1.txt").write_text("x.avi 7\n")
    with pytest.raises(DatasetError, match="bad line"):
        hmdb51.list_videos(hmdb_root)


@pytest.mark.parametrize("layout", ["flat", "class_folders"])
def test_kinetics400_csv_and_missing_videos(tmp_path, tiny_video, layout):
    root = tmp_path / "k400"
    (root / "annotations").mkdir(parents=True)
    (root / "annotations" / "train.csv").write_text(
        "label,youtube_id,time_start,time_end,split,is_cc\n"
        '"abseiling",-3B32lodo2M,59,69,train,0\n'
        '"playing guitar",--0NTAs-fA0,10,20,train,0\n'
        '"abseiling",gone_video1,0,10,train,0\n')
    (root / "annotations" / "val.csv").write_text(
        "label,youtube_id,time_start,time_end,split\n"
        '"air drumming",--nQbRBEz2s,104,114,val\n')
    for label, vid, a, b in (("abseiling", "-3B32lodo2M", 59, 69),
                             ("playing guitar", "--0NTAs-fA0", 10, 20)):
        folder = root / "train" if layout == "flat" else root / "train" / label
        _put(folder / f"{vid}_{a:06d}_{b:06d}.mp4", tiny_video)
    (root / "val").mkdir()
    tr = kinetics400.list_videos(root)
    assert tr.classes == ["abseiling", "air drumming", "playing guitar"]
    assert [(r.video_id, r.label) for r in tr] == [("-3B32lodo2M_000059_000069", 0),
                                                  ("--0NTAs-fA0_000010_000020", 2)]
    assert [m[0] for m in tr.missing] == ["gone_video1_000000_000010"]
    with pytest.raises(DatasetError, match=r"val\.csv: none of its 1 listed val videos is under"):
        kinetics400.list_videos(root, subset="val")  # a split with nothing on disk: an error
    with pytest.raises(ValueError):
        kinetics400.list_videos(root, subset="test")
    (root / "annotations" / "val.csv").write_text("name,id\nx,y\n")
    with pytest.raises(DatasetError, match="header"):
        kinetics400.list_videos(root, subset="val")


def test_extraction_over_official_layouts(tmp_path, ucf_root, tiny_video):
    """The extract stage's real-dataset path: split tags, load_index, listed-but-absent
    Kinetics videos written to missing.json."""
    from imrnet.data.extract import extract, load_index

    src = tmp_path / "src"
    src.mkdir()
    (src / "ucf101").symlink_to(ucf_root, target_is_directory=True)
    k = src / "kinetics400"
    (k / "annotations").mkdir(parents=True)
    (k / "annotations" / "train.csv").write_text(
        "label,youtube_id,time_start,time_end\nabseiling,-abc,1,11\nabseiling,gone,0,10\n")
    _put(k / "train" / "-abc_000001_000011.mp4", tiny_video)  # no val set: it is optional
    enc = {"gop_size": 12, "quality": 1, "short_side": None, "fps": None}
    s = extract("ucf101", src, tmp_path / "out", encode=enc, progress=False)
    assert (s["videos"], s["indexed"], s["failed"]) == (5, 5, 0)
    train, test = (load_index(tmp_path / "out", "ucf101", subset=t) for t in ("train", "test"))
    assert [r.video_id for r in train] == ["v_ApplyEyeMakeup_g08_c01", "v_HandStandPushups_g08_c01",
                                           "v_YoYo_g09_c02"]
    assert [r.label for r in test] == [0, 2] and train.classes == ["ApplyEyeMakeup",
                                                                   "HandstandPushups", "YoYo"]
    assert all(r.path.endswith(".mp4") and Path(r.path).is_file() for r in train + test)
    with pytest.raises(DatasetError, match="no videos tagged 'train2'"):
        load_index(tmp_path / "out", "ucf101", split=2)
    s = extract("kinetics400", src, tmp_path / "out", encode=enc, progress=False)
    assert (s["indexed"], s["missing"]) == (1, 1)
    import json
    missing = json.loads((tmp_path / "out" / "kinetics400" / "missing.json").read_text())
    assert [m["video_id"] for m in missing] == ["gone_000000_000010"]
    # a val list, once present, must list videos that are there
    (k / "annotations" / "val.csv").write_text("label,youtube_id,time_start,time_end\n")
    with pytest.raises(DatasetError, match="list no video|lists no val video|missing video folder"):
        extract("kinetics400", src, tmp_path / "out", encode=enc, progress=False)
    # a broken split file of split 2, when present, is an error, not silently skipped
    lists = ucf_root / "ucfTrainTestlist"
    (lists / "trainlist02.txt").write_text("Nope/v_Nope_g01_c01.avi 9\n")
    with pytest.raises(DatasetError):
        extract("ucf101", src, tmp_path / "out", encode=enc, progress=False)


@pytest.mark.parametrize("entry", ["ApplyEyeMakeup/../../../x/victim.avi",
                                   "/etc/ApplyEyeMakeup.avi", "ApplyEyeMakeup\\..\\..\\victim.avi"])
def test_ucf101_refuses_entries_that_leave_the_root(ucf_root, tiny_video, entry):
    """A split entry with ``..`` (or absolute) would make extract read outside the dataset and
    write outside dst_root: refused with the file and the line number."""
    (ucf_root.parent / "x").mkdir(exist_ok=True)
    _put(ucf_root.parent / "x" / "victim.avi", tiny_video)
    lst = ucf_root / "ucfTrainTestlist" / "trainlist01.txt"
    lst.write_bytes(lst.read_bytes() + f"{entry} 1\r\n".encode())
    with pytest.raises(DatasetError, match=r"trainlist01.txt: line 4: entry .* outside"):
        ucf101.list_videos(ucf_root)


def test_hmdb51_refuses_entries_that_leave_the_class_folder(hmdb_root):
    f = hmdb_root / "testTrainMulti_7030_splits" / "cartwheel_test_split1.txt"
    f.write_text(f.read_text() + "../brush_hair/April_09_brush_hair_u_nm_np1_ba_goo_0.avi 1\n")
    with pytest.raises(DatasetError, match=r"cartwheel_test_split1.txt: line 3: entry .* file name"):
        hmdb51.list_videos(hmdb_root)


@pytest.mark.parametrize("field,value", [("label", "../../escape"), ("youtube_id", "../x")])
def test_kinetics400_refuses_path_fields_that_leave_the_root(tmp_path, field, value):
    k = tmp_path / "k400"
    (k / "annotations").mkdir(parents=True)
    (k / "train").mkdir()
    row = {"label": "abseiling", "youtube_id": "-abc", "time_start": "1", "time_end": "11"}
    row[field] = value
    (k / "annotations" / "train.csv").write_text(
        "label,youtube_id,time_start,time_end\n" + ",".join(row.values()) + "\n")
    with pytest.raises(DatasetError, match=r"train.csv: line 2: entry .* file name"):
        kinetics400.list_videos(k)


def test_empty_split_files_are_errors_naming_the_file(ucf_root, hmdb_root, tmp_path, tiny_video,
                                                    capsys):
    """An empty list (a damaged or partial download) used to give an empty split that failed
    only in training; every adapter now refuses it, naming the file, and so does the fetch
    stage's layout check, which reads every split and subset the extract stage will."""
    import yaml

    from pipelines import fetch as stage

    (ucf_root / "ucfTrainTestlist" / "testlist01.txt").write_bytes(b"\r\n")
    with pytest.raises(DatasetError, match=r"testlist01\.txt: is empty"):
        ucf101.list_videos(ucf_root, subset="test")
    p = tmp_path / "params.yaml"
    p.write_text(yaml.safe_dump({"fetch": {"root": str(tmp_path / "raw"), "datasets": {
        "ucf101": {"kind": "local", "path": str(ucf_root)}}}}))
    assert stage.main(["--params", str(p), "--no-progress"]) == 1
    assert "testlist01.txt: is empty" in capsys.readouterr().err

    (hmdb_root / "testTrainMulti_7030_splits" / "cartwheel_test_split1.txt").write_text("")
    with pytest.raises(DatasetError, match=r"cartwheel_test_split1\.txt: is empty"):
        hmdb51.list_videos(hmdb_root)
    for cls in ("brush_hair", "cartwheel"):  # listed, but none tagged for training
        (hmdb_root / "testTrainMulti_7030_splits" / f"{cls}_test_split1.txt").write_text(
            "".join(f"{v.name} 2\n" for v in (hmdb_root / cls).iterdir()))
    with pytest.raises(DatasetError, match="lists no split-1 train video"):
        hmdb51.list_videos(hmdb_root)

    root = tmp_path / "k400"
    (root / "annotations").mkdir(parents=True)
    (root / "train").mkdir()
    (root / "annotations" / "train.csv").write_text("label,youtube_id,time_start,time_end\n")
    with pytest.raises(DatasetError, match="list no video"):
        kinetics400.list_videos(root)


def test_sources_shorter_than_one_gop_go_to_the_failure_report(tmp_path, ucf_root):
    """A 1-frame source encodes fine, but holds no complete GOP, and a truncated one used to
    be re-encoded shorter: both were indexed and failed (or misled) later in training; now
    extraction lists each in the failure report with the reason and leaves it out of the
    index."""
    import json
    from imrnet.data.extract import extract, load_index

    one = helpers.write_clip(tmp_path / "one.avi", [helpers.smooth_pattern(48, 64, 7, 6)],
                             codec="mpeg4", pix_fmt="yuv420p")
    short = ucf_root / "UCF-101" / "YoYo" / "v_YoYo_g09_c02.avi"
    _put(short, one)
    cut = ucf_root / "UCF-101" / "YoYo" / "v_YoYo_g01_c03.avi"  # a test video, cut short
    cut.write_bytes(_truncated_mp4(tmp_path / "full.mp4"))
    src = tmp_path / "src"
    src.mkdir()
    (src / "ucf101").symlink_to(ucf_root, target_is_directory=True)
    enc = {"gop_size": 12, "quality": 1, "short_side": None, "fps": None}
    with pytest.raises(RuntimeError, match="2 of 5 videos failed"):
        extract("ucf101", src, tmp_path / "out", encode=enc, progress=False)
    s = extract("ucf101", src, tmp_path / "out", encode=enc, progress=False,
                max_failed_fraction=0.5)
    assert (s["videos"], s["indexed"], s["failed"]) == (5, 3, 2)
    report = json.loads((tmp_path / "out" / "ucf101" / "encode-failures.json").read_text())
    listed = str(src / "ucf101" / "UCF-101" / "YoYo" / "v_YoYo_g09_c02.avi")
    truncated = str(src / "ucf101" / "UCF-101" / "YoYo" / "v_YoYo_g01_c03.avi")
    assert sorted(report) == sorted([listed, truncated])
    assert "only 1 decodable frame(s): not one complete GOP of 12" in report[listed]
    assert "truncated or damaged" in report[truncated] and "of the 48 frames" in report[truncated]
    assert "v_YoYo_g09_c02" not in [r.video_id for r in load_index(tmp_path / "out", "ucf101")]
    assert "v_YoYo_g01_c03" not in [r.video_id for r in load_index(tmp_path / "out", "ucf101",
                                                                   subset="test")]


def _truncated_mp4(path) -> bytes:
    """An MP4 whose header (written first) declares 48 frames, cut to 90% of its bytes."""
    frames = [helpers.smooth_pattern(48, 64, 7, 6, phase=0.3 * i) for i in range(48)]
    helpers.write_clip(path, frames, codec="mpeg4", pix_fmt="yuv420p", options={"g": "12"},
                       container_options={"movflags": "faststart"})
    data = path.read_bytes()
    return data[:len(data) * 9 // 10]


def test_two_sources_with_one_output_name_are_refused(ucf_root, tiny_video, tmp_path):
    """``v.avi`` and ``v.mkv`` both listed would both be encoded to ``v.mp4``: one overwrote
    the other and two index rows pointed at one video's pixels. Refused, naming both, before
    anything is written."""
    from imrnet.data.extract import extract

    lists = ucf_root / "ucfTrainTestlist"
    with open(lists / "trainlist01.txt", "ab") as f:
        f.write(b"YoYo/v_YoYo_g09_c02.mkv 3\r\n")
    _put(ucf_root / "UCF-101" / "YoYo" / "v_YoYo_g09_c02.mkv", tiny_video)
    src = tmp_path / "src"
    src.mkdir()
    (src / "ucf101").symlink_to(ucf_root, target_is_directory=True)
    enc = {"gop_size": 12, "quality": 1, "short_side": None, "fps": None}
    with pytest.raises(DatasetError, match=r"v_YoYo_g09_c02\.avi and .*v_YoYo_g09_c02\.mkv "
                                           r"would both be encoded to UCF-101/YoYo/v_YoYo_g09_c02\.mp4"):
        extract("ucf101", src, tmp_path / "out", encode=enc, progress=False)
    assert not (tmp_path / "out").exists()
