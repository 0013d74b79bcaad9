"""Datasets: the official layouts of UCF-101, HMDB-51 and Kinetics-400 (``list_videos``);
the built-in synthetic sets, clip sampling and transforms arrive with the rest of the dataset
issue."""

from .dataset import CompressedClipDataset, collate_clips
from .records import DatasetError, VideoList, VideoRecord

__all__ = ["CompressedClipDataset", "collate_clips", "DatasetError", "VideoList", "VideoRecord"]
