"""The RDataFrame graph that writes one chunk: RDataFrame(n) -> generate_event -> Snapshot.

Determinism. ``nutag::sim::generate_event(cfg, stream, seed, entry)`` is a pure function, but a
multithreaded RDataFrame Snapshot writes entries in whatever order the threads finish. So every
chunk (:func:`nutag.simulate.spec.plan_chunks`) is written *single-threaded* here, whatever
process runs it, and :mod:`nutag.simulate.produce` merges the chunks in chunk order. The chunk is
the unit of every backend (a process pool, Dask, HTCondor): :func:`produce_chunk` is a pure
function of its :class:`~nutag.simulate.spec.ChunkJob`.

Unweighting (pseudo-data). For a weighted stream generated with M entries, entry i is written
k_i ~ Poisson(N_K * w_i / M) times, k_i drawn from a random stream of its own derived from
(seed, stream, entry) (see ``_UNWEIGHT_CPP`` in :mod:`nutag.simulate.worker`). The number of
written copies of events in any region S is then a sum of independent Poissons, i.e. Poisson
with mean N_K * sum_S w_i / M — exactly the expected data count of the weight convention — and
the written events follow the weighted kinematic distribution. No accept/reject against a
maximum weight is needed, so the result is exact whatever the weight spread; the price is
duplicates when N_K*w_i/M is not << 1, which is checked and warned about
(:mod:`nutag.simulate.bookkeeping`). Duplicates are produced by generating the entry again (the
generator is pure), so no event is ever held in memory.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from .spec import SELECTIONS, STREAM_NAMES, ChunkJob, Part
from .storage import TREE, schema_columns, snapshot_options
from .worker import cling_config, config_object, worker_init


@dataclass
class ChunkResult:
    """What a chunk wrote and saw: the counts and weights its sample's metadata sums up."""

    n_generated: int
    n_written: int
    sum_weight: float = 0.0      # over all generated entries (before any selection)
    max_weight: float = 0.0
    max_copies_mean: float = 0.0  # unweighting: max of N_K * w_i / M
    seconds: float = 0.0


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


def _define_columns(df: Any, columns: Sequence[str], override: dict[str, str]) -> Any:
    """The schema columns, read from the generated event ``ev_`` unless ``override`` names
    another expression (the downscaled control bit).

    Why compiled: as strings (``ev_.<member>``) the ~50 Defines cost every process that writes
    chunks about 6 s of cling compilation before its first event, more than a small chunk's
    whole loop. ``nutag::sim::define_event_members`` (cpp/src/sim/chunk_columns.cpp) defines
    the same members, with the same types, from code compiled by the library build; a member
    it does not list is still written through cling, only slower."""
    root = worker_init()
    known = compiled_event_members(root)
    fast = [c for c in columns if c not in override and c in known]
    df = root.nutag.sim.define_event_members(root.RDF.AsRNode(df), fast, fast, "ev_")
    for name in columns:
        if name not in fast:
            df = df.Define(name, override.get(name, f"ev_.{name}"))
    return df


def compiled_event_members(root: Any) -> frozenset[str]:
    """The Event members ``nutag::sim::define_event_members`` defines (once per process)."""
    if "members" not in _compiled:
        _compiled["members"] = frozenset(str(m) for m in root.nutag.sim.event_member_names())
    return _compiled["members"]


_compiled: dict[str, frozenset[str]] = {}


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
    opts = snapshot_options(root, job.output_format)
    result = ChunkResult(n_generated=chunk.n, n_written=0)
    with _single_threaded(root):
        # entry_ = rdfentry_ + first and ev_ = generate_event(cfg, stream, seed, entry_),
        # compiled (cpp/src/sim/chunk_columns.cpp) like the columns read from it
        df = root.nutag.sim.generated_events(chunk.n, config_object(root, cfg), part.stream,
                                             part.seed, chunk.first)
        df, sel, override = _downscaled_control(df, part, cfg)
        if part.unweight_scale is None:
            if job.kind == "mc":
                df = root.nutag.sim.define_event_members(df, ["w_"], ["weight"], "ev_")
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
            df = (root.nutag.sim.define_event_members(df, ["w_"], ["weight"], "ev_")
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


def run_job(job: ChunkJob, path: str) -> ChunkResult:  # top-level: picklable for spawn
    return produce_chunk(job, path)


__all__ = ["ChunkResult", "produce_chunk", "run_job"]
