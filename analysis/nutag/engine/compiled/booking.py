"""A loaded compiled selection as the graph uses it: books its columns, cuts, cutflow rows and
histograms on RDataFrame nodes.

Why a view of its own: :mod:`nutag.engine.graph` keeps one structure for every route (jitted,
compiled node per cut, fused) and asks this object, node by node, whether and how a column,
cut or histogram is booked compiled.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ...core.rootenv import import_root
from .planning import CutTree, Plan

log = logging.getLogger("nutag.engine.compiled")


def cpp_error_message(text: str) -> str:
    """The message of a C++ exception as cppyy reports it, without the call that raised it
    (``f(...) =>``), the exception's type and ROOT's ``At:`` stack: ``"probe_direct(...) =>
    RException: no RNTuple named 'x' in file 'a.root' (unchecked RResult access!) At: ..."`` ->
    ``"no RNTuple named 'x' in file 'a.root'"``."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    if len(lines) > 1 and lines[0].endswith("=>"):
        lines = lines[1:]
    message = lines[0] if lines else text.strip()
    message = re.sub(r"^[\w:]*(?:Exception|error|Error):\s*", "", message)
    return message.replace(" (unchecked RResult access!)", "")


@dataclass
class CompiledSelection:
    """A loaded library and its plan: books the compiled columns and cuts on a node."""

    plan: Plan
    scope: Any
    library: Path
    #: whether the fused kernel reads its inputs itself (set by :meth:`fused_define`)
    direct_read: bool = False

    def define_columns(self, node: Any, segment: int) -> Any:
        ROOT = import_root()
        return self.scope.define_columns(ROOT.RDF.AsRNode(node), segment)

    def has_cut(self, name: str) -> bool:
        return name in self.plan.cuts

    def filter(self, node: Any, name: str) -> Any:
        ROOT = import_root()
        return self.scope.filter(ROOT.RDF.AsRNode(node), list(self.plan.cuts).index(name))

    def book_count(self, node: Any) -> Any:
        """``Count`` of the events passing ``node`` (as ``nutag::book_count``)."""
        return self.scope.book_count(import_root().RDF.AsRNode(node))

    def book_cutflow(self, node: Any, weight: str) -> Any:
        """The cutflow action of ``nutag/rdf/cutflow.hpp`` on ``node``, compiled here: cling
        then never parses that header nor instantiates the action."""
        return self.scope.book_cutflow(import_root().RDF.AsRNode(node), weight)

    @property
    def fused(self) -> CutTree | None:
        """The cut tree of the fused kernel, None when the library books one node per cut."""
        return self.plan.fused

    def probe_direct(self, ntuple: str, files: Sequence[str]) -> tuple[Any, str]:
        """``(chain, "")`` if the fused kernel can read the chain of ``files`` itself (every
        file an RNTuple ``ntuple`` holding every input with its type), else ``(None, why)``.

        Every file is opened once, here, before anything is booked: the answer decides the
        sample's route (:func:`nutag.engine.routes.choose_route`), and the chain returned is
        the one :meth:`fused_define` reads, so no file is opened twice."""
        try:
            return self.scope.probe_direct(ntuple, list(files)), ""
        except Exception as exc:  # noqa: BLE001 - any C++ exception: not readable directly
            return None, cpp_error_message(str(exc))

    def fused_define(self, node: Any, chain: Any = None) -> Any:
        """The fused kernel's record and every compiled column (one Define each, reading the
        record), on ``node``.

        ``chain`` (from :meth:`probe_direct`), the chain ``node`` iterates: the kernel reads
        its inputs itself, through one ``RNTupleReader`` view per input and processing slot,
        each on first use in the event, instead of receiving every input from RDataFrame's
        column readers (BENCHMARKS.md, "Two threads": a type-erased call and an atomic
        reference count per read, all inputs for every event). The values are the same (the
        same fields read at the same entries). None: RDataFrame's readers feed the kernel."""
        rnode = import_root().RDF.AsRNode(node)
        self.direct_read = chain is not None
        if chain is not None:
            return self.scope.fused_define_direct(rnode, chain)
        return self.scope.fused_define(rnode)

    def fused_region(self, node: Any, row: int, name: str) -> Any:
        """The events passing cutflow row ``row`` of the tree: one Filter named ``name``."""
        return self.scope.fused_region(import_root().RDF.AsRNode(node), row, name)

    def fused_action(self, node: Any, *, weighted: bool,
                     models: Sequence[tuple[str, str, Any]]) -> Any:
        """Every cutflow row of the tree and every histogram of the fused plan as one action on
        ``node`` (the kernel's record): ``RResultPtr<nutag::FusedResults>`` (its value's
        ``[k]`` is row ``k``'s ``CutflowSums``) and, per (region, histogram), a
        :class:`FusedHistogram` view of its histogram in it.

        ``weighted``: sum the event weight (else sum w = sum w^2 = count). ``models``:
        (region, histogram, ``TH1DModel``/``TH2DModel``) for every pair of the plan's
        ``fused_fills``, in any order."""
        ROOT = import_root()
        by_pair = {(r, h): m for r, h, m in models}
        if set(by_pair) != {(r, h.name) for r, _, h in self.plan.fused_fills}:
            raise ValueError("the histogram models must be those of the fused plan's fills")
        h1, h2 = ROOT.std.vector[ROOT.RDF.TH1DModel](), ROOT.std.vector[ROOT.RDF.TH2DModel]()
        views: dict[tuple[str, str], tuple[int, int]] = {}
        for region, _, hist in self.plan.fused_fills:
            models_of = h1 if len(hist.columns) == 2 else h2
            views[(region, hist.name)] = (len(hist.columns) - 1, len(models_of))
            models_of.push_back(by_pair[(region, hist.name)])
        ptr = self.scope.fused_action(ROOT.RDF.AsRNode(node), weighted, h1, h2)
        return ptr, {pair: FusedHistogram(ptr, dim, i) for pair, (dim, i) in views.items()}

    def has_histogram(self, name: str) -> bool:
        return any(h.name == name for h in (*self.plan.h1, *self.plan.h2))

    def book_histogram(self, node: Any, name: str, model: Any) -> Any:
        """The typed ``Histo1D``/``Histo2D`` of histogram ``name`` on ``node`` (its columns and
        their types are the plan's), an ``RResultPtr<TH1D>``/``<TH2D>`` as the jitted one."""
        ROOT = import_root()
        for i, h in enumerate(self.plan.h1):
            if h.name == name:
                return self.scope.book_h1(ROOT.RDF.AsRNode(node), i, model)
        i = [h.name for h in self.plan.h2].index(name)
        return self.scope.book_h2(ROOT.RDF.AsRNode(node), i, model)


class FusedHistogram:
    """One histogram of a fused selection's action, used as the ``RResultPtr<TH1D>``/``<TH2D>``
    that ``Histo1D``/``Histo2D`` would return: ``GetValue()`` (runs the event loop if it has not
    run), ``GetPtr()``, ``IsReady()``, and any other attribute is the histogram's."""

    def __init__(self, action: Any, dim: int, index: int) -> None:
        self._action, self._dim, self._index = action, dim, index

    def GetValue(self) -> Any:  # noqa: N802 - the RResultPtr interface
        result = self._action.GetValue()
        return result.get_h1(self._index) if self._dim == 1 else result.get_h2(self._index)

    def GetPtr(self) -> Any:  # noqa: N802
        return self.GetValue()

    def IsReady(self) -> bool:  # noqa: N802
        return bool(self._action.IsReady())

    def __getattr__(self, name: str) -> Any:
        return getattr(self.GetValue(), name)

    def __repr__(self) -> str:
        return f"<FusedHistogram {self._dim}D #{self._index} of {self._action!r}>"
