"""Produce simulated samples: RDataFrame(N) -> nutag::sim::generate_event -> Snapshot.

Determinism. ``generate_event(cfg, stream, seed, entry)`` is a pure function, but a
multithreaded RDataFrame Snapshot writes entries in whatever order the threads finish. So the
entries are split into fixed-size chunks (:func:`plan_chunks`, size independent of the number of
workers), every chunk is produced *single-threaded* (in a worker process, or inline when
``threads == 1``), and the chunk files are merged in chunk order. The result has the same entries
in the same order for any number of workers — compare column by column: the files themselves are
not byte-identical, because every ROOT file embeds a UUID and creation dates.

Atomicity. Chunks are written to a hidden scratch directory next to the output, merged into a
hidden temporary file, the metadata is added, and only then ``os.replace`` puts the file under
its final name. A crash or an exception at any point leaves the previous file (if any) intact
and never a half-written file under the final name.

Output format. Samples are written as RNTuple (default) or TTree, both named ``nutag`` and
compressed with ZSTD level 5 (:data:`OUTPUT_FORMATS`). RNTuple reads the same columns 1.5-1.8x
faster and is a third smaller (BENCHMARKS.md, "Storage format choice"); TTree stays available
for tools that cannot read RNTuple. Every reader in nutag (RDataFrame, the input checks, the
entry counts) handles both, so a sample's format is a property of its file, not of the analysis.
Clusters: RDataFrame parallelises an RNTuple over its clusters, so the cluster size
(:data:`RNTUPLE_CLUSTER_BYTES`) is chosen to give every sample of the default data set several
clusters per 200k-entry chunk.

Chunks and their (stream, seed, first entry) are also the unit of a later HTCondor/Dask
production: :func:`produce_chunk` is a pure function of its :class:`ChunkJob`.

Unweighting (pseudo-data). For a weighted stream generated with M entries, entry i is written
k_i ~ Poisson(N_K * w_i / M) times, k_i drawn from a random stream of its own derived from
(seed, stream, entry) (see ``_UNWEIGHT_CPP``). The number of written copies of events in any
region S is then a sum of independent Poissons, i.e. Poisson with mean N_K * sum_S w_i / M —
exactly the expected data count of the weight convention — and the written events follow the
weighted kinematic distribution. No accept/reject against a maximum weight is needed, so the
result is exact whatever the weight spread; the price is duplicates when N_K*w_i/M is not << 1,
which is checked and warned about. Duplicates are produced by generating the entry again (the
generator is pure), so no event is ever held in memory.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import json
import logging
import math
import multiprocessing as mp
import os
import shutil
import subprocess
import sys
import time
import uuid
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .. import __version__
from ..input_files import METADATA_KEY, dataset_entries
from .config import REPO_ROOT, ConfigField, SimConfigFile, cling_declaration, cpp_dir

log = logging.getLogger("nutag.simulate")

TREE = "nutag"
WEIGHT_CONVENTION = "per_fiducial_kaon_decay"
WEIGHT_CONVENTION_DOC = (
    "weight is per K+ decay in the fiducial region: the expected data count passing a selection S "
    "is N_K * sum_{i in S} w_i / n_generated")
DEFAULT_CHUNK_SIZE = 200_000
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
#: C++ enum nutag::sim::Stream
STREAMS: dict[str, int] = {"kmu2": 0, "signal": 1, "overlay": 2, "misreco": 3, "minbias": 4}
STREAM_NAMES = {v: k for k, v in STREAMS.items()}
#: what a part of a sample keeps: C++ filter on the generated event ``ev_`` (None: keep all)
SELECTIONS: dict[str, str | None] = {
    # {cfg} is replaced by the sample's nutag::sim::SimConfig (preselection parameters)
    "preselection": "nutag::sim::passes_preselection(ev_, {cfg})",
    # the neutrino branch only (rare-stream MC: their control-line events are never used, and
    # in the pseudo-data they are downscaled by D ~ 1e7, i.e. absent)
    "nu_preselection": "nutag::sim::passes_nu_preselection(ev_, {cfg})",
    "trigger_control": "ev_.trigger_control",
    "trigger_nu": "ev_.trigger_nu",
    "none": None,
}
#: warn when an entry's expected number of copies in the pseudo-data exceeds this
UNWEIGHT_MEAN_WARN = 0.1

_UNWEIGHT_CPP = r"""
#ifndef NUTAG_SIM_UNWEIGHT_DECLARED
#define NUTAG_SIM_UNWEIGHT_DECLARED
#include <cmath>
#include <cstdint>
// Expectation-exact unweighting of a weighted stream: entry i is written k_i ~ Poisson(mean_i)
// times. The random stream of k_i is derived from (seed, stream, entry) with a salt, so it is
// independent of the generator's own random numbers and of threads, chunks and workers.
namespace nutag_sim_unweight {
inline std::uint64_t splitmix64(std::uint64_t& s) {
  std::uint64_t z = (s += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}
// Poisson by multiplication of uniforms; a large mean is split into pieces <= 30 whose sum is
// again Poisson (exact, no normal approximation).
inline unsigned poisson(std::uint64_t seed, int stream, std::uint64_t entry, double mean) {
  if (!(mean > 0.0)) return 0u;
  std::uint64_t s = seed ^ 0x756E776569676874ULL;  // "unweight"
  std::uint64_t k = splitmix64(s) ^ (static_cast<std::uint64_t>(stream) * 0xD1B54A32D192ED03ULL);
  k = splitmix64(k) ^ (entry * 0x8CB92BA72F3D8DD7ULL);
  std::uint64_t st = splitmix64(k);
  unsigned n = 0;
  while (mean > 0.0) {
    const double m = mean > 30.0 ? 30.0 : mean;
    mean -= m;
    const double limit = std::exp(-m);
    double p = 1.0;
    while (true) {
      p *= static_cast<double>(splitmix64(st) >> 11) * 0x1.0p-53;
      if (p <= limit) break;
      ++n;
    }
  }
  return n;
}
// true with probability 1/d (the control-line downscaling), independent of poisson() above
inline bool one_in(std::uint64_t seed, int stream, std::uint64_t entry, double d) {
  std::uint64_t s = seed ^ 0x646F776E7363616CULL;  // "downscal"
  std::uint64_t k = splitmix64(s) ^ (static_cast<std::uint64_t>(stream) * 0xD1B54A32D192ED03ULL);
  k = splitmix64(k) ^ (entry * 0x8CB92BA72F3D8DD7ULL);
  std::uint64_t st = splitmix64(k);
  return static_cast<double>(splitmix64(st) >> 11) * 0x1.0p-53 * d < 1.0;
}
}  // namespace nutag_sim_unweight
#endif
"""


# --------------------------------------------------------------------------- plan
@dataclass(frozen=True)
class Chunk:
    """A contiguous range of generator entries [first, first + n)."""

    first: int
    n: int


def plan_chunks(n_events: int, chunk_size: int = DEFAULT_CHUNK_SIZE) -> list[Chunk]:
    """Split [0, n_events) into chunks of ``chunk_size`` (the last one shorter).

