"""Which execution route a sample's graph took, and why, in words a user can act on.

The same YAML selection runs on one of several routes with identical results (cutflow counts,
histogram bins): jitted by cling; compiled ahead of time with one RDataFrame node per cut; or
fused into one compiled kernel, whose inputs RDataFrame reads or the kernel reads itself from
the RNTuple files. Which one a sample takes follows from the run's switches
(:class:`nutag.core.options.RouteOptions`: `nutag run --compile/--no-compile`, else NUTAG_COMPILE,
NUTAG_FUSE, NUTAG_DIRECT_READ), the backend, the sample's systematic sources and its input
format; :func:`nutag.engine.graph.build_graph` decides and this module names the outcome. The route
is logged at INFO and recorded per sample in the provenance of every output (summary.json and
summary.md), so a slow or surprising run can be explained from its results.
"""

from __future__ import annotations

from typing import Any

JIT = "jitted"
NODE_PER_CUT = "compiled, one node per cut"
FUSED_RDF = "fused kernel, inputs read by RDataFrame"
FUSED_DIRECT = "fused kernel reading its RNTuple inputs itself"


def describe(*, distributed: bool, compile_mode: str, compiled: Any, sources: bool,
             extra_columns: bool, fusable_cutflow: bool, fuse_mode: str, own_dataframe: bool,
             direct_read_mode: str) -> str:
    """"<route> (<why>)" for a sample graph built with these facts.

    ``compiled``: the sample's :class:`nutag.engine.compiled.CompiledSelection` or None;
    ``own_dataframe``: the dataframe was made by the caller (a chunk's range, a partial run,
    Dask), not the chain of the sample's files; ``fusable_cutflow``: the cutflow is counted
    in a way the fused kernel implements (unweighted or weighted sums, no Vary).
    """
    if distributed:
        return f"{JIT} (distributed RDataFrame: the workers run cling's code)"
    if compiled is None:
        if compile_mode == "off":
            return f"{JIT} (NUTAG_COMPILE=off)"
        return (f"{JIT} (nothing to compile, or the compiler failed and NUTAG_COMPILE=auto "
                "fell back: see the warning above)")
    left = list(getattr(compiled.plan, "jitted", ()))
    if compiled.fused is not None:
        if compiled.direct_read:
            return f"{FUSED_DIRECT} (RNTuple input)"
        if own_dataframe:
            why = "the dataframe is a chunk's or a partial run's"
        elif direct_read_mode != "auto":
            why = f"NUTAG_DIRECT_READ={direct_read_mode}"
        else:
            why = "the input is not an RNTuple holding every input column, e.g. a TTree"
        return f"{FUSED_RDF} ({why})"
    if sources:
        why = "systematic variations need one node per cut"
    elif extra_columns:
        why = "correction columns are jitted between the weight and the selection"
    elif not fusable_cutflow:
        why = "this cutflow mode is not fused"
    elif fuse_mode == "off":
        why = "NUTAG_FUSE=off"
    else:
        why = f"{len(left)} expression(s) stay jitted: {', '.join(left[:5])}"
    if left and not why.startswith(str(len(left))):
        why += f"; {len(left)} expression(s) stay jitted"
    return f"{NODE_PER_CUT} ({why})"


__all__ = ("FUSED_DIRECT", "FUSED_RDF", "JIT", "NODE_PER_CUT", "describe")
