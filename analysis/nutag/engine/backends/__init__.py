"""Where the event loop runs: local threads, Dask (ROOT distributed RDataFrame), HTCondor chunks.

Why one module decides this and not the graph code: the graph of a sample is the same object
whatever the backend (``graph.build_graph``); only the root dataframe differs (``make_df``) and
who triggers the loop. So a backend is (1) a dataframe factory and (2) a way to get the booked
results computed:

* ``local``  — ``ROOT.RDataFrame(tree, files)`` + ``RunGraphs`` in this process (``nutag.engine.run``);
* ``dask``   — ``ROOT.RDataFrame(tree, files, executor=client, npartitions=N)`` + the distributed
  ``RunGraphs``: ROOT splits each sample into clustered entry ranges, runs them on the workers,
  merges the partial results and hands back ordinary result values;
* ``condor`` — the graph cannot travel inside a batch job, so every job rebuilds it from the same
  YAML on its chunk (``nutag.engine.backends.chunk``) and ``nutag.engine.backends.merge`` sums the chunks.

What books the graphs (the graph builders, every sample of an analysis) is nutag.engine.booking.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from ..booking import (DEFAULT_BUILDER, GraphBuilder, build_graphs, builder_name,  # noqa: F401
                       default_builder, resolve_builder)
from ...core.options import RouteOptions
from ..rdf_nodes import is_distributed, n_runs_of  # noqa: F401 (re-exported)
from ..run import collect  # noqa: F401 (re-exported)
from .protocol import BACKENDS, Backend, make_backend  # noqa: F401 (re-exported)

log = logging.getLogger("nutag.engine.backends")

def run_analysis_on(backend: str, analysis: Any, *, blinded: bool, threads: int = 1,
                    builder: str | GraphBuilder | None = None,
                    samples: Iterable[str] | None = None, route: RouteOptions | None = None,
                    **opts: Any) -> Any:
    """Book and run a whole analysis on ``backend``; returns ``nutag.engine.run.RunResults``.

    The backend is made by :func:`nutag.engine.backends.protocol.make_backend` (the one place a name
    becomes a :class:`~nutag.engine.backends.protocol.Backend`); this is its one-call form.
    ``route``: the run's execution switches (:class:`nutag.core.options.RouteOptions`; None: the
    environment's), for every graph wherever it is booked (HTCondor jobs: in the manifest).

    ``opts`` — dask: ``scheduler``, ``workers``, ``partitions``, ``cluster`` ("local" or
    "condor"), ``client`` (an existing ``distributed.Client``), ``condor`` (HTCondorCluster
    keywords); condor: ``condor_dir``, ``chunk_size``, ``wait``, ``submit`` (see
    :func:`nutag.engine.backends.condor.run_condor`); local: none.
    """
    if backend == "local":
        opts = {}
    return make_backend(backend, threads=threads, **opts).run(
        analysis, blinded=blinded, builder=builder, samples=samples, route=route)


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
    "BACKENDS", "DEFAULT_BUILDER", "Backend", "build_graphs", "builder_name", "collect", "default_builder",
    "histo_cells", "is_distributed", "make_backend", "n_runs_of", "resolve_builder",
    "run_analysis_on", "summary",
]