    The plan depends only on (n_events, chunk_size), never on the number of workers: that is
    what makes the output independent of the parallelism.
    """
    if n_events < 0 or chunk_size <= 0:
        raise ValueError(f"need n_events >= 0 and chunk_size > 0, got {n_events}, {chunk_size}")
    return [Chunk(first, min(chunk_size, n_events - first))
            for first in range(0, n_events, chunk_size)]


@dataclass(frozen=True)
class Part:
    """One generator stream contributing to a sample.

    ``unweight_scale`` (pseudo-data only) = N_K / n_events: entry i is written
    Poisson(unweight_scale * w_i) times instead of once.

    ``control_downscaling`` (pseudo-data rare parts) = D: the stream represents decays at their
    full rate, but the control line records only 1 in D of them, so ``trigger_control`` is
    written as ``ev.trigger_control && (a 1-in-D draw from (seed, stream, entry))`` and the
    preselection uses that bit. Without it a rare stream's control-line events would enter the
    control sample D times too often.

    ``skim`` (pseudo-data rare parts): C++ boolean expression over the schema columns that a
    neutrino-trigger event must also pass (control-line events are kept regardless). True rates
    at N_K = 5e12 mean ~1e9 neutrino-trigger events; the analysis only ever looks at Kmu2-like
    ones, so the pseudo-data keeps only what the analysis regions can see.
    ``max_written``: refuse (ValueError) to write more than this many events for the part.
    """

    stream: int
    seed: int
    n_events: int
    selection: str = "preselection"
    unweight_scale: float | None = None
    control_downscaling: float | None = None
    skim: str | None = None
    max_written: int | None = None

    def __post_init__(self) -> None:
        if self.stream not in STREAM_NAMES:
            raise ValueError(f"unknown stream {self.stream}; known: {STREAMS}")
        if not 0 <= self.seed < 2**64:
            raise ValueError(f"seed {self.seed} outside [0, 2^64)")
        if self.selection not in SELECTIONS:
            raise ValueError(f"unknown selection {self.selection!r}; known: {list(SELECTIONS)}")


def check_output_format(fmt: str) -> str:
    """``fmt`` if it is a known output format, else ValueError naming the choices."""
    if fmt not in OUTPUT_FORMATS:
        raise ValueError(f"unknown output format {fmt!r}; known: {', '.join(OUTPUT_FORMATS)}")
    return fmt


@dataclass(frozen=True)
class SampleSpec:
    """A sample to write: its kind (mc keeps truth and weight columns) and its parts, in order.

