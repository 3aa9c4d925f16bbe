"""Inputs shared by the backend tests: a small 2-sample, 2-region analysis written as YAML.

Weights are multiples of 1/4 and values sit on a grid off every bin edge and cut value, so
every sum is exact in double precision in any order: local, Dask and HTCondor-chunk results
can (and must) agree bin by bin with ==.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from nutag.config import analysis as config
from nutag.core.rootenv import import_root

REPO = Path(__file__).resolve().parents[1]
SHIM = REPO / "tests" / "condor_shim"
FILES = {"mc_0": (1, 1500), "mc_1": (2, 1300), "data": (3, 2500)}

SAMPLES_YAML = """\
samples:
  mc: {kind: mc, files: ["mc_*.root"], weight: "tw"}
  data: {kind: data, files: [data.root]}
"""
SELECTION_YAML = """\
columns:
  s: "Sum(trk)"
cuts:
  c_p: "p > 5"
  c_n: "n >= 2"
  c_m: "abs(m2) < 0.5"
  c_side: "abs(m2) >= 0.5 && abs(m2) < 1.5"
regions:
  signal: {cuts: [c_p, c_n, c_m], blind: true}
  control: {cuts: [c_p, c_side]}
histograms:
  h_p: {x: p, bins: [20, 0, 20], title: "p;p [GeV]"}
  h_m2: {x: m2, bins: [-2, -1, -0.5, 0, 0.5, 1, 2]}
  h_2d: {x: p, y: m2, bins: [10, 0, 20], ybins: [8, -2, 2], regions: [control]}
  h_w: {x: s, bins: [10, 0, 30], weight: n, regions: [control]}
"""
ANALYSIS_YAML = """\
name: backends-test
samples: samples.yaml
selections: [selection.yaml]
"""


#: the input formats every backend test runs on (nutag simulate writes rntuple by default)
FORMATS = ("ttree", "rntuple")


def write_analysis(d: Path, output_format: str = "ttree") -> Path:
    """Write the ROOT files (many clusters, so Dask and HTCondor chunks split them) and the YAML
    into ``d``; ``output_format`` "ttree" or "rntuple", with ~250 entries per cluster either way
    (an RNTuple cluster is set by its compressed size: 8 kB holds ~250 of these entries)."""
    ROOT = import_root()
    for name, (seed, n) in FILES.items():
        rng = np.random.default_rng(seed)
        cols = {"p": np.round(rng.uniform(0, 20, n), 2) + 0.003,
                "m2": np.round(rng.normal(0, 1.0, n), 2) + 0.0005,
                "n": rng.integers(0, 4, n).astype(np.int32),
                "tw": rng.integers(1, 9, n) * 0.25}
        if name == "data":
            del cols["tw"]
        opts = ROOT.RDF.RSnapshotOptions()
        if output_format == "rntuple":
            opts.fOutputFormat = ROOT.RDF.ESnapshotOutputFormat.kRNTuple
            opts.fApproxZippedClusterSize = 8000
            opts.fMaxUnzippedClusterSize = 80000
            opts.fMaxUnzippedPageSize = 8000
        else:
            opts.fOutputFormat = ROOT.RDF.ESnapshotOutputFormat.kTTree
            opts.fAutoFlush = 250
        df = ROOT.RDF.FromNumpy(cols).Define("trk", "ROOT::RVecD{p * 0.5, m2}")
        df.Snapshot("nutag", str(d / f"{name}.root"), list(cols) + ["trk"], opts)
    (d / "samples.yaml").write_text(SAMPLES_YAML)
    (d / "selection.yaml").write_text(SELECTION_YAML)
    (d / "analysis.yaml").write_text(ANALYSIS_YAML)
    return d / "analysis.yaml"


def load(path: Path):
    return config.load_analysis(path)


def shim_env(state: Path) -> dict[str, str]:
    """PATH with the fake condor tools (and this Python) first; shim state in ``state``."""
    path = f"{SHIM}{os.pathsep}{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
    return {"PATH": path, "CONDOR_SHIM_STATE": str(state),
            "PYTHONPATH": f"{REPO / 'analysis'}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}


@contextlib.contextmanager
def dask_client(workers: int) -> Iterator[Any]:
    """A ``distributed.Client`` on a LocalCluster of ``workers`` single-threaded worker processes
    made by nutag (nutag.engine.backends.dask_backend.local_cluster), closed afterwards. For a
    module-scoped fixture: a cluster start costs seconds, and every worker pays nutag's set-up
    and the JIT of each graph."""
    from distributed import Client  # noqa: PLC0415

    from nutag.engine.backends import dask_backend  # noqa: PLC0415

    cluster = dask_backend.local_cluster(workers)
    client = Client(cluster)
    try:
        yield client
    finally:
        client.close()
        cluster.close()
