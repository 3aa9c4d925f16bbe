"""Run the analysis graphs on Dask with ROOT's distributed RDataFrame (6.40 API).

The graph code does not change: ``graph.build_graph(..., make_df=session.make_df)`` books on
``ROOT.RDataFrame(tree, files, executor=client, npartitions=N)``, and :func:`run_graphs` runs
every sample's graph concurrently on the cluster, one execution each, through the public API
(the value of one result of each graph, asked for from one thread per graph). ROOT splits each sample into ``N`` entry ranges
aligned on TTree clusters, runs one task per range and merges the partial results
(``TH1::Merge``, sums of counts and weights) before handing them back.

What a worker needs and how it gets it. Tasks JIT the same C++ expressions as a local run, so
every worker process must have nutag's C++ helpers declared. ``ROOT.RDF.Distributed.
DistributeHeaders`` flattens headers to their basenames, which breaks nutag's
``#include "nutag/..."`` tree, so nutag ships ONE tarball instead (``DistributeFiles``): the
headers and sources (for the JIT fallback), ``libnutag.so`` with its dictionary ``.pcm`` and
``.rootmap`` when built, and the correctionlib JSON files. ``initialize(worker_setup, ...)``
unpacks it in the worker's local directory and calls ``nutag.engine.cpp.load_cpp`` against it, then
declares the correctionlib sets (``nutag.engine.corrections.declare_payload``, JSON text shipped with
the task).
ROOT runs the initialisation function at the start of EVERY task (measured), so it is
idempotent: the unpacked directory is reused and ``load_cpp`` returns at once when loaded.
Only process-based workers are supported (cling is not safe to drive from several Python
threads of one worker), hence ``threads_per_worker=1``.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import logging
import os
import shutil
import sys
import tarfile
import tempfile
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..graph import SampleGraph
from ..rdf_nodes import is_distributed
from ...core.rootenv import import_root
from ...core.locations import PACKAGE_DIR
# the clusters (a choice of the run) live apart; named here too for the session's callers
from .dask_clusters import (BATCH_CLUSTERS, CLUSTERS, DEFAULT_WORKER_MEMORY,  # noqa: F401
                            condor_cluster, local_cluster, lxplus_cluster)

log = logging.getLogger("nutag.engine.backends.dask")

BUNDLE_PREFIX = "nutag-bundle-"


# --------------------------------------------------------------------------- worker bundle
def bundle_members(corrections: Iterable[str] = ()) -> list[tuple[Path, str]]:
    """(local path, name in the bundle) of everything a worker needs to declare nutag's C++."""
    from .. import cpp  # noqa: PLC0415

    root = cpp.source_root()
    members: list[tuple[Path, str]] = []
    for base in (root / "cpp" / "include", root / "cpp" / "src"):
        for p in sorted(base.rglob("*")):
            if p.is_file() and p.suffix in (".hpp", ".h", ".cpp", ".cxx", ".hxx"):
                members.append((p, p.relative_to(root).as_posix()))
    lib = cpp.library_path()
    if lib is not None:
        for p in sorted(lib.parent.glob("libnutag*")):
            if p.suffix in (".so", ".pcm", ".rootmap", ".dylib"):
                members.append((p, f"build/{p.name}"))
    for c in corrections:
        members.append((Path(c), f"corrections/{Path(c).name}"))
    return members


def make_bundle(directory: str | os.PathLike, corrections: Iterable[str] = ()) -> Path:
    """Write the worker tarball into ``directory``; its name carries a content hash, so a
    changed library or header is never confused with a stale unpacked copy on a worker."""
    members = bundle_members(corrections)
    digest = hashlib.sha256()
    for path, name in members:
        digest.update(name.encode())
        digest.update(path.read_bytes())
    target = Path(directory) / f"{BUNDLE_PREFIX}{digest.hexdigest()[:16]}.tar.gz"
    if not target.exists():
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w:gz") as tar:
            for path, name in members:
                info = tar.gettarinfo(str(path), arcname=name)
                info.mtime, info.uid, info.gid, info.uname, info.gname = 0, 0, 0, "", ""
                with open(path, "rb") as fh:
                    tar.addfile(info, fh)
        tmp = target.with_suffix(".tmp")
        tmp.write_bytes(buf.getvalue())
        os.replace(tmp, target)
    return target


def python_zip(directory: str | os.PathLike) -> Path:
    """The nutag Python package as a zip, for workers that do not share this checkout."""
    pkg = PACKAGE_DIR
    target = Path(directory) / "nutag-python.zip"
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
        for p in sorted(pkg.rglob("*.py")):
            zf.write(p, (Path("nutag") / p.relative_to(pkg)).as_posix())
    return target


