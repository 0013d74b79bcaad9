"""The runtime table: parameters, GFLOPs and ms per frame (preprocessing + CNN) per model.

    python -m imrnet.profile.runtime --size 224 [--i-width 64] [--out reports/timing]
    python -m imrnet.profile.runtime --size 64 --i-width 16 --res5-stride 1 --coviar-i-depth 18

Every model sees one 2-s clip at batch 1 (eval mode, no gradients): IMRNet the compressed
streams (5 I-frames + 25 P-frames = 30 frames), CoViAR its TSN segments (5 I-frames + the middle
P-frame of each GOP = 10 frames), R3D-RGB 30 decoded RGB frames (every other frame of the 60),
the flow stream 25 Farneback flow fields. "Per frame" divides by the frames each model consumes
(the table's ``frames`` column). Latency protocol: every model is built first, then measured in
``rounds`` alternating passes (each: warm-up runs, then repeats), and the median of all its
timed runs is reported with the runs kept in the JSON; alternating spreads this shared
machine's drifts over all models instead of charging them to whichever ran first. Preprocessing per frame is measured on an encoded
built-in clip at the same size:

* compressed: `read_compressed` (5 GOPs, every other P-frame) + `to_model_input`;
* RGB: decoding all 60 frames (they depend on each other) and converting 30 to RGB;
* motion vectors: `read_compressed` without residuals (per motion field: the counterpart of a
  flow field);
* flow: decoding + Farneback on consecutive frames for the 25 P-frame positions, plus the
  compressed reading for IMRNet + flow;
* flow (TV-L1), ``flow_tvl1``: the same decoding + OpenCV contrib's Dual TV-L1 at its default
  settings, the flow DMC-Net and the two-stream literature use and the paper's flow-cost claim
  means (per field: the decoding of the 25 pairs / 25 + TV-L1 timed on every `TVL1_STRIDE`-th
  of them). Recorded beside the table (the flow-stream rows' preprocessing is Farneback's).

FLOPs: fvcore, one multiply-add = 1 ("GFLOPs (fvcore, 1 MAC = 1)"). Times: this machine's CPU
threads (recorded), median of repeats; they are not the paper's GPU numbers.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from ..models import (build_coviar, build_dmcnet, build_flow_stream, build_imrnet,
                      build_imrnet_flow, build_r3d_rgb)
from .flops import count_flops
from .latency import measure_latency

# TV-L1 costs ~1.9 s a field at 224 px on one core: time every 5th of the clip's 25 fields
# (its per-field cost, decoding included, is what the flow-cost claim needs)
TVL1_STRIDE = 5

__all__ = ["TVL1_STRIDE", "model_specs", "preprocessing_ms_per_frame", "runtime_table", "format_markdown",
           "ratio_rounds"]


def model_specs(*, i_width=64, res5_stride=2, coviar_i_depth=152, depth50=True, p_min_width=1):
    """(name, builder, input kind, frames consumed) of every model in the table.
    ``p_min_width``: the IMRNet variants' least M/R pathway width (`build_imrnet`), as the
    profile trains them (the decisive profile's 4)."""
    kw = dict(i_width=i_width, res5_stride=res5_stride, p_min_width=p_min_width)
    specs = [("IMRNet-R18", lambda: build_imrnet(depth=18, **kw), "compressed", 30)]
    if depth50:
        specs.append(("IMRNet-R50", lambda: build_imrnet(depth=50, **kw), "compressed", 30))
    specs += [
        ("IMRNet-R18 no connection", lambda: build_imrnet(connection="none", **kw), "compressed", 30),
        ("IMRNet-R18 unidirectional", lambda: build_imrnet(connection="unidirectional", **kw),
         "compressed", 30),
        ("IMRNet-R18 no conv", lambda: build_imrnet(lateral="resample", **kw), "compressed", 30),
        ("IMRNet-R18 no attention", lambda: build_imrnet(gated=False, **kw), "compressed", 30),
        (f"CoViAR (ResNet-{coviar_i_depth}/18/18)",
         lambda: build_coviar(i_depth=coviar_i_depth, width=i_width), "compressed", 10),
        (f"DMC-Net (ResNet-{coviar_i_depth}/18/18)",  # its generator at half the I width (32 at 64)
         lambda: build_dmcnet(i_depth=coviar_i_depth, width=i_width,
                              gen_width=max(1, i_width // 2)), "compressed", 10),
        ("R3D-18 RGB (decoded)", lambda: build_r3d_rgb(width=i_width, res5_stride=res5_stride),
         "rgb", 30),
        ("Flow stream R3D-18 (Farneback)", lambda: build_flow_stream(width=i_width,
                                                                     res5_stride=res5_stride),
         "flow", 25),
        ("IMRNet-R18 + flow", lambda: build_imrnet_flow(**kw), "compressed+flow", 30),
    ]
    return specs


def _inputs(kind: str, size: int):
    i = torch.zeros(1, 3, 5, size, size)
    m, r = torch.zeros(1, 2, 25, size, size), torch.zeros(1, 3, 25, size, size)
    if kind == "compressed":
        return (i, m, r)
    if kind == "rgb":
        return (torch.zeros(1, 3, 30, size, size),)
    if kind == "flow":
        return (torch.zeros(1, 2, 25, size, size),)
    return (i, m, r, torch.zeros(1, 2, 25, size, size))


def _clip(size: int, tmp: Path) -> str:
    from ..codec import encode_mpeg4
    from ..data.synthetic import render_clip, write_ffv1

    frames = render_clip("circle", np.random.default_rng(0), width=size * 4 // 3, height=size,
                         frames=60)
    write_ffv1(tmp / "clip.mkv", frames)
    return encode_mpeg4(tmp / "clip.mkv", tmp / "clip.mp4", short_side=None).path


def _median_ms(fn, repeats=5) -> float:
    fn()  # warm-up (numba kernels, caches)
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1e3)
    return statistics.median(times)


def preprocessing_ms_per_frame(size: int, repeats: int = 5) -> dict[str, float]:
    """ms per consumed frame of getting each input kind out of an MPEG-4 file (module doc)."""
    import av

    from ..codec import read_compressed, to_model_input
    from ..opticalflow import flow_field

    with tempfile.TemporaryDirectory() as d:
        path = _clip(size, Path(d))

        def compressed():
            to_model_input(read_compressed(path, num_gops=5))

        def motion_vectors():  # the motion fields alone, as flow's counterpart
            read_compressed(path, num_gops=5, with_residual=False)

        def rgb():
            with av.open(path) as c:
                for k, f in enumerate(c.decode(video=0)):
                    if k % 2:
                        f.to_ndarray(format="rgb24", threads=1)

        def luma_pairs():  # decoding: the 25 (P-frame, frame before) luma pairs flow needs
            pairs = []
            with av.open(path) as c:
                prev = None
                for k, f in enumerate(c.decode(video=0)):
                    y = f.to_ndarray(format="gray", threads=1)
                    if prev is not None and k % 12 and (k % 12) % 2 == 0:
                        pairs.append((y, prev))
                    prev = y
            return pairs

        farneback = flow_field("farneback")  # the extract stage's calls (imrnet.opticalflow)

        def flow():
            for y, prev in luma_pairs():
                farneback(y, prev)

        tvl1 = flow_field("tvl1")  # OpenCV's defaults (TV-L1 module doc)
        some = luma_pairs()[::TVL1_STRIDE]

        def flow_tvl1():  # TV-L1 is 20-35x Farneback: every TVL1_STRIDE-th field of the 25
            for y, prev in some:
                tvl1(y, prev)

        c_ms = _median_ms(compressed, repeats) / 30  # reading cost per frame read
        f_clip = _median_ms(flow, repeats)  # 25 flow fields per clip
        mv_ms = _median_ms(motion_vectors, repeats) / 25  # per motion field (25 per clip)
        tv_field = (_median_ms(luma_pairs, repeats) / 25
                    + _median_ms(flow_tvl1, repeats) / len(some))
        return {"compressed": c_ms, "motion_vectors": mv_ms, "rgb": _median_ms(rgb, repeats) / 30,
                "flow": f_clip / 25, "compressed+flow": c_ms + f_clip / 30,
                "flow_tvl1": tv_field}


def runtime_table(*, size: int = 224, i_width: int = 64, res5_stride: int = 2,
                  coviar_i_depth: int = 152, depth50: bool = True, repeats: int = 3,
                  warmup: int = 2, rounds: int = 3, p_min_width: int = 1) -> dict:
    """Measure every model of `model_specs` at ``size``; returns a JSON-able dict (with
    ``p_min_width`` only when it is not 1)."""
    pre = preprocessing_ms_per_frame(size, max(3, repeats))
    specs = model_specs(i_width=i_width, res5_stride=res5_stride, coviar_i_depth=coviar_i_depth,
                        depth50=depth50, p_min_width=p_min_width)
    nets, rows = [], []
    for name, build, kind, frames in specs:
        torch.manual_seed(0)
        net = build()
        flops = count_flops(net, _inputs(kind, size))
        nets.append(net)
        rows.append({"model": name, "input": kind, "frames": frames,
                     "params_m": sum(p.numel() for p in net.parameters()) / 1e6,
                     "gflops": flops.total / 1e9, "unsupported_ops": flops.unsupported_ops,
                     "times_ms": []})
    for _ in range(rounds):
        for net, row in zip(nets, rows, strict=True):
            lat = measure_latency(net, _inputs(row["input"], size), "cpu", frames=row["frames"],
                                  warmup=warmup, repeats=repeats)
            row["times_ms"] += [round(t, 3) for t in lat.times_ms]
    for row in rows:
        clip = statistics.median(row["times_ms"])
        row.update(cnn_ms_per_clip=clip, cnn_ms_per_frame=clip / row["frames"],
                   pre_ms_per_frame=pre[row["input"]],
                   total_ms_per_frame=clip / row["frames"] + pre[row["input"]])
    return {"size": size, "i_width": i_width, "res5_stride": res5_stride,
            **({"p_min_width": p_min_width} if p_min_width != 1 else {}), "rounds": rounds,
            "repeats": repeats, "warmup": warmup, "tvl1_stride": TVL1_STRIDE,
            "coviar_i_depth": coviar_i_depth, "threads": torch.get_num_threads(),
            "torch": torch.__version__, "cpu": platform.processor() or platform.machine(),
            "preprocessing_ms_per_frame": pre, "rows": rows}


def ratio_rounds(*, size: int = 64, i_width: int = 8, res5_stride: int = 1,
                 coviar_i_depth: int = 18, rounds: int = 5, repeats: int = 3,
                 warmup: int = 1) -> list[dict]:
    """The two runtime ratios the harness tracks, measured ``rounds`` times in alternation (a
    list of per-round dicts; their spread says how steady the machine was):

    * ``imrnet_vs_coviar_total_ms_per_frame``: IMRNet-R18 over CoViAR, preprocessing + CNN;
    * ``flow_vs_motion_vectors_ms_per_field``: Farneback flow over motion-vector reading;
    * ``tvl1_vs_motion_vectors_ms_per_field``: TV-L1 flow over motion-vector reading.
    """
    torch.manual_seed(0)
    specs = {name: (build, kind, frames) for name, build, kind, frames in
             model_specs(i_width=i_width, res5_stride=res5_stride, coviar_i_depth=coviar_i_depth,
                         depth50=False)}
    cov = next(k for k in specs if k.startswith("CoViAR"))
    nets = {k: specs[k][0]() for k in ("IMRNet-R18", cov)}
    out = []
    for _ in range(rounds):
        pre = preprocessing_ms_per_frame(size, repeats)
        total = {}
        for k, net in nets.items():
            _, kind, frames = specs[k]
            lat = measure_latency(net, _inputs(kind, size), "cpu", frames=frames, warmup=warmup,
                                  repeats=repeats)
            total[k] = lat.ms_per_frame + pre[kind]
        out.append({"imrnet_vs_coviar_total_ms_per_frame": total["IMRNet-R18"] / total[cov],
                    "flow_vs_motion_vectors_ms_per_field": pre["flow"] / pre["motion_vectors"],
                    "tvl1_vs_motion_vectors_ms_per_field":
                        pre["flow_tvl1"] / pre["motion_vectors"]})
    return out


def format_markdown(t: dict) -> str:
    head = (f"Runtime at {t['size']}x{t['size']} (I 5 frames, P 25 frames), batch 1, CPU "
            f"({t['threads']} threads, torch {t['torch']}); I width {t['i_width']}.\n\n"
            "| model | frames | params (M) | GFLOPs (fvcore, 1 MAC = 1) | preprocessing ms/frame | "
            "CNN ms/frame | total ms/frame |\n|---|---|---|---|---|---|---|")
    lines = [head]
    for r in t["rows"]:
        lines.append(f"| {r['model']} | {r['frames']} | {r['params_m']:.2f} | {r['gflops']:.2f} | "
                     f"{r['pre_ms_per_frame']:.2f} | {r['cnn_ms_per_frame']:.2f} | "
                     f"{r['total_ms_per_frame']:.2f} |")
    pre = t["preprocessing_ms_per_frame"]
    if "flow_tvl1" in pre:
        lines.append(f"\nPer field (ms): motion vectors {pre['motion_vectors']:.3f}, Farneback flow "
                     f"{pre['flow']:.2f} ({pre['flow'] / pre['motion_vectors']:.0f}x), TV-L1 flow "
                     f"{pre['flow_tvl1']:.2f} ({pre['flow_tvl1'] / pre['motion_vectors']:.0f}x; "
                     f"every {t.get('tvl1_stride', TVL1_STRIDE)}th of the 25 fields timed). The "
                     "flow-stream rows above use Farneback.")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Measure the runtime table.")
    ap.add_argument("--size", type=int, default=224)
    ap.add_argument("--i-width", type=int, default=64)
    ap.add_argument("--res5-stride", type=int, default=2, choices=(1, 2))
    ap.add_argument("--coviar-i-depth", type=int, default=152)
    ap.add_argument("--no-r50", action="store_true")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--out", default="reports/timing")
    a = ap.parse_args(argv)
    t = runtime_table(size=a.size, i_width=a.i_width, res5_stride=a.res5_stride,
                      coviar_i_depth=a.coviar_i_depth, depth50=not a.no_r50, repeats=a.repeats,
                      rounds=a.rounds)
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    stem = f"runtime_{a.size}"
    (out / f"{stem}.json").write_text(json.dumps(t, indent=1) + "\n")
    md = format_markdown(t)
    (out / f"{stem}.md").write_text(md)
    print(md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
