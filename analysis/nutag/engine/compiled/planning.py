"""What is compiled for one sample and what stays jitted: the plan, and the cut tree a fused
kernel evaluates.

Why apart from the code generation: the plan is decided from the YAML and the input column
types alone (no ROOT object, no compiler), so the generated source, hence the cache key,
depends on nothing else; the graph also builds its :class:`CutTree` before anything compiles.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ...config.expressions import CPP_NAMES, expression_names
from ...config.yamlio import Loc

#: namespaces the compiled code sees as cling does (``nutag_corr`` lives only in cling)
_NAMESPACES = frozenset({"nutag", "ROOT", "std", "TMath"})
#: C++ names cling knows that the library would need libPhysics for: left to cling
_CLING_ONLY = frozenset({"TVector2", "TVector3", "TLorentzVector"})
#: tokens of the input column types the generated code may spell (else: that column is jitted)
_TYPE_TOKENS = frozenset("""
    bool char short int long float double unsigned signed
    Bool_t Char_t UChar_t Short_t UShort_t Int_t UInt_t Long_t ULong_t Long64_t ULong64_t
    Float_t Double_t Float16_t Double32_t size_t std::size_t
    std::int8_t std::int16_t std::int32_t std::int64_t
    std::uint8_t std::uint16_t std::uint32_t std::uint64_t
    int8_t int16_t int32_t int64_t uint8_t uint16_t uint32_t uint64_t
    ROOT::VecOps::RVec ROOT::RVec std::vector std::string std::array
    ROOT::RVecD ROOT::RVecF ROOT::RVecI ROOT::RVecB ROOT::RVecL ROOT::RVecU ROOT::RVecC
""".split())
_TYPE_WORD = re.compile(r"[A-Za-z_][\w:]*")


@dataclass(frozen=True)
class Item:
    """One YAML column or cut as a C++ function: its parameters are (column, C++ type)."""

    name: str
    expr: str
    loc: Loc
    params: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Column:
    """A column the graph defines besides the YAML ones (the event weight and its square, the
    histogram-weight products): name, C++ expression, where it comes from."""

    name: str
    expr: str
    loc: Loc


@dataclass(frozen=True)
class Hist:
    """A histogram booked typed: its columns (x, [y,] weight) and their C++ types."""

    name: str
    columns: tuple[str, ...]
    types: tuple[str, ...]


@dataclass(frozen=True)
class CutTree:
    """The cuts of the regions one sample books, as a tree of cutflow rows.

    Row 0 is the ``(all)`` row; row k > 0 is ``rows[k] = (parent row, cut name)``: the events
    passing the parent row and that cut. Regions sharing leading cuts share rows, exactly as
    the node-per-cut graph shares its Filter nodes; parents come before their children.
    ``regions[name]`` is the list of rows of a region, ``(all)`` first, its last row the events
    the region selects. ``root_cut``: a cut that row 0 itself applies (the blind-box veto of
    blinded data, :mod:`nutag.config.blinding`): the ``(all)`` row and every row below it then count
    only the events passing it, exactly as the node-per-cut graph's Filter before its
    ``(all)`` row.
    """

    rows: tuple[tuple[int, str], ...]
    regions: dict[str, tuple[int, ...]]
    root_cut: str | None = None

    @classmethod
    def of(cls, regions: Sequence[tuple[str, Sequence[str]]], all_row: str,
           root_cut: str | None = None) -> CutTree:
        """The tree of ``(region name, cut names)`` in booking order."""
        rows: list[tuple[int, str]] = [(-1, all_row)]
        index: dict[tuple[str, ...], int] = {(): 0}
        paths: dict[str, tuple[int, ...]] = {}
        for name, cuts in regions:
            path = [0]
            for i in range(len(cuts)):
                prefix = tuple(cuts[: i + 1])
                if prefix not in index:
                    index[prefix] = len(rows)
                    rows.append((path[-1], cuts[i]))
                path.append(index[prefix])
            paths[name] = tuple(path)
        return cls(tuple(rows), paths, root_cut)

    def cuts(self) -> set[str]:
        rows = {cut for parent, cut in self.rows if parent >= 0}
        return rows | {self.root_cut} if self.root_cut else rows


@dataclass
class Plan:
    """What is compiled for one sample and what stays jitted.

    ``steps``: in YAML order, ``("lib", segment)`` for a run of compiled columns (booked by
    ``define_columns(node, segment)``) or ``("jit", name)`` for a column booked jitted;
    ``weight_steps`` the same for the weight columns defined before them and
    ``hist_weight_steps`` for the histogram-weight columns defined after them (and after the
    systematic weights). ``cuts``: cut name -> its compiled filter; ``h1``/``h2``: the
    histograms booked by ``book_h1``/``book_h2`` (index = position). Nothing here holds ROOT
    objects, so the generated source (and the cache key) depends only on the YAML and the
    input types.
    """

    steps: list[tuple[str, Any]] = field(default_factory=list)
    segments: list[list[Item]] = field(default_factory=list)
    cuts: dict[str, Item] = field(default_factory=dict)
    jitted: list[str] = field(default_factory=list)
    #: why each entry of ``jitted`` stays jitted (the name the generated code cannot use)
    jitted_why: dict[str, str] = field(default_factory=dict)
    weight_steps: list[tuple[str, Any]] = field(default_factory=list)
    hist_weight_steps: list[tuple[str, Any]] = field(default_factory=list)
    h1: list[Hist] = field(default_factory=list)
    h2: list[Hist] = field(default_factory=list)
    #: the cut tree evaluated by one fused kernel (:func:`fuse`), None: one node per cut
    fused: CutTree | None = None
    #: the fused kernel's event-weight column (the cutflow's sum w)
    fused_weight: str = ""
    #: the histograms the fused kernel fills, in booking order: (region, cutflow row of the
    #: region's events, histogram); a histogram's index is its position among those of its
    #: dimension (:meth:`.booking.CompiledSelection.fused_action`)
    fused_fills: list[tuple[str, int, Hist]] = field(default_factory=list)

    @property
    def n_compiled(self) -> int:
        return (sum(len(s) for s in self.segments) + len(self.cuts) + len(self.h1)
                + len(self.h2))


def _spellable(ctype: str) -> bool:
    """True if the generated code can name an input column's type without more headers."""
    return all(w in _TYPE_TOKENS for w in _TYPE_WORD.findall(ctype))


