"""Typed errors of the compressed-video path.

Every error names the offending file in its message, so a failure report over a dataset of
thousands of videos says which one broke and why.
"""

from __future__ import annotations

import os

__all__ = [
    "VideoError",
    "CorruptVideoError",
    "UnsupportedVideoError",
    "ShortVideoError",
]


class VideoError(ValueError):
    """Base class: a video file that cannot be used as asked.

    Args:
        path: the file concerned.
        reason: what is wrong with it.
    """

    def __init__(self, path: str | os.PathLike, reason: str):
        self.path = os.fspath(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")

    def __reduce__(self):  # picklable across DataLoader / multiprocessing workers
        return (self.__class__, (self.path, self.reason))


class CorruptVideoError(VideoError):
    """Empty, truncated or garbage file, or one without a decodable video stream."""


class UnsupportedVideoError(VideoError):
    """A real video, but not MPEG-4 Part 2 as `encode_mpeg4` writes it (B-frames, qpel, GMC,
    another codec, interlaced prediction in exact mode, ...)."""


class ShortVideoError(VideoError):
    """Fewer complete GOPs than asked for."""
