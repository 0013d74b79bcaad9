"""Download and extraction against a loopback HTTP server (127.0.0.1 only, bounded)."""

from __future__ import annotations

import hashlib
import shutil
import http.server
import io
import tarfile
import threading
import zipfile
from pathlib import Path

import pytest
import yaml

import helpers

from imrnet.data.fetch import FetchError, download, link_local, safe_extract


class _RangeHandler(http.server.SimpleHTTPRequestHandler):
    """Serves files from the server's directory, honouring 'Range: bytes=N-'."""

    def log_message(self, *args):
        pass

    def do_GET(self):
        path = Path(self.server.root) / self.path.lstrip("/")
        if not path.is_file():
            self.send_error(404)
            return
        data = path.read_bytes()
        rng = self.headers.get("Range")
        if rng and rng.startswith("bytes="):
            start = int(rng[6:].split("-")[0])
            if start >= len(data):
                self.send_error(416)
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
            data = data[start:]
        else:
            self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def server(tmp_path):
    root = tmp_path / "www"
    root.mkdir()
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _RangeHandler)
    httpd.root = root
    t = threading.Thread(target=httpd.serve_forever, daemon=True)
    t.start()
    yield root, f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def _tar(path: Path, members: dict[str, bytes]) -> str:
    with tarfile.open(path, "w:gz") as t:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_good_archive_downloads_resumes_and_extracts(server, tmp_path):
    root, url = server
    sha = _tar(root / "ds.tar.gz", {"UCF-101/A/v.avi": b"x" * 5000, "ucfTrainTestlist/classInd.txt": b"1 A\r\n"})
    dst = tmp_path / "dl" / "ds.tar.gz"
    dst.parent.mkdir()
    full = (root / "ds.tar.gz").read_bytes()
    (dst.parent / "ds.tar.gz.part").write_bytes(full[: len(full) // 2])  # an interrupted download
    assert download(f"{url}/ds.tar.gz", dst, sha).read_bytes() == full
    assert not (dst.parent / "ds.tar.gz.part").exists()
    out = safe_extract(dst, tmp_path / "data" / "ucf")
    assert (out / "UCF-101" / "A" / "v.avi").read_bytes() == b"x" * 5000
    assert not (tmp_path / "data" / "ucf.partial").exists()


def test_corrupted_download_leaves_nothing(server, tmp_path):
    root, url = server
    sha = _tar(root / "ds.tar.gz", {"a.txt": b"hello"})
    (root / "ds.tar.gz").write_bytes(b"corrupted" + (root / "ds.tar.gz").read_bytes()[9:])
    dst = tmp_path / "dl" / "ds.tar.gz"
    with pytest.raises(FetchError, match="SHA-256 mismatch"):
        download(f"{url}/ds.tar.gz", dst, sha)
    assert list((tmp_path / "dl").iterdir()) == []
    with pytest.raises(FetchError, match="download failed"):
        download(f"{url}/missing.tar.gz", dst, sha)


@pytest.mark.parametrize("bad", ["../evil.txt", "/etc/evil.txt", "a/../../evil.txt"])
def test_escaping_members_are_refused(server, tmp_path, bad):
    root, url = server
    sha = _tar(root / "evil.tar.gz", {"ok.txt": b"fine", bad: b"pwned"})
    dst = download(f"{url}/evil.tar.gz", tmp_path / "evil.tar.gz", sha)
    with pytest.raises(FetchError, match="refusing"):
        safe_extract(dst, tmp_path / "out" / "x")
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
    assert not (tmp_path / "evil.txt").exists()


def test_links_and_zip_escapes_are_refused(tmp_path):
    t = tmp_path / "link.tar"
    with tarfile.open(t, "w") as tf:
        info = tarfile.TarInfo("lnk")
        info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
        tf.addfile(info)
    with pytest.raises(FetchError, match="symlink"):
        safe_extract(t, tmp_path / "o1")
    z = tmp_path / "bad.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("../up.txt", b"x")
    with pytest.raises(FetchError, match="'..'"):
        safe_extract(z, tmp_path / "o2")
    with pytest.raises(FetchError, match="not a zip"):
        (tmp_path / "plain.bin").write_bytes(b"nothing")
        safe_extract(tmp_path / "plain.bin", tmp_path / "o3")


def test_link_local_never_deletes_data(tmp_path):
    src = tmp_path / "UCF101"
    src.mkdir()
    (src / "keep.avi").write_bytes(b"precious")
    dst = link_local(src, tmp_path / "data" / "ucf101")
    assert dst.is_symlink() and dst.resolve() == src.resolve()
    assert link_local(src, dst) == dst  # again: a no-op
    assert link_local(src, src) == src and (src / "keep.avi").read_bytes() == b"precious"
    real = tmp_path / "data" / "other"
    real.mkdir()
    (real / "x").write_bytes(b"mine")
    with pytest.raises(FetchError, match="not a link"):
        link_local(src, real)
    assert (real / "x").read_bytes() == b"mine"
    with pytest.raises(FetchError, match="does not exist"):
        link_local(tmp_path / "nope", tmp_path / "data" / "x")


def test_complete_partial_file_and_damaged_archive(server, tmp_path):
    root, url = server
    sha = _tar(root / "ds.tar.gz", {"a.txt": b"hello"})
    dst = tmp_path / "ds.tar.gz"
    (tmp_path / "ds.tar.gz.part").write_bytes((root / "ds.tar.gz").read_bytes())  # killed while hashing
    assert download(f"{url}/ds.tar.gz", dst, sha).is_file()
    bad = tmp_path / "bad.tar.gz"
    bad.write_bytes(dst.read_bytes()[:40])
    with pytest.raises(FetchError):
        safe_extract(bad, tmp_path / "o")


def test_fetch_stage_generates_links_and_downloads(server, tmp_path, monkeypatch, capsys):
    import yaml

    from pipelines import fetch as stage

    root, url = server
    sha = _tar(root / "k.tar.gz", {"annotations/train.csv": b"label,youtube_id,time_start,time_end\nabseiling,-abc,0,10\n",
                                   "train/-abc_000000_000010.mp4": b"not decoded at fetch"})
    local = tmp_path / "myhmdb"
    local.mkdir()
    params = {"fetch": {"root": str(tmp_path / "raw"), "datasets": {
        "synthetic-hmdb": {"kind": "synthetic", "seed": 1, "width": 48, "height": 32,
                           "frames": 12, "scale": 0.1},
        "kinetics400": {"kind": "url", "url": f"{url}/k.tar.gz", "sha256": sha},
        "mycopy": {"kind": "local", "path": str(local)}}}}
    p = tmp_path / "params.yaml"
    p.write_text(yaml.safe_dump(params))
    assert stage.main(["--params", str(p), "--no-progress"]) == 0
    assert len(list((tmp_path / "raw" / "synthetic-hmdb").rglob("*.mkv"))) == 20
    assert (tmp_path / "raw" / "kinetics400" / "annotations" / "train.csv").is_file()
    assert (tmp_path / "raw" / "mycopy").is_symlink()
    params["fetch"]["datasets"] = {"bad": {"kind": "url", "url": f"{url}/k.tar.gz", "sha256": "0" * 64}}
    p.write_text(yaml.safe_dump(params))
    assert stage.main(["--params", str(p), "--no-progress"]) == 1
    # an annotation whose videos are all absent: refused at fetch, not in training
    sha = _tar(root / "k2.tar.gz", {"annotations/train.csv": b"label,youtube_id,time_start,time_end\nabseiling,-abc,0,10\n",
                                    "train/.keep": b""})
    params["fetch"]["datasets"] = {"kinetics400": {"kind": "url", "url": f"{url}/k2.tar.gz", "sha256": sha}}
    p.write_text(yaml.safe_dump(params))
    assert stage.main(["--params", str(p), "--no-progress"]) == 1
    assert "train.csv: none of its 1 listed train videos is under" in capsys.readouterr().err


needs_rar_tool = pytest.mark.skipif(
    not (shutil.which("bsdtar") or (shutil.which("unar") and shutil.which("lsar"))),
    reason="no rar reader (apt-get install libarchive-tools or unar)")


@needs_rar_tool
def test_rar_members_checked_then_extracted(tmp_path):
    good = helpers.write_rar4(tmp_path / "ok.rar", {"UCF-101/A/v_A_g01_c01.avi": b"v" * 300,
                                                   "UCF-101/B/v_B_g01_c01.avi": b"w" * 10})
    out = safe_extract(good, tmp_path / "ok")
    assert (out / "UCF-101" / "A" / "v_A_g01_c01.avi").read_bytes() == b"v" * 300
    for name, kw in (("esc", {"members": {"../evil.txt": b"x"}}),
                     ("abs", {"members": {"/tmp/evil.txt": b"x"}}),
                     ("lnk", {"members": {"a.txt": b"x"}, "links": {"l": "/etc/passwd"}})):
        bad = helpers.write_rar4(tmp_path / f"{name}.rar", **kw)
        with pytest.raises(FetchError, match=f"{name}.rar"):
            safe_extract(bad, tmp_path / name)
        assert not (tmp_path / name).exists() and not (tmp_path / "evil.txt").exists()


@needs_rar_tool
def test_nested_rar_download_as_hmdb_ships(server, tmp_path):
    """hmdb51_org.rar holds one .rar per class; the splits come in a second archive."""
    import yaml

    from pipelines import fetch as stage

    root, url = server
    inner = {c: helpers.write_rar4(tmp_path / f"{c}.rar", {f"{c}/{c}_v{i}.avi": bytes([i]) * 50
                                                          for i in range(2)})
             for c in ("brush_hair", "cartwheel")}
    outer = helpers.write_rar4(root / "hmdb51_org.rar", {f"{c}.rar": p.read_bytes()
                                                        for c, p in inner.items()})
    splits = helpers.write_rar4(root / "test_train_splits.rar", {
        f"testTrainMulti_7030_splits/{c}_test_split1.txt": f"{c}_v0.avi 1 \n{c}_v1.avi 2 \n".encode()
        for c in inner})
    sha = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in (outer, splits)}
    params = {"fetch": {"root": str(tmp_path / "raw"), "datasets": {"hmdb51": {
        "kind": "url", "nested": True,
        "archives": [{"url": f"{url}/{n}", "sha256": h} for n, h in sha.items()]}}}}
    p = tmp_path / "params.yaml"
    p.write_text(yaml.safe_dump(params))
    assert stage.main(["--params", str(p), "--no-progress"]) == 0
    dst = tmp_path / "raw" / "hmdb51"
    assert sorted(x.name for x in dst.iterdir()) == [".imrnet-fetch", "brush_hair", "cartwheel",
                                                     "testTrainMulti_7030_splits"]
    assert not list(dst.rglob("*.rar"))
    from imrnet.data import hmdb51
    assert [r.video_id for r in hmdb51.list_videos(dst)] == ["brush_hair_v0", "cartwheel_v0"]


def test_several_archives_clash_is_an_error(tmp_path):
    from imrnet.data.fetch import extract_archives

    a, b = tmp_path / "a.tar.gz", tmp_path / "b.tar.gz"
    _tar(a, {"UCF-101/A/v.avi": b"1"})
    _tar(b, {"UCF-101/A/v.avi": b"2", "ucfTrainTestlist/classInd.txt": b"1 A\r\n"})
    with pytest.raises(FetchError, match="two archives"):
        extract_archives([a, b], tmp_path / "ucf")
    assert not (tmp_path / "ucf").exists() and not (tmp_path / "ucf.assembling").exists()
    _tar(b, {"ucfTrainTestlist/classInd.txt": b"1 A\r\n"})
    out = extract_archives([a, b], tmp_path / "ucf")
    assert sorted(x.name for x in out.iterdir()) == [".imrnet-fetch", "UCF-101", "ucfTrainTestlist"]


def test_archive_caps_refuse_bombs_and_floods_before_writing(tmp_path):
    """64 MiB of zeros packs into ~65 kB (a 1000x bomb) and 20,000 empty members: both refused
    by the default caps before anything is written; the caps are params (fetch.archive_limits)."""
    from imrnet.data.fetch import LIMITS, check_limits

    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("zeros.bin", bytes(64 << 20))
    assert bomb.stat().st_size < 100_000
    with pytest.raises(FetchError, match=r"bomb\.zip: declares 67108864 bytes.*max_ratio"):
        safe_extract(bomb, tmp_path / "o1")
    assert not (tmp_path / "o1").exists() and not (tmp_path / "o1.partial").exists()
    out = safe_extract(bomb, tmp_path / "o1", limits={"max_ratio": 2000})  # trusted: raised
    assert (out / "zeros.bin").stat().st_size == 64 << 20

    flood = tmp_path / "flood.tar.gz"
    with tarfile.open(flood, "w:gz") as tf:
        for i in range(20_000):
            tf.addfile(tarfile.TarInfo(f"f{i}"), io.BytesIO(b""))
    assert 20_000 > LIMITS["max_members"]
    with pytest.raises(FetchError, match=r"flood\.tar\.gz: 20000 members, more than the cap of "
                                         r"15000.*max_members"):
        safe_extract(flood, tmp_path / "o2")
    assert not (tmp_path / "o2").exists()
    out = safe_extract(flood, tmp_path / "o2", limits={"max_members": 20_000})
    assert len([p for p in out.iterdir() if p.name != ".imrnet-fetch"]) == 20_000

    for bad, msg in (({"max_members": 0}, "positive integer"), ({"max_ratio": "big"}, "positive integer"),
                     ({"max_size": 1}, "unknown")):
        with pytest.raises(ValueError, match=msg):
            check_limits(bad)


def test_archive_needing_more_than_the_free_disk_is_refused(tmp_path, monkeypatch):
    """The expanded size must fit in the target disk's free space (checked before writing)."""
    import imrnet.data.fetch as f

    arc = tmp_path / "a.tar"
    with tarfile.open(arc, "w") as tf:
        data = b"x" * 5000
        info = tarfile.TarInfo("v.avi")
        info.size = len(data)
        tf.addfile(info, io.BytesIO(data))
    real = shutil.disk_usage
    monkeypatch.setattr(f.shutil, "disk_usage", lambda p: real(p)._replace(free=1000))
    with pytest.raises(FetchError, match=r"a\.tar: needs 5000 bytes to extract, 1000 are free"):
        safe_extract(arc, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_fetch_replaces_only_what_it_extracted(tmp_path):
    """An existing folder at the destination that fetch did not extract (a user's copy of the
    dataset, their notes in it) used to be deleted to make room; now it is refused and kept.
    fetch's own earlier extraction (it holds the mark) is replaced, as a rerun needs."""
    arc = tmp_path / "ucf.zip"
    with zipfile.ZipFile(arc, "w") as z:
        z.writestr("UCF-101/a.avi", b"video")
    mine = tmp_path / "data" / "ucf"
    mine.mkdir(parents=True)
    (mine / "thesis.tex").write_text("three years of work")
    with pytest.raises(FetchError, match=r"data/ucf: exists and fetch did not extract it"):
        safe_extract(arc, mine)
    assert (mine / "thesis.tex").read_text() == "three years of work"
    assert sorted(p.name for p in (tmp_path / "data").iterdir()) == ["ucf"]
    (tmp_path / "data" / "ucf.partial").mkdir()  # not a leftover of fetch's: kept too
    (tmp_path / "data" / "ucf.partial" / "keep").write_text("x")
    with pytest.raises(FetchError, match=r"ucf\.partial: exists and fetch did not make it"):
        safe_extract(arc, mine)
    assert (tmp_path / "data" / "ucf.partial" / "keep").is_file()
    out = safe_extract(arc, tmp_path / "fresh")
    assert (out / "UCF-101" / "a.avi").read_bytes() == b"video"
    with zipfile.ZipFile(arc, "w") as z:
        z.writestr("UCF-101/b.avi", b"video 2")
    out = safe_extract(arc, tmp_path / "fresh")  # its own earlier output: replaced
    assert sorted(p.name for p in (out / "UCF-101").iterdir()) == ["b.avi"]


@pytest.mark.parametrize("name", ["../../victim", "a/b", "..", ".hidden", ""])
def test_fetch_dataset_names_are_single_folder_names(tmp_path, capsys, name):
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump({"fetch": {"root": str(tmp_path / "raw"), "datasets": {
        name: {"kind": "local", "path": str(tmp_path)}}}}))
    from pipelines import fetch as fetch_stage

    assert fetch_stage.main(["--params", str(path), "--no-progress"]) == 2
    assert "is not a dataset name" in capsys.readouterr().err
    assert not (tmp_path / "raw").exists()


def test_archives_inside_their_destination_and_links_into_their_source_are_refused(tmp_path):
    """Extracting ``ds/user.zip`` into ``ds`` (an earlier fetch output) replaced ``ds``, the
    archive with it; a local link inside its own source looped into it."""
    from imrnet.data.fetch import extract_archives

    arc = tmp_path / "a.zip"
    with zipfile.ZipFile(arc, "w") as z:
        z.writestr("UCF-101/a.avi", b"video")
    ds = safe_extract(arc, tmp_path / "ds")
    inner = ds / "user.zip"
    inner.write_bytes(arc.read_bytes())
    with pytest.raises(FetchError, match=r"user\.zip: lies inside the destination"):
        safe_extract(inner, ds)
    with pytest.raises(FetchError, match=r"user\.zip: lies inside the destination"):
        extract_archives([inner], ds)
    assert inner.is_file()
    with pytest.raises(FetchError, match="lies inside the local dataset"):
        link_local(ds, ds / "inside")
    assert not (ds / "inside").exists()