    ``output_format`` ("rntuple" or "ttree") is part of the spec, hence of the data set's
    sample hash: switching formats regenerates the file instead of reusing the other format.
    """

    name: str
    kind: str
    parts: tuple[Part, ...]
    meta: dict[str, Any] = field(default_factory=dict)
    output_format: str = DEFAULT_OUTPUT_FORMAT

    def __post_init__(self) -> None:
        if self.kind not in ("mc", "data"):
            raise ValueError(f"kind must be 'mc' or 'data', got {self.kind!r}")
        check_output_format(self.output_format)


@dataclass(frozen=True)
class ChunkJob:
    """Everything a worker needs to write one chunk (picklable; no ROOT objects)."""

    part: Part
    chunk: Chunk
    kind: str
    cfg_values: dict[str, Any]
    cfg_fields: dict[str, ConfigField]
    output_format: str = DEFAULT_OUTPUT_FORMAT


@dataclass
class ChunkResult:
    n_generated: int
    n_written: int
    sum_weight: float = 0.0      # over all generated entries (before any selection)
    max_weight: float = 0.0
    max_copies_mean: float = 0.0  # unweighting: max of N_K * w_i / M
    seconds: float = 0.0


# --------------------------------------------------------------------------- schema
def schema_path() -> Path:
    """samples/ntuple-schema.yaml of :func:`nutag.cpp.source_root`."""
    from ..cpp import source_root  # noqa: PLC0415

    return source_root() / "samples" / "ntuple-schema.yaml"


def schema_columns(kind: str = "mc") -> dict[str, str]:
    """Column name -> C++ type of the ntuple schema, for a data or mc sample, in schema order."""
    with open(schema_path(), encoding="utf-8") as fh:
        schema = yaml.safe_load(fh)
    return {name: spec["type"] for name, spec in schema["columns"].items()
            if kind == "mc" or spec.get("kinds", "all") == "all"}


# --------------------------------------------------------------------------- worker side
_worker: dict[str, Any] = {}


_GENERATOR_SYMBOL = "_ZN5nutag3sim14generate_eventERKNS0_9SimConfigEiyy"  # Itanium ABI


def _check_library_has_generator() -> None:
    """A libnutag.so built before the simulation existed would fail deep inside cling."""
    import ctypes  # noqa: PLC0415

    from ..cpp import library_path  # noqa: PLC0415

    lib = library_path()
    if lib is None or sys.platform != "linux":
        return
    try:
        found = hasattr(ctypes.CDLL(str(lib)), _GENERATOR_SYMBOL)
    except OSError:
        return
    if not found:
        raise RuntimeError(f"{lib} does not contain nutag::sim::generate_event (built before "
                           "the simulation sources?): rebuild it (cmake --build build) or set "
                           "NUTAG_CPP=jit")


def _load_cpp(root: Any) -> None:
    """Make nutag::sim callable: nutag.cpp.load_cpp(), else JIT the sources ourselves."""
    try:
        from ..cpp import load_cpp  # noqa: PLC0415
    except ImportError:
        load_cpp = None
    if load_cpp is not None:
        if load_cpp() == "library":
            _check_library_has_generator()
    else:  # bare fallback, same sources
        base = cpp_dir()
        root.gInterpreter.AddIncludePath(str(base / "include"))
        if not root.gInterpreter.Declare('#include "nutag/sim/generator.hpp"'):
            raise RuntimeError("cling could not compile nutag/sim/generator.hpp")
        for src in sorted(base.joinpath("src").rglob("*.cpp")):
            if not root.gInterpreter.Declare(f'#include "{src}"'):
                raise RuntimeError(f"cling could not compile {src}")
    if not hasattr(root.nutag, "sim") or not hasattr(root.nutag.sim, "generate_event"):
        root.gInterpreter.Declare('#include "nutag/sim/generator.hpp"')


def _check_event_members(root: Any) -> None:
    cls = root.TClass.GetClass("nutag::sim::Event")
    if not cls:
        return
    members = {str(dm.GetName()) for dm in cls.GetListOfDataMembers()}
    missing = [c for c in schema_columns("mc") if c not in members]
    if missing:
        raise RuntimeError(f"nutag::sim::Event lacks schema columns {missing} "
                           f"(samples/ntuple-schema.yaml); update cpp/include/nutag/sim/event.hpp")


def worker_init() -> Any:
    """Import ROOT and load the C++ once per process; returns the ROOT module."""
    if "root" not in _worker:
        from ..rootenv import import_root  # noqa: PLC0415

        root = import_root()
        root.gROOT.SetBatch(True)
        _load_cpp(root)
        if not root.gInterpreter.Declare(_UNWEIGHT_CPP):
            raise RuntimeError("cling could not compile the unweighting helper")
        _check_event_members(root)
        _worker["root"] = root
        _worker["configs"] = {}
    return _worker["root"]


def cling_config(values: dict[str, Any], fields: dict[str, ConfigField]) -> str:
    """Declare (once) the SimConfig with these values; return its qualified C++ name."""
    root = worker_init()
    code, name = cling_declaration(values, fields)
    if name not in _worker["configs"]:
        if not root.gInterpreter.Declare(code):
            raise RuntimeError(f"cling could not compile the simulation config:\n{code}")
        _worker["configs"][name] = code
    return name


@contextlib.contextmanager
def _single_threaded(root: Any) -> Iterator[None]:
    """Disable implicit MT for the block: a chunk must be written in entry order."""
    was = bool(root.IsImplicitMTEnabled())
    size = int(root.GetThreadPoolSize()) if was else 0
    if was:
        root.DisableImplicitMT()
    try:
        yield
    finally:
        if was:
            root.EnableImplicitMT(size)


def _snapshot_options(root: Any, output_format: str = DEFAULT_OUTPUT_FORMAT) -> Any:
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


def _define_columns(df: Any, columns: Sequence[str], override: dict[str, str]) -> Any:
    for name in columns:
        df = df.Define(name, override.get(name, f"ev_.{name}"))
    return df


def _downscaled_control(df: Any, part: Part, cfg: str = "nutag::sim::SimConfig{}",
                        ) -> tuple[Any, str | None, dict[str, str]]:
    """Define ``tc_`` (control bit after a 1-in-D draw) for rare parts of pseudo-data."""
    sel = SELECTIONS[part.selection]
    if sel is not None:
        sel = sel.replace("{cfg}", cfg)
    if part.control_downscaling is None:
        return df, sel, {}
    df = df.Define("tc_", f"ev_.trigger_control && nutag_sim_unweight::one_in({part.seed}ULL, "
                          f"{part.stream}, entry_, {float(part.control_downscaling)!r})")
    if part.selection == "preselection":
        sel = f"nutag::sim::passes_nu_preselection(ev_, {cfg}) || tc_"
    elif part.selection == "trigger_control":
        sel = "tc_"
    return df, sel, {"trigger_control": "tc_"}


def produce_chunk(job: ChunkJob, path: str | os.PathLike) -> ChunkResult:
    """Write the entries of one chunk to ``path`` (``nutag``, TTree or RNTuple), single-threaded.

