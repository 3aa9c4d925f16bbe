"""Compile the YAML selection ahead of time: typed RDataFrame code in a cached shared library.

Why: every YAML column and cut booked as a jitted string costs cling ~40 ms before the first
event (2.4-3.2 s for the full selection), and the jitted graph runs slower than the same graph
written as typed C++ (BENCHMARKS.md). Here the columns and cuts of one sample become C++
functions, compiled once by the system compiler at -O2 and cached by content, so a rerun only
``dlopen``s a library and declares two prototypes to cling.

What the generated code looks like, and why it means what the jitted code means:

* one function per column or cut, whose parameters are the dataframe columns the expression
  uses (the lexical scan of :mod:`nutag.expressions`), passed by ``T&`` as RDataFrame's own
  jitted functions do. Input column types come from ``GetColumnType``; the types of compiled
  columns are deduced by the compiler (``auto`` return, ``decltype``), never guessed here;
* the context of a jitted expression: ``using namespace std;`` at global scope (cling's),
  ``<cmath>`` and ``TMath``, nutag's headers; RVec helpers (``Sum``, ``abs`` of an RVec) are
  found by argument-dependent lookup, exactly as in cling;
* ``#line`` before each expression, so a compiler error names the YAML file and line;
* ``define_columns(node, segment)`` books one run of consecutive compiled columns and
  ``filter(node, i)`` one named cut, so :func:`nutag.graph.build_graph` keeps its structure
  (shared cut prefixes, a cutflow row after every cut, blinding);
* the event weight (``static_cast<double>`` of the sample's weight expression), its square and
  the histogram-weight products are compiled columns too, and ``book_h1``/``book_h2(node, i,
  model)`` book histogram ``i`` as ``Histo1D<Tx, Tw>``/``Histo2D<Tx, Ty, Tw>`` of its columns'
  types: the same action RDataFrame's jitted ``Histo1D`` instantiates, with no cling at all;
  ``book_count``/``book_cutflow`` book the cutflow rows (``nutag/rdf/cutflow.hpp``) likewise.

**Fused kernel** (the default where it applies; ``NUTAG_FUSE=off`` disables it): when every
column, cut, weight and histogram of a sample compiles and the sample has no systematic
``Vary`` (which must reach every node), the library also holds one kernel that evaluates the
cut tree of all booked regions (:class:`CutTree`) as straight-line code. The graph is then
one Define of the kernel's per-event record, one Define per column reading it, ONE action
filling every cutflow row and every histogram of every region from the record
(``nutag/rdf/fused_action.hpp``, with the generated ``fill``) and, only when something else
is booked on a region, one Filter per region:
instead of a virtual call per node and per input per event (BENCHMARKS.md counts them). Same
meaning, bit for bit: a row is evaluated only if its parent passed, a column is computed on
first use and kept, by the same function, and a histogram is filled as ``Histo1D`` fills it. Over a local chain of RNTuple files the kernel
also reads its inputs itself, through one ``RNTupleReader`` view per input and processing
slot, each on first use in the event (``fused_define_direct``; ``NUTAG_DIRECT_READ=off``
disables it): RDataFrame's column readers cost a type-erased call and an atomic reference
count per read, which two threads pay dearly (BENCHMARKS.md, "Two threads"). Fed by
RDataFrame instead (TTree input, chunks of HTCondor jobs), the kernel receives every input for
every event, which still costs less than the nodes it replaces.

What is not compiled stays jitted, node by node: expressions naming what g++ cannot see (the
correctionlib functions of ``nutag_corr``, names allowed only for cling), every column or
cut that reads such a column (a jitted weight excepted: it is a double by construction) and
every histogram of such a column. A compiler error is remembered by key (see :func:`build`). ``NUTAG_COMPILE=auto|on|off`` chooses the policy
(:func:`compile_mode`); ``auto`` falls back to the jitted graph, with a warning naming the
first compiler error, when the compiler is missing or fails.
"""

from __future__ import annotations

import ctypes
import hashlib
import logging
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from .cutflow import atomic_write
from .errors import NutagError
from .expressions import CPP_NAMES, EXPRESSION_ERROR, expression_names
from .rootenv import import_root
from .yamlio import Loc

log = logging.getLogger("nutag.compiled")

MODES = ("auto", "on", "off")
#: nutag's own compiler flags around ROOT's (:func:`root_cflags`, :func:`compile_flags`):
#: optimisation before them, position-independent code for a shared library after them
OPT_FLAGS = ("-O2",)
LIB_FLAGS = ("-fPIC", "-shared")
#: bumped when the generated code changes shape (part of the cache key)
GENERATOR_VERSION = "10"

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
_ERROR_LINE = re.compile(r"\berror\b")
#: a ``#line N "file"`` directive: it only moves the compiler's diagnostics
_LINE_DIRECTIVE = re.compile(r'^#line \d+ "[^"\n]*"$', re.MULTILINE)


class CompileError(NutagError):
    """The selection could not be compiled; ``first_error`` is the compiler's first error line
    (for an expression: ``selection.yaml:LINE:COL: error: ...``)."""

    def __init__(self, message: str, first_error: str = "") -> None:
        self.first_error = first_error
        super().__init__(message)


def compile_mode(mode: str | None = None) -> str:
    """The policy: ``mode`` if given, else ``NUTAG_COMPILE``, else ``auto``."""
    value = (mode or os.environ.get("NUTAG_COMPILE") or "auto").strip().lower()
    if value not in MODES:
        raise ValueError(f"NUTAG_COMPILE={value!r} is not one of {MODES}")
    return value


