"""Run every booked graph in ONE event loop and return plain-Python results.

Why one ``RunGraphs`` call: each sample's dataframe is read once for all regions,
histograms and cutflows, and ``GetNRuns() == 1`` proves it (``backends.n_runs_of``: one
execution per distributed dataframe). ``run`` accepts local graphs and graphs booked on
ROOT's distributed RDataFrame (``graph.build_graph`` with ``make_df``, see
``nutag.engine.backends.dask_backend``); HTCondor jobs call it on their chunk
(``nutag.engine.backends.chunk``).

Threading: ``configure_threads(n)`` must be called BEFORE any RDataFrame is created
(``build_graph``): ROOT fixes the number of processing slots of a dataframe when it is
constructed, so enabling implicit multithreading afterwards is too late.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..results import cutflow as _cutflow
from ..core.errors import NutagError
from ..config.expressions import EXPRESSION_ERROR
from ..core.fpe_guard import fpe_named
from .graph import SampleGraph
from .rdf_nodes import is_distributed as is_distributed_node
from .rdf_nodes import n_runs_of
from ..core.rootenv import import_root

log = logging.getLogger("nutag.engine.run")


@dataclass
class RegionOutput:
    """Computed results of one region: cutflow rows, detached histograms, extras' values."""

    cutflow: list[dict[str, Any]]
    histos: dict[str, Any]
    extras: dict[str, Any] = field(default_factory=dict)
    #: final sum of weights, nominal and varied: ``{"nominal": v, "<source>:up": v, ...}``
    variations: dict[str, float] = field(default_factory=dict)


@dataclass
class SampleResult:
    name: str
    kind: str
    n_runs: int
    regions: dict[str, RegionOutput]
    blinded_regions: list[str]
    blinded: bool
    #: the execution route of the sample's graph and why (:mod:`nutag.engine.routes`)
    route: str = ""


@dataclass
class RunResults:
    samples: dict[str, SampleResult]
    threads: int
    backend: str


def configure_threads(n: int) -> int:
    """Enable ROOT implicit multithreading with ``n`` threads (n > 1); call before build_graph.

    Returns the thread-pool size in effect (1 when sequential). Process-global in ROOT.
    """
    ROOT = import_root()
    if n > 1 and not ROOT.IsImplicitMTEnabled():
        ROOT.EnableImplicitMT(n)
        log.info("implicit multithreading enabled with %d threads", ROOT.GetThreadPoolSize())
    return int(ROOT.GetThreadPoolSize()) if ROOT.IsImplicitMTEnabled() else 1


def _detach(value: Any) -> Any:
    """Make a computed result independent of ROOT's memory/file bookkeeping."""
    ROOT = import_root()
    if isinstance(value, ROOT.TH1):
        clone = value.Clone(value.GetName())
        clone.SetDirectory(0)
        return clone
    if isinstance(value, (int, float, bool, str)):
        return value
    if isinstance(value, Mapping):  # AsNumpy (distributed candidate listing): {column: array}
        return {str(k): _detach(v) for k, v in value.items()}
    if hasattr(value, "tolist") and hasattr(value, "dtype"):  # numpy array -> Python numbers
        return value.tolist()
    try:  # std::vector / RVec from Take and friends
        return list(value)
    except TypeError:
        return value


def _run_local(graphs: list[SampleGraph], threads: int) -> None:
    ROOT = import_root()
    if threads > 1 and not ROOT.IsImplicitMTEnabled():
        raise RuntimeError(f"run(threads={threads}) but implicit multithreading is off: call "
                           "nutag.engine.run.configure_threads(n) before building the graphs")
    run_booked(graphs)


def run_booked(graphs: list[SampleGraph], extra: Sequence[Any] = ()) -> None:
    """``RunGraphs`` over every result booked on local ``graphs`` (and ``extra`` results of
    them), with the errors of the loop made readable: an arithmetic fault names the YAML
    expressions that divide (:func:`nutag.core.fpe_guard.fpe_named`), a ROOT error names the
    damaged file or the samples read (:func:`loop_error`). The local run, its ``--max-events``
    variant, an HTCondor chunk and the local graphs of a Dask run all run their loop here."""
    ROOT = import_root()
    booked = [ptr for g in graphs for ptr in g.booked] + list(extra)
    log.info("running %d results of %d samples in one event loop", len(booked), len(graphs))
    if not booked:
        return
    try:
        with fpe_named([s for g in graphs for s in g.dividing]):
            ROOT.RDF.RunGraphs(booked)
    except Exception as exc:  # noqa: BLE001 - cppyy raises ROOT's C++ exceptions as these
        raise loop_error(graphs, exc) from None