    A pure function of ``job``: the same job gives the same entries on any machine, in any
    process, at any time. Safe to call in worker processes (spawn) or in the main process.
    """
    root = worker_init()
    t0 = time.perf_counter()
    part, chunk = job.part, job.chunk
    cfg = cling_config(job.cfg_values, job.cfg_fields)
    columns = list(schema_columns(job.kind))
    gen = f"nutag::sim::generate_event({cfg}, {part.stream}, {part.seed}ULL, entry_)"
    opts = _snapshot_options(root, job.output_format)
    result = ChunkResult(n_generated=chunk.n, n_written=0)
    with _single_threaded(root):
        df = (root.RDataFrame(chunk.n)
              .Define("entry_", f"(ULong64_t)(rdfentry_ + {chunk.first}ULL)")
              .Define("ev_", gen))
        df, sel, override = _downscaled_control(df, part, cfg)
        if part.unweight_scale is None:
            if job.kind == "mc":
                df = df.Define("w_", "ev_.weight")
            sum_w = df.Sum("w_") if job.kind == "mc" else None
            max_w = df.Max("w_") if job.kind == "mc" else None
            out = df.Filter(sel, part.selection) if sel else df
            out = _define_columns(out, columns, override)
            count = out.Count()
            out.Snapshot(TREE, os.fspath(path), columns, opts)
            result.n_written = int(count.GetValue())
            if sum_w is not None:
                result.sum_weight = float(sum_w.GetValue())
                result.max_weight = float(max_w.GetValue()) if chunk.n else 0.0
        else:
            # pass 1: the number of copies of every entry (the generator runs once per entry)
            scale = repr(float(part.unweight_scale))
            df = (df.Define("w_", "ev_.weight")
                  .Define("k_", f"nutag_sim_unweight::poisson({part.seed}ULL, {part.stream}, "
                          f"entry_, {scale} * w_)"))
            sum_w, max_w = df.Sum("w_"), df.Max("w_")
            if part.skim:
                skim_expr = f"({part.skim})"
                if part.selection == "preselection":
                    skim_expr = f"trigger_control || (trigger_nu && {skim_expr})"
                skim_expr = skim_expr.replace("{cfg}", cfg)
                selected = _define_columns(df.Filter(sel, part.selection) if sel else df,
                                           columns, override).Filter(skim_expr, "skim")
            else:
                selected = df.Filter(sel, part.selection) if sel else df
            max_sel = selected.Max("w_")  # the copies that matter: of events that are written
            arrays = selected.Filter("k_ > 0u").AsNumpy(["entry_", "k_"])
            result.sum_weight = float(sum_w.GetValue())
            result.max_weight = float(max_w.GetValue()) if chunk.n else 0.0
            result.max_copies_mean = part.unweight_scale * max(float(max_sel.GetValue()), 0.0)
            import numpy as np  # noqa: PLC0415

            entries = np.repeat(np.asarray(arrays["entry_"], dtype=np.uint64),
                                np.asarray(arrays["k_"], dtype=np.int64))
            if part.max_written is not None and entries.size > part.max_written:
                raise ValueError(
                    f"pseudo-data stream {STREAM_NAMES[part.stream]}: entries "
                    f"[{chunk.first}, {chunk.first + chunk.n}) alone would write {entries.size} "
                    f"events (limit {part.max_written}; about "
                    f"{entries.size * part.n_events / max(chunk.n, 1):.3g} for the stream; "
                    f"N_K*max(w)/M = {result.max_copies_mean:.3g} copies per entry). At true "
                    "rates this stream is not rare after the skim: tighten data.skim, lower "
                    "n_kaon_decays, or force rarer configurations in the generator")
            # pass 2: regenerate the kept entries, each as often as drawn, in entry order
            if entries.size:
                df2 = root.RDF.FromNumpy({"entry_": entries}).Define("ev_", gen)
            else:
                df2 = (root.RDataFrame(0).Define("entry_", "(ULong64_t)0")
                       .Define("ev_", gen))
            df2, _, override = _downscaled_control(df2, part, cfg)
            df2 = _define_columns(df2, columns, override)
            df2.Snapshot(TREE, os.fspath(path), columns, opts)
            result.n_written = int(entries.size)
    result.seconds = time.perf_counter() - t0
    return result


def _run_job(job: ChunkJob, path: str) -> ChunkResult:  # top-level: picklable for spawn
    return produce_chunk(job, path)


# --------------------------------------------------------------------------- main side
@dataclass
class SampleResult:
    name: str
    path: str
    n_entries: int
    metadata: dict[str, Any]


class _Progress:
    """One line on stderr when it is a terminal: chunks done / total and events per second."""

    def __init__(self, total_chunks: int, total_events: int, enabled: bool | None = None):
        self.total_chunks, self.total_events = total_chunks, total_events
        self.done_chunks = self.done_events = 0
        self.enabled = sys.stderr.isatty() if enabled is None else enabled
        self.t0 = time.perf_counter()

    def update(self, n_events: int) -> None:
        self.done_chunks += 1
        self.done_events += n_events
        if self.enabled:
            dt = max(time.perf_counter() - self.t0, 1e-9)
            sys.stderr.write(f"\rnutag simulate: chunk {self.done_chunks}/{self.total_chunks}, "
                             f"{self.done_events:.3g}/{self.total_events:.3g} events, "
                             f"{self.done_events / dt:,.0f} ev/s   ")
            sys.stderr.flush()

    def close(self) -> None:
        if self.enabled and self.done_chunks:
            sys.stderr.write("\n")
            sys.stderr.flush()


def _git_provenance() -> dict[str, Any]:
    try:
        commit = subprocess.run(["git", "-C", str(REPO_ROOT), "rev-parse", "HEAD"],
                                capture_output=True, text=True, timeout=10)
        dirty = subprocess.run(["git", "-C", str(REPO_ROOT), "status", "--porcelain",
                                "--untracked-files=no"], capture_output=True, text=True,
                               timeout=10)
        return {"git_commit": commit.stdout.strip() or None,
                "git_dirty": bool(dirty.stdout.strip()) if dirty.returncode == 0 else None}
    except (OSError, subprocess.SubprocessError):
        return {"git_commit": None, "git_dirty": None}


def _merge(root: Any, chunk_files: list[str], target: str) -> None:
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
    from ..rootenv import capture_stderr  # noqa: PLC0415

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


def count_entries(root: Any, path: str, name: str = TREE) -> tuple[int, str]:
    """(entries, "ttree" or "rntuple") of the dataset ``name`` in ``path``, from metadata only.