def cache_dir() -> Path:
    """``$NUTAG_COMPILE_CACHE`` or ``build/compiled`` of the source tree (gitignored)."""
    env = os.environ.get("NUTAG_COMPILE_CACHE")
    if env:
        return Path(env)
    from .cpp import source_root  # noqa: PLC0415

    return source_root() / "build" / "compiled"


# --------------------------------------------------------------------------- planning
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
    blinded data, :mod:`nutag.blinding`): the ``(all)`` row and every row below it then count
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
    #: dimension (:meth:`CompiledSelection.fused_action`)
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

    def params(expr: str) -> tuple[tuple[str, str], ...] | None:
        ps: list[tuple[str, str]] = []
        for name, role in expression_names(expr):
            if role == "namespace":
                if name not in namespaces:
                    return None
                continue
            if name in compiled or name in jitted or column_type(name) is not None:
                if (ctype := type_of(name)) is None:
                    return None
            elif name in CPP_NAMES and name not in _CLING_ONLY:
                continue
            else:
                return None  # a name only cling knows (declared there) or nobody does
            if (name, ctype) not in ps:
                ps.append((name, ctype))
        return tuple(ps)

    def add_columns(cols: Sequence[Any], steps: list[tuple[str, Any]]) -> None:
        segment: list[Item] = []
        for col in cols:
            ps = params(col.expr)
            if ps is None:
                if segment:
                    steps.append(("lib", len(out.segments)))
                    out.segments.append(segment)
                    segment = []
                steps.append(("jit", col.name))
                jitted.add(col.name)
                out.jitted.append(col.name)
                continue
            segment.append(Item(col.name, col.expr, col.loc, ps))
            compiled.add(col.name)
        if segment:
            steps.append(("lib", len(out.segments)))
            out.segments.append(segment)

    add_columns(weights, out.weight_steps)
    add_columns(columns, out.steps)
    for cut in cuts:
        ps = params(cut.expr)
        if ps is None:
            out.jitted.append(cut.name)
        else:
            out.cuts[cut.name] = Item(cut.name, cut.expr, cut.loc, ps)
    add_columns(hist_weights, out.hist_weight_steps)
    for name, cols in histograms:
        types = [type_of(c) for c in cols]
        if any(t is None for t in types):
            out.jitted.append(f"histogram {name}")
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


#: the column holding a fused kernel's per-event record (``Event``)
FUSED_EVENT = "_nutag_event"


# --------------------------------------------------------------------------- code generation
def _cpp_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


_RETURN = re.compile(r"\breturn\b")
GENERATED_NAME = "nutag_generated.cxx"


def include_lines() -> list[str]:
    """What a jitted expression sees in cling, as #include lines (the nutag headers are the
    ones ``nutag.cpp.load_cpp`` declares, plus the header-only RDataFrame helpers)."""
    from .cpp import headers, include_dir  # noqa: PLC0415

    base = include_dir()
    lines = ["#include <cmath>", "#include <cstddef>", "#include <cstdint>", "#include <memory>",
             "#include <stdexcept>", "#include <string>", "#include <type_traits>",
             "#include <utility>", "#include <vector>",
             "#include <ROOT/RDataFrame.hxx>", "#include <ROOT/RVec.hxx>", "#include <TH1D.h>",
             "#include <TH2D.h>", "#include <TMath.h>"]
    lines += [f'#include "{h.relative_to(base).as_posix()}"' for h in headers()
              if h.name != "LinkDef.h"]
    return lines


