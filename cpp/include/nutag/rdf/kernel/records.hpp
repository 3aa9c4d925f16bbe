// The per-event record of a fused selection's kernel (nutag.engine.compiled, "fused" graphs) as an
// RDataFrame column, and the regions of its cut tree as Filters on it.
//
// Why a record per processing slot, reused: the column holds a pointer to it (``Event*``), so
// nothing is constructed, moved or destroyed per event; the kernel only starts a new generation
// of the record (``Event::gen``), which invalidates every kept column at once.
//
// What the generated code provides (one selection's types): ``Event``, the record, with
// ``bool pass[Event::kRows]`` (``pass[k]``: the event passed cutflow row ``k``), and
// ``kernel(Event&, Inputs&...)``, which takes the event's input columns from RDataFrame and
// evaluates the cut tree. ``nutag/rdf/kernel/direct_read.hpp`` books the record of a kernel that
// reads its inputs itself.
//
// Included by the generated code only (not declared to cling).
#pragma once

#include <ROOT/RDF/RInterface.hxx>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace nutag {

namespace detail {

template <auto Kernel, typename Event, typename... Inputs>
ROOT::RDF::RNode define_kernel_records(ROOT::RDF::RNode node, std::string_view column,
                                       const std::vector<std::string>& inputs,
                                       void (*)(Event&, Inputs&...)) {
  auto records = std::make_shared<std::vector<Event>>(node.GetNSlots());
  auto run = [records](unsigned int slot, Inputs&... in) {
    Event& e = (*records)[slot];
    Kernel(e, in...);
    return &e;
  };
  return node.DefineSlot(column, run, inputs);
}

}  // namespace detail

/// A column of the kernel's record as an RDataFrame Define: ``(e->*get)()`` for the record
/// ``e`` of the event (``get``: a compiled column's accessor, ``T& Event::c_<name>()``).
///
/// Why one functor type per value type and not one lambda per column: RDataFrame instantiates
/// its Define machinery (``RDefine<F>``, its readers and virtual functions) once per callable
/// type. A selection exports about a hundred columns of a handful of types; one lambda each
/// made the compiler instantiate and optimise that machinery a hundred times, half of a
/// selection library's compile time. The accessor is a value here, called through a member
/// pointer; these Defines are read only by what the kernel does not fill itself (variations,
/// user actions), once per event and column.
template <typename Event, typename T>
struct RecordColumn {
  T& (Event::*get)();
  T operator()(Event*& e) const { return ((*e).*get)(); }
};

/// ``RecordColumn`` of accessor ``get``, its types deduced.
template <typename Event, typename T>
RecordColumn<Event, T> record_column(T& (Event::*get)()) {
  return RecordColumn<Event, T>{get};
}

/// The kernel's record as column ``column`` of ``node``, fed by RDataFrame: per event, the
/// input columns ``inputs`` (in the order of ``Kernel``'s parameters after the record) are
/// handed to ``Kernel`` with the slot's record. ``Kernel`` is a template argument, not a
/// pointer kept at run time, so the compiler sees the call it makes per event.
template <auto Kernel>
ROOT::RDF::RNode define_kernel_records(ROOT::RDF::RNode node, std::string_view column,
                                       const std::vector<std::string>& inputs) {
  return detail::define_kernel_records<Kernel>(node, column, inputs, Kernel);
}

/// The events passing cutflow row ``row`` of the kernel's cut tree: one Filter named ``name``
/// reading the record column ``column``.
template <typename Event>
ROOT::RDF::RNode kernel_region(ROOT::RDF::RNode node, std::string_view column, int row,
                               std::string_view name) {
  return node.Filter([row](Event*& e) { return e->pass[row]; }, {std::string(column)}, name);
}

}  // namespace nutag
