"""How one cutflow row (raw count, sum w, sum w^2 after a cut) is booked on each route.

:func:`cutflow_mode` chooses the cheapest exact booking for a sample, :func:`book_cutflow_row`
books it, :class:`CutflowEntry` reads the three numbers back after the loop; ``nutag.engine.graph``
books one row after every cut of every region with them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .rdf_nodes import is_distributed

#: the event weight column and its square, defined by nutag.engine.graph before the first cutflow row
WEIGHT, WEIGHT2 = "_w", "_w2"


#: how a cutflow row is booked (see :func:`book_cutflow_row`); FUSED: a row of the one
#: cutflow action of a fused selection (:mod:`nutag.engine.compiled`)
UNIT, SUMS, ACTIONS, FUSED = "unit", "sums", "actions", "fused"


@dataclass(frozen=True)
class CutflowEntry:
    """One booked (not yet computed) cutflow row: raw count, sum w and sum w^2 after a cut.

    Why several shapes for the same three numbers: the cutflow is booked after every cut of
    every region, so its cost per event multiplies. ``unit`` (weight identically 1: data
    without systematic sources) books one ``Count`` and sum w = sum w^2 = count; ``sums`` books
    one compiled ``nutag::CutflowHelper`` action filling all three; ``actions`` books
    ``Count`` + ``Sum(w)`` + ``Sum(w^2)``, for distributed dataframes, which accept only
    ROOT's built-in actions. ``fused`` is row ``index`` of the one action of a fused selection
    (``source``, booked once; ``results`` is then empty). All give bit-identical numbers
    (integers; the same Kahan sums).
    """

    cut: str
    mode: str
    results: tuple[Any, ...]
    source: Any = None
    index: int = 0

    def values(self) -> tuple[int, float, float]:
        """(raw, sumw, sumw2), after the loop ran."""
        if self.mode == FUSED:
            v = self.source.GetValue()[self.index]
            return int(v.n), float(v.sumw), float(v.sumw2)
        if self.mode == UNIT:
            n = int(self.results[0].GetValue())
            return n, float(n), float(n)
        if self.mode == SUMS:
            v = self.results[0].GetValue()
            return int(v.n), float(v.sumw), float(v.sumw2)
        n, w, w2 = self.results
        return int(n.GetValue()), float(w.GetValue()), float(w2.GetValue())

    @property
    def sumw_result(self) -> Any:
        """The booked result holding sum w (what ``VariationsFor`` varies); read its varied
        values with :func:`sumw_of`."""
        if self.mode == FUSED:
            raise ValueError("a fused cutflow has no per-row result to vary (samples with "
                             "systematic sources are never fused)")
        return self.results[0] if self.mode in (UNIT, SUMS) else self.results[1]


def sumw_of(value: Any) -> float:
    """sum w from the value of :attr:`CutflowEntry.sumw_result` (a number or CutflowSums)."""
    return float(value.sumw) if hasattr(value, "sumw") else float(value)


def book_cutflow_row(ROOT: Any, cut: str, node: Any, mode: str,
                     aot: Any = None) -> CutflowEntry:
    """Book the cutflow row of the events passing ``node`` in the given shape; ``aot``: a
    compiled selection (:class:`nutag.engine.compiled.CompiledSelection`) that books it instead of
    cling (the same action, compiled with the selection)."""

    if mode == UNIT and is_distributed(node):
        return CutflowEntry(cut, mode, (node.Count(),))
    if aot is not None and mode == UNIT:
        return CutflowEntry(cut, mode, (aot.book_count(node),))
    if aot is not None and mode == SUMS:
        return CutflowEntry(cut, mode, (aot.book_cutflow(node, WEIGHT),))
    from .cpp import declare_rdf_helpers  # noqa: PLC0415

    declare_rdf_helpers()
    if mode == UNIT:
        return CutflowEntry(cut, mode, (ROOT.nutag.book_count(ROOT.RDF.AsRNode(node)),))
    if mode == SUMS:
        return CutflowEntry(cut, mode, (ROOT.nutag.book_cutflow(ROOT.RDF.AsRNode(node), WEIGHT),))
    return CutflowEntry(cut, mode, (node.Count(), node.Sum(WEIGHT), node.Sum(WEIGHT2)))


def cutflow_mode(kind: str, *, varied: bool, distributed: bool) -> str:
    """The cheapest exact cutflow booking for a sample (see :class:`CutflowEntry`).

    ``varied``: the sample has systematic sources; its final sum w is then booked as a weighted
    sum that ``VariationsFor`` can vary, for data as for MC.
    """
    if kind == "data" and not varied:
        return UNIT  # data's weight is the constant 1.0 unless a systematic source applies
    return ACTIONS if distributed else SUMS
