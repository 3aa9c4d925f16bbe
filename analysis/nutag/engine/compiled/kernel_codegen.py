"""The C++ of a fused selection's kernel: the per-event record of one sample's cut tree, the
straight-line code evaluating it, and the fills of its histograms.

Why only this is generated: the record's members, the rows of the cut tree and the fills are
the selection's own; what every kernel shares (per-slot records as a column, reading the
inputs straight from RNTuple files, the region filters, the one action filling everything)
lives in ``nutag/rdf/kernel/`` and ``nutag/rdf/fused_action.hpp``, templated on the ``Event``
and ``Inputs`` types written here, and is tested on its own by ctest.
"""

from __future__ import annotations

from .cpp_text import SourceWriter, cpp_string
from .planning import Item, Plan

#: the column holding a fused kernel's per-event record (``Event``)
FUSED_EVENT = "_nutag_event"
#: the headers of the shared kernel code (under ``cpp/include``), included by fused sources only
KERNEL_HEADERS = ("nutag/rdf/kernel/direct_read.hpp", "nutag/rdf/kernel/records.hpp")


def _kernel_inputs(p: Plan, compiled_names: set[str],
                   cut_names: list[str]) -> list[tuple[str, str]]:
    """The input columns (name, C++ type) the kernel reads: those of every compiled column,
    cut and filled histogram that are not compiled columns themselves, in first-use order."""
    items = [it for seg in p.segments for it in seg]
    inputs: list[tuple[str, str]] = []
    for it in (*items, *(p.cuts[c] for c in cut_names)):
        for name, ctype in it.params:
            if name not in compiled_names and (name, ctype) not in inputs:
                inputs.append((name, ctype))
    for _, _, hist in p.fused_fills:  # a histogram of an input column reads it, too
        for name, ctype in zip(hist.columns, hist.types):
            if name not in compiled_names and (name, ctype) not in inputs:
                inputs.append((name, ctype))
    return inputs


def generate_fused(w: SourceWriter, p: Plan, fnames: dict[str, str],
                   cut_names: list[str]) -> None:
    """The fused kernel of ``p.fused``: one function of every input column the selection reads
    that evaluates the cut tree row by row, as straight-line code, into the slot's ``Event``
    record.

    Why it means what the node-per-cut graph means: a row is evaluated only when its parent
    passed (``&&``), and a column is computed on first use in the event and then kept, so a
    column is computed for exactly the events on which the node graph's lazy Define would be,
    and by the same function. The columns are read downstream through one Define each
    (:data:`FUSED_EVENT` -> ``Event::c_<name>()``), computed there if no cut needed them.

    Why the record is reused (``nutag/rdf/kernel/records.hpp``): a new event only increments
    its generation (``gen``), which invalidates every kept column at once (a column is current
    when its ``gen_<name>`` equals ``gen``), and a recomputed column is assigned over the old
    value (an RVec keeps its buffer). The record keeps pointers to the input values, valid for
    the entry being processed.
    """
    assert p.fused is not None
    items = [it for seg in p.segments for it in seg]
    compiled_names = {it.name for it in items}
    inputs = _kernel_inputs(p, compiled_names, cut_names)

    def args(it: Item, record: str = "") -> str:
        """The arguments of ``it``'s function, read from the record (``record`` + member)."""
        return ", ".join(f"{record}c_{n}()" if n in compiled_names else f"{record}i_{n}()"
                         for n, _ in it.params)

    rows = p.fused.rows
    w.add("// ---- fused kernel: the cut tree of the booked regions, one node",
          "// The inputs of one RNTuple file, for a kernel reading them itself",
          "// (nutag/rdf/kernel/direct_read.hpp)",
          "struct Inputs {",
          "  std::unique_ptr<ROOT::RNTupleReader> reader;")
    for name, ctype in inputs:
        w.add(f"  nutag::DirectField<{ctype}> f_{name};")
    inits = "".join(f",\n        f_{name}(*reader, {cpp_string(name)})" for name, _ in inputs)
    w.add("  explicit Inputs(std::unique_ptr<ROOT::RNTupleReader> r)",
          f"      : reader(std::move(r)){inits} {{}}", "};", "",
          "struct alignas(64) Event {",
          f"  static constexpr std::size_t kRows = {len(rows)};",
          "  bool pass[kRows] = {};  // pass[k]: the event passed cutflow row k",
          "  std::uint64_t gen = 0;  // the event's generation: a kept column is current if equal",
          "  nutag::DirectCursor<Inputs> direct;  // direct reading: the slot's file and entry")
    for name, ctype in inputs:
        # an input is read on first use in the event (direct) or was handed over by RDataFrame
        # (kernel sets it)
        w.add(f"  nutag::EventInput<{ctype}> in_{name};",
              f"  {ctype}& i_{name}() {{ return direct.get(in_{name}, &Inputs::f_{name}, gen); }}")
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
        w.add(f"  nutag_event_.in_{name}.set(&{name}, g);")
    w.add("  rows(nutag_event_);", "}", "")
    _generate_fills(w, p, compiled_names)
    _generate_entry_points(w, items, inputs)