class _Writer:
    """Source lines, counting them so ``#line`` can give generated code its real numbers back."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def add(self, *lines: str) -> None:
        for line in lines:
            self.lines.extend(line.split("\n"))

    def expression(self, loc: Loc, head: str, expr: str, key: str) -> None:
        """``head`` + the YAML expression as a function body, with compiler errors inside it
        reported at the YAML file and line, and exceptions it throws in the event loop
        rethrown naming them and ``key`` (free when nothing is thrown).

        Why ``__FILE__`` and ``__LINE__`` and not the numbers written out: they come from the
        ``#line`` directive, which :meth:`Toolchain.library_key` leaves out, so sources that
        differ only in where their YAML lines are still share one library. A sample's weight
        (defined at its own line of samples.yaml, and sharing the library with the other
        samples' weights) is named without a line."""
        body = expr if _RETURN.search(expr) else f"return {expr}"
        where = ('std::string(__FILE__) + ":" + std::to_string(nutag_line_)'
                 if not key.startswith(f"columns.{WEIGHT_PREFIX}") else
                 'std::string(__FILE__) + ": a sample\'s weight"')
        self.add(head, f"#line {int(loc.line)} {_cpp_string(str(loc.file))}",
                 f"[[maybe_unused]] constexpr int nutag_line_ = __LINE__; try {{ {body}",
                 ";} catch (const std::exception& nutag_e_) { throw std::runtime_error("
                 f"{_cpp_string(EXPRESSION_ERROR)} + {where} + {_cpp_string(': ' + key + ': ')}"
                 " + nutag_e_.what()); }", "}")
        self.add(f"#line {len(self.lines) + 2} {_cpp_string(GENERATED_NAME)}")

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


def _signature(item: Item) -> str:
    return ", ".join(f"{t}& {n}" for n, t in item.params)


def _column_list(item: Item) -> str:
    return "{" + ", ".join(_cpp_string(n) for n, _ in item.params) + "}"


NAMESPACE_PLACEHOLDER = "NUTAG_GEN_NAMESPACE"
#: the weight columns' names start so (nutag.graph.WEIGHT: "_w", "_w2", "_w_x_<column>")
WEIGHT_PREFIX = "_w"


def generate(p: Plan, *, origin: str = "") -> str:
    """The C++ source of a plan, in namespace :data:`NAMESPACE_PLACEHOLDER` (renamed after
    hashing). Entry points: ``define_columns(node, segment)``, ``filter(node, cut)`` and
    ``book_h1``/``book_h2(node, histogram, model)`` (the typed ``Histo1D``/``Histo2D`` of the
    histogram's columns)."""
    w = _Writer()
    w.add(f"// Generated by nutag.compiled from {origin or 'the YAML selection'}; do not edit.",
          *include_lines(),
          # the fused kernel can read its inputs itself (fused_define_direct)
          *(("#include <algorithm>", "#include <atomic>", "#include <ROOT/RNTupleReader.hxx>",
              "#include <ROOT/RNTupleView.hxx>") if p.fused is not None else ()),
          "", "using namespace std;  // cling's global context", "",
          f"namespace {NAMESPACE_PLACEHOLDER} {{")
    fnames: dict[str, str] = {}
    for s, segment in enumerate(p.segments):
        for i, item in enumerate(segment):
            fn = fnames[item.name] = f"nutag_col_{s}_{i}_{item.name}"
            w.expression(item.loc, f"auto {fn}({_signature(item)}) {{", item.expr,
                         f"columns.{item.name}")
            args = ", ".join(f"std::declval<{t}&>()" for _, t in item.params)
            w.add(f"using T_{item.name} = std::decay_t<decltype({fn}({args}))>;", "")
    cut_names = list(p.cuts)
    for i, name in enumerate(cut_names):
        item = p.cuts[name]
        w.expression(item.loc, f"auto nutag_cut_{i}_{name}({_signature(item)}) {{", item.expr,
                     f"cuts.{name}")
        w.add("")
    # a fused library books its columns and cuts through the kernel only: no node-per-cut
    # entry points are instantiated (the RDataFrame templates are most of the compile time)
    node_per_cut = p.fused is None
    if not node_per_cut:
        _generate_fused(w, p, fnames, cut_names)
    w.add("ROOT::RDF::RNode define_columns(ROOT::RDF::RNode node, int segment) {",
          "  switch (segment) {")
    for s, segment in enumerate(p.segments if node_per_cut else ()):
        chain = "".join(f"\n        .Define({_cpp_string(it.name)}, {fnames[it.name]}, "
                        f"{_column_list(it)})" for it in segment)
        w.add(f"  case {s}: return node{chain};")
    w.add("  default: throw std::out_of_range(\"nutag: no such compiled column segment\");",
          "  }", "}", "",
          "ROOT::RDF::RNode filter(ROOT::RDF::RNode node, int cut) {", "  switch (cut) {")
    for i, name in enumerate(cut_names if node_per_cut else ()):
        item = p.cuts[name]
        w.add(f"  case {i}: return node.Filter(nutag_cut_{i}_{name}, {_column_list(item)}, "
              f"{_cpp_string(name)});")
    w.add("  default: throw std::out_of_range(\"nutag: no such compiled cut\");", "  }", "}", "")
    for dim, hists in ((1, p.h1), (2, p.h2)):
        w.add(f"ROOT::RDF::RResultPtr<::TH{dim}D> book_h{dim}(ROOT::RDF::RNode node, int h, "
              f"const ROOT::RDF::TH{dim}DModel& model) {{", "  switch (h) {")
        for i, hist in enumerate(hists):
            names = ", ".join(_cpp_string(c) for c in hist.columns)
            w.add(f"  case {i}: return node.Histo{dim}D<{', '.join(hist.types)}>(model, {names});")
        w.add("  default: throw std::out_of_range(\"nutag: no such compiled histogram\");",
              "  }", "}", "")
    w.add("ROOT::RDF::RResultPtr<ULong64_t> book_count(ROOT::RDF::RNode node) {",
          "  return node.Count();", "}", "",
          "ROOT::RDF::RResultPtr<nutag::CutflowSums> book_cutflow(ROOT::RDF::RNode node, "
          "const std::string& weight) {", "  return nutag::book_cutflow(node, weight);", "}",
          "", f"}}  // namespace {NAMESPACE_PLACEHOLDER}")
    return w.text()


def _generate_fused(w: _Writer, p: Plan, fnames: dict[str, str], cut_names: list[str]) -> None:
    """The fused kernel of ``p.fused``: one function of every input column the selection reads
    that evaluates the cut tree row by row, as straight-line code, into the slot's ``Event``
    record.

    Why it means what the node-per-cut graph means: a row is evaluated only when its parent
    passed (``&&``), and a column is computed on first use in the event and then kept, so a
    column is computed for exactly the events on which the node graph's lazy Define would be,
    and by the same function. The columns are read downstream through one Define each
    (:data:`FUSED_EVENT` -> ``Event::c_<name>()``), computed there if no cut needed them.

    Why a record per processing slot, reused: the column holds a pointer to it, so nothing is
    constructed, moved or destroyed per event; a new event only increments the record's
    generation (``gen``), which invalidates every kept column at once (a column is current
    when its ``gen_<name>`` equals ``gen``), and a recomputed column is assigned over the old
    value (an RVec keeps its buffer). The record keeps pointers to the input values, valid for
    the entry being processed.
    """
    assert p.fused is not None
    items = [it for seg in p.segments for it in seg]
    compiled_names = {it.name for it in items}
    inputs: list[tuple[str, str]] = []
    for it in (*items, *(p.cuts[c] for c in cut_names)):
        for name, ctype in it.params:
            if name not in compiled_names and (name, ctype) not in inputs:
                inputs.append((name, ctype))
    for _, _, hist in p.fused_fills:  # a histogram of an input column reads it, too
        for name, ctype in zip(hist.columns, hist.types):
            if name not in compiled_names and (name, ctype) not in inputs:
                inputs.append((name, ctype))

    def args(it: Item, record: str = "") -> str:
        """The arguments of ``it``'s function, read from the record (``record`` + member)."""
        return ", ".join(f"{record}c_{n}()" if n in compiled_names else f"{record}i_{n}()"
                         for n, _ in it.params)

    rows = p.fused.rows
    w.add("// ---- fused kernel: the cut tree of the booked regions, one node",
          "// The kernel's inputs read straight from one RNTuple file (fused_define_direct): one",
          "// typed view per input column (the type checked against the file when it is made),",
          "// owned with the reader by one processing slot. A read goes through the view's value",
          "// (RValue::Read) into the object whose address is kept in p_<name>: the view's own",
          "// operator() copies a shared_ptr per read, two atomic operations (BENCHMARKS.md).",
          "template <typename T>",
          "T* value_of(const ROOT::RNTupleView<T>& v) {",
          "  return static_cast<T*>(v.GetValue().template GetPtr<void>().get());",
          "}",
          "// A slot's reader decompresses its pages itself, in the slot's thread: with implicit",
          "// MT on, RNTuple would otherwise schedule every page's decompression as a task on",
          "// the thread pool the processing slots run on (RDataFrame's own RNTuple source turns",
          "// this off for the same reason).",
          "std::unique_ptr<ROOT::RNTupleReader> open_reader(const std::string& ntuple,",
          "                                                 const std::string& file) {",
          "  ROOT::RNTupleReadOptions options;",
          "  options.SetUseImplicitMT(ROOT::RNTupleReadOptions::EImplicitMT::kOff);",
          "  return ROOT::RNTupleReader::Open(ntuple, file, options);",
          "}",
          "struct Inputs {",
          "  std::unique_ptr<ROOT::RNTupleReader> reader;")
    for name, ctype in inputs:
        w.add(f"  ROOT::RNTupleView<{ctype}> v_{name};", f"  {ctype}* p_{name};")
    inits = "".join(f",\n        v_{name}(reader->GetView<{ctype}>({_cpp_string(name)})),"
                    f"\n        p_{name}(value_of(v_{name}))" for name, ctype in inputs)
    w.add("  explicit Inputs(std::unique_ptr<ROOT::RNTupleReader> r)",
          f"      : reader(std::move(r)){inits} {{}}", "  Inputs(const Inputs&) = delete;",
          "  Inputs& operator=(const Inputs&) = delete;")
    for name, ctype in inputs:
        w.add(f"  {ctype}* read_{name}(std::uint64_t i) {{",
              f"    const_cast<ROOT::RFieldBase::RValue&>(v_{name}.GetValue()).Read(i);",
              f"    return p_{name};", "  }")
    w.add("};", "",
          "struct alignas(64) Event {",
          f"  static constexpr std::size_t kRows = {len(rows)};",
          "  bool pass[kRows] = {};  // pass[k]: the event passed cutflow row k",
          "  std::uint64_t gen = 0;  // the event's generation: a kept column is current if equal",
          "  // direct reading: the slot's reader of the file holding the entry, entries [first, end)",
          "  std::unique_ptr<Inputs> direct;",
          "  std::size_t file = static_cast<std::size_t>(-1);",
          "  std::uint64_t first = 0, end = 0, local = 0;")
    for name, ctype in inputs:
        # an input is read on first use in the event (direct) or was handed over by RDataFrame
        # (kernel sets in_ and gen_in_)
        w.add(f"  {ctype}* in_{name} = nullptr;", f"  std::uint64_t gen_in_{name} = 0;",
              f"  {ctype}& i_{name}() {{",
              f"    if (gen_in_{name} != gen) {{",
              f"      in_{name} = direct->read_{name}(local);",
              f"      gen_in_{name} = gen;", "    }", f"    return *in_{name};", "  }")
    for it in items:
        n = it.name
        w.add(f"  T_{n} val_{n}{{}};", f"  std::uint64_t gen_{n} = 0;",
              f"  T_{n}& c_{n}() {{",
              f"    if (gen_{n} != gen) {{ val_{n} = {fnames[n]}({args(it)}); gen_{n} = gen; }}",
              f"    return val_{n};", "  }")
    w.add(f"  double weight() {{ return c_{p.fused_weight}(); }}", "};", "")
    params = ", ".join(f"{ctype}& {name}" for name, ctype in inputs)
    index = {name: i for i, name in enumerate(cut_names)}
    root = p.fused.root_cut
    first = (f"nutag_cut_{index[root]}_{root}({args(p.cuts[root], 'nutag_event_.')})"
             if root else "true")
    w.add("void rows(Event& nutag_event_) {", f"  nutag_event_.pass[0] = {first};")
    for k, (parent, cut) in enumerate(rows):
        if parent < 0:
            continue
        call = f"nutag_cut_{index[cut]}_{cut}({args(p.cuts[cut], 'nutag_event_.')})"
        w.add(f"  nutag_event_.pass[{k}] = nutag_event_.pass[{parent}] && {call};")
    w.add("}", "",
          f"void kernel(Event& nutag_event_{', ' if params else ''}{params}) {{",
          "  const std::uint64_t g = ++nutag_event_.gen;")
    for name, _ in inputs:
        w.add(f"  nutag_event_.in_{name} = &{name};", f"  nutag_event_.gen_in_{name} = g;")
    w.add("  rows(nutag_event_);", "}", "")
    _generate_fills(w, p, compiled_names)
    w.add(
          "// The reader of the first file opened when the graph was built, for the first slot",
          "// that reads that file (opening a file and reading its page list takes ~0.1 s).",
          "struct SpareReader {",
          "  std::atomic<Inputs*> inputs{nullptr};",
          "  ~SpareReader() { delete inputs.load(); }",
          "};",
          "",
          "// entry: RDataFrame's global entry of the chain; begins[i]: first entry of files[i],",
          "// begins.back(): the chain's entries",
          "void kernel_direct(Event& e, std::uint64_t entry, const std::string& ntuple,",
          "                   const std::vector<std::string>& files,",
          "                   const std::vector<std::uint64_t>& begins, SpareReader& spare) {",
          "  ++e.gen;",
          "  if (entry < e.first || entry >= e.end) {",
          "    const auto it = std::upper_bound(begins.begin(), begins.end(), entry);",
          "    const std::size_t f = static_cast<std::size_t>(it - begins.begin()) - 1;",
          "    if (f != e.file) {",
          "      e.direct.reset();  // one open file per slot",
          "      Inputs* kept = f == 0 ? spare.inputs.exchange(nullptr) : nullptr;",
          "      e.direct.reset(kept != nullptr ? kept : new Inputs(open_reader(ntuple, files[f])));",
          "      e.file = f;",
          "    }",
          "    e.first = begins[f];",
          "    e.end = begins[f + 1];",
          "  }",
          "  e.local = entry - e.first;",
          "  rows(e);", "}", "")
    names = ", ".join(name for name, _ in inputs)
    inputs_list = "{" + ", ".join(_cpp_string(n) for n, _ in inputs) + "}"
    event = _cpp_string(FUSED_EVENT)
    defines = "".join(
        f"\n      .Define({_cpp_string(it.name)}, [](Event*& e) {{ return e->c_{it.name}(); }}, "
        f"{{{event}}})" for it in items)
    w.add("ROOT::RDF::RNode fused_define(ROOT::RDF::RNode node) {",
          "  auto records = std::make_shared<std::vector<Event>>(node.GetNSlots());",
          f"  auto run = [records](unsigned int slot{', ' if params else ''}{params}) {{",
          "    Event& e = (*records)[slot];",
          f"    kernel(e{', ' if names else ''}{names});",
          "    return &e;", "  };",
          f"  return node.DefineSlot({event}, run, {inputs_list}){defines};",
          "}", "",
          "ROOT::RDF::RNode fused_define_direct(ROOT::RDF::RNode node, const std::string& ntuple,",
          "                                     const std::vector<std::string>& files) {",
          "  // every file opened once here, on the main thread: a file that is not an RNTuple",
          "  // with these columns and types throws now, before any event is read",
          "  auto begins = std::make_shared<std::vector<std::uint64_t>>(1, 0);",
          "  auto spare = std::make_shared<SpareReader>();",
          "  for (const auto& f : files) {",
          "    auto probe = std::make_unique<Inputs>(open_reader(ntuple, f));",
          "    begins->push_back(begins->back() + probe->reader->GetNEntries());",
          "    if (begins->size() == 2) spare->inputs = probe.release();",
          "  }",
          "  auto records = std::make_shared<std::vector<Event>>(node.GetNSlots());",
          "  auto names = std::make_shared<const std::vector<std::string>>(files);",
          "  auto run = [records, begins, names, ntuple, spare](unsigned int slot, ULong64_t entry) {",
          "    Event& e = (*records)[slot];",
          "    kernel_direct(e, entry, ntuple, *names, *begins, *spare);",
          "    return &e;", "  };",
          f"  return node.DefineSlotEntry({event}, run){defines};",
          "}", "",
          "ROOT::RDF::RNode fused_region(ROOT::RDF::RNode node, int row, const std::string& name) {",
          f"  return node.Filter([row](Event*& e) {{ return e->pass[row]; }}, {{{event}}}, name);",
          "}", "",
          "ROOT::RDF::RResultPtr<nutag::FusedResults> fused_action(ROOT::RDF::RNode node,",
          "    bool weighted, const std::vector<ROOT::RDF::TH1DModel>& h1,",
          "    const std::vector<ROOT::RDF::TH2DModel>& h2) {",
          f"  return nutag::book_fused_action<Event, &fill>(node, {event}, weighted, h1, h2);",
          "}", "")


def _generate_fills(w: _Writer, p: Plan, compiled_names: set[str]) -> None:
    """``fill(event, h1, h2)``: the histograms' part of the fused action (nutag/rdf/fused_action.hpp)
    as straight-line code, one block per cutflow row that ends a region with histograms.

    Why it means what one ``Histo1D``/``Histo2D`` per histogram means: a region's histograms are
    filled exactly when the event passed the region's last row, with the columns computed by
    the same functions (``c_<name>()``, kept in the event) and ``nutag::fill_histogram``
    following RDataFrame's ``FillHelper`` for collections."""
    by_row: dict[int, list[str]] = {}
    count = {1: 0, 2: 0}
    for _, row, hist in p.fused_fills:
        dim = len(hist.columns) - 1
        args = ", ".join(f"e.c_{c}()" if c in compiled_names else f"e.i_{c}()"
                         for c in hist.columns)
        by_row.setdefault(row, []).append(
            f"    nutag::fill_histogram(*h{dim}[{count[dim]}], {args});  // {hist.name}")
        count[dim] += 1
    w.add("void fill(Event& e, ::TH1D* const* h1, ::TH2D* const* h2) {",
          "  (void)h1;", "  (void)h2;")
    for row, lines in by_row.items():
        w.add(f"  if (e.pass[{row}]) {{", *lines, "  }")
    w.add("}", "")


FUSED_PROTOTYPES = """#include "{result}"
namespace {ns} {{
ROOT::RDF::RNode fused_define(ROOT::RDF::RNode node);
ROOT::RDF::RNode fused_define_direct(ROOT::RDF::RNode node, const std::string& ntuple,
                                     const std::vector<std::string>& files);
ROOT::RDF::RNode fused_region(ROOT::RDF::RNode node, int row, const std::string& name);
ROOT::RDF::RResultPtr<nutag::FusedResults> fused_action(
    ROOT::RDF::RNode node, bool weighted, const std::vector<ROOT::RDF::TH1DModel>& h1,
    const std::vector<ROOT::RDF::TH2DModel>& h2);
}}"""


PROTOTYPES = """#include "{sums}"
namespace {ns} {{
ROOT::RDF::RNode define_columns(ROOT::RDF::RNode node, int segment);
ROOT::RDF::RNode filter(ROOT::RDF::RNode node, int cut);
ROOT::RDF::RResultPtr<::TH1D> book_h1(ROOT::RDF::RNode node, int h,
                                      const ROOT::RDF::TH1DModel& model);
ROOT::RDF::RResultPtr<::TH2D> book_h2(ROOT::RDF::RNode node, int h,
                                      const ROOT::RDF::TH2DModel& model);
ROOT::RDF::RResultPtr<ULong64_t> book_count(ROOT::RDF::RNode node);
ROOT::RDF::RResultPtr<nutag::CutflowSums> book_cutflow(ROOT::RDF::RNode node,
                                                     const std::string& weight);
}}"""


# --------------------------------------------------------------------------- compile and cache
@dataclass(frozen=True)
class Toolchain:
    """The compiler and everything else that makes a cached library valid or stale."""

    cxx: str
    version: str
    flags: tuple[str, ...]
    includes: tuple[str, ...]
    root_version: str
    headers_digest: str

    def key(self, source: str) -> str:
        h = hashlib.sha256()
        for part in (GENERATOR_VERSION, self.cxx, self.version, *self.flags, *self.includes,
                     self.root_version, self.headers_digest, source):
            h.update(part.encode())
            h.update(b"\0")
        return h.hexdigest()

    def library_key(self, source: str) -> str:
        """The key of the library ``source`` compiles to: :meth:`key` without the ``#line``
        directives. They only point diagnostics at the YAML file:line of each expression, so
        sources that differ there alone (every MC sample's weight is defined at its own line of
        samples.yaml; a comment added to a selection YAML moves the lines below it) compile to
        the same library and share one cache entry instead of one compiler run each."""
        return self.key(_LINE_DIRECTIVE.sub("", source))


def _without_includes(tokens: Sequence[str]) -> tuple[str, ...]:
    """``root-config --cflags`` minus its include paths: nutag passes the include directories
    it checked itself (the wheel's root-config names a nonexistent ``mock_site_packages``)."""
    out: list[str] = []
    skip = False
    for tok in tokens:
        if skip:
            skip = False
        elif tok in ("-I", "-isystem"):
            skip = True
        elif not tok.startswith(("-I", "-isystem")):
            out.append(tok)
    return tuple(out)


def _root_config(ROOT: Any) -> str | None:
    """The ``root-config`` of the ROOT nutag imported, None if there is none.

    Its own bin directory first (LCG view, conda, a source build, the PyPI wheel's
    ``ROOT/bin``); a ``root-config`` found on PATH only if it reports the same version, since
    another installation's flags could name another C++ standard.
    """
    here = [Path(str(ROOT.gROOT.GetBinDir())) / "root-config",
            Path(str(ROOT.__file__)).resolve().parent / "bin" / "root-config"]
    for cand in here:
        if cand.is_file() and os.access(cand, os.X_OK):
            return str(cand)
    on_path = shutil.which("root-config")
    if on_path is None:
        return None
    r = subprocess.run([on_path, "--version"], capture_output=True, text=True, check=False)
    return on_path if r.stdout.strip() == str(ROOT.gROOT.GetVersion()) else None


def _cling_std(ROOT: Any) -> str:
    """``-std=c++NN`` of the standard cling (hence ROOT) was built for, from ``__cplusplus``."""
    value = int(ROOT.gInterpreter.ProcessLine("__cplusplus;"))
    year = {201703: 17, 202002: 20, 202302: 23}.get(value)
    if year is None:  # a draft value (e.g. 202100 for c++2b): the nearest standard below it
        year = 23 if value > 202002 else 20 if value > 201703 else 17
    return f"-std=c++{year}"


@cache
def root_cflags() -> tuple[str, ...]:
    """ROOT's own compile flags without include paths: the C++ standard and ABI flags.

    Why they must be ROOT's: code compiled with another ``-std`` than ROOT's headers were
    built for sees other declarations (``std::string_view`` overloads, ``if constexpr``
    paths in RDataFrame) and can disagree with ``libROOTDataFrame`` at link or run time. An
    LCG view built with C++20 needs ``-std=c++20``; the PyPI wheel ``-std=c++17``.

    From ``root-config --cflags`` of the imported ROOT; without it, the flags of ROOT's own
    ACLiC command (``gSystem.GetMakeSharedLib``) with cling's ``__cplusplus`` as the standard.
    The ``-std`` flag comes first so the cache key does not depend on the order root-config
    prints them in.
    """
    ROOT = import_root()
    tool = _root_config(ROOT)
    tokens: tuple[str, ...] = ()
    if tool is not None:
        r = subprocess.run([tool, "--cflags"], capture_output=True, text=True, check=False)
        tokens = _without_includes(r.stdout.split()) if r.returncode == 0 else ()
    if not any(t.startswith("-std=") for t in tokens):
        aclic = str(ROOT.gSystem.GetMakeSharedLib()).split()
        abi = [t for t in aclic if t in ("-pthread", "-m64", "-m32", "-fsized-deallocation")
               or t.startswith(("-std=", "-stdlib="))]
        tokens = (*abi, *tokens)
        if not any(t.startswith("-std=") for t in tokens):
            tokens = (_cling_std(ROOT), *tokens)
    std = [t for t in tokens if t.startswith("-std=")][-1:]
    rest = [t for t in dict.fromkeys(tokens) if not t.startswith("-std=")]
    return (*std, *rest)


def compile_flags() -> tuple[str, ...]:
    """Everything the compiler gets besides ``-I`` (part of the cache key, :class:`Toolchain`)."""
    return (*OPT_FLAGS, *root_cflags(), *LIB_FLAGS)


def _root_include() -> Path:
    """ROOT's include directory (the wheel's ``ROOT/include``, or ``root-config --incdir``)."""
    ROOT = import_root()
    inc = Path(str(ROOT.gROOT.GetIncludeDir()))
    if (inc / "ROOT" / "RDataFrame.hxx").is_file():
        return inc
    base = Path(ROOT.__file__).resolve().parent / "include"  # the PyPI wheel
    if (base / "ROOT" / "RDataFrame.hxx").is_file():
        return base
    raise CompileError(f"ROOT headers not found (looked in {inc} and {base})")


@cache
def toolchain() -> Toolchain:
    """Find the compiler (``$CXX``, default g++) and fingerprint the build inputs, once."""
    from .cpp import headers, include_dir  # noqa: PLC0415

    name = os.environ.get("CXX", "g++")
    cxx = shutil.which(name)
    if cxx is None:
        raise CompileError(f"C++ compiler {name!r} not found (set CXX)")
    r = subprocess.run([cxx, "--version"], capture_output=True, text=True, check=False)
    digest = hashlib.sha256()
    for h in headers():
        digest.update(h.read_bytes())
    return Toolchain(cxx, r.stdout.splitlines()[0] if r.stdout else "", compile_flags(),
                     (str(_root_include()), str(include_dir())),
                     str(import_root().gROOT.GetVersion()), digest.hexdigest())


def first_error(text: str) -> str:
    """The first compiler line saying 'error' (it names the YAML file:line for an expression)."""
    for line in text.splitlines():
        if _ERROR_LINE.search(line):
            return line.strip()
    return text.strip().splitlines()[-1] if text.strip() else ""


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _publish(tmp: str, path: Path, mode: int) -> None:
    """Rename a finished temporary file into place with ordinary permissions (mkstemp's are
    0600: a shared cache must be readable by whoever shares it)."""
    os.chmod(tmp, mode & ~_umask())
    os.replace(tmp, path)


#: number of compiler runs in this process (tests check the cache is reused)
compiler_runs = 0


def _digest_file(lib: Path) -> Path:
    return lib.with_suffix(".sha256")


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _intact(lib: Path) -> bool:
    """Whether a cached library is the one the compiler wrote: its SHA-256 matches the digest
    recorded beside it. Why: loading a truncated or overwritten shared library crashes the
    process (a bus error) on every run until someone deletes it by hand; a damaged one is
    rebuilt instead."""
    try:
        ok = _digest_file(lib).read_text().strip() == _sha256(lib)
    except OSError:
        ok = False
    if not ok:
        log.warning("the cached selection library %s is damaged or has no digest: rebuilding it",
                    lib)
    return ok


def build(source: str, tc: Toolchain | None = None, *, reuse_failure: bool = False) -> Path:
    """The shared library of ``source``, from the cache or compiled into it. The cache key is
    :meth:`Toolchain.library_key`: sources differing only in ``#line`` share one library.

    Atomic: the compiler writes a temporary file in the cache directory that is renamed into
    place, so two processes compiling the same key at once both end with a whole library.

    A compiler error is remembered for the exact source (``nutag_sel_<key>.failed``: the first
    error line, then the compiler's output): with ``reuse_failure`` (``auto``) the same source
    is not compiled again, its error is raised at once, so a broken selection costs the
    compiler's time once and not on every run. A compiler that did not finish (killed by a
    signal) leaves nothing behind.
    """
    global compiler_runs
    tc = tc or toolchain()
    out_dir = cache_dir()
    lib = out_dir / f"nutag_sel_{tc.library_key(source)[:32]}.so"
    if lib.is_file() and _intact(lib):
        return lib
    src = lib.with_suffix(".cxx")
    # a failure is remembered for this exact source: its error names this source's file:line
    failed = out_dir / f"nutag_sel_{tc.key(source)[:32]}.failed"
    if reuse_failure and failed.is_file():
        first, _, text = failed.read_text(errors="replace").partition("\n")
        raise CompileError(f"compiling the selection failed before ({src}, remembered in "
                           f"{failed}; delete it to retry):\n{text[-4000:]}", first)
    out_dir.mkdir(parents=True, exist_ok=True)
    atomic_write(src, source, mode=0o644)
    fd, tmp = tempfile.mkstemp(dir=out_dir, prefix=f".{lib.name}.", suffix=".tmp")
    os.close(fd)
    cmd = [tc.cxx, *tc.flags, *(f"-I{i}" for i in tc.includes), str(src), "-o", tmp]
    t0 = time.perf_counter()
    try:
        compiler_runs += 1
        r = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if r.returncode != 0:
            first = first_error(r.stderr)
            if r.returncode > 0 and _ERROR_LINE.search(r.stderr):
                atomic_write(failed, f"{first}\n{r.stderr}", mode=0o644)
            raise CompileError(f"compiling the selection failed ({src}):\n{r.stderr[-4000:]}",
                               first)
        atomic_write(_digest_file(lib), _sha256(Path(tmp)), mode=0o644)
        _publish(tmp, lib, 0o755)
    finally:
        Path(tmp).unlink(missing_ok=True)
    failed.unlink(missing_ok=True)
    log.info("compiled the selection in %.1f s: %s", time.perf_counter() - t0, lib)
    return lib


_LOADED: dict[Path, Any] = {}


def load(lib: Path, ns: str, *, fused: bool = False) -> Any:
    """Load a compiled selection and return its namespace ``ns`` (a cppyy scope), once per
    process.

    The library leaves ROOT's and libnutag's symbols undefined; they are resolved now, against
    what the process has loaded (RDataFrame, ``nutag.cpp.load_cpp``). Loading with RTLD_NOW
    first turns a missing symbol into an error here rather than a crash in the event loop.
    """
    if lib in _LOADED:
        return _LOADED[lib]
    ROOT = import_root()
    try:
        ctypes.CDLL(str(lib), mode=os.RTLD_NOW | os.RTLD_GLOBAL)
    except OSError as exc:
        raise CompileError(f"cannot load {lib}: {exc}", str(exc)) from exc
    if ROOT.gSystem.Load(str(lib)) < 0:
        raise CompileError(f"ROOT could not load {lib}")
    from .cpp import header_only_dir  # noqa: PLC0415

    sums = (header_only_dir() / "cutflow_sums.hpp").as_posix()
    prototypes = PROTOTYPES.format(ns=ns, sums=sums)
    if fused:
        result = (header_only_dir() / "fused_results.hpp").as_posix()
        prototypes += "\n#include <vector>\n" + FUSED_PROTOTYPES.format(ns=ns, result=result)
    if not ROOT.gInterpreter.Declare(prototypes):
        raise CompileError(f"cling could not declare the entry points of {lib}")
    _LOADED[lib] = getattr(ROOT, ns)
    return _LOADED[lib]


# --------------------------------------------------------------------------- the graph's view
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

    def fused_define(self, node: Any, direct: tuple[str, Sequence[str]] | None = None) -> Any:
        """The fused kernel's record and every compiled column (one Define each, reading the
        record), on ``node``.

        ``direct`` = (ntuple name, files), the chain ``node`` iterates: the kernel reads its
        inputs itself, through one ``RNTupleReader`` view per input and processing slot, each
        on first use in the event, instead of receiving every input from RDataFrame's column
        readers (BENCHMARKS.md, "Two threads": a type-erased call and an atomic reference count
        per read, all inputs for every event). The values are the same (the same fields read
        at the same entries). Falls back to RDataFrame's readers when a file is not an RNTuple
        holding every input with its type (TTree input, a column defined before the kernel)."""
        ROOT = import_root()
        rnode = ROOT.RDF.AsRNode(node)
        if direct is not None:
            ntuple, files = direct
            try:
                out = self.scope.fused_define_direct(rnode, ntuple, list(files))
                self.direct_read = True
                return out
            except Exception as exc:  # noqa: BLE001 - any C++ exception: not readable directly
                log.debug("fused kernel reads through RDataFrame (%s)", exc)
        self.direct_read = False
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


def _column_type_of(node: Any) -> Any:
    def column_type(name: str) -> str | None:
        return str(node.GetColumnType(name)) if node.HasColumn(name) else None

    return column_type


FUSE_MODES = ("auto", "off")
DIRECT_READ_MODES = ("auto", "off")


def direct_read_mode(mode: str | None = None) -> str:
    """``mode`` if given, else ``NUTAG_DIRECT_READ``, else ``auto``: a fused kernel over a local
    chain of RNTuple files reads its inputs itself (:meth:`CompiledSelection.fused_define`);
    ``off``: through RDataFrame's column readers."""
    value = (mode or os.environ.get("NUTAG_DIRECT_READ") or "auto").strip().lower()
    if value not in DIRECT_READ_MODES:
        raise ValueError(f"NUTAG_DIRECT_READ={value!r} is not one of {DIRECT_READ_MODES}")
    return value


def fuse_mode(mode: str | None = None) -> str:
    """``mode`` if given, else ``NUTAG_FUSE``, else ``auto``: fuse every sample whose graph is
    compiled whole (:func:`fuse`); ``off``: always one node per column and cut."""
    value = (mode or os.environ.get("NUTAG_FUSE") or "auto").strip().lower()
    if value not in FUSE_MODES:
        raise ValueError(f"NUTAG_FUSE={value!r} is not one of {FUSE_MODES}")
    return value


def prepare(columns: Sequence[Any], cuts: Sequence[Any], node: Any, *,
            mode: str | None = None, origin: str = "", tree: CutTree | None = None,
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
    (:func:`fuse`; ``NUTAG_FUSE=off`` never does).
    """
    mode = compile_mode(mode)
    if mode == "off":
        return None
    from . import cpp  # noqa: PLC0415

    linked = cpp.loaded_mode() == "library"
    p = plan(columns, cuts, _column_type_of(node), nutag_linked=linked, **extra)
    if p.jitted:
        log.debug("left to cling: %s", ", ".join(p.jitted))
    if p.n_compiled == 0:
        return None
    if tree is not None and fuse_mode() != "off" and fuse(p, tree, fused_weight, fills):
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


__all__ = ("FUSED_EVENT", "FUSE_MODES", "MODES", "CompileError", "CompiledSelection", "CutTree",
           "Plan", "applicable", "build", "cache_dir", "compile_mode", "first_error", "fuse",
           "fuse_mode", "generate", "load", "plan", "prepare", "toolchain")
