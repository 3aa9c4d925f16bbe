"""Convert the benchmark input to other storage formats (TTree/RNTuple x ZSTD/zlib), cached.

Why: the choice of the simulation's output format (RNTuple + ZSTD since this study) is a
measurement on nutag's own schema, recorded in BENCHMARKS.md; and the race keeps a TTree copy
of its RNTuple input to show what the format is worth. Copies carry every column of the input
with the same entries, written by RDataFrame Snapshot; RNTuple copies use the simulation's
cluster size, so a copy is laid out as ``nutag simulate`` writes it.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

log = logging.getLogger("nutag.bench.formats")

#: name -> (output format, compression algorithm, level); ROOT's compression setting 100*a + l
FORMATS = {
    "ttree-zstd": ("TTree", "kZSTD", 5),
    "ttree-zlib": ("TTree", "kZLIB", 1),
    "rntuple-zstd": ("RNTuple", "kZSTD", 5),
    "rntuple-zlib": ("RNTuple", "kZLIB", 1),
}


def convert(src: Path, fmt: str, entries: int | None = None, out_dir: Path | None = None) -> Path:
    """``src`` (TTree or RNTuple nutag) written as ``fmt``; reused when present and newer than
    ``src``."""
    kind, algo, level = FORMATS[fmt]
    suffix = f"-{entries}" if entries else ""
    out = (out_dir or src.parent) / f"{src.stem}{suffix}.{fmt}.root"
    if out.is_file() and out.stat().st_mtime >= src.stat().st_mtime:
        return out
    from nutag.core.rootenv import import_root  # noqa: PLC0415

    ROOT = import_root()
    t0 = time.perf_counter()
    df = ROOT.RDataFrame("nutag", str(src))
    if entries:
        df = df.Range(entries)
    opts = ROOT.RDF.RSnapshotOptions()
    opts.fMode = "RECREATE"
    opts.fCompressionAlgorithm = getattr(ROOT.RCompressionSetting.EAlgorithm, algo)
    opts.fCompressionLevel = level
    if kind == "RNTuple":
        from nutag.simulate.storage import RNTUPLE_CLUSTER_BYTES  # noqa: PLC0415

        opts.fOutputFormat = ROOT.RDF.ESnapshotOutputFormat.kRNTuple
        opts.fApproxZippedClusterSize = RNTUPLE_CLUSTER_BYTES
        opts.fMaxUnzippedClusterSize = 10 * RNTUPLE_CLUSTER_BYTES
    else:
        opts.fOutputFormat = ROOT.RDF.ESnapshotOutputFormat.kTTree
    tmp = out.with_name(f".{out.name}.tmp-{os.getpid()}")
    df.Snapshot("nutag", str(tmp), df.GetColumnNames(), opts)
    os.replace(tmp, out)
    log.info("%s -> %s (%s %s %d) in %.1f s", src.name, out.name, kind, algo, level,
             time.perf_counter() - t0)
    return out
