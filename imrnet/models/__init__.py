"""Networks: IMRNet (three 3D-ResNet pathways with bidirectional dynamic connections), its
ablations, and the baselines built from the same parts (CoViAR, DMC-Net, R3D-RGB, flow stream)."""

from .baselines import (CoViAR, FlowNet, IMRNetWithFlow, build_coviar, build_flow_net,
                        build_flow_stream, build_imrnet_flow, build_r3d_rgb)
from .dmcnet import DMCNet, build_dmcnet
from .imrnet import IMRNet, build_imrnet
from .resnet2d import build_resnet2d
from .resnet3d import build_resnet3d

__all__ = ["IMRNet", "build_imrnet", "CoViAR", "build_coviar", "build_r3d_rgb",
           "build_flow_stream", "FlowNet", "build_flow_net", "IMRNetWithFlow", "build_imrnet_flow", "DMCNet", "build_dmcnet", "build_resnet2d",
           "build_resnet3d"]
