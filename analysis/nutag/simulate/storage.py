"""How a sample is stored: output format, ntuple schema, chunk merge, metadata and atomic publish.

Output format. Samples are written as RNTuple (default) or TTree, both named ``nutag`` and
compressed with ZSTD level 5 (:data:`OUTPUT_FORMATS`). RNTuple reads the same columns 1.5-1.8x
faster and is a third smaller (BENCHMARKS.md, "Storage format choice"); TTree stays available
for tools that cannot read RNTuple. Every reader in nutag (RDataFrame, the input checks, the
entry counts) handles both, so a sample's format is a property of its file, not of the analysis.
Clusters: RDataFrame parallelises an RNTuple over its clusters, so the cluster size
(:data:`RNTUPLE_CLUSTER_BYTES`) is chosen to give every sample of the default data set several
clusters per 200k-entry chunk.

Atomicity. Chunks are written to a hidden scratch directory next to the output
(:func:`scratch_dir`), merged into a hidden temporary file (:func:`temp_path`), the metadata is
added, and only then ``os.replace`` puts the file under its final name (:func:`publish`). A
crash or an exception at any point leaves the previous file (if any) intact and never a
half-written file under the final name.

Importing this module does not import ROOT: callers pass the ROOT module in.
"""

from __future__ import annotations

import json
import logging
import os
import uuid
import warnings
from pathlib import Path
from typing import Any

import yaml

from ..config.input_files import METADATA_KEY, dataset_entries

log = logging.getLogger("nutag.simulate")

TREE = "nutag"
#: output format name -> ROOT.RDF.ESnapshotOutputFormat member
OUTPUT_FORMATS: dict[str, str] = {"rntuple": "kRNTuple", "ttree": "kTTree"}
DEFAULT_OUTPUT_FORMAT = "rntuple"
#: ZSTD level 5 (ROOT's 100 * algorithm + level): the measured best read speed at equal size
COMPRESSION = 505
#: RNTupleWriteOptions' approximate zipped cluster size (ROOT's default is 128 MiB).
#: 4 MiB gives the 200k-entry samples of the default data set ~10 clusters each (a 200k-entry
#: Kmu2 chunk is ~37 MB), so RDataFrame can split even the smallest one evenly over 2-8 threads
#: (it hands each thread whole clusters); single-thread reading measured no slower than with
#: 32 MiB clusters, and files grow by ~2 %.
RNTUPLE_CLUSTER_BYTES = 4 * 1024 * 1024
#: ROOT 6.40's TFileMerger warns on every RNTuple merge; the merge is checked (entry count,
#: tests comparing every column), so this one line is not shown to the user
_MERGE_NOISE = "Merging RNTuples is experimental"


def check_output_format(fmt: str) -> str:
    """``fmt`` if it is a known output format, else ValueError naming the choices."""
    if fmt not in OUTPUT_FORMATS:
        raise ValueError(f"unknown output format {fmt!r}; known: {', '.join(OUTPUT_FORMATS)}")
    return fmt


# --------------------------------------------------------------------------- schema
def schema_path() -> Path:
    """samples/ntuple-schema.yaml of :func:`nutag.core.locations.source_root`."""
    from ..core.locations import source_root  # noqa: PLC0415

    return source_root() / "samples" / "ntuple-schema.yaml"


def schema_columns(kind: str = "mc") -> dict[str, str]:
    """Column name -> C++ type of the ntuple schema, for a data or mc sample, in schema order."""
    with open(schema_path(), encoding="utf-8") as fh:
        schema = yaml.safe_load(fh)
    return {name: spec["type"] for name, spec in schema["columns"].items()
            if kind == "mc" or spec.get("kinds", "all") == "all"}


# --------------------------------------------------------------------------- writing a chunk
def snapshot_options(root: Any, output_format: str = DEFAULT_OUTPUT_FORMAT) -> Any:
    """Snapshot options of a chunk: the format, ZSTD level 5 and (RNTuple) the cluster size.

    The format is always set explicitly: ROOT's ``kDefault`` is TTree in 6.40 but is meant to
    change, and a chunk must not change format with the ROOT version.
    """
    opts = root.RDF.RSnapshotOptions()
    opts.fOutputFormat = getattr(root.RDF.ESnapshotOutputFormat,
                                 OUTPUT_FORMATS[check_output_format(output_format)])
    opts.fCompressionAlgorithm = root.RCompressionSetting.EAlgorithm.kZSTD
    opts.fCompressionLevel = COMPRESSION % 100
    opts.fMode = "RECREATE"
    if output_format == "rntuple":
        opts.fApproxZippedClusterSize = RNTUPLE_CLUSTER_BYTES
        opts.fMaxUnzippedClusterSize = 10 * RNTUPLE_CLUSTER_BYTES
    return opts


def count_entries(root: Any, path: str, name: str = TREE) -> tuple[int, str]:
    """(entries, "ttree" or "rntuple") of the dataset ``name`` in ``path``, from metadata only.

    -1 entries when the file holds no such dataset. Counted by
    :func:`nutag.config.input_files.dataset_entries`, as every input of the analysis; strict here
    (errors raise) because the producer must know what it wrote.
    """
    f = root.TFile.Open(path)
    if not f or f.IsZombie():
        raise OSError(f"cannot open {path}")
    try:
        obj = f.Get(name)
        if not obj:
            return -1, ""
        counted = dataset_entries(root, obj)
        if counted is None:
            raise OSError(f"'{name}' in {path} is a {type(obj).__name__}, not a TTree or RNTuple")
        return counted
    finally:
        f.Close()


