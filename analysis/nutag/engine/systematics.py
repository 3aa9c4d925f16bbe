"""Systematic variations as RDataFrame ``Vary``: every source in the same single event loop.

Why ``Vary`` and not one graph per variation: a variation re-runs only what depends on the
varied column, inside the one event loop (``GetNRuns() == 1``), and ``VariationsFor`` hands back
nominal and varied results of the same booked action. Why this module owns the wiring: the YAML
names a correction and the columns it touches; turning that into ``Define``/``Redefine``/``Vary``
in the right order is easy to get subtly wrong (a ``Define`` made *before* a ``Vary`` of its
input never sees the variation), so it is done once, here.

The sources are read and validated by :mod:`nutag.config.systematic_sources` (the YAML block
is described there and in docs/corrections.md).

Order inside a sample's graph (what the engine hooks must respect):

1. :meth:`Systematics.apply_shapes` on the root dataframe, before any ``Define`` reads the
   varied inputs: one factor column per source (``_syst_<name>``) is defined and varied, then
   every affected column is redefined once as ``col * factor...``.
2. the engine's columns (they inherit the shape variations);
3. :meth:`Systematics.apply_weights` after the columns and before the first ``Filter`` and
   any column derived from the weight: weight factors may use analysis columns (``p_mu``) and
   see the shape variations; the weight (and its square) is redefined once.
4. after *every* sample's graph is booked: :func:`book_variations` on the results wanted.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from ..core.rootenv import import_root
from .corrections import CorrectionError, cpp_literal, lookup
from .jit_booking import jit_call
from ..config.systematic_sources import (KINDS, TAGS, Source, load_systematics,  # noqa: F401 (re-export)
                                 parse_systematics, source_error)
from ..config.yamlio import did_you_mean
from ..results.variations import propagate, systematic_markdown, systematic_table  # noqa: F401 (re-export)

log = logging.getLogger("nutag.engine.systematics")

__all__ = ["Source", "Systematics", "parse_systematics", "load_systematics", "book_variations",
           "variation_values", "propagate", "systematic_table", "systematic_markdown"]

_ELEM = "nutag_x"  # the loop variable standing for `{x}`
# Elementwise factors are written as statement blocks with a loop, not ROOT::VecOps::Map with a
# lambda: RDataFrame cannot infer the type of a single-expression Define holding a lambda
# (ROOT 6.40 reports the column as 'void').


# --------------------------------------------------------------------------- graph
def _jit(s: Source, what: str, call: Callable[[], Any]) -> Any:
    """Run one booking call; a cling failure becomes a ConfigError at the source's YAML line."""
    return jit_call(call, s.loc, f"systematics.{s.name}", what,
                    "check the inputs/over/when expressions and the column names")