def bundle_cache() -> Path:
    """Where bundles are kept: content-addressed, so they are reused across sessions (ROOT's
    registry of files to distribute is process-global and outlives a session)."""
    env = os.environ.get("NUTAG_DASK_CACHE")
    base = Path(env) if env else Path(tempfile.gettempdir()) / f"nutag-dask-{os.getuid()}"
    base.mkdir(parents=True, exist_ok=True)
    return base


def _forget_old_bundles(current: Path) -> None:
    """Drop bundles of earlier sessions from distributed RDF's (class-level) file registry."""
    try:
        from ROOT._distrdf.Backends.Base import BaseBackend  # noqa: PLC0415
    except ImportError:  # pragma: no cover - layout of another ROOT version
        return
    for f in list(BaseBackend.files):
        if Path(f).name.startswith(BUNDLE_PREFIX) and Path(f) != current:
            BaseBackend.files.discard(f)


def _unpack(bundle: Path, target: Path) -> None:
    """Unpack once per worker directory; concurrent unpackers race to one ``os.replace``."""
    if (target / ".complete").exists():
        return
    tmp = Path(tempfile.mkdtemp(prefix=".unpack-", dir=target.parent))
    with tarfile.open(bundle) as tar:
        tar.extractall(tmp, filter="data")
    (tmp / ".complete").write_text("ok\n")
    try:
        os.replace(tmp, target)
    except OSError:  # another task won: keep theirs
        shutil.rmtree(tmp, ignore_errors=True)


def worker_setup(bundle_name: str | None, mode: str | None = None,
                 corrections: dict[str, tuple[str, str]] | None = None) -> str:
    """Make nutag's C++ callable in this process; safe to call at the start of every task.

    On a Dask worker the bundle uploaded by ``DistributeFiles`` sits in the worker's local
    directory: unpack it there once and point ``nutag.engine.cpp`` at it. In the client process (ROOT
    also runs the initialisation locally) the checkout is used as is. A worker also gets
    nutag's SIGFPE handler (:func:`nutag.core.fpe_guard.guard_worker`): an integer division by zero
    cannot be caught in its C++ loop, so it prints what happened and ends at once.
    """
    local = None
    try:
        from distributed import get_worker  # noqa: PLC0415

        local = Path(get_worker().local_directory)
    except (ImportError, ValueError):
        pass
    if local is not None and bundle_name and (local / bundle_name).is_file():
        target = local / bundle_name.removesuffix(".tar.gz")
        _unpack(local / bundle_name, target)
        os.environ["NUTAG_SOURCE_DIR"] = str(target)
        lib = target / "build" / "libnutag.so"
        if lib.is_file():
            os.environ["NUTAG_LIBRARY"] = str(lib)
        if (target / "corrections").is_dir():
            os.environ["NUTAG_CORRECTIONS_DIR"] = str(target / "corrections")
    if local is not None:
        from ...core.fpe_guard import guard_worker  # noqa: PLC0415

        guard_worker()
    from ..cpp import load_cpp  # noqa: PLC0415

    loaded = load_cpp(mode)
    if corrections:  # correctionlib sets travel as JSON text; declaring again is a no-op
        from ..corrections import declare_payload  # noqa: PLC0415

        declare_payload(corrections)
    return loaded


