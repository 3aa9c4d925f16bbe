"""Plan, generate, compile and load the compiled selection of one sample: the one call the
graph makes.

Why here and not in the graph: every step may decline (nothing compilable, ``off``, a compiler
error under ``auto``), and the graph then books the jitted nodes it always could.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from .booking import CompiledSelection
from .codegen import NAMESPACE_PLACEHOLDER, generate
from .compiler import CompileError, toolchain
from .library_cache import build
from .loading import load
from ...core.options import compile_mode, fuse_mode
from .planning import CutTree, fuse, plan

log = logging.getLogger("nutag.engine.compiled")


def _column_type_of(node: Any) -> Any:
    """``column_type(name)`` of :func:`.planning.plan`: the C++ type of a column of ``node``."""

    def column_type(name: str) -> str | None:
        return str(node.GetColumnType(name)) if node.HasColumn(name) else None

    return column_type


def prepare(columns: Sequence[Any], cuts: Sequence[Any], node: Any, *,
            mode: str = "auto", fusing: str = "auto", origin: str = "",
            tree: CutTree | None = None,
            fused_weight: str = "", fills: Sequence[tuple[str, str]] = (),
            **extra: Any) -> CompiledSelection | None:
    """Plan, generate, compile (or find in the cache) and load the selection for ``node``.

    ``columns``/``cuts``: what applies to the sample, in YAML order; ``node`` the dataframe the
    columns will be defined on (its column types are the inputs'); ``extra``: the weights,
    histogram weights, histograms and fixed types of :func:`plan`. Returns None when nothing
    is to be compiled (``off``, nothing compilable) or, under ``auto``, when compiling fails —
    then the caller books the jitted graph, whose errors are nutag's usual ConfigErrors.
    ``tree`` (with ``fused_weight``, the event-weight column, and ``fills``, the (region,
    histogram) pairs to fill): fuse the plan into one kernel if it compiles whole
    (:func:`fuse`; ``fusing="off"`` never does). ``mode`` and ``fusing``: the run's
    :class:`nutag.core.options.RouteOptions` ``compile`` and ``fuse``.
    """
    mode = compile_mode(mode)
    if mode == "off":
        return None
    from .. import cpp  # noqa: PLC0415

    linked = cpp.loaded_mode() == "library"
    p = plan(columns, cuts, _column_type_of(node), nutag_linked=linked, **extra)
    if p.jitted:
        log.debug("left to cling: %s", ", ".join(p.jitted))
    if p.n_compiled == 0:
        return None
    if tree is not None and fuse_mode(fusing) != "off" and fuse(p, tree, fused_weight, fills):
        log.debug("fused: %d cutflow rows in one kernel", len(tree.rows))
    try:
        source = generate(p, origin=origin)
        tc = toolchain()
        ns = f"nutag_gen_{tc.library_key(source)[:16]}"  # distinct symbols for distinct selections
        lib = build(source.replace(NAMESPACE_PLACEHOLDER, ns), tc, reuse_failure=mode == "auto")
        scope = load(lib, ns, fused=p.fused is not None)
    except CompileError as exc:
        if mode == "on":
            raise
        log.warning("the selection could not be compiled ahead of time, using the JIT "
                    "(NUTAG_COMPILE=off silences this): %s", exc.first_error or exc)
        return None
    return CompiledSelection(p, scope, lib)


def applicable(selection: Any, sample: Any) -> tuple[list[Any], list[Any]]:
    """The columns (YAML order) and the cuts of regions that a sample books."""
    kind = sample.kind
    columns = [c for c in selection.columns.values() if kind in c.kinds]
    used: list[str] = []
    for region in selection.regions.values():
        if region.applies_to(sample.name):
            used += [c for c in region.cuts if c not in used]
    cuts = [selection.cuts[c] for c in selection.cuts if c in used
            and kind in selection.cuts[c].kinds]
    return columns, cuts