class Systematics:
    """The sources of one analysis, applied per sample; see the module docstring for order."""

    def __init__(self, sources: Sequence[Source], *, weight_column: str = "_w",
                 weight2_column: str | None = "_w2",
                 column_types: Mapping[str, str] | None = None) -> None:
        """``weight_column``/``weight2_column``: the engine's weight and weight squared (the
        latter redefined only if the node has it). ``column_types`` ({column: C++ type}) is for
        nodes that cannot report their column types (distributed RDataFrame)."""
        self.sources = list(sources)
        self.weight_column, self.weight2_column = weight_column, weight2_column
        self.column_types = dict(column_types or {})
        self._validated = False

    def _is_vector(self, node: Any, column: str) -> bool:
        ctype = self.column_types.get(column) or str(node.GetColumnType(column))
        return "RVec" in ctype or "vector" in ctype

    def names(self) -> list[str]:
        return [s.name for s in self.sources]

    def validate(self) -> None:
        """Check every source against the declared correction sets (call after declaring)."""
        for s in self.sources:
            try:
                info = lookup(s.set_name, s.corr_name)
            except CorrectionError as exc:
                raise source_error(s.loc, f"systematics.{s.name}.correction", str(exc),
                           "declare the file (analysis 'corrections:') or fix the name") from None
            names = [n for n, _ in info.inputs]
            extra = sorted(set(s.inputs) - set(names))
            missing = [n for n in names if n not in s.inputs and n != "syst"]
            if extra or missing:
                raise source_error(s.loc, f"systematics.{s.name}.inputs", f"{s.correction} takes inputs "
                           f"{names}; unknown {extra}, not given {missing}",
                           "map every input except 'syst' to a C++ expression")
            if "syst" not in names and not any("{syst}" in e for e in s.inputs.values()):
                raise source_error(s.loc, f"systematics.{s.name}.inputs", f"{s.correction} has no "
                           "'syst' input and no input uses {syst}: nothing would vary",
                           "pass {syst} to the input that selects the variation")
            if s.kind == "weight" and s.elementwise and not s.over:
                raise source_error(s.loc, f"systematics.{s.name}.inputs", "{x} in a weight source "
                           "needs 'over' (the RVec whose elements {x} stands for)",
                           "add 'over: <RVec expression>' or drop {x}")
        self._validated = True

    def sources_for(self, sample: Any, kind: str | None = None) -> list[Source]:
        return [s for s in self.sources if s.applies(sample) and kind in (None, s.kind)]

    # -- expressions
    def _call(self, s: Source, tag: str, elem: str | None) -> str:
        info = lookup(s.set_name, s.corr_name)
        args = []
        for name, _typ in info.inputs:
            expr = s.inputs.get(name, "{syst}")
            expr = expr.replace("{syst}", cpp_literal(tag))
            if elem is not None:
                expr = expr.replace("{x}", elem)
            args.append(f"({expr})")
        return f"{info.cpp_function}({', '.join(args)})"

    def _factor(self, s: Source, tag: str, elem: str | None) -> str:
        """C++ factor for one tag; relative to nominal when the nominal is applied elsewhere.

        A relative factor is 1 where the nominal value is 0 (an efficiency far below its
        turn-on): varied/nominal is undefined there and a NaN would poison every sum.
        """
        f = self._call(s, tag, elem)
        if not s.nominal and tag == "nominal":
            f = "1.0"
        elif not s.nominal:
            nom = self._call(s, "nominal", elem)
            f = f"({nom} > 0.0 ? {f} / {nom} : 1.0)"
        return f"(({s.when}) ? {f} : 1.0)" if s.when else f

    def _define_and_vary(self, node: Any, s: Source, cols: dict[str, Callable[[str], str]],
                         ctype: str) -> Any:
        """Define one factor column per entry of ``cols`` (tag -> expr) and Vary them together.

        The varied values are Defines of their own (``<factor>__up``...) that the Vary expression
        only names: a Vary expression must be a single expression whose type cling can infer,
        and the elementwise factors are statement blocks. They are computed only when read.
        """
        for fcol, make in cols.items():
            node = _jit(s, f"factor {fcol}", lambda n=node, f=fcol, m=make: n.Define(f, m("nominal")))
            for t in TAGS:
                node = _jit(s, f"factor {fcol} ({t})",
                            lambda n=node, f=fcol, m=make, t=t: n.Define(f"{f}__{t}", m(t)))
        inner = ", ".join("{" + ", ".join(f"{fcol}__{t}" for t in TAGS) + "}" for fcol in cols)
        expr = f"ROOT::RVec<ROOT::RVec<{ctype}>>{{{inner}}}"
        return _jit(s, "Vary", lambda: node.Vary(list(cols), expr, list(TAGS), s.name))

    def apply_shapes(self, node: Any, sample: Any) -> Any:
        """Shape sources: vary the input columns. Call before any Define reads them."""
        sources = self.sources_for(sample, "shape")
        if not sources:
            return node
        if not self._validated:
            self.validate()
        present = {str(c) for c in node.GetColumnNames()}
        factors: dict[str, list[str]] = {}
        for s in sources:
            for c in s.columns:
                if c not in present:
                    raise source_error(s.loc, f"systematics.{s.name}.columns", f"no column {c!r} in "
                               f"sample {getattr(sample, 'name', sample)!r}",
                               did_you_mean(c, present))
            if not s.elementwise:
                fcol = f"_syst_{s.name}"
                node = self._define_and_vary(node, s, {fcol: lambda t, s=s: self._factor(s, t, None)},
                                             "double")
                for c in s.columns:
                    factors.setdefault(c, []).append(fcol)
                continue
            vec = {c: self._is_vector(node, c) for c in s.columns}
            if len(set(vec.values())) > 1:
                raise source_error(s.loc, f"systematics.{s.name}.columns", "elementwise ({x}) source "
                           "mixes RVec and scalar columns", "split it into two sources")
            cols: dict[str, Callable[[str], str]] = {}
            for c in s.columns:
                fcol = f"_syst_{s.name}__{c}"
                if vec[c]:
                    cols[fcol] = (lambda t, s=s, c=c: "ROOT::RVecD r(" + c + ".size()); "
                                  f"for (std::size_t i = 0; i < {c}.size(); ++i) {{ "
                                  f"const auto {_ELEM} = {c}[i]; r[i] = {self._factor(s, t, _ELEM)};"
                                  " } return r;")
                else:
                    cols[fcol] = lambda t, s=s, c=c: self._factor(s, t, f"({c})")
                factors.setdefault(c, []).append(fcol)
            node = self._define_and_vary(node, s, cols, "ROOT::RVecD" if any(vec.values())
                                         else "double")
        for c, fcols in factors.items():
            node = node.Redefine(c, " * ".join([c, *fcols]))  # once per column: see docstring
        log.debug("sample %s: shape sources %s", getattr(sample, "name", sample),
                  [s.name for s in sources])
        return node

    def apply_weights(self, node: Any, sample: Any) -> Any:
        """Weight sources: one factor column each, then the weight (and its square) redefined.

        Call after the columns the inputs use are defined, before any Filter or column that
        reads the weight (other than the weight-squared column, which is redefined here).
        """
        sources = self.sources_for(sample, "weight")
        if not sources:
            return node
        if not self._validated:
            self.validate()
        fcols = []
        for s in sources:
            fcol = f"_syst_{s.name}"
            if s.over:
                def make(t: str, s: Source = s) -> str:
                    return (f"const auto nutag_over = ({s.over}); double r = 1.0; "
                            "for (std::size_t i = 0; i < nutag_over.size(); ++i) { "
                            f"const auto {_ELEM} = nutag_over[i]; r *= {self._factor(s, t, _ELEM)};"
                            " } return r;")
            else:
                def make(t: str, s: Source = s) -> str:
                    return f"double({self._factor(s, t, None)})"
            node = self._define_and_vary(node, s, {fcol: make}, "double")
            fcols.append(fcol)
        w = self.weight_column
        node = node.Redefine(w, " * ".join([w, *fcols]))
        defined = {str(c) for c in node.GetColumnNames()}
        if self.weight2_column and self.weight2_column in defined:
            node = node.Redefine(self.weight2_column, f"{w} * {w}")
        return node

    def apply_variations(self, node: Any, sample: Any) -> Any:
        """Shapes then weights on one node: for graphs with no columns between the two."""
        return self.apply_weights(self.apply_shapes(node, sample), sample)


# --------------------------------------------------------------------------- results
def book_variations(results: Iterable[Any], *, distributed: bool = False) -> list[Any]:
    """``VariationsFor`` of each booked result. Call after every graph is built, before running.

    ``distributed``: results of a distributed RDataFrame need the Distributed VariationsFor.
    """
    ROOT = import_root()
    exp = ROOT.RDF.Experimental
    vfor = exp.Distributed.VariationsFor if distributed else exp.VariationsFor
    return [vfor(r) for r in results]


def variation_values(rmap: Any, convert: Callable[[Any], Any] = float) -> dict[str, Any]:
    """An ``RResultMap`` as ``{"nominal": v, "<source>:up": v, ...}`` (runs the loop if needed)."""
    return {str(k): convert(rmap[k]) for k in rmap.GetKeys()}
