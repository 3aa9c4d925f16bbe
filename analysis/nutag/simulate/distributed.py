"""Distributed production for ``nutag simulate --backend local|dask|condor``.

Every backend runs the same :class:`~nutag.simulate.spec.ChunkJob` s (entry ranges with
their seeds, planned independently of the workers) through the pure
:func:`~nutag.simulate.chunk_graph.produce_chunk`, and
:func:`~nutag.simulate.produce.produce_samples` merges the chunk files in chunk order, adds the
metadata and replaces the output atomically on the submitting machine. So a Dask or HTCondor
production has the same entries, in the same order, as a local one. The backends are
``concurrent.futures`` executors handed to ``produce_samples(executor=...)``; workers must see
the output directory (shared file system).

* dask: ``client.get_executor()`` of a Client connected to ``scheduler`` or of a LocalCluster
  of single-threaded worker processes;
* condor: :class:`CondorExecutor` writes a job directory (jobs.pkl, job.sh, submit-K.sub,
  chunks-K.txt), submits one job per chunk with ``condor_submit`` when the first result is
  needed, and waits for the per-chunk DONE markers. A job runs
  ``python -m nutag.simulate.distributed --job JOBDIR --chunk N``. The job script, the submit
  text and the batch options are those of :mod:`nutag.engine.htcondor`, shared with ``nutag run``: the
  job directory may not be on EOS, and chunk files for an EOS output are written in the job's
  scratch directory and sent to EOS by HTCondor (``--scratch``); a chunk is then done when
  its file has arrived whole (the DONE marker records its size).
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import contextlib
import dataclasses
import os
import pickle
import shlex
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..engine.htcondor import (BatchOptions, EosTransfer, eos_path, job_script, refuse_eos_jobdir,
                        submit_description, validate_submit, write_job_script)

JOBS = "jobs.pkl"
JOB_SCRIPT = "job.sh"
BACKENDS = ("local", "dask", "condor")


class DistributedError(RuntimeError):
    """A chunk failed (or never finished) on a distributed backend."""


# --------------------------------------------------------------------------- condor
class _LazyFuture(cf.Future):
    """A future whose result() first submits the pending condor jobs of its executor."""

    def __init__(self, executor: CondorExecutor) -> None:
        super().__init__()
        self._executor = executor

    def result(self, timeout: float | None = None) -> Any:
        if not self.done():
            self._executor.flush()
        return super().result(timeout)


class CondorExecutor(cf.Executor):
    """Runs ``fn(job, path)`` calls (``fn``: chunk_graph.produce_chunk / run_job) as condor jobs.

    Calls are collected; the first ``result()`` writes them to ``jobdir`` and submits them all
    in one cluster, then polls the DONE markers every ``poll`` seconds. ``opts`` are the batch
    options (``flavour``/``max_retries`` override theirs, for callers that only set those).
    """

    def __init__(self, jobdir: str | os.PathLike, *, opts: BatchOptions | None = None,
                 flavour: str | None = None, max_retries: int | None = None,
                 poll: float = 10.0, timeout: float | None = None,
                 python: str | None = None) -> None:
        refuse_eos_jobdir(jobdir)
        self.jobdir = Path(jobdir).resolve()
        over = {k: v for k, v in (("flavour", flavour), ("max_retries", max_retries))
                if v is not None}
        self.opts = dataclasses.replace(opts or BatchOptions(), **over)
        self.max_retries = self.opts.max_retries
        self.poll, self.timeout = poll, timeout
        self.python = python or sys.executable
        self._pending: list[tuple[Any, str, _LazyFuture]] = []
        self._all: list[tuple[Any, str, _LazyFuture]] = []
        self._lock = threading.Lock()
        self._k = 0

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> cf.Future:
        job, path = args[0], str(args[1])
        fut = _LazyFuture(self)
        self._pending.append((job, path, fut))
        return fut

    def _script(self) -> str:
        body = f"""echo "nutag simulate: chunk $1 on $(hostname) at $(date -u +%FT%TZ)"
exec {shlex.quote(self.python)} -m nutag.simulate.distributed \\
  --job {shlex.quote(str(self.jobdir))} --chunk "$@"
