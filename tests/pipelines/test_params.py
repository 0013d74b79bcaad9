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
    ({"workers": "2"}, "extract.workers must be an integer >= 1, got '2'"),
    ({"short_side": 31}, "extract.short_side must be an even integer (MPEG-4 4:2:0), got 31"),
    ({"size": [341, 256]}, "extract.size must be two even integers, got [341, 256]"),
    ({"fps": 0.000001}, "extract.fps must be in 1..1000 frames per second"),
    ({1: 2}, "extract: keys must be names, got 1"),
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
    ({"ucf101": {"kind": ["url"]}}, "fetch.datasets.ucf101.kind must be one of synthetic, local, url, got ['url']"),
    ({"synthetic-ucf": {"kind": "synthetic", "height": 64}}, "fetch.datasets.synthetic-ucf.width: missing"),
    ({"hmdb51": {"kind": "url", "archives": [{"url": "http://x/h.rar"}]}},
     "fetch.datasets.hmdb51.archives[0].sha256: missing"),
])
def test_fetch_params(tmp_path, capsys, datasets, msg):
    path = _write(tmp_path, {"fetch": {"root": str(tmp_path / "raw"), "datasets": datasets}})
    assert fetch.main(["--params", path, "--no-progress"]) == 2
    assert msg in capsys.readouterr().err
    assert not (tmp_path / "raw").exists()


def test_the_profiles_pass_their_own_checks(tmp_path):
    from pathlib import Path

    from pipelines.profiles import params_text
    from pipelines.runs import load_params

    root = Path(__file__).resolve().parents[2]
    for prof in sorted((root / "profiles").glob("*.yaml")):
        path = tmp_path / f"{prof.stem}.yaml"
        path.write_text(params_text(prof.stem, root))
        extract.load_params(str(path))
        fetch.load_params(str(path))
        load_params(str(path))


def test_yaml_exponent_strings_still_count_as_numbers(tmp_path):
    """PyYAML reads ``5e-4`` (no dot) as a string; float() always accepted it, so do the checks."""
    from imrnet.train.config import make_config

    path = _write(tmp_path, {"extract": {**GOOD_EXTRACT, "max_failed_fraction": "1e-2"}})
    assert extract.load_params(path)["max_failed_fraction"] == 0.01
    # read as the number they mean: 1e-3 and 0.001 are the same run (same params hash)
    from imrnet.train.config import params_hash

    a = make_config({"optim": {"weight_decay": "5e-4", "lr": "1e-3"}})
    assert a["optim"]["lr"] == 0.001 and a["optim"]["weight_decay"] == 0.0005
    assert params_hash(a) == params_hash(make_config({"optim": {"weight_decay": 0.0005, "lr": 0.001}}))


@pytest.mark.parametrize("limits,msg", [
    ({"max_members": -1}, "fetch.archive_limits.max_members must be a positive integer, got -1"),
    ({"members": 10}, "fetch.archive_limits.members: unknown"),
    ([1], "fetch.archive_limits must be a mapping, got [1]"),
])
def test_fetch_archive_limits_params(tmp_path, capsys, limits, msg):
    path = _write(tmp_path, {"fetch": {"root": str(tmp_path / "raw"), "archive_limits": limits,
                                       "datasets": {"synthetic-ucf": {"kind": "synthetic",
                                                                      "width": 32, "height": 32}}}})
    assert fetch.main(["--params", path, "--no-progress"]) == 2
    assert msg in capsys.readouterr().err
    assert not (tmp_path / "raw").exists()


def _profile(name: str = "smoke") -> dict:
    from pathlib import Path

    from pipelines.profiles import resolve_profile

    return resolve_profile(name, Path(__file__).resolve().parents[2])


