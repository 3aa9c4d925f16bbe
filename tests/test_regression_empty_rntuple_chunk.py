"""Regression: a sample with an empty chunk (a part or chunk that writes no entry).

ROOT 6.40's RNTupleMerger aborts the whole process (Fatal in
RNTupleDescriptor::FindClusterId) when one of the merged RNTuples has no cluster, which is
what a chunk without entries writes. Pseudo-data meets this whenever a rare stream's chunk
draws no copy at all. ``nutag.simulate.storage.merge_chunks`` leaves empty chunks out; the result
must be the same entries as without them, and an all-empty sample must still be a readable,
empty file with every column.
"""

from __future__ import annotations

import os

import pytest

from nutag import simulate as P
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


def test_regression_empty_rntuple_mc_sample_is_analysed(tmp_path) -> None:
    """An MC sample whose RNTuple has no entry (``nutag simulate --events 3`` writes one for a
    rare stream) crashed the analysis in ROOT's RNTuple data source (SIGSEGV, rc 139); now it
    runs, and the sample contributes zero events."""
    import json

    import _robust_toy as rt
    import toy_samples

    samples = rt.write_toy(tmp_path / "toy", n=300)
    toy_samples.to_rntuple(tmp_path / "toy")
    root = P.worker_init()
    overlay = tmp_path / "toy" / "overlay.root"
    opts = root.RDF.RSnapshotOptions()
    opts.fOutputFormat = root.RDF.ESnapshotOutputFormat.kRNTuple
    empty = tmp_path / "toy" / "overlay_empty.root"
    root.RDataFrame("nutag", str(overlay)).Filter("false").Snapshot("nutag", str(empty), "", opts)
    empty.replace(overlay)
    assert P.count_entries(root, os.fspath(overlay)) == (0, "rntuple")
    cfg = rt.write_config(tmp_path, samples)
    out = tmp_path / "results"
    rt.nutag("-q", "run", str(cfg), "--threads", "1", "--output", str(out), check=True)
    cutflows = json.loads((out / "cutflows.json").read_text())
    rows = cutflows["overlay"]["regions"]["signal"]
    assert rows[0]["raw"] == 0 and rows[-1]["raw"] == 0
    assert cutflows["kmu2"]["regions"]["kmu2_norm"][0]["raw"] == 300
