"""Book the graphs of an analysis: which builder books a sample, and every sample booked.

Why apart from the backends: a graph builder is what the local run, the Dask session, an
HTCondor chunk job and the interactive session share; they choose where the loop runs, this
module only books. A builder is ``builder(analysis, sample, *, blinded, make_df) ->
SampleGraph`` (plus ``route``, the run's :class:`nutag.core.options.RouteOptions`), named as
``"module:function"`` so that a batch job can import it again; the
pipeline passes its own (correction weights, candidate tables...), the default books exactly
the YAML.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from typing import Any

from . import graph as _graph
from ..config.blinding import blind_box_of
from .graph import DataFrameFactory, SampleGraph, build_graph
from ..core.options import RouteOptions
from .rdf_nodes import is_distributed

DEFAULT_BUILDER = "nutag.engine.booking:default_builder"

GraphBuilder = Callable[..., SampleGraph]


def default_builder(analysis: Any, sample: Any, *, blinded: bool,
                    make_df: DataFrameFactory | None = None,
                    route: RouteOptions | None = None) -> SampleGraph:
    """Book what the YAML says for one sample, with nutag's C++ helpers declared first; a
    blinded data sample starts without its blind box, as in every builder; ``route``: the
    run's execution switches (None: the environment's)."""
    from .cpp import load_cpp  # noqa: PLC0415 (ROOT only when a graph is built)

    return build_graph(sample, analysis.selection, blinded=blinded, declare=load_cpp,
                       make_df=make_df, route=route,
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
                 samples: Iterable[str] | None = None,
                 route: RouteOptions | None = None) -> list[SampleGraph]:
    """Book every (or the named) sample of ``analysis``; nothing runs. ``route``: the run's
    execution switches, handed to the builder (None: the environment's)."""
    build = resolve_builder(builder)
    names = list(samples) if samples is not None else list(analysis.samples)
    route = route if route is not None else RouteOptions.from_environment()
    graphs = [build(analysis, analysis.samples[n], blinded=blinded, make_df=make_df,
                    route=route) for n in names]
    book = getattr(_graph, "book_variations", None)  # systematics: Vary results, same loop
    if book is not None and any(getattr(g, "sources", None) for g in graphs):
        book(graphs, distributed=any(is_distributed(g.df) for g in graphs))
    return graphs
