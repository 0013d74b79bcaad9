"""Print IMRNet's architecture table (the paper's Table 4) from the code.

    python -m imrnet.models.describe --depth 18 [--size 224] [--i-width 64] [--p-width-ratio 0.0625]
                                     [--frames 5 25] [--res5-stride 2] [--markdown]

Per stage and pathway: the block's kernels (t x h^2) with widths and block count, the stage's
spatial stride, and the output size (frames x H x W) measured by running the model on a zero
input; then the lateral layers at each fusion point. Choices the paper leaves open are marked
"(project)"; those Table 4 shows, "(Table 4)".
"""

from __future__ import annotations

import argparse
import sys

import torch

from .imrnet import FUSION_POINTS, build_imrnet
from .resnet3d import BLOCK_TEMPORAL, CONV1_KERNEL, STAGE_DEPTHS, stage_widths
from .lateral import lateral_width

__all__ = ["architecture_rows", "describe"]

_SHOWN = {  # what the legible part of Table 4 states
    (18, "P", "block"), (18, "I", "res2"), (18, "I", "res3"), (50, "P", "block")}


def _block_text(depth, kind, stage, inner, out, extra):
    t = BLOCK_TEMPORAL[(depth, kind)][stage]
    n = STAGE_DEPTHS[depth][stage]
    if depth == 18:
        k = f"[{t[0]}x3^2, {inner}; {t[1]}x3^2, {inner}] x{n}"
    else:
        k = f"[{t}x1^2, {inner}; 1x3^2, {inner}; 1x1^2, {out}] x{n}"
    src = ("Table 4" if (depth, kind, "block") in _SHOWN or (depth, kind, f"res{stage + 2}") in _SHOWN
           else "project")
    return k + (f"  (in +{extra} lateral)" if extra else "") + f"  ({src})"


def architecture_rows(*, depth=18, size=224, i_width=64, p_width_ratio=1 / 16, frames=(5, 25),
                      res5_stride=2, connection="bidirectional", lateral="conv", gated=True):
    """Rows (stage, I, M/R) of the table, the output sizes measured on a zero input."""
    net = build_imrnet(depth=depth, i_width=i_width, p_width_ratio=p_width_ratio, frames=frames,
                       res5_stride=res5_stride, connection=connection, lateral=lateral,
                       gated=gated).eval()
    shapes: dict = {}

    def hook(name):
        def f(_m, _i, out):
            shapes[name] = tuple(out.shape[1:])
        return f

    for pname, path in (("I", net.i_path), ("M", net.m_path), ("R", net.r_path)):
        path.stem.register_forward_hook(hook(f"{pname}.conv1"))
        for k, st in enumerate(path.stages):
            st.register_forward_hook(hook(f"{pname}.res{k + 2}"))
    t, tp = frames
    with torch.no_grad():
        net(torch.zeros(1, 3, t, size, size), torch.zeros(1, 2, tp, size, size),
            torch.zeros(1, 3, tp, size, size))
    c = net.config
    fmt = lambda s: f"{s[1]}x{s[2]}x{s[3]}, {s[0]} ch"  # noqa: E731
    rows = [("input", f"{t}x{size}x{size}, RGB I-frames", f"{tp}x{size}x{size}, MV 2 ch / residual 3 ch")]
    ki, kp = CONV1_KERNEL["I"], CONV1_KERNEL["P"]
    rows.append(("conv1", f"{ki[0]}x{ki[1]}^2, {c['i_width']}, stride 1,2^2; pool 1x3^2 /2 (project)"
                 f" -> {fmt(shapes['I.conv1'])}",
                 f"{kp[0]}x{kp[1]}^2, {c['p_width']}, stride 1,2^2; pool 1x3^2 /2 (project)"
                 f" -> {fmt(shapes['M.conv1'])}"))
    assert shapes["M.conv1"][1:] == shapes["R.conv1"][1:]
    i_inner, i_out = stage_widths(depth, c["i_width"])
    p_inner, p_out = stage_widths(depth, c["p_width"])
    i_at, p_at = [c["i_width"]] + i_out[:3], [c["p_width"]] + p_out[:3]
    fused, both = connection != "none", connection == "bidirectional"
    for k in range(4):
        stride = 1 if k == 0 else (res5_stride if k == 3 else 2)
        ei = 2 * lateral_width(i_at[k]) if fused else 0
        ep = lateral_width(p_at[k]) if both else 0
        rows.append((f"res{k + 2} (/{stride})",
                     _block_text(depth, "I", k, i_inner[k], i_out[k], ei) + f" -> {fmt(shapes[f'I.res{k + 2}'])}",
                     _block_text(depth, "P", k, p_inner[k], p_out[k], ep) + f" -> {fmt(shapes[f'M.res{k + 2}'])}"))
    rows.append(("output", f"GAP -> {i_out[3]}", f"GAP -> {p_out[3]} each (M, R); embedding "
                 f"{net.embedding_dim}"))
    kappa = tp // t
    lat = []
    if fused:
        for k, point in enumerate(FUSION_POINTS):
            ci, cp = i_at[k], p_at[k]
            if lateral == "conv":
                to_i = f"conv {kappa}x1^2 /({kappa},1,1), {cp}->{lateral_width(ci)} ch (+bias, no BN)"
                to_p = f"deconv {kappa}x1^2 x({kappa},1,1), {ci}->{lateral_width(cp)} ch (+bias, no BN)"
            else:
                def how(a, b):
                    return ("same" if a == b else f"mean of groups of {a / b:g}" if a > b
                            else "repeated")
                to_i = (f"avg-pool {kappa}x1^2, channels {cp}->{lateral_width(ci)} "
                        f"({how(cp, lateral_width(ci))}, weight-free)")
                to_p = (f"repeat x{kappa}, channels {ci}->{lateral_width(cp)} "
                        f"({how(ci, lateral_width(cp))}, weight-free)")
            gate = (f"; gate MLP {ci + cp}->{ci + cp}->{ci + cp}" if gated else "")
            lat.append((f"after {point}", f"M->I, R->I: {to_i}{gate}",
                        f"I->M, I->R: {to_p}" if both else "none (unidirectional)"))
    return rows, lat, net


