"""Produce simulated samples: plan the chunks, run them, merge them in order, publish each file.

Determinism. ``generate_event(cfg, stream, seed, entry)`` is a pure function, but a
multithreaded RDataFrame Snapshot writes entries in whatever order the threads finish. So the
entries are split into fixed-size chunks (:func:`nutag.simulate.spec.plan_chunks`, size
independent of the number of workers), every chunk is produced *single-threaded*
(:mod:`nutag.simulate.chunk_graph`; in a worker process, or inline when ``threads == 1``), and
the chunk files are merged in chunk order. The result has the same entries in the same order
for any number of workers — compare column by column: the files themselves are not
byte-identical, because every ROOT file embeds a UUID and creation dates.

The pieces: what to produce (:mod:`~nutag.simulate.spec`), the C++ of a process
(:mod:`~nutag.simulate.worker`), one chunk's RDataFrame graph
(:mod:`~nutag.simulate.chunk_graph`), per-stream totals and limits
(:mod:`~nutag.simulate.bookkeeping`), the metadata (:mod:`~nutag.simulate.metadata`) and the
file on disk, merge and atomic publish included (:mod:`~nutag.simulate.storage`). This module
only drives them.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import logging
import multiprocessing as mp
import os
import shutil
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .bookkeeping import check_part
from .chunk_graph import ChunkResult, produce_chunk, run_job
from .config import SimConfigFile
from .metadata import sample_metadata
from .spec import DEFAULT_CHUNK_SIZE, Chunk, ChunkJob, SampleSpec, plan_chunks
from .storage import final_path, merge_chunks, publish, scratch_dir, temp_path
from .worker import effective_config, worker_init

log = logging.getLogger("nutag.simulate")

#: (sample, part, chunk) -> (the job, its chunk file in the scratch directory)
Plan = list[list[list[tuple[ChunkJob, str]]]]


@dataclass
class SampleResult:
    """A published sample: its file, entries and the metadata stored in it."""

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


def _plan(specs: Sequence[SampleSpec], cfg: SimConfigFile, scratch: Path,
          chunk_size: int) -> Plan:
    """Every chunk job of every part of every sample, with its chunk file name (ordered, so
    the merge concatenates them in entry order)."""
    plans: Plan = []
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
    return plans


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
    scratch = scratch_dir(out)
    plans = _plan(specs, cfg, scratch, chunk_size)
    all_jobs = [j for sp in plans for jobs in sp for j in jobs]
    bar = _Progress(len(all_jobs), sum(j.chunk.n for j, _ in all_jobs), progress)
    results: dict[str, SampleResult] = {}
    own_executor = executor is None
    try:
        root = worker_init()
        effective = effective_config(cfg)
        if executor is None and threads > 1:
            executor = cf.ProcessPoolExecutor(max_workers=threads,
                                              mp_context=mp.get_context("spawn"),
                                              initializer=worker_init)
        if executor is not None:
            futures = [[[executor.submit(run_job, job, path) for job, path in jobs]
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
                check_part(spec.name, part, res)
            tmp = temp_path(out, spec.name)
            final = final_path(out, spec.name)
            merge_chunks(root, [p for jobs in plans[si] for _, p in jobs], tmp)
            meta = sample_metadata(spec, cfg, part_results, effective, chunk_size)
            expected = sum(r.n_written for res in part_results for r in res)
            n = publish(root, tmp, final, meta, expected, spec.name)
            results[spec.name] = SampleResult(spec.name, final, n, meta)
            log.info("%s: %d entries from %d generated -> %s", spec.name, n,
                     meta["n_generated"], final)
            if on_sample_done is not None:
                on_sample_done(results[spec.name])
    except BaseException:
        for spec in specs:
            with contextlib.suppress(OSError):
                os.remove(temp_path(out, spec.name))
        raise
    finally:
        if executor is not None and own_executor:
            executor.shutdown(wait=True, cancel_futures=True)
        bar.close()
        shutil.rmtree(scratch, ignore_errors=True)
    return results


def produce_sample(spec: SampleSpec, cfg: SimConfigFile, out_dir: str | os.PathLike,
                   **kwargs: Any) -> SampleResult:
    """Produce one sample (see :func:`produce_samples`)."""
    return produce_samples([spec], cfg, out_dir, **kwargs)[spec.name]


__all__ = ["SampleResult", "produce_sample", "produce_samples"]
