"""Bad params get an error naming the file, the key, the value and what is allowed, never a
KeyError or TypeError traceback; and nothing is written."""

from __future__ import annotations

import pytest
import yaml

from pipelines import extract, fetch

GOOD_EXTRACT = {"src_root": "raw", "dst_root": "out", "datasets": ["synthetic-ucf"],
                "gop_size": 12, "quality": 1, "short_side": None, "fps": None, "workers": 2,
                "max_failed_fraction": 0.0, "flow": ["synthetic-ucf"]}


def _write(tmp_path, data) -> str:
    p = tmp_path / "params.yaml"
    if "extract" in data:  # absolute roots, so "nothing written" is checked where it would be
        data["extract"] = {**data["extract"], **{k: str(tmp_path / data["extract"][k])
                                                 for k in ("src_root", "dst_root")
                                                 if isinstance(data["extract"].get(k), str)}}
    p.write_text(yaml.safe_dump(data))
    return str(p)


@pytest.mark.parametrize("change,msg", [
    ({"dst_root": None}, "extract.dst_root must be a non-empty string, got None"),
    ({"datasets": "synthetic-ucf"}, "extract.datasets must be a non-empty list of names, got 'synthetic-ucf'"),
    ({"workers": "two"}, "extract.workers must be an integer >= 1, got 'two'"),
    ({"size": 340}, "extract.size must be [width, height] in pixels, got 340"),
    ({"flow": ["ucf101"]}, "extract.flow names ['ucf101'], which extract.datasets lacks"),
    ({"verify": "md5"}, "extract.verify must be one of sha256, size, got 'md5'"),
    ({"quality": 40}, "extract.quality must be an integer in 1..31, got 40"),
    ({"gop_size": 12.0}, "extract.gop_size must be an integer >= 1, got 12.0"),
    ({"workers": float("inf")}, "extract.workers must be an integer >= 1, got inf"),
    ({"max_failed_fraction": float("nan")}, "extract.max_failed_fraction must be a number in [0, 1], got nan"),
    ({"shortside": 128}, "unknown key(s) ['shortside']"),
])
def test_extract_params(tmp_path, capsys, change, msg):
    path = _write(tmp_path, {"extract": {**GOOD_EXTRACT, **change}})
    assert extract.main(["--params", path, "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert msg in err and path in err
    assert not (tmp_path / "out").exists()


def test_extract_missing_keys_and_sections(tmp_path, capsys):
    p = {k: v for k, v in GOOD_EXTRACT.items() if k != "dst_root"}
    assert extract.main(["--params", _write(tmp_path, {"extract": p})]) == 2
    assert "extract.dst_root: missing" in capsys.readouterr().err
    assert extract.main(["--params", _write(tmp_path, {"fetch": {}})]) == 2
    assert "no 'extract' section" in capsys.readouterr().err


@pytest.mark.parametrize("datasets,msg", [
    ({}, "fetch.datasets must be a non-empty mapping, got {}"),
    ({"ucf101": {"kind": "url", "url": "http://x/u.rar", "sha256": 123}},
     "fetch.datasets.ucf101.sha256 must be a non-empty string, got 123"),
    ({"ucf101": {"kind": "ftp"}}, "fetch.datasets.ucf101.kind must be one of synthetic, local, url, got 'ftp'"),
    ({"synthetic-ucf": {"kind": "synthetic", "height": 64}}, "fetch.datasets.synthetic-ucf.width: missing"),
    ({"hmdb51": {"kind": "url", "archives": [{"url": "http://x/h.rar"}]}},
     "fetch.datasets.hmdb51.archives[0].sha256: missing"),
])
def test_fetch_params(tmp_path, capsys, datasets, msg):
    path = _write(tmp_path, {"fetch": {"root": str(tmp_path / "raw"), "datasets": datasets}})
    assert fetch.main(["--params", path, "--no-progress"]) == 2
    assert msg in capsys.readouterr().err
    assert not (tmp_path / "raw").exists()


def test_the_profiles_pass_their_own_checks():
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    for prof in sorted((root / "profiles").glob("*.yaml")):
        extract.load_params(str(prof))
        fetch.load_params(str(prof))


def test_yaml_exponent_strings_still_count_as_numbers(tmp_path):
    """PyYAML reads ``5e-4`` (no dot) as a string; float() always accepted it, so do the checks."""
    from imrnet.train.config import make_config

    path = _write(tmp_path, {"extract": {**GOOD_EXTRACT, "max_failed_fraction": "1e-2"}})
    assert extract.load_params(path)["max_failed_fraction"] == "1e-2"
    assert make_config({"optim": {"weight_decay": "5e-4", "lr": "1e-3"}})["optim"]["lr"] == "1e-3"