# --------------------------------------------------------------------------- session
@dataclass
class DaskSession:
    """A Dask client prepared for distributed RDataFrame; closes what it created.

    ``make_df`` is the dataframe factory to pass to ``build_graph``; ``run`` triggers every
    booked result of every graph, one execution per graph (:func:`run_graphs`).
    """

    client: Any
    partitions: int | None = None
    cluster: Any = None
    own_client: bool = False
    corrections: list[str] = field(default_factory=list)
    ship_python: bool = False
    cpp_mode: str | None = None
    _scratch: tempfile.TemporaryDirectory | None = None

    @classmethod
    def from_options(cls, *, analysis: Any = None, client: Any = None,
                     scheduler: str | None = None, workers: int = 2,
                     partitions: int | None = None, cluster: str = "local",
                     condor: dict[str, Any] | None = None, ship_python: bool | None = None,
                     cpp_mode: str | None = None, **_: Any) -> DaskSession:
        """Connect to ``client`` / ``scheduler`` (address), else start a cluster:
        ``cluster="local"`` (LocalCluster, ``workers`` processes), ``"condor"``
        (HTCondorCluster with the ``condor`` keywords) or ``"lxplus"`` (dask-lxplus'
        CernCluster, the same keywords but ``python`` and ``host``/``port``)."""
        from distributed import Client  # noqa: PLC0415

        corrections = list(getattr(analysis, "corrections", []) or [])
        own, clus = False, None
        if client is None:
            if scheduler:
                client = Client(scheduler)
            elif cluster == "local":
                clus = local_cluster(workers)
                client = Client(clus)
            elif cluster in BATCH_CLUSTERS:
                copts = dict(condor or {})
                timeout = copts.pop("start_timeout", 600)
                clus = BATCH_CLUSTERS[cluster](workers, **copts)
                client = Client(clus)
                client.wait_for_workers(1, timeout=timeout)
            else:
                raise ValueError(f"unknown Dask cluster {cluster!r}: "
                                 f"{', '.join(CLUSTERS)}")
            own = True
        if ship_python is None:  # a remote cluster may not see this checkout
            ship_python = bool(scheduler) or cluster in BATCH_CLUSTERS
        session = cls(client, partitions, clus, own, corrections, ship_python, cpp_mode)
        session.prepare()
        return session

    def prepare(self) -> None:
        """Register the worker bundle and the idempotent initialisation with distributed RDF."""
        ROOT = import_root()
        cache = bundle_cache()
        bundle = make_bundle(cache, self.corrections)
        if self.ship_python:
            self._scratch = tempfile.TemporaryDirectory(prefix="nutag-dask-")
            # Workers only: Client.upload_file also uploads to the scheduler, which for a local
            # or HTCondor cluster lives in THIS process, and would put the (temporary) zip first
            # on our sys.path — nutag modules not yet imported then vanish with the zip.
            from distributed.diagnostics.plugin import UploadFile  # noqa: PLC0415

            self.client.register_plugin(UploadFile(str(python_zip(self._scratch.name))),
                                        name="nutag-python")
        _forget_old_bundles(bundle)
        ROOT.RDF.Distributed.DistributeFiles([str(bundle)])
        payload = None
        if self.corrections:
            from ..corrections import corrections_payload  # noqa: PLC0415

            payload = corrections_payload(self.corrections)
        ROOT.RDF.Distributed.initialize(worker_setup, bundle.name, self.cpp_mode, payload)
        _preimport_jobqueue()
        log.info("dask: %s, worker bundle %s", self.client, bundle.name)

    def make_df(self, sample: Any) -> Any:
        """The distributed root dataframe of one sample (TTree or RNTuple), empty RNTuples left
        out; a LOCAL empty one for a sample with nothing to read
        (:func:`nutag.config.input_files.sample_dataframe`; :func:`run_graphs` runs it here)."""
        from ...config.input_files import sample_dataframe  # noqa: PLC0415

        kw: dict[str, Any] = {"executor": self.client}
        if self.partitions:
            kw["npartitions"] = int(self.partitions)
        df = sample_dataframe(sample, **kw)
        return count_executions(df) if is_distributed(df) else df

    def run(self, graphs: list[SampleGraph]) -> int:
        return run_graphs(graphs)

    def close(self) -> None:
        if self.own_client:
            self.client.close()
            if self.cluster is not None:
                self.cluster.close()
        if self._scratch is not None:
            self._scratch.cleanup()
            self._scratch = None

    def __enter__(self) -> DaskSession:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def progress_wanted(stream: Any = None) -> bool:
    """Show Dask's progress bar only on an interactive terminal (stderr a TTY): redrawn with a
    carriage return every 0.1 s, it floods log files, CI and captured test output otherwise."""
    stream = sys.stderr if stream is None else stream
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # closed or not a file
        return False


def _stderr_progress(*futures: Any, **kwargs: Any) -> None:
    """``distributed.progress`` drawn on stderr: ``nutag run``'s stdout must end with the
    results directory. (Redirecting ``sys.stdout`` does not work: the bar is drawn from the
    client's IO-loop thread, which still writes to the original stdout — measured.)"""
    from distributed.client import futures_of  # noqa: PLC0415
    from distributed.diagnostics.progressbar import TextProgressBar  # noqa: PLC0415

    class StderrBar(TextProgressBar):
        def _draw_bar(self, remaining: int, all: int, **kw: Any) -> None:  # noqa: A002
            frac = (1 - remaining / all) if all else 1.0
            msg = (f"\r[{'#' * int(self.width * frac):<{self.width}}] | {int(100 * frac)}% "
                   f"Completed | {self.elapsed:.1f} s")
            with contextlib.suppress(ValueError):
                sys.stderr.write(msg)
                sys.stderr.flush()

        def _draw_stop(self, **kw: Any) -> None:
            with contextlib.suppress(ValueError):
                sys.stderr.write("\33[2K\r")
                sys.stderr.flush()

    StderrBar(futures_of(futures), complete=kwargs.get("complete", True))


def _no_progress(*futures: Any, **kwargs: Any) -> None:
    """No bar: ROOT's Dask backend calls ``.compute()`` right after, which waits anyway."""


