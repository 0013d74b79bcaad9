"""Networks as a training run left them: a ``model.pt`` read back (`read_checkpoint`), the
network its params describe rebuilt and its backbone loaded (`load_trained`), and the stream
mask of the "I-frames only" style ablations (`mask_streams`). Below `imrnet.train` and
`imrnet.evaluate`, which both use it: training loads a pretrained backbone with
`load_backbone`, evaluation and the report rebuild finished runs with `load_trained`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Sequence

import torch
from torch import nn

from .baselines import build_coviar, build_flow_net, build_imrnet_flow
from .dmcnet import build_dmcnet
from .imrnet import build_imrnet

__all__ = ["STREAMS", "read_checkpoint", "checkpoint_params", "build_network", "backbone_state",
           "load_backbone", "load_trained", "mask_streams"]

STREAMS = ("iframes", "motion", "residual")


def read_checkpoint(path: str | os.PathLike) -> dict:
    """A checkpoint loaded with ``weights_only=True`` on the CPU; any failure is a ValueError
    naming the file."""
    path = Path(path)
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # noqa: BLE001 - any unpickling failure: name the file
        raise ValueError(f"{path}: not a readable checkpoint ({e})") from None


def checkpoint_params(state: dict, source) -> dict:
    """The training params a ``model.pt`` was written with (a ValueError naming ``source``
    when it holds none)."""
    try:
        return json.loads(state["params"])
    except (KeyError, TypeError, ValueError):
        raise ValueError(f"{source}: no training params inside (not a model.pt written by "
                         "imrnet.train)") from None


def build_network(arch: str, model: dict, *, frames, num_classes):
    """The network of ``arch`` (imrnet | coviar | imrnet_flow | dmcnet | flow) with ``model`` as
    its builder's arguments."""
    if arch == "imrnet":
        return build_imrnet(**model, frames=frames, num_classes=num_classes)
    if arch == "imrnet_flow":
        return build_imrnet_flow(**model, frames=frames, num_classes=num_classes)
    if arch == "coviar":
        return build_coviar(**model, frames=frames, num_classes=num_classes)
    if arch == "dmcnet":
        return build_dmcnet(**model, frames=frames, num_classes=num_classes)
    if arch == "flow":  # a 3D ResNet: no clip length to know
        return build_flow_net(**model, num_classes=num_classes)
    raise ValueError(f"unknown arch {arch!r}")


def backbone_state(state: dict) -> dict:
    """The backbone's weights from a `Trainable` state dict: heads and classifier dropped."""
    return {k[4:]: v for k, v in state.items()
            if k.startswith("net.") and not k.startswith(("net.fc.", "net.fcs."))}


def load_backbone(net: nn.Module, state: dict, source) -> None:
    """Load a checkpoint's backbone into ``net`` (heads and classifier dropped); a backbone of
    other shapes or other layers is a ValueError naming ``source``."""
    try:
        missing, unexpected = net.load_state_dict(backbone_state(state["model"]), strict=False)
    except RuntimeError as e:  # shape mismatches
        lines = str(e).splitlines()
        raise ValueError(f"{source}: backbone does not match the model "
                         f"({lines[1].strip() if len(lines) > 1 else e})") from None
    if unexpected or any(not k.startswith(("fc.", "fcs.")) for k in missing):
        raise ValueError(f"{source}: backbone does not match the model "
                         f"(missing {missing[:3]}, unexpected {unexpected[:3]})")


def load_trained(model_path: str | os.PathLike, *, gop_size: int,
                 state: dict | None = None) -> tuple[nn.Module, dict, dict]:
    """(network, params, checkpoint) of a training run's ``model.pt``: the network its params
    describe (``arch``, ``model``; clips of ``data.num_gops`` GOPs of ``gop_size`` frames at
    ``data.pframe_stride``), without a classifier, its backbone loaded, in eval mode. The
    checkpoint is returned for the heads a caller wants (``state["model"]["heads.<task>.*"]``).
    ``state``: the checkpoint, when the caller has read it already. Errors name ``model_path``."""
    state = read_checkpoint(model_path) if state is None else state
    params = checkpoint_params(state, model_path)
    d = params["data"]
    T = int(d["num_gops"])
    n_p = (int(gop_size) - 1) // int(d["pframe_stride"])
    torch.manual_seed(int(params.get("seed", 0)))
    net = build_network(params.get("arch", "imrnet"), params["model"], frames=(T, T * n_p),
                        num_classes=None)
    load_backbone(net, state, model_path)
    return net.eval(), params, state


def mask_streams(xs: Sequence[torch.Tensor], streams) -> list[torch.Tensor]:
    """The (I-frames, motion, residual) inputs with the streams not in ``streams`` replaced by
    zeros (the normalised value of "no signal" differs per stream, but zeros carry no
    information either way)."""
    return [x if k in streams else torch.zeros_like(x) for k, x in zip(STREAMS, xs, strict=True)]
