"""FLOPs with every op handled, pinned for the paper's configurations; latency."""

from __future__ import annotations

import pytest
import torch

from imrnet.models import build_coviar, build_imrnet, build_imrnet_flow, build_r3d_rgb
from imrnet.profile import count_flops, measure_latency


def _paper_inputs(size=224):
    return (torch.zeros(1, 3, 5, size, size), torch.zeros(1, 2, 25, size, size),
            torch.zeros(1, 3, 25, size, size))


def _params(net):
    return sum(p.numel() for p in net.parameters())


def test_every_op_is_handled_in_every_model():
    x = _paper_inputs(64)
    models = [build_imrnet(i_width=16, **kw) for kw in (
        {}, {"lateral": "resample"}, {"gated": False}, {"connection": "unidirectional"},
        {"connection": "none"}, {"depth": 50})]
    models += [build_coviar(i_depth=18, num_classes=5)]
    for net in models:
        net.train()
        rep = count_flops(net, x)
        assert rep.unsupported_ops == {} and rep.total > 0
        assert rep.by_module[""] == rep.total and net.training  # mode restored
    rep = count_flops(build_imrnet_flow(i_width=16, num_classes=3), x + (torch.zeros(1, 2, 25, 64, 64),))
    assert rep.unsupported_ops == {}
    rep = count_flops(build_r3d_rgb(width=16), torch.zeros(1, 3, 16, 64, 64))
    assert rep.unsupported_ops == {}


def test_paper_configurations_pinned():
    """fvcore flops (1 multiply-add = 1) and parameters at the paper's input (I 5x224^2,
    P 25x224^2), batch 1. A change here is a change of the architecture."""
    pinned = {  # name: (builder kwargs, parameters, flops)
        "IMRNet-R18": ({}, 21_827_544, 15_631_869_914),
        "IMRNet-R50": ({"depth": 50}, 39_942_240, 31_011_102_854),
        "no connection": ({"connection": "none"}, 20_190_868, 14_777_412_160),
        "unidirectional": ({"connection": "unidirectional"}, 21_813_012, 15_562_503_872),
        "no conv": ({"lateral": "resample"}, 21_812_686, 15_611_015_642),
        "no attention": ({"gated": False}, 21_392_750, 15_623_128_640),
    }
    for name, (kw, params, flops) in pinned.items():
        net = build_imrnet(**kw)
        assert (_params(net), count_flops(net, _paper_inputs()).total) == (params, flops), name
    coviar = build_coviar(num_classes=101)  # ResNet-152 / 18 / 18
    assert (_params(coviar), count_flops(coviar, _paper_inputs()).total) == (80_804_281, 76_005_539_505)


def test_latency_report():
    net = build_imrnet(i_width=8)
    rep = measure_latency(net, _paper_inputs(32), "cpu", frames=30, warmup=1, repeats=3)
    assert rep.ms_per_clip > 0 and rep.ms_per_frame * 30 == pytest.approx(rep.ms_per_clip)
    assert len(rep.times_ms) == 3 and rep.device == "cpu" and net.training
    with pytest.raises(ValueError, match="frames"):
        measure_latency(net, _paper_inputs(32), "cpu", frames=0)
    assert measure_latency(net, _paper_inputs(32), "cpu", warmup=0, repeats=1).frames == 30  # 5 + 25


def test_runtime_table_small(tmp_path):
    from imrnet.profile.runtime import format_markdown, main, runtime_table

    t = runtime_table(size=32, i_width=8, res5_stride=1, coviar_i_depth=18, depth50=False,
                      repeats=1, warmup=0, rounds=2)
    names = [r["model"] for r in t["rows"]]
    assert names[0] == "IMRNet-R18" and "CoViAR (ResNet-18/18/18)" in names and len(names) == 10
    for r in t["rows"]:
        assert r["unsupported_ops"] == {} and r["gflops"] > 0 and r["pre_ms_per_frame"] > 0
        assert abs(r["total_ms_per_frame"] - r["cnn_ms_per_frame"] - r["pre_ms_per_frame"]) < 1e-9
        assert len(r["times_ms"]) == 2  # one timed run per round
    rows = {r["model"]: r for r in t["rows"]}
    assert rows["IMRNet-R18 no connection"]["params_m"] < rows["IMRNet-R18"]["params_m"]
    assert rows["IMRNet-R18 + flow"]["gflops"] > rows["IMRNet-R18"]["gflops"]
    assert rows["CoViAR (ResNet-18/18/18)"]["frames"] == 10
    dmc, cov = rows["DMC-Net (ResNet-18/18/18)"], rows["CoViAR (ResNet-18/18/18)"]
    assert dmc["frames"] == 10 and dmc["gflops"] > cov["gflops"]  # CoViAR + the generator
    pre = t["preprocessing_ms_per_frame"]
    assert set(pre) == {"compressed", "motion_vectors", "rgb", "flow", "compressed+flow",
                        "flow_tvl1"}
    assert pre["flow_tvl1"] > pre["flow"] > pre["motion_vectors"] > 0  # TV-L1 ~30x Farneback
    md = format_markdown(t)
    assert "TV-L1 flow" in md and "every 5th of the 25 fields timed" in md
    assert "GFLOPs (fvcore, 1 MAC = 1)" in md and md.count("\n| ") == 11
    assert main(["--size", "32", "--i-width", "8", "--res5-stride", "1", "--coviar-i-depth", "18",
                 "--no-r50", "--repeats", "1", "--out", str(tmp_path)]) == 0
    assert (tmp_path / "runtime_32.json").is_file() and (tmp_path / "runtime_32.md").is_file()


def test_model_specs_build_the_imrnet_a_profile_trains():
    """p_min_width reaches every IMRNet variant (the decisive profile's M/R floor of 4), not
    CoViAR; at 1 the specs are the ratio's own widths (I width 16: M/R 1 channel)."""
    from imrnet.profile.runtime import model_specs

    def params(pw):
        return {name: sum(p.numel() for p in build().parameters())
                for name, build, _, _ in model_specs(i_width=16, res5_stride=1, coviar_i_depth=18,
                                                     depth50=False, p_min_width=pw)}

    one, four = params(1), params(4)
    assert one == params(1) and set(one) == set(four)
    for name in one:
        if name.startswith("IMRNet"):
            assert four[name] > one[name], name
        elif not name.startswith(("CoViAR", "DMC", "R3D", "Flow")):
            raise AssertionError(f"unexpected model {name}")
        else:
            assert four[name] == one[name], name