    -1 entries when the file holds no such dataset. Counted by
    :func:`nutag.input_files.dataset_entries`, as every input of the analysis; strict here
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


def _write_metadata(root: Any, path: str, meta: dict[str, Any]) -> int:
    """Add the metadata TNamed to the merged file; return its entries, counted after the write.

    Counting on the reopened file (read-only, after the UPDATE is closed) also proves that
    adding a key to the file left the TTree or RNTuple readable.
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


def read_metadata(path: str | os.PathLike) -> dict[str, Any]:
    """The JSON metadata of a produced file."""
    from ..rootenv import import_root  # noqa: PLC0415

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


def _sample_metadata(spec: SampleSpec, cfg: SimConfigFile, results: list[list[ChunkResult]],
                     effective: dict[str, Any], chunk_size: int) -> dict[str, Any]:
    parts = []
    for part, res in zip(spec.parts, results):
        d = {"stream": STREAM_NAMES[part.stream], "stream_id": part.stream, "seed": part.seed,
             "n_generated": part.n_events, "selection": part.selection,
             "n_written": sum(r.n_written for r in res)}
        if spec.kind == "mc" or part.unweight_scale is not None:
            d["sum_weight_generated"] = math.fsum(r.sum_weight for r in res)
            d["max_weight"] = max((r.max_weight for r in res), default=0.0)
        if part.control_downscaling is not None:
            d["control_downscaling"] = part.control_downscaling
        if part.skim:
            d["skim"] = part.skim
        if part.unweight_scale is not None:
            d["unweighted"] = True
            d["max_copies_mean"] = max((r.max_copies_mean for r in res), default=0.0)
        parts.append(d)
    meta: dict[str, Any] = {
        "format": "nutag-sim/1", "sample": spec.name, "kind": spec.kind, "tree": TREE,
        "output_format": spec.output_format,
        "weight_convention": WEIGHT_CONVENTION, "weight_convention_doc": WEIGHT_CONVENTION_DOC,
        "config_file": cfg.path, "config_values": cfg.values, "config_hash": cfg.hash,
        "sim_config": effective, "nutag_version": __version__, "chunk_size": chunk_size,
        "parts": parts, "n_generated": sum(p.n_events for p in spec.parts),
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    if len(spec.parts) == 1:
        meta["stream"], meta["seed"] = parts[0]["stream"], parts[0]["seed"]
    else:
        meta["stream"] = "mixture"
        meta["seed"] = spec.parts[0].seed
    meta.update(spec.meta)
    meta.update(_git_provenance())
    return meta


def _effective_config(cfg: SimConfigFile) -> dict[str, Any]:
    from .config import check_against_cling, effective_values  # noqa: PLC0415

    root = worker_init()
    check_against_cling(cfg.fields, root)
    name = cling_config(cfg.values, cfg.fields)
    obj = root.gInterpreter.ProcessLine(f"&{name};")  # address of the const object
    cfg_obj = root.bind_object(obj, "nutag::sim::SimConfig")
    return effective_values(cfg_obj, cfg.fields)


def produce_samples(specs: Sequence[SampleSpec], cfg: SimConfigFile, out_dir: str | os.PathLike,
                    *, threads: int = 1, chunk_size: int = DEFAULT_CHUNK_SIZE,
                    progress: bool | None = None,
                    on_sample_done: Callable[[SampleResult], None] | None = None,
                    executor: cf.Executor | None = None,
                    ) -> dict[str, SampleResult]:
    """Produce every sample into ``out_dir/<name>.root`` sharing one pool of ``threads`` workers.