def plan(columns: Sequence[Any], cuts: Sequence[Any], column_type: Any, *,
         nutag_linked: bool, weights: Sequence[Any] = (), hist_weights: Sequence[Any] = (),
         histograms: Sequence[tuple[str, tuple[str, ...]]] = (),
         fixed_types: dict[str, str] | None = None) -> Plan:
    """Decide, node by node, what is compiled; ``columns``/``cuts`` have name, expr, loc.

    ``column_type(name)`` returns the C++ type of a column of the dataframe the columns are
    defined on, or None if there is no such column. ``nutag_linked``: libnutag.so is loaded, so
    the library may call ``nutag::`` functions (when cling compiled them itself it cannot).
    ``weights`` (defined before ``columns``) and ``hist_weights`` (after them) are
    :class:`Column`; ``histograms`` are ``(name, (x, [y,] weight column))``, booked typed when
    every column's type is known here. ``fixed_types``: columns whose type is known even when
    they are jitted (``static_cast<double>(...)``).
    """
    out = Plan()
    compiled: set[str] = set()
    jitted: set[str] = set()
    fixed = dict(fixed_types or {})
    namespaces = _NAMESPACES if nutag_linked else _NAMESPACES - {"nutag"}

    def type_of(name: str) -> str | None:
        """The C++ spelling of a column's type in the generated code, None if unknown."""
        if name in compiled:
            return f"T_{name}"
        if name in jitted:
            return fixed.get(name)
        ctype = column_type(name)
        return ctype if ctype is not None and _spellable(ctype) else None

    def params(expr: str) -> tuple[tuple[tuple[str, str], ...] | None, str]:
        """The typed parameters of ``expr``, or (None, why it cannot be compiled)."""
        ps: list[tuple[str, str]] = []
        for name, role in expression_names(expr):
            if role == "namespace":
                if name not in namespaces:
                    return None, f"uses {name}::, declared to cling only"
                continue
            if name in compiled or name in jitted or column_type(name) is not None:
                if (ctype := type_of(name)) is None:
                    return None, (f"reads {name}, which stays jitted" if name in jitted
                                  else f"the type of column {name} cannot be spelled here")
            elif name in CPP_NAMES and name not in _CLING_ONLY:
                continue
            else:  # a name only cling knows (declared there) or nobody does
                return None, f"uses {name}, known to cling only"
            if (name, ctype) not in ps:
                ps.append((name, ctype))
        return tuple(ps), ""

    def add_columns(cols: Sequence[Any], steps: list[tuple[str, Any]]) -> None:
        segment: list[Item] = []
        for col in cols:
            ps, why = params(col.expr)
            if ps is None:
                if segment:
                    steps.append(("lib", len(out.segments)))
                    out.segments.append(segment)
                    segment = []
                steps.append(("jit", col.name))
                jitted.add(col.name)
                out.jitted.append(col.name)
                out.jitted_why[col.name] = why
                continue
            segment.append(Item(col.name, col.expr, col.loc, ps))
            compiled.add(col.name)
        if segment:
            steps.append(("lib", len(out.segments)))
            out.segments.append(segment)

    add_columns(weights, out.weight_steps)
    add_columns(columns, out.steps)
    for cut in cuts:
        ps, why = params(cut.expr)
        if ps is None:
            out.jitted.append(cut.name)
            out.jitted_why[cut.name] = why
        else:
            out.cuts[cut.name] = Item(cut.name, cut.expr, cut.loc, ps)
    add_columns(hist_weights, out.hist_weight_steps)
    for name, cols in histograms:
        types = [type_of(c) for c in cols]
        if any(t is None for t in types):
            out.jitted.append(f"histogram {name}")
            out.jitted_why[f"histogram {name}"] = "a column's type is not known here"
            continue
        (out.h1 if len(cols) == 2 else out.h2).append(Hist(name, tuple(cols), tuple(types)))
    return out


def fuse(p: Plan, tree: CutTree, weight: str,
         fills: Sequence[tuple[str, str]] = ()) -> bool:
    """Make ``p`` fused (``p.fused = tree``) if everything it books is compiled: the weights
    (``weight`` the event weight among them), every column, every cut of ``tree`` and every
    histogram. ``fills``: the (region, histogram) pairs booked, in order, filled by the
    kernel's one histogram action. Returns whether it did; if not, the plan books one node per
    column and cut."""
    steps = (*p.weight_steps, *p.steps, *p.hist_weight_steps)
    names = {it.name for seg in p.segments for it in seg}
    hists = {h.name: h for h in (*p.h1, *p.h2)}
    if p.jitted or any(kind != "lib" for kind, _ in steps) or weight not in names \
            or not tree.cuts() <= set(p.cuts) \
            or any(r not in tree.regions or h not in hists for r, h in fills):
        return False
    p.fused, p.fused_weight = tree, weight
    p.fused_fills = [(r, tree.regions[r][-1], hists[h]) for r, h in fills]
    return True