@pytest.mark.parametrize("where,value,msg", [
    (("pretrain", "budget"), {"clips": "many"}, "pretrain.budget.clips must be an integer >= 1, got 'many'"),
    (("pretrain", "budget"), {"clips": 10, "epochs": 2}, "pretrain.budget must hold one of clips or epochs"),
    (("pretrain", "runs", "pmsp"), None, "pretrain.runs.pmsp must be a mapping, got None"),
    (("pretrain", "runs", "pmsp", "tasks"), "pmsp", "pretrain.runs.pmsp.tasks must be a non-empty list of names, got 'pmsp'"),
    (("pretrain", "runs", "pmsp", "arch"), "resnet", "pretrain.runs.pmsp.arch must be one of imrnet, coviar, imrnet_flow, dmcnet"),
    (("pretrain", "dataset"), None, "pretrain.dataset must be a name (letters, digits, '.', '_', '-'; not starting with '.'), got None"),
    (("finetune", "runs", "imrnet-pmsp-ucf", "epochs"), 0, "finetune.runs.imrnet-pmsp-ucf.epochs must be an integer >= 1, got 0"),
    (("finetune", "runs", "imrnet-pmsp-ucf", "after"), None, "finetune.runs.imrnet-pmsp-ucf.after must be a non-empty string"),
    (("finetune", "models", "imrnet", "streams"), "iframes", "finetune.models.imrnet.streams must be a non-empty list of names"),
    (("train", "data"), 5, "train.data must be a mapping, got 5"),
    (("train", "seeds"), 3, "train: unknown key(s) ['seeds']"),
    (("profile", "sizes"), [{"size": 64, "res5_stride": 3}], "profile.sizes[0].res5_stride must be one of 1, 2, got 3"),
    (("profile", "sizes"), [{"size": 64, "coviar_i_depth": 19}], "profile.sizes[0].coviar_i_depth must be one of 18, 34, 50, 101, 152, got 19"),
    (("profile", "rounds"), "three", "profile.rounds must be an integer >= 1, got 'three'"),
    (("profile", "sizes"), [{"size": "16"}], "profile.sizes[0].size must be an integer >= 16, got '16'"),
    (("report", "pmsp_videos"), 0, "report.pmsp_videos must be an integer >= 1, got 0"),
    (("pretrain", "runs", "../../../escaped"), {"tasks": ["ctp"]}, "pretrain.runs: '../../../escaped' is not a run name"),
    (("finetune", "runs", "a/b"), {"model": "imrnet", "init": "scratch", "dataset": "x", "after": "y"}, "finetune.runs: 'a/b' is not a run name"),
    (("pretrain", "dataset"), "../../etc", "pretrain.dataset must be a name"),
    (("pretrain", "heldout"), ".", "pretrain.heldout must be a name"),
    (("pretrain", "runs", "pmsp", "seed"), -1, "pretrain.runs.pmsp.seed must be an integer >= 0, got -1"),
    (("pretrain", "runs", 7), {"tasks": ["ctp"]}, "pretrain.runs: 7 is not a run name"),
])
def test_training_profile_and_report_sections(tmp_path, capsys, where, value, msg):
    """The sections `pipelines.runs.load_params` reads (train, pretrain, finetune, profile,
    report): a bad value names the file and the key, before any run starts."""
    from pipelines import report, train_stage

    p = _profile()
    node = p
    for k in where[:-1]:
        node = node[k]
    node[where[-1]] = value
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(p))
    if where[0] == "profile":
        from pipelines import profile
        assert profile.main(["--params", str(path)]) == 2
    elif where[0] == "report":
        assert report.main(["--params", str(path)]) == 1
    else:
        assert train_stage.main("pretrain", ["pmsp", "--params", str(path)]) == 1
    err = capsys.readouterr().err
    assert msg in err and str(path) in err


@pytest.mark.parametrize("cfg,msg", [
    ({"model": {"depth": 34}}, "model.depth must be one of 18, 50, got 34"),
    ({"model": {"connection": "both"}}, "model.connection must be one of bidirectional, unidirectional, none, got 'both'"),
    ({"model": {"gated": "yes"}}, "model.gated must be true or false, got 'yes'"),
    ({"model": {"dropout": 1.5}}, "model.dropout must be a number in [0, 1), got 1.5"),
    ({"model": {"i_width": 16.0}}, "model.i_width must be an integer >= 1, got 16.0"),
    ({"arch": "coviar", "model": {"i_depth": 19}}, "model.i_depth must be one of 18, 34, 50, 101, 152, got 19"),
    ({"arch": "imrnet_flow", "model": {"flow_width": 0}}, "model.flow_width must be an integer >= 1, or null, got 0"),
    ({"data": {"max_videos": "all"}}, "data.max_videos must be an integer >= 1, or null, got 'all'"),
    ({"data": {"resize_short": 0}}, "data.resize_short must be an integer >= 1, or null, got 0"),
    ({"data": {"flip": "no"}}, "data.flip must be true or false, got 'no'"),
    ({"data": {"pmsp_pframes": "some"}}, "data.pmsp_pframes must be one of sampled, all, got 'some'"),
    ({"tasks": ["pmsp"], "weights": {"ctp": 0.5}}, "weights.ctp: not among the tasks of this run (pmsp)"),
    ({"tasks": ["pmsp", "ctp"], "weights": {"ctp": "half"}}, "weights.ctp must be a finite number >= 0, got 'half'"),
    ({"weights": [1]}, "weights must be a mapping"),
    ({"init": "runs/x/model.pt"}, "init must be null or {checkpoint: <path>, bn_stats?: keep | reset}, got 'runs/x/model.pt'"),
    ({"init": {"checkpoint": "m.pt", "bn_stats": "drop"}}, "init.bn_stats must be one of keep, reset, got 'drop'"),
    ({"streams": "iframes"}, "streams must be a list of stream names, got 'iframes'"),
    ({"data": {"crop": "32"}}, "data.crop must be an integer >= 1, got '32'"),
    ({"data": {"test_clips": "2"}}, "data.test_clips must be an integer >= 1, got '2'"),
    ({"arch": ["imrnet"]}, "arch must be one of imrnet, imrnet_flow, coviar, dmcnet, flow, got ['imrnet']"),
    ({"seed": 2 ** 70}, "seed must be an integer >= 0 and < 2**32, got 1180591620717411303424"),
    ({"tasks": ["pmps"]}, "tasks: unknown task(s) ['pmps']"),
    ({1: 2}, "training params: keys must be names, got 1"),
    ({"data": {1: 2}}, "training params: keys must be names, got 1 under data"),
    ({"eval": {"heldout": ""}}, "eval.heldout must be a non-empty string, or null, got ''"),
])
def test_training_keys_are_typed(cfg, msg):
    """`imrnet.train.config.make_config` types every key, not only the numeric ones."""
    from imrnet.train.config import make_config

    with pytest.raises(ValueError) as e:
        make_config(cfg)
    assert msg in str(e.value)