    ``threads == 1`` runs the chunks in this process (no spawn, no second C++ JIT); more runs
    a spawn-context process pool. The output is the same either way. ``executor`` (e.g. a
    Dask or HTCondor one, see :mod:`nutag.simulate.distributed`) runs the chunks instead; it
    must share the file system of ``out_dir`` and is not shut down here.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    scratch = out / f".nutag-scratch-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    scratch.mkdir()
    plans: list[list[list[tuple[ChunkJob, str]]]] = []
    for si, spec in enumerate(specs):
        sp = []
        for pi, part in enumerate(spec.parts):
            jobs = []
            for ci, chunk in enumerate(plan_chunks(part.n_events, chunk_size)):
                job = ChunkJob(part, chunk, spec.kind, dict(cfg.values), dict(cfg.fields),
                               spec.output_format)
                jobs.append((job, str(scratch / f"{si:02d}_{spec.name}_{pi:02d}_{ci:05d}.root")))
            if not jobs:  # an empty part still writes an (empty) dataset with every column
                job = ChunkJob(part, Chunk(0, 0), spec.kind, dict(cfg.values), dict(cfg.fields),
                               spec.output_format)
                jobs.append((job, str(scratch / f"{si:02d}_{spec.name}_{pi:02d}_00000.root")))
            sp.append(jobs)
        plans.append(sp)
    all_jobs = [j for sp in plans for jobs in sp for j in jobs]
    bar = _Progress(len(all_jobs), sum(j.chunk.n for j, _ in all_jobs), progress)
    results: dict[str, SampleResult] = {}
    own_executor = executor is None
    try:
        root = worker_init()
        effective = _effective_config(cfg)
        if executor is None and threads > 1:
            executor = cf.ProcessPoolExecutor(max_workers=threads,
                                              mp_context=mp.get_context("spawn"),
                                              initializer=worker_init)
        if executor is not None:
            futures = [[[executor.submit(_run_job, job, path) for job, path in jobs]
                        for jobs in sp] for sp in plans]
            for sp_f, sp in zip(futures, plans):
                for fl, jobs in zip(sp_f, sp):
                    for fut, (job, _) in zip(fl, jobs):
                        fut.add_done_callback(lambda f, n=job.chunk.n: bar.update(n))
        for si, spec in enumerate(specs):
            part_results: list[list[ChunkResult]] = []
            for pi, jobs in enumerate(plans[si]):
                if executor is None:
                    res = []
                    for job, path in jobs:
                        res.append(produce_chunk(job, path))
                        bar.update(job.chunk.n)
                else:
                    res = [fut.result() for fut in futures[si][pi]]
                part_results.append(res)
            for part, res in zip(spec.parts, part_results):
                written = sum(r.n_written for r in res)
                if part.max_written is not None and written > part.max_written:
                    raise ValueError(f"{spec.name}: stream {STREAM_NAMES[part.stream]} would "
                                     f"write {written} events (limit {part.max_written}); "
                                     "tighten data.skim or lower n_kaon_decays")
                if part.unweight_scale is not None:
                    worst = max((r.max_copies_mean for r in res), default=0.0)
                    if worst > UNWEIGHT_MEAN_WARN:
                        log.warning(
                            "%s: stream %s: N_K*max(w)/M = %.3g is not << 1, so events are "
                            "duplicated often; raise the number of generated events (M = %d)",
                            spec.name, STREAM_NAMES[part.stream], worst, part.n_events)
            tmp = str(out / f".{spec.name}.root.tmp-{os.getpid()}")
            final = str(out / f"{spec.name}.root")
            _merge(root, [p for jobs in plans[si] for _, p in jobs], tmp)
            meta = _sample_metadata(spec, cfg, part_results, effective, chunk_size)
            n = _write_metadata(root, tmp, meta)
            expected = sum(r.n_written for res in part_results for r in res)
            if n != expected:
                raise RuntimeError(f"{spec.name}: merged file has {n} entries, chunks wrote "
                                   f"{expected}")
            os.replace(tmp, final)
            results[spec.name] = SampleResult(spec.name, final, n, meta)
            log.info("%s: %d entries from %d generated -> %s", spec.name, n,
                     meta["n_generated"], final)
            if on_sample_done is not None:
                on_sample_done(results[spec.name])
    except BaseException:
        for spec in specs:
            with contextlib.suppress(OSError):
                os.remove(out / f".{spec.name}.root.tmp-{os.getpid()}")
        raise
    finally:
        if executor is not None and own_executor:
            executor.shutdown(wait=True, cancel_futures=True)
        bar.close()
        shutil.rmtree(scratch, ignore_errors=True)
    return results


def mc_sample(name: str, stream: str | int, n_events: int, seed: int, *,
              preselect: bool = True, output_format: str = DEFAULT_OUTPUT_FORMAT) -> SampleSpec:
    """A weighted MC sample of one stream."""
    sid = STREAMS[stream] if isinstance(stream, str) else int(stream)
    return SampleSpec(name, "mc", (Part(sid, seed, n_events,
                                        "preselection" if preselect else "none"),),
                      output_format=output_format)


def produce_sample(spec: SampleSpec, cfg: SimConfigFile, out_dir: str | os.PathLike,
                   **kwargs: Any) -> SampleResult:
    """Produce one sample (see :func:`produce_samples`)."""
    return produce_samples([spec], cfg, out_dir, **kwargs)[spec.name]


__all__ = [
    "Chunk", "ChunkJob", "ChunkResult", "Part", "SampleSpec", "SampleResult", "STREAMS",
    "OUTPUT_FORMATS", "DEFAULT_OUTPUT_FORMAT", "count_entries", "plan_chunks", "produce_chunk", "produce_samples", "produce_sample", "mc_sample",
    "read_metadata", "schema_columns", "worker_init",
]
