"""Datasets: the official layouts of UCF-101, HMDB-51 and Kinetics-400 (``list_videos``);
the built-in synthetic sets, clip sampling and transforms arrive with the rest of the dataset
issue."""

from .records import DatasetError, VideoList, VideoRecord

__all__ = ["DatasetError", "VideoList", "VideoRecord"]
