import pytest

from imrnet.data import synthetic
from imrnet.data.extract import extract


@pytest.fixture(scope="session")
def tiny_data(tmp_path_factory):
    """synthetic-ucf at 85x64, one train and one test clip per class (24 videos), encoded."""
    d = tmp_path_factory.mktemp("traindata")
    synthetic.generate("synthetic-ucf", d / "raw", seed=0, width=85, height=64, frames=60, scale=0.1)
    extract("synthetic-ucf", d / "raw", d / "mp4", progress=False,
            encode={"short_side": None, "gop_size": 12, "quality": 1})
    return d / "mp4"