def _root_message(exc: BaseException) -> str:
    """ROOT's own words from a cppyy exception (without the C++ signature and source place)."""
    text = str(exc)
    text = text.split("=>", 1)[1] if "=>" in text else text
    return " ".join(text.split("\nAt:", 1)[0].split())[:400]


def _sample_where(g: SampleGraph) -> str:
    """``sample NAME (samples.yaml:LINE)``: where a physicist finds the sample."""
    where = f" ({g.sample.loc.file}:{g.sample.loc.line})" if g.sample is not None else ""
    return f"sample {g.name}{where}"


def loop_error(graphs: list[SampleGraph], exc: Exception) -> NutagError:
    """An error of the event loop over ``graphs``, naming what to fix.

    Why: a YAML expression that throws, a damaged input file (bytes overwritten inside it: it
    opens and passes every check before the loop) and a Dask worker that died all stop the
    loop with a message that names no YAML line and no file. A damaged file is found by
    reading the samples' files one by one (:func:`nutag.config.input_files.damaged_files`), only now
    that the loop failed.
    """
    message = _root_message(exc)
    if EXPRESSION_ERROR in message:
        where = here(message[message.index(EXPRESSION_ERROR) + len(EXPRESSION_ERROR):], graphs)
        return NutagError(f"a YAML expression failed during the event loop: {where}. Fix: "
                          "guard the expression (e.g. an index checked against the size, as "
                          "nutag::at_or does, or a divisor checked against zero)")
    killed = _killed_worker(exc)
    if killed is not None:
        return worker_died_error(graphs, _root_message(killed))
    from ..config.input_files import damaged_files  # noqa: PLC0415

    log.info("the event loop failed: reading the files of %d sample(s) one by one to find a "
             "damaged one", len(graphs))
    damaged = []
    for g in graphs:
        if g.sample is not None:
            damaged += [f"{_sample_where(g)}: {f}, which is damaged: {why}"
                        for f, why in damaged_files(g.sample.files, g.sample.tree)]
    if damaged:
        return NutagError(f"the event loop stopped on an error (ROOT: {message}) while reading "
                          f"{'; '.join(damaged)}. Fix: re-copy or re-produce the damaged file "
                          "(nutag simulate)")
    read = []
    for g in graphs:
        files = list(g.sample.files) if g.sample is not None else []
        shown = ", ".join(files[:3]) + (f" and {len(files) - 3} more" if len(files) > 3 else "")
        read.append(f"{_sample_where(g)}: {shown or 'its dataframe'}")
    return NutagError(f"the event loop stopped on an error (ROOT: {message}) while "
                      f"reading {'; '.join(read)}; each of these files reads back entirely on its "
                      "own (checked after the failure), so none is damaged. Fix: what ROOT's "
                      "message names (a C++ helper or correction that throws, a file changed or "
                      "unreachable during the loop); rerun to tell a passing I/O problem from a "
                      "lasting one")


#: "FILE:LINE: KEY: " at the start of an expression error (nutag.engine.compiled.cpp_text)
_PLACE = re.compile(r"^(?P<place>.*?:\d+): (?P<key>(?:columns|cuts)\.[^:\s]+): ")


def here(where: str, graphs: list[SampleGraph]) -> str:
    """``where`` ("FILE:LINE: KEY: what") with FILE:LINE of KEY in the analysis that ran.

    Why: a compiled library is shared by every source that differs from its own only in the
    YAML file and line of its expressions (the cache key leaves them out, so a comment added
    to the YAML or a copy of the analysis does not compile again); the place the library
    throws with is that of the source it was compiled from. The key is this analysis' own."""
    m = _PLACE.match(where)
    if m is None:
        return where
    for g in graphs:
        place = getattr(g, "locations", {}).get(m["key"])
        if place is not None:
            return f"{place}: {m['key']}: {where[m.end():]}"
    return where


