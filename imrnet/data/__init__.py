"""Datasets: the official layouts of UCF-101, HMDB-51 and Kinetics-400 (`ucf101`, `hmdb51`,
`kinetics400`), the built-in synthetic sets (`synthetic`), fetching and extraction to MPEG-4
(`fetch`, `extract`), and `CompressedClipDataset`: clip sampling, shared geometry
(`transforms`) and PMSP labels, one deterministic sample per (seed, epoch, index)."""

from .dataset import CompressedClipDataset, collate_clips
from .records import DatasetError, VideoList, VideoRecord

__all__ = ["CompressedClipDataset", "collate_clips", "DatasetError", "VideoList", "VideoRecord"]