# --------------------------------------------------------------------------- places on disk
def scratch_dir(out: Path) -> Path:
    """A new hidden directory in ``out`` for the chunk files of one production (same file
    system as the output, so nothing is copied across devices)."""
    scratch = out / f".nutag-scratch-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    scratch.mkdir()
    return scratch


def final_path(out: Path, name: str) -> str:
    """Where sample ``name`` is published."""
    return str(out / f"{name}.root")


def temp_path(out: Path, name: str) -> str:
    """The hidden file sample ``name`` is merged into before :func:`publish` renames it."""
    return str(out / f".{name}.root.tmp-{os.getpid()}")


# --------------------------------------------------------------------------- merge and publish
def merge_chunks(root: Any, chunk_files: list[str], target: str) -> None:
    """Concatenate the chunks in the given order into ``target``.

    TFileMerger handles both formats: a TTree is merged by fast basket copy, an RNTuple by
    ROOT's RNTupleMerger, which copies the chunks' compressed clusters unchanged (same ZSTD
    setting) — so the merged file keeps every chunk's clusters, in chunk order, and its entry
    order is the chunk order either way.
    """
    # Chunks without entries add nothing to the concatenation, and ROOT 6.40's RNTupleMerger
    # aborts the process (Fatal in RNTupleDescriptor::FindClusterId) on an RNTuple without a
    # cluster; so they are left out, and an all-empty sample keeps its first (empty) chunk.
    # tests/test_regression_empty_rntuple_chunk.py
    filled = [f for f in chunk_files if count_entries(root, f)[0] != 0]
    chunk_files = filled or chunk_files[:1]
    if len(chunk_files) == 1:
        os.replace(chunk_files[0], target)
        return
    merger = root.TFileMerger(False, False)
    merger.SetPrintLevel(0)
    merger.SetFastMethod(True)
    if not merger.OutputFile(target, "RECREATE", COMPRESSION):
        raise OSError(f"cannot create {target}")
    for f in chunk_files:
        if not merger.AddFile(f, False):
            raise OSError(f"cannot open chunk file {f}")
    from ..core.rootenv import capture_stderr  # noqa: PLC0415

    with capture_stderr() as cap, warnings.catch_warnings():
        # PyROOT turns ROOT warnings into Python warnings, the C++ side prints them itself
        warnings.filterwarnings("ignore", message=f".*{_MERGE_NOISE}")
        ok = merger.Merge()
    said = [ln for ln in cap.text.splitlines() if ln.strip() and _MERGE_NOISE not in ln]
    for line in said:
        log.warning("merging %s: %s", os.path.basename(target), line.strip())
    if not ok:
        raise OSError(f"merging {len(chunk_files)} chunks into {target} failed"
                      + (f" (ROOT: {'; '.join(said)[:300]})" if said else ""))


def write_metadata(root: Any, path: str, meta: dict[str, Any]) -> int:
    """Add the metadata TNamed to the merged file; return its entries, counted after the write.

    Sets ``meta["n_entries"]`` and ``meta["output_format"]`` from the file itself. Counting on
    the reopened file (read-only, after the UPDATE is closed) also proves that adding a key to
    the file left the TTree or RNTuple readable.
    """
    n, fmt = count_entries(root, path)
    meta["n_entries"] = n
    meta["output_format"] = fmt or meta.get("output_format")
    f = root.TFile.Open(path, "UPDATE")
    if not f or f.IsZombie():
        raise OSError(f"cannot reopen {path} to add metadata")
    try:
        named = root.TNamed(METADATA_KEY, json.dumps(meta, sort_keys=True))
        f.cd()
        named.Write(METADATA_KEY, root.TObject.kOverwrite)
    finally:
        f.Close()
    after, _ = count_entries(root, path)
    if after != n:
        raise OSError(f"{path}: {n} entries before adding the metadata, {after} after")
    return n


def publish(root: Any, tmp: str, final: str, meta: dict[str, Any], expected: int,
            name: str) -> int:
    """Add ``meta`` to the merged ``tmp``, check it holds the ``expected`` entries the chunks
    wrote, then rename it to ``final`` (atomic); returns the entries. On any error ``final``
    is untouched."""
    n = write_metadata(root, tmp, meta)
    if n != expected:
        raise RuntimeError(f"{name}: merged file has {n} entries, chunks wrote {expected}")
    os.replace(tmp, final)
    return n


def read_metadata(path: str | os.PathLike) -> dict[str, Any]:
    """The JSON metadata of a produced file."""
    from ..core.rootenv import import_root  # noqa: PLC0415

    root = import_root()
    f = root.TFile.Open(os.fspath(path))
    if not f or f.IsZombie():
        raise OSError(f"cannot open {path}")
    try:
        obj = f.Get(METADATA_KEY)
        if not obj:
            raise KeyError(f"{path} has no {METADATA_KEY}")
        return json.loads(str(obj.GetTitle()))
    finally:
        f.Close()


__all__ = ["COMPRESSION", "DEFAULT_OUTPUT_FORMAT", "OUTPUT_FORMATS", "RNTUPLE_CLUSTER_BYTES",
           "TREE", "check_output_format", "count_entries", "final_path", "merge_chunks",
           "publish", "read_metadata", "schema_columns", "schema_path", "scratch_dir",
           "snapshot_options", "temp_path", "write_metadata"]