@contextlib.contextmanager
def _progress_bar() -> Any:
    """While ROOT's Dask backend runs a graph: its progress bar on stderr when stderr is a
    terminal, none otherwise. Swaps the ``progress`` ROOT's backend module imported (there is
    no option for it); restored afterwards."""
    try:
        from ROOT._distrdf.Backends.Dask import Backend as _backend  # noqa: PLC0415
    except ImportError:  # another ROOT layout: leave its bar alone
        yield
        return
    original = getattr(_backend, "progress", None)
    _backend.progress = _stderr_progress if progress_wanted() else _no_progress
    try:
        yield
    finally:
        if original is not None:
            _backend.progress = original


def _preimport_jobqueue() -> None:
    """Import ``dask_jobqueue`` (if installed) in the MAIN thread, keeping our SIGINT handler.

    ROOT's Dask backend imports it lazily when a graph starts (``get_total_cores``), and
    distributed ``RunGraphs`` starts graphs from worker threads; ``dask_jobqueue`` installs a
    SIGINT handler at import, which raises ``ValueError`` outside the main thread. ROOT's
    RunGraphs swallows that error, and the graph then ran AGAIN, alone, on its first
    ``GetValue`` (measured: a second event loop). Importing it here first avoids both; the
    handler it installs (``sys.exit`` on Ctrl-C) is undone so Ctrl-C stays a
    KeyboardInterrupt.
    """
    import signal  # noqa: PLC0415
    import threading  # noqa: PLC0415

    if "dask_jobqueue" in sys.modules or threading.current_thread() is not threading.main_thread():
        return
    handler = signal.getsignal(signal.SIGINT)
    try:
        import dask_jobqueue  # noqa: F401, PLC0415
    except ImportError:
        return
    finally:
        if handler is not None:
            signal.signal(signal.SIGINT, handler)


def count_executions(df: Any) -> Any:
    """Count every execution of a distributed dataframe's graph (``head.nutag_executions``),
    whoever triggers it (RunGraphs or a stray ``GetValue``): ``backends.n_runs_of`` reads it, so
    the one-event-loop-per-sample invariant is checked on Dask as it is locally."""
    head = df._headnode
    if getattr(head, "nutag_counting", False):
        return df
    run = head.execute_graph

    def execute_graph() -> None:
        head.nutag_executions = getattr(head, "nutag_executions", 0) + 1
        run()

    head.execute_graph = execute_graph
    head.nutag_executions = 0
    head.nutag_counting = True
    return df


def run_graphs(graphs: list[SampleGraph]) -> int:
    """Run every booked result of every graph: ONE execution per sample, concurrently.

    What ``ROOT.RDF.RunGraphs`` does for distributed dataframes (one submission thread per
    graph), through the public API only: each thread asks its graph for the value of one
    booked result, which runs the graph's single execution and fills all of its results.
    Unlike ``RunGraphs``, an error in a thread is raised here, as :func:`nutag.engine.run.loop_error`
    words it for the sample that failed, instead of being swallowed (ROOT only waits on its
    futures, and a failed graph would then run again on its first ``GetValue``). Local graphs
    (samples with nothing to read) run in this process.

    An arithmetic fault (SIGFPE) in a worker's loop cannot be caught there: the worker prints
    nutag's message and ends (:func:`worker_setup`), Dask gives up on the task with
    ``KilledWorker``, and the error names the samples and their YAML expressions that divide
    (:func:`nutag.engine.run.worker_died_error`).
    """
    import concurrent.futures  # noqa: PLC0415

    from ..run import loop_error, run_booked  # noqa: PLC0415

    local = [g for g in graphs if not is_distributed(g.df)]
    graphs = [g for g in graphs if is_distributed(g.df)]
    if local:
        run_booked(local)
    booked = [ptr for g in graphs for ptr in g.booked]
    if not booked:
        return len(local)
    _preimport_jobqueue()
    for g in graphs:
        head = getattr(g.df, "_headnode", None)
        if head is not None and not getattr(head, "nutag_counting", False):
            count_executions(g.df)
    running = [g for g in graphs if g.booked]
    with _progress_bar():
        with concurrent.futures.ThreadPoolExecutor(max_workers=len(running)) as pool:
            futures = [(g, pool.submit(g.booked[0].GetValue)) for g in running]
        failed = [(g, f.exception()) for g, f in futures if f.exception() is not None]
        if failed:
            g, exc = failed[0]
            if isinstance(exc, ImportError) or not isinstance(exc, Exception):
                raise exc  # a missing optional module, an interrupt: not the loop's error
            raise loop_error([g], exc) from None
        n = len(running)
    missing = [g.name for g in graphs for ptr in g.booked
               if getattr(getattr(ptr, "proxied_node", None), "value", 0) is None]
    if missing:
        raise RuntimeError(f"distributed run left results of {sorted(set(missing))} unfilled")
    log.info("dask: ran %d graphs (%d results), one execution each", n, len(booked))
    return n + len(local)