"""
        return job_script(title=f"produces ONE chunk of {self.jobdir}. Usage: job.sh CHUNK_ID",
                          setup=self.opts.setup, body=body)

    def submit_description(self, k: int, eos_dir: str | None = None) -> str:
        """Submission ``k``; with ``eos_dir`` the chunk files travel from scratch to EOS (the
        chunks file then names each job's file: ``queue chunk,outfile from ...``)."""
        eos = EosTransfer("$(outfile)", eos_dir) if eos_dir else None
        return submit_description(jobdir=self.jobdir, k=k, title="nutag simulate",
                                  opts=self.opts, eos=eos,
                                  variables="chunk,outfile" if eos else "chunk",
                                  arguments="$(chunk) --scratch" if eos else "$(chunk)")

    def flush(self) -> None:
        with self._lock:
            batch, self._pending = self._pending, []
            if batch:
                self._submit(batch)
        self._wait()

    def _submit(self, batch: list[tuple[Any, str, _LazyFuture]]) -> None:
        d = self.jobdir
        if self._k == 0 and (d / JOBS).exists():  # stale DONE markers would be taken as ours
            raise DistributedError(f"{d} holds an earlier production; choose a new --condor-dir")
        dirs = {os.path.dirname(path) for _, path, _ in batch}
        eos_dir = dirs.pop() if len(dirs) == 1 and eos_path(next(iter(dirs))) else None
        if eos_dir is None and any(eos_path(x) for x in dirs):  # one output_destination each
            raise DistributedError(f"chunk files of one submission in several directories, "
                                   f"some on EOS ({sorted(dirs)}); one output at a time")
        (d / "logs").mkdir(parents=True, exist_ok=True)
        (d / "done").mkdir(exist_ok=True)
        first = len(self._all)
        self._all.extend(batch)
        tmp = d / f".{JOBS}.tmp"
        tmp.write_bytes(pickle.dumps([(job, path) for job, path, _ in self._all]))
        os.replace(tmp, d / JOBS)
        write_job_script(d / JOB_SCRIPT, self._script())
        k = self._k
        self._k += 1
        lines = [f"{first + n} {os.path.basename(path)}" if eos_dir else str(first + n)
                 for n, (_, path, _) in enumerate(batch)]
        (d / f"chunks-{k}.txt").write_text("".join(f"{line}\n" for line in lines))
        text = self.submit_description(k, eos_dir)
        validate_submit(text, workdir=d)
        (d / f"submit-{k}.sub").write_text(text)
        proc = subprocess.run(["condor_submit", str(d / f"submit-{k}.sub")],
                              capture_output=True, text=True, cwd=d)
        if proc.returncode != 0:
            raise DistributedError(f"condor_submit failed ({proc.returncode}): "
                                   f"{proc.stderr.strip() or proc.stdout.strip()}")

    def _wait(self) -> None:
        t0 = time.monotonic()
        while True:
            open_ = [(i, e) for i, e in enumerate(self._all) if not e[2].done()]
            for i, (_, path, fut) in open_:
                done = self.jobdir / "done" / f"{i}.pkl"
                failed = self.jobdir / "done" / f"{i}.failed"
                if done.exists():
                    marker = pickle.loads(done.read_bytes())
                    if _arrived(path, marker["bytes"]):
                        fut.set_result(marker["result"])
                elif failed.exists() and \
                        failed.read_text().count("\f") > self.max_retries:
                    fut.set_exception(DistributedError(
                        f"chunk {i} failed {self.max_retries + 1} times; last error:\n"
                        + failed.read_text().split("\f")[-2]))
            if all(e[2].done() for e in self._all):
                return
            if self.timeout is not None and time.monotonic() - t0 > self.timeout:
                raise DistributedError(f"condor chunks not finished after {self.timeout} s; "
                                       f"see {self.jobdir}/logs")
            time.sleep(self.poll)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        if cancel_futures:
            for _, _, fut in self._pending:
                fut.cancel()
            self._pending = []


def _arrived(path: str, size: int) -> bool:
    """The chunk file is there whole (an EOS one arrives after its DONE marker)."""
    try:
        return os.path.getsize(path) == size
    except OSError:
        return False


def run_condor_chunk(jobdir: str | os.PathLike, chunk: int, *, scratch: bool = False) -> None:
    """Worker side: produce chunk ``chunk`` of ``jobdir``, then write its DONE marker.

    ``scratch``: write the file under its name in the working directory (the job's scratch
    directory), for HTCondor to send it to its EOS directory when the job ends.
    """
    from .chunk_graph import produce_chunk  # noqa: PLC0415

    d = Path(jobdir)
    job, path = pickle.loads((d / JOBS).read_bytes())[chunk]
    target = os.path.join(os.getcwd(), os.path.basename(path)) if scratch else path
    try:
        res = produce_chunk(job, target)
    except BaseException:
        with open(d / "done" / f"{chunk}.failed", "a") as f:
            f.write(traceback.format_exc() + "\f")
        if scratch:  # HTCondor holds a job whose transfer_output_files is missing
            Path(target).touch()
        raise
    marker = {"result": res, "bytes": os.path.getsize(target)}
    tmp = d / "done" / f".{chunk}.pkl.tmp-{os.getpid()}"
    tmp.write_bytes(pickle.dumps(marker))
    os.replace(tmp, d / "done" / f"{chunk}.pkl")


# --------------------------------------------------------------------------- selection
@contextlib.contextmanager
def backend_executor(backend: str = "local", *, scheduler: str | None = None,
                     workers: int = 2, condor_dir: str | os.PathLike | None = None,
                     flavour: str | None = None, out_dir: str | os.PathLike | None = None,
                     poll: float = 10.0, batch: BatchOptions | None = None
                     ) -> Iterator[cf.Executor | None]:
    """The executor for ``produce_samples(executor=...)``; None for the local backend.

    condor: ``batch`` options (``flavour`` overrides its flavour); the job directory defaults
    to a hidden one in ``out_dir``, or in the working directory when ``out_dir`` is on EOS.
    """
    if backend == "local":
        yield None
    elif backend == "dask":
        from distributed import Client  # noqa: PLC0415

        from ..engine.backends.dask_backend import local_cluster  # noqa: PLC0415

        cluster = None if scheduler else local_cluster(workers)
        client = Client(scheduler) if scheduler else Client(cluster)
        try:
            yield client.get_executor()
        finally:
            client.close()
            if cluster is not None:
                cluster.close()
    elif backend == "condor":
        if condor_dir is None:
            base = Path(out_dir or ".")
            base = Path.cwd() if eos_path(base) else base
            condor_dir = base / f".nutag-condor-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}"
        yield CondorExecutor(condor_dir, opts=batch, flavour=flavour, poll=poll)
    else:
        raise ValueError(f"unknown backend {backend!r}: one of {BACKENDS}")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m nutag.simulate.distributed",
                                description="run one chunk of a `nutag simulate --backend "
                                            "condor` job directory")
    p.add_argument("--job", required=True, type=Path, help="job directory")
    p.add_argument("--chunk", required=True, type=int, help="chunk id")
    p.add_argument("--scratch", action="store_true",
                   help="write the chunk file in the working directory (HTCondor sends it on)")
    args = p.parse_args(argv)
    run_condor_chunk(args.job, args.chunk, scratch=args.scratch)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