def describe(**kw) -> str:
    md = kw.pop("markdown", False)
    rows, lat, net = architecture_rows(**kw)
    n_params = sum(p.numel() for p in net.parameters())
    c = net.config
    head = (f"IMRNet-R{c['depth']} ({c['connection']}, lateral={c['lateral']}, gated={c['gated']}), "
            f"I width {c['i_width']}, M/R width {c['p_width']}, frames {c['frames']}, "
            f"{n_params / 1e6:.2f} M parameters")
    table = [("stage", "I pathway", "M and R pathways (each)")] + rows
    table += [("", "", "")] + [("lateral", "P -> I", "I -> P")] + lat
    if md:
        lines = [head, "", "| " + " | ".join(table[0]) + " |", "|---|---|---|"]
        lines += ["| " + " | ".join(r) + " |" for r in table[1:] if any(r)]
        return "\n".join(lines)
    w = [max(len(r[i]) for r in table) for i in range(3)]
    lines = [head, ""] + ["  ".join(v.ljust(w[i]) for i, v in enumerate(r)).rstrip() for r in table]
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Print IMRNet's Table 4 from the code.")
    ap.add_argument("--depth", type=int, default=18, choices=(18, 50))
    ap.add_argument("--size", type=int, default=224)
    ap.add_argument("--i-width", type=int, default=64)
    ap.add_argument("--p-width-ratio", type=float, default=1 / 16)
    ap.add_argument("--frames", type=int, nargs=2, default=(5, 25))
    ap.add_argument("--res5-stride", type=int, default=2, choices=(1, 2))
    ap.add_argument("--connection", default="bidirectional")
    ap.add_argument("--lateral", default="conv")
    ap.add_argument("--no-gate", action="store_true")
    ap.add_argument("--markdown", action="store_true")
    a = ap.parse_args(argv)
    try:
        print(describe(depth=a.depth, size=a.size, i_width=a.i_width, p_width_ratio=a.p_width_ratio,
                       frames=tuple(a.frames), res5_stride=a.res5_stride, connection=a.connection,
                       lateral=a.lateral, gated=not a.no_gate, markdown=a.markdown))
    except ValueError as e:
        print(f"describe: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
