"""Where the event loop runs: local threads, Dask (ROOT distributed RDataFrame), HTCondor chunks.

Why one module decides this and not the graph code: the graph of a sample is the same object
whatever the backend (``graph.build_graph``); only the root dataframe differs (``make_df``) and
who triggers the loop. So a backend is (1) a dataframe factory and (2) a way to get the booked
results computed:

* ``local``  — ``ROOT.RDataFrame(tree, files)`` + ``RunGraphs`` in this process (``nutag.run``);
* ``dask``   — ``ROOT.RDataFrame(tree, files, executor=client, npartitions=N)`` + the distributed
  ``RunGraphs``: ROOT splits each sample into clustered entry ranges, runs them on the workers,
  merges the partial results and hands back ordinary result values;
* ``condor`` — the graph cannot travel inside a batch job, so every job rebuilds it from the same
  YAML on its chunk (``nutag.backends.chunk``) and ``nutag.backends.merge`` sums the chunks.

A *graph builder* is ``builder(analysis, sample, *, blinded, make_df) -> SampleGraph``; it is
named as ``"module:function"`` so a batch job can import it. The pipeline passes its own builder
(correction weights, candidate tables...); the default books exactly the YAML.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable, Iterable
from typing import Any

from .. import graph as _graph
from ..blinding import blind_box_of
from ..graph import DataFrameFactory, SampleGraph, build_graph

log = logging.getLogger("nutag.backends")

BACKENDS = ("local", "dask", "condor")
DEFAULT_BUILDER = "nutag.backends:default_builder"

GraphBuilder = Callable[..., SampleGraph]


def default_builder(analysis: Any, sample: Any, *, blinded: bool,
                    make_df: DataFrameFactory | None = None) -> SampleGraph:
    """Book what the YAML says for one sample, with nutag's C++ helpers declared first; a
    blinded data sample starts without its blind box, as in every builder."""
    from ..cpp import load_cpp  # noqa: PLC0415 (ROOT only when a graph is built)

    return build_graph(sample, analysis.selection, blinded=blinded, declare=load_cpp,
                       make_df=make_df,
                       blind_box=blind_box_of(analysis.selection, analysis.options,
                                              analysis.file))


def resolve_builder(spec: str | GraphBuilder | None) -> GraphBuilder:
    """``None`` -> the default; ``"pkg.mod:func"`` -> that function; a callable as is."""
    if spec is None:
        spec = DEFAULT_BUILDER
    if callable(spec):
        return spec
    mod, sep, func = spec.partition(":")
    if not sep or not func:
        raise ValueError(f"graph builder {spec!r} must read 'package.module:function'")
    return getattr(importlib.import_module(mod), func)


def builder_name(spec: str | GraphBuilder | None) -> str:
    """The importable 'module:function' name of a builder (batch jobs re-import it)."""
    if spec is None:
        return DEFAULT_BUILDER
    if isinstance(spec, str):
        return spec
    name = f"{spec.__module__}:{spec.__qualname__}"
    if "<" in name or resolve_builder(name) is not spec:
        raise ValueError(f"graph builder {spec!r} is not importable by name; HTCondor jobs need "
                         "a module-level function")
    return name


def build_graphs(analysis: Any, *, blinded: bool, make_df: DataFrameFactory | None = None,
                 builder: str | GraphBuilder | None = None,
                 samples: Iterable[str] | None = None) -> list[SampleGraph]:
    """Book every (or the named) sample of ``analysis``; nothing runs."""
    build = resolve_builder(builder)
    names = list(samples) if samples is not None else list(analysis.samples)
    graphs = [build(analysis, analysis.samples[n], blinded=blinded, make_df=make_df)
              for n in names]
    book = getattr(_graph, "book_variations", None)  # systematics: Vary results, same loop
    if book is not None and any(getattr(g, "sources", None) for g in graphs):
        book(graphs, distributed=any(is_distributed(g.df) for g in graphs))
    return graphs


def is_distributed(node: Any) -> bool:
    """True for a node (dataframe, filter...) of ROOT's distributed RDataFrame."""
    return hasattr(node, "_headnode") or type(node).__module__.startswith("ROOT._distrdf")


