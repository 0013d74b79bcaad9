"""The paper's reference numbers: well-formed, sourced, one per cell."""

import pytest

from repro.reference import load_reference, lookup


def test_reference_file_is_sourced_and_unique():
    rows = load_reference()
    known = [r for r in rows if r["value"] is not None]
    assert known and all(r["source"] for r in known)
    assert lookup(1, "CoViAR (ResNet-152/18/18)", "UCF-101") == 90.5
    assert lookup(3, "IMRNet (PMSP + CTP)", "HMDB-51") == 47.5
    assert lookup(2, "No connection", "UCF-101") is None  # unknown: blank in the tables
    # CoViAR's numbers are ImageNet-pretrained 3-split means, never presented as from scratch
    for r in rows:
        if r["row"].startswith("CoViAR"):
            assert r["pretraining"] == "ImageNet" and r["split"] == "3-split mean"


def test_bad_reference_files_are_refused(tmp_path):
    p = tmp_path / "bad.yaml"
    p.write_text("numbers:\n  - {table: 1, row: a, dataset: b, metric: top1, value: 1.0, split: '1', "
                 "pretraining: none, source: null}\n")
    with pytest.raises(ValueError, match="no source"):
        load_reference(p)
    p.write_text("numbers:\n" + "  - {table: 1, row: a, dataset: b, metric: top1, value: null, "
                 "split: '1', pretraining: none, source: null}\n" * 2)
    with pytest.raises(ValueError, match="twice"):
        load_reference(p)