def _killed_worker(exc: BaseException) -> BaseException | None:
    """The ``KilledWorker`` behind ``exc``, if a Dask worker died.

    Why the chain is searched: after a failed execution ROOT's distributed RDataFrame clears
    its caches on every worker (``client.run``, in a ``finally``); when the other workers are
    dying too, that broadcast fails with a closed-connection error that replaces the
    ``KilledWorker`` and keeps it only as its ``__context__``.
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if type(current).__name__ == "KilledWorker":  # distributed.scheduler.KilledWorker
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


def worker_died_error(graphs: list[SampleGraph], message: str) -> NutagError:
    """The Dask workers running ``graphs`` died instead of raising an error.

    Why this cannot name THE faulting expression: an integer division by zero raises SIGFPE
    inside the C++ loop of a worker process; nothing can turn it into an exception there (the
    loop cannot be resumed), so the worker ends (with nutag's message in its log:
    :func:`nutag.engine.backends.dask_backend.worker_setup`), Dask retries the task on other workers
    and gives up with ``KilledWorker``. Running out of memory ends a worker the same way. The
    client knows which samples ran and which of their expressions divide: it names those, and
    the local run, which names the fault itself.
    """
    dividing = [s for g in graphs for s in g.dividing]
    listed = "".join(f"\n  {s}" for s in dict.fromkeys(dividing)) or " (none divides)"
    return NutagError(
        f"the Dask workers running {', '.join(_sample_where(g) for g in graphs)} died instead "
        f"of raising an error (Dask: {message[:300]}). A worker dies like this on an arithmetic "
        "fault (SIGFPE: an integer division or remainder by zero) in the C++ of the event loop, "
        "or when it runs out of memory; the worker log says which. The YAML expressions of these "
        f"samples that divide:{listed}\nFix: guard the divisor, e.g. `n > 0 ? 10 / n : 0`, or "
        "divide as floating point (`10.0 / n`); `nutag run --backend local` (add --max-events "
        "N for a quicker look) names the faulting expression itself. If none divides by zero, "
        "give the workers more memory")


def is_distributed(graphs: list[SampleGraph]) -> bool:
    """True when the graphs were booked on ROOT's distributed RDataFrame."""
    return any(is_distributed_node(g.df) for g in graphs)


def _variation_values(rmap: Any) -> dict[str, float]:
    if rmap is None:
        return {}
    from .graph import sumw_of  # noqa: PLC0415
    from .systematics import variation_values  # noqa: PLC0415

    return variation_values(rmap, sumw_of)


def run(graphs: list[SampleGraph], threads: int = 1) -> RunResults:
    """Trigger the single local event loop over all graphs and collect plain-Python results.

    Graphs booked on a distributed dataframe run through their backend
    (:func:`nutag.engine.backends.run_analysis_on`, :class:`nutag.engine.backends.dask_backend.DaskSession`),
    which chooses where the loop runs; this module is the local loop those backends build on.
    """
    if is_distributed(graphs):
        raise ValueError("these graphs were booked on ROOT's distributed RDataFrame: run them "
                         "with their Dask session (nutag.engine.backends.dask_backend.DaskSession.run) "
                         "or book and run with nutag.engine.backends.run_analysis_on('dask', ...)")
    _run_local(graphs, threads)
    return collect(graphs, threads=threads, backend="local")


def collect(graphs: list[SampleGraph], *, threads: int, backend: str) -> RunResults:
    """Plain-Python results of graphs that have run (local or distributed alike)."""
    samples: dict[str, SampleResult] = {}
    for g in graphs:
        regions = {
            name: RegionOutput(
                _cutflow.make_rows(reg.cutflow),
                {h: _detach(ptr.GetValue()) for h, ptr in reg.histos.items()},
                {k: _detach(ptr.GetValue()) for k, ptr in reg.extras.items()},
                _variation_values((g.variations or {}).get(name)))
            for name, reg in g.regions.items()}
        samples[g.name] = SampleResult(g.name, g.kind, n_runs_of(g.df), regions,
                                       list(g.blinded_regions), g.blinded, g.route)
    return RunResults(samples, threads, backend)


def write_cutflows(results: RunResults | Mapping[str, SampleResult],
                   out_dir: str | os.PathLike) -> tuple[Path, Path]:
    """Write cutflows.json and cutflows.md atomically into ``out_dir``."""
    samples = results.samples if isinstance(results, RunResults) else results
    return _cutflow.write_cutflows(samples, out_dir)
