"""Regression: a sample with an empty chunk (a part or chunk that writes no entry).

ROOT 6.40's RNTupleMerger aborts the whole process (Fatal in
RNTupleDescriptor::FindClusterId) when one of the merged RNTuples has no cluster, which is
what a chunk without entries writes. Pseudo-data meets this whenever a rare stream's chunk
draws no copy at all. ``nutag.simulate.produce._merge`` leaves empty chunks out; the result
must be the same entries as without them, and an all-empty sample must still be a readable,
empty file with every column.
"""

from __future__ import annotations

import os

import pytest

from nutag.simulate import produce as P
from nutag.simulate.config import load_sim_config


@pytest.mark.parametrize("output_format", ["rntuple", "ttree"])
def test_empty_chunks_are_merged_away(tmp_path, output_format: str) -> None:
    cfg = load_sim_config(None)
    kmu2 = P.Part(P.STREAMS["kmu2"], 3, 3000, "trigger_control")
    empty = P.Part(P.STREAMS["signal"], 3, 0, "none")  # no entry at all: one empty chunk
    mixed = P.SampleSpec("mixed", "data", (empty, kmu2, empty), output_format=output_format)
    alone = P.SampleSpec("alone", "data", (kmu2,), output_format=output_format)
    nothing = P.SampleSpec("nothing", "data", (empty, empty), output_format=output_format)
    res = P.produce_samples([mixed, alone, nothing], cfg, tmp_path, chunk_size=1000)
    root = P.worker_init()
    assert res["mixed"].n_entries == res["alone"].n_entries > 0
    a = root.RDataFrame(P.TREE, res["mixed"].path).AsNumpy(["event_id", "straw_n"])
    b = root.RDataFrame(P.TREE, res["alone"].path).AsNumpy(["event_id", "straw_n"])
    assert list(a["event_id"]) == list(b["event_id"]) and list(a["straw_n"]) == list(b["straw_n"])
    assert res["nothing"].n_entries == 0
    assert P.count_entries(root, os.fspath(res["nothing"].path)) == (0, output_format)
    cols = {str(c) for c in root.RDataFrame(P.TREE, res["nothing"].path).GetColumnNames()}
    assert cols == set(P.schema_columns("data"))
