"""Which execution route a sample's graph takes, and why, in words a user can act on.

The same YAML selection runs on one of several routes with identical results (cutflow counts,
histogram bins): jitted by cling; compiled ahead of time with one RDataFrame node per cut; or
fused into one compiled kernel, whose inputs RDataFrame reads or the kernel reads itself from
the RNTuple files. Which one a sample takes follows from the run's switches
(:class:`nutag.core.options.RouteOptions`: `nutag run --compile/--no-compile`, else NUTAG_COMPILE,
NUTAG_FUSE, NUTAG_DIRECT_READ), the backend, the sample's systematic sources and its input
format; :func:`choose_route` decides, from facts known before anything is booked, and
:func:`nutag.engine.graph.build_graph` books the route it returns. The route
is logged at INFO and recorded per sample in the provenance of every output (summary.json and
summary.md), so a slow or surprising run can be explained from its results.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

JIT = "jitted"
NODE_PER_CUT = "compiled, one node per cut"
FUSED_RDF = "fused kernel, inputs read by RDataFrame"
FUSED_DIRECT = "fused kernel reading its RNTuple inputs itself"


@dataclass(frozen=True)
class Route:
    """The execution route of one sample's graph (one of the names above) and why it was taken;
    ``str(route)`` is "<name> (<reason>)", what the log and the provenance show."""

    name: str
    reason: str

    @property
    def fused(self) -> bool:
        return self.name in (FUSED_RDF, FUSED_DIRECT)

    def __str__(self) -> str:
        return f"{self.name} ({self.reason})"


def choose_route(*, distributed: bool, compile_mode: str, compiled: Any, sources: bool,
                 extra_columns: bool, fusable_cutflow: bool, fuse_mode: str,
                 own_dataframe: bool, direct_read_mode: str,
                 direct_read_problem: Callable[[], str] = lambda: "") -> Route:
    """The route of a sample's graph, from the facts known before anything is booked.

    ``compiled``: the sample's :class:`nutag.engine.compiled.CompiledSelection` (its plan has a
    fused cut tree when everything compiled) or None; ``own_dataframe``: the dataframe was made
    by the caller (a chunk's range, a partial run, Dask), not the chain of the sample's files;
    ``fusable_cutflow``: the cutflow is counted in a way the fused kernel implements
    (unweighted or weighted sums, no Vary); ``direct_read_problem``: called only when a fused
    kernel could read the sample's files itself, returns "" if it can, else why not (it opens
    the files: :meth:`nutag.engine.compiled.CompiledSelection.probe_direct`).
    """
    if distributed:
        return Route(JIT, "distributed RDataFrame: the workers run cling's code")
    if compiled is None:
        if compile_mode == "off":
            return Route(JIT, "NUTAG_COMPILE=off")
        return Route(JIT, "nothing to compile, or the compiler failed and NUTAG_COMPILE=auto "
                          "fell back: see the warning above")
    left = list(getattr(compiled.plan, "jitted", ()))
    whys = getattr(compiled.plan, "jitted_why", {})
    named = [f"{n} ({whys[n]})" if whys.get(n) else n for n in left[:5]]
    if compiled.fused is not None:
        if own_dataframe:
            return Route(FUSED_RDF, "the dataframe is a chunk's or a partial run's")
        if direct_read_mode != "auto":
            return Route(FUSED_RDF, f"NUTAG_DIRECT_READ={direct_read_mode}")
        problem = direct_read_problem()
        if problem:
            return Route(FUSED_RDF, "the input is not an RNTuple holding every input column, "
                                    f"e.g. a TTree: {problem}")
        return Route(FUSED_DIRECT, "RNTuple input")
    if sources:
        why = "systematic variations need one node per cut"
    elif extra_columns:
        why = "correction columns are jitted between the weight and the selection"
    elif not fusable_cutflow:
        why = "this cutflow mode is not fused"
    elif fuse_mode == "off":
        why = "NUTAG_FUSE=off"
    else:
        why = f"{len(left)} expression(s) stay jitted: {', '.join(named)}"
    if left and not why.startswith(str(len(left))):
        why += f"; {len(left)} expression(s) stay jitted"
    return Route(NODE_PER_CUT, why)


__all__ = ("FUSED_DIRECT", "FUSED_RDF", "JIT", "NODE_PER_CUT", "Route", "choose_route")
