"""Compressed-video I/O: MPEG-4 Part 2 re-encoding and reading of I-frames, motion, residuals."""

from .encode import VideoInfo, encode_mpeg4, output_size, probe_mpeg4
from .normalize import to_model_input
from .visualize import motion_to_rgb, residual_to_rgb
from .errors import CorruptVideoError, ShortVideoError, UnsupportedVideoError, VideoError
from .read import CompressedClip, read_compressed

__all__ = [
    "VideoInfo", "encode_mpeg4", "output_size", "probe_mpeg4",
    "CompressedClip", "read_compressed", "to_model_input", "motion_to_rgb", "residual_to_rgb",
    "VideoError", "CorruptVideoError", "UnsupportedVideoError", "ShortVideoError",
]