def _generate_entry_points(w: SourceWriter, items: list[Item],
                           inputs: list[tuple[str, str]]) -> None:
    """``fused_define``/``probe_direct``/``fused_define_direct`` (the record and one Define per
    compiled column reading it), ``fused_region`` and ``fused_action``: the shared templates of
    ``nutag/rdf/`` instantiated for this selection's ``Event``."""
    event = cpp_string(FUSED_EVENT)
    inputs_list = "{" + ", ".join(cpp_string(n) for n, _ in inputs) + "}"
    defines = "".join(
        f"\n      .Define({cpp_string(it.name)}, nutag::record_column(&Event::c_{it.name}), "
        f"{{{event}}})" for it in items)
    w.add("// the compiled columns, read from the record",
          "ROOT::RDF::RNode define_kernel_columns(ROOT::RDF::RNode node) {",
          f"  return node{defines};", "}", "",
          "ROOT::RDF::RNode fused_define(ROOT::RDF::RNode node) {",
          "  return define_kernel_columns(",
          f"      nutag::define_kernel_records<&kernel>(node, {event}, {inputs_list}));",
          "}", "",
          "// the chain of files the kernel would read itself; throws if one cannot be read so",
          "std::shared_ptr<void> probe_direct(const std::string& ntuple,",
          "                                   const std::vector<std::string>& files) {",
          "  return nutag::DirectChain<Inputs>::probe(ntuple, files);",
          "}", "",
          "ROOT::RDF::RNode fused_define_direct(ROOT::RDF::RNode node, std::shared_ptr<void> chain) {",
          "  return define_kernel_columns(",
          "      nutag::define_kernel_records_direct<Inputs, Event, &rows>(node, "
          f"{event}, std::static_pointer_cast<nutag::DirectChain<Inputs>>(chain)));",
          "}", "",
          "ROOT::RDF::RNode fused_region(ROOT::RDF::RNode node, int row, "
          "const std::string& name) {",
          f"  return nutag::kernel_region<Event>(node, {event}, row, name);",
          "}", "",
          "ROOT::RDF::RResultPtr<nutag::FusedResults> fused_action(ROOT::RDF::RNode node,",
          "    bool weighted, const std::vector<ROOT::RDF::TH1DModel>& h1,",
          "    const std::vector<ROOT::RDF::TH2DModel>& h2) {",
          f"  return nutag::book_fused_action<Event, &fill>(node, {event}, weighted, h1, h2);",
          "}", "")


def _generate_fills(w: SourceWriter, p: Plan, compiled_names: set[str]) -> None:
    """``fill(event, h1, h2)``: the histograms' part of the fused action
    (nutag/rdf/fused_action.hpp) as straight-line code, one block per cutflow row that ends a
    region with histograms.

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

