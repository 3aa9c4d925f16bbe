"""Compile the YAML selection ahead of time: typed RDataFrame code in a cached shared library.

Why: every YAML column and cut booked as a jitted string costs cling ~40 ms before the first
event (2.4-3.2 s for the full selection), and the jitted graph runs slower than the same graph
written as typed C++ (BENCHMARKS.md). Here the columns and cuts of one sample become C++
functions, compiled once by the system compiler at -O2 and cached by content, so a rerun only
``dlopen``s a library and declares two prototypes to cling.

What the generated code looks like, and why it means what the jitted code means:

* one function per column or cut, whose parameters are the dataframe columns the expression
  uses (the lexical scan of :mod:`nutag.config.expressions`), passed by ``T&`` as RDataFrame's own
  jitted functions do. Input column types come from ``GetColumnType``; the types of compiled
  columns are deduced by the compiler (``auto`` return, ``decltype``), never guessed here;
* the context of a jitted expression: ``using namespace std;`` at global scope (cling's),
  ``<cmath>`` and ``TMath``, nutag's headers; RVec helpers (``Sum``, ``abs`` of an RVec) are
  found by argument-dependent lookup, exactly as in cling;
* ``#line`` before each expression, so a compiler error names the YAML file and line;
* ``define_columns(node, segment)`` books one run of consecutive compiled columns and
  ``filter(node, i)`` one named cut, so :func:`nutag.engine.graph.build_graph` keeps its structure
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
is booked on a region, one Filter per region: instead of a virtual call per node and per
input per event (BENCHMARKS.md counts them). Same meaning, bit for bit: a row is evaluated
only if its parent passed, a column is computed on first use and kept, by the same function,
and a histogram is filled as ``Histo1D`` fills it. Over a local chain of RNTuple files the
kernel also reads its inputs itself, through one ``RNTupleReader`` view per input and processing
slot, each on first use in the event (``fused_define_direct``; ``NUTAG_DIRECT_READ=off``
disables it): RDataFrame's column readers cost a type-erased call and an atomic reference
count per read, which two threads pay dearly (BENCHMARKS.md, "Two threads"). Fed by
RDataFrame instead (TTree input, chunks of HTCondor jobs), the kernel receives every input for
every event, which still costs less than the nodes it replaces.

What is not compiled stays jitted, node by node: expressions naming what g++ cannot see (the
correctionlib functions of ``nutag_corr``, names allowed only for cling), every column or
cut that reads such a column (a jitted weight excepted: it is a double by construction) and
every histogram of such a column. A compiler error is remembered by key (see :func:`build`).
The run's :class:`nutag.core.options.RouteOptions` (``nutag run --compile``, else
``NUTAG_COMPILE=auto|on|off``) chooses the policy (:func:`compile_mode`); ``auto`` falls back
to the jitted graph, with a warning naming the first compiler error, when the compiler is
missing or fails.

Only what depends on the selection is generated (:mod:`.codegen`, :mod:`.kernel_codegen`);
the C++ every selection shares (the cutflow and fused actions, the kernel's per-slot records,
its direct reading of RNTuple files, its region filters) lives in ``cpp/include/nutag/rdf/``,
templated on the generated types, tested by ctest, and part of the cache key
(:func:`.compiler.headers_digest`).

The modules, one job each, in the order a sample goes through them: :mod:`.modes` (the
switches), :mod:`.planning` (what is compiled, the cut tree, fusing), :mod:`.codegen` and
:mod:`.kernel_codegen` (the C++ source, written with :mod:`.cpp_text`), :mod:`.compiler` (the
compiler, its flags, the cache key), :mod:`.library_cache` (compile once, keep by content),
:mod:`.loading` (dlopen, the entry points declared to cling), :mod:`.booking` (the graph's
view of a loaded selection) and :mod:`.preparation` (all of it for one sample). This package
sits below the graph: it imports nothing of :mod:`nutag.engine.graph`, :mod:`nutag.engine.run`, the
backends or the pipeline.
"""

from __future__ import annotations

from ...core.options import (DIRECT_READ_MODES, FUSE_MODES, MODES, compile_mode, direct_read_mode,
                       fuse_mode)
from .booking import CompiledSelection, FusedHistogram
from .codegen import NAMESPACE_PLACEHOLDER, generate, include_lines
from .compiler import (CompileError, Toolchain, compile_flags, first_error, root_cflags,
                       toolchain)
from .kernel_codegen import FUSED_EVENT
from .library_cache import build, cache_dir
from .loading import load
from .planning import Column, CutTree, Hist, Item, Plan, fuse, plan
from .preparation import applicable, prepare

__all__ = ("DIRECT_READ_MODES", "FUSED_EVENT", "FUSE_MODES", "MODES", "NAMESPACE_PLACEHOLDER",
           "Column", "CompileError", "CompiledSelection", "CutTree", "FusedHistogram", "Hist",
           "Item", "Plan", "Toolchain", "applicable", "build", "cache_dir", "compile_flags",
           "compile_mode", "direct_read_mode", "first_error", "fuse", "fuse_mode", "generate",
           "include_lines", "load", "plan", "prepare", "root_cflags", "toolchain")