def test_model_numbers_written_as_yaml_exponents_are_read_as_numbers():
    from imrnet.train.config import make_config

    assert make_config({"model": {"p_width_ratio": "625e-4"}})["model"]["p_width_ratio"] == 0.0625


@pytest.mark.parametrize("change,msg", [
    ({"frames": "sixty"}, "codec_check.frames must be an integer >= 13, got 'sixty'"),
    ({"quality": 0}, "codec_check.quality must be an integer in 1..31, got 0"),
    ({"frames": 20}, "codec_check.frames (20) must hold num_gops x gop_size = 60 frames"),
    ({"gop": 12}, "unknown key(s) ['gop']"),
    ({"num_gops": "2"}, "codec_check.num_gops must be an integer >= 1, got '2'"),
])
def test_codec_check_params(tmp_path, capsys, monkeypatch, change, msg):
    from pipelines import codec_check

    good = {"frames": 60, "width": 160, "height": 96, "speed": 3, "gop_size": 12, "quality": 1,
            "num_gops": 5}
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump({"codec_check": {**good, **change}}))
    monkeypatch.chdir(tmp_path)
    assert codec_check.main(["--params", str(path)]) == 2
    err = capsys.readouterr().err
    assert msg in err and str(path) in err
    assert not (tmp_path / "data").exists()


def test_train_cli_names_a_missing_section(tmp_path, capsys):
    from imrnet.train.__main__ import main

    cfg = tmp_path / "c.yaml"
    cfg.write_text("pretrain: {tasks: [pmsp]}\n")
    assert main(["pretrain", "--config", str(cfg), "--section", "pretrian"]) == 1
    assert f"{cfg}: no 'pretrian' section (--section)" in capsys.readouterr().err


def test_train_cli_names_bad_yaml(tmp_path, capsys):
    from imrnet.train.__main__ import main

    cfg = tmp_path / "c.yaml"
    cfg.write_text("tasks: [pmsp\n")
    assert main(["pretrain", "--config", str(cfg)]) == 1
    assert f"{cfg} or a --set value is not valid YAML" in capsys.readouterr().err
    cfg.write_text("tasks: [pmsp]\n")
    assert main(["pretrain", "--config", str(cfg), "--set", "optim.lr=[unclosed"]) == 1
    assert "not valid YAML" in capsys.readouterr().err


def test_fetch_archive_names_stay_in_downloads(tmp_path, capsys):
    """``archive:`` names the downloaded file under <root>/downloads; a path there used to
    let a download replace any file on disk."""
    victim = tmp_path / "outside" / "victim.zip"
    for name in ("../../outside/victim.zip", str(victim), "a/b.zip"):
        path = _write(tmp_path, {"fetch": {"root": str(tmp_path / "raw"), "datasets": {"ucf101": {
            "kind": "url", "url": "http://x/u.zip", "sha256": "0" * 64, "archive": name}}}})
        assert fetch.main(["--params", path, "--no-progress"]) == 2
        assert "is not a file name" in capsys.readouterr().err
    assert not (tmp_path / "raw").exists()