def n_runs_of(df: Any) -> int:
    """Event loops run by a dataframe: ``GetNRuns`` locally; distributed: its executions
    (counted by ``dask_backend.count_executions``; else 1 once it has run)."""
    head = getattr(df, "_headnode", None)
    if head is None:
        return int(df.GetNRuns())
    return int(getattr(head, "nutag_executions", 1 if head.exec_id is not None else 0))


def collect(graphs: list[SampleGraph], *, threads: int, backend: str) -> Any:
    """Plain-Python results of already-run graphs (the same objects ``nutag.run.run`` returns)."""
    from .. import run as _run  # noqa: PLC0415

    return _run.collect(graphs, threads=threads, backend=backend)


def run_graphs_on(backend: str, graphs: list[SampleGraph], *, threads: int = 1,
                  **opts: Any) -> Any:
    """Run graphs that are already booked (``local``: plain; ``dask``: built with
    :func:`nutag.backends.dask_backend.DaskSession.make_df`) and return ``RunResults``."""
    if backend == "local":
        from ..run import run  # noqa: PLC0415

        return run(graphs, threads)
    if backend == "dask":
        from .dask_backend import run_graphs  # noqa: PLC0415

        run_graphs(graphs)
        return collect(graphs, threads=threads, backend="dask")
    if backend == "condor":
        raise ValueError("the condor backend cannot run graphs built in this process (a batch "
                         "job rebuilds them from the YAML): use run_analysis_on('condor', ...)")
    raise ValueError(f"unknown backend {backend!r}; available: {', '.join(BACKENDS)}")


def run_analysis_on(backend: str, analysis: Any, *, blinded: bool, threads: int = 1,
                    builder: str | GraphBuilder | None = None,
                    samples: Iterable[str] | None = None, **opts: Any) -> Any:
    """Book and run a whole analysis on ``backend``; returns ``nutag.run.RunResults``.

    ``opts`` — dask: ``scheduler``, ``workers``, ``partitions``, ``cluster`` ("local" or
    "condor"), ``client`` (an existing ``distributed.Client``), ``condor`` (HTCondorCluster
    keywords); condor: ``condor_dir``, ``chunk_size``, ``wait``, ``submit`` (see
    :func:`nutag.backends.condor.run_condor`).
    """
    if backend == "local":
        from ..run import configure_threads, run  # noqa: PLC0415

        configure_threads(threads)
        graphs = build_graphs(analysis, blinded=blinded, builder=builder, samples=samples)
        return run(graphs, threads)
    if backend == "dask":
        from .dask_backend import DaskSession  # noqa: PLC0415

        with DaskSession.from_options(analysis=analysis, **opts) as session:
            graphs = build_graphs(analysis, blinded=blinded, builder=builder, samples=samples,
                                  make_df=session.make_df)
            session.run(graphs)
            return collect(graphs, threads=threads, backend="dask")
    if backend == "condor":
        from .condor import run_condor  # noqa: PLC0415

        return run_condor(analysis, blinded=blinded, builder=builder, samples=samples, **opts)
    raise ValueError(f"unknown backend {backend!r}; available: {', '.join(BACKENDS)}")


def summary(results: Any) -> dict[str, Any]:
    """A JSON-able digest (cutflows + every histogram bin and error) to compare two runs."""
    out: dict[str, Any] = {}
    for name, s in results.samples.items():
        out[name] = {"kind": s.kind, "blinded_regions": list(s.blinded_regions), "regions": {
            r: {"cutflow": list(o.cutflow),
                "histos": {h: histo_cells(v) for h, v in sorted(o.histos.items())},
                "variations": dict(getattr(o, "variations", None) or {})}
            for r, o in s.regions.items()}}
    return out


def histo_cells(h: Any) -> dict[str, Any]:
    """Every cell (under/overflow included) of a TH1/TH2: contents and errors, and entries."""
    cells = range(h.GetNcells())
    return {"name": h.GetName(), "entries": float(h.GetEntries()),
            "content": [h.GetBinContent(i) for i in cells],
            "error2": [h.GetSumw2().At(i) if h.GetSumw2N() else h.GetBinContent(i)
                       for i in cells]}


__all__ = [
    "BACKENDS", "DEFAULT_BUILDER", "build_graphs", "builder_name", "collect", "default_builder",
    "histo_cells", "is_distributed", "n_runs_of", "resolve_builder", "run_analysis_on", "run_graphs_on", "summary",
]
