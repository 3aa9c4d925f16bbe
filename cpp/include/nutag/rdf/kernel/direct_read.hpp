// A fused selection's kernel (nutag.engine.compiled, "fused" graphs) reading its inputs itself, straight
// from a chain of RNTuple files, instead of receiving them from RDataFrame's column readers.
//
// Why: RDataFrame's column readers cost a type-erased call and an atomic reference count per
// read, and hand every input to the kernel for every event, which two threads pay dearly
// (BENCHMARKS.md, "Two threads"). Here each processing slot owns one RNTupleReader of the file
// holding its current entry and one typed view per input column, and an input is read only on
// its first use in the event. The values are the same: the same fields read at the same entries.
//
// What the generated code provides (one selection's types):
//   * ``Inputs``: constructible from ``std::unique_ptr<ROOT::RNTupleReader>``, which it keeps as
//     its member ``reader``, with one ``DirectField<T>`` per input column;
//   * ``Event``: the kernel's per-slot record, with ``std::uint64_t gen`` (the event's
//     generation), ``DirectCursor<Inputs> direct`` and one ``EventInput<T>`` per input;
//   * ``rows(Event&)``: evaluates the cut tree of the event ``direct`` points at.
//
// Included by the generated code only (not declared to cling): it pulls in the RNTuple reader.
#pragma once

#include <ROOT/RDF/RInterface.hxx>
#include <ROOT/RNTupleReader.hxx>
#include <ROOT/RNTupleView.hxx>
#include <RtypesCore.h>

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace nutag {

/// A reader of ``ntuple`` in ``file`` for one processing slot.
///
/// Why implicit MT off: a slot's reader decompresses its pages itself, in the slot's thread;
/// with implicit MT on, RNTuple would otherwise schedule every page's decompression as a task on
/// the thread pool the processing slots run on (RDataFrame's own RNTuple source turns this off
/// for the same reason).
inline std::unique_ptr<ROOT::RNTupleReader> open_direct_reader(const std::string& ntuple,
                                                               const std::string& file) {
  ROOT::RNTupleReadOptions options;
  options.SetUseImplicitMT(ROOT::RNTupleReadOptions::EImplicitMT::kOff);
  return ROOT::RNTupleReader::Open(ntuple, file, options);
}

/// One input column of a reader: a typed view (its type checked against the file when it is
/// made) and the address of the object it reads into.
///
/// Why not the view's ``operator()``: it copies a shared_ptr per read, two atomic operations
/// (BENCHMARKS.md); a read here goes through the view's value (``RValue::Read``) into the
/// object whose address was taken once.
template <typename T>
class DirectField {
 public:
  DirectField(ROOT::RNTupleReader& reader, std::string_view name)
      : view_(reader.GetView<T>(name)),
        value_(static_cast<T*>(view_.GetValue().template GetPtr<void>().get())) {}
  DirectField(const DirectField&) = delete;
  DirectField& operator=(const DirectField&) = delete;

  /// The value at entry ``i`` of the file (valid until the next read).
  T* read(std::uint64_t i) {
    const_cast<ROOT::RFieldBase::RValue&>(view_.GetValue()).Read(i);
    return value_;
  }

 private:
  ROOT::RNTupleView<T> view_;
  T* value_;
};

/// One input of the kernel's record: where its value is and the event generation it belongs
/// to. Either handed over by RDataFrame for every event (``set``) or read on first use in the
/// event (``DirectCursor::get``).
template <typename T>
struct EventInput {
  T* value = nullptr;
  std::uint64_t gen = 0;

  void set(T* v, std::uint64_t g) {
    value = v;
    gen = g;
  }
};

/// The chain a kernel reads: its files, the first (global) entry of each, ``begins.back()``
/// the chain's entries, and the reader of the first file, opened while the graph was built.
///
/// Why keep that reader: opening a file and reading its page list takes ~0.1 s, and the first
/// slot that reads the first file would otherwise open it again.
template <typename Inputs>
struct DirectChain {
  std::string ntuple;
  std::vector<std::string> files;
  std::vector<std::uint64_t> begins{0};
  std::atomic<Inputs*> spare{nullptr};

  DirectChain(std::string name, std::vector<std::string> paths)
      : ntuple(std::move(name)), files(std::move(paths)) {}
  DirectChain(const DirectChain&) = delete;
  DirectChain& operator=(const DirectChain&) = delete;
  ~DirectChain() { delete spare.load(); }

  /// Every file opened once, on the calling (main) thread: a file that is not an RNTuple with
  /// the inputs' columns and types throws now, before any event is read.
  static std::shared_ptr<DirectChain> probe(const std::string& ntuple,
                                            const std::vector<std::string>& files) {
    auto chain = std::make_shared<DirectChain>(ntuple, files);
    for (const auto& f : chain->files) {
      auto inputs = std::make_unique<Inputs>(open_direct_reader(ntuple, f));
      chain->begins.push_back(chain->begins.back() + inputs->reader->GetNEntries());
      if (chain->begins.size() == 2) chain->spare = inputs.release();
    }
    return chain;
  }

  /// The inputs of file ``f`` for a slot that starts reading it (the kept reader for the
  /// first slot that reads the first file).
  std::unique_ptr<Inputs> open(std::size_t f) {
    Inputs* kept = f == 0 ? spare.exchange(nullptr) : nullptr;
    if (kept != nullptr) return std::unique_ptr<Inputs>(kept);
    return std::make_unique<Inputs>(open_direct_reader(ntuple, files[f]));
  }
};

/// Where one processing slot reads: its inputs of the file holding the current entry, that
/// file's entries [first, end) in the chain, and the entry within the file (``local``).
template <typename Inputs>
struct DirectCursor {
  std::unique_ptr<Inputs> inputs;
  std::size_t file = static_cast<std::size_t>(-1);
  std::uint64_t first = 0, end = 0, local = 0;

  /// Move to the chain's global ``entry``, opening its file if it is not the slot's (one open
  /// file per slot).
  void seek(std::uint64_t entry, DirectChain<Inputs>& chain) {
    if (entry < first || entry >= end) {
      const auto it = std::upper_bound(chain.begins.begin(), chain.begins.end(), entry);
      const std::size_t f = static_cast<std::size_t>(it - chain.begins.begin()) - 1;
      if (f != file) {
        inputs.reset();
        inputs = chain.open(f);
        file = f;
      }
      first = chain.begins[f];
      end = chain.begins[f + 1];
    }
    local = entry - first;
  }

  /// Input ``field`` of the current entry: read on its first use in event generation ``gen``,
  /// kept in ``in`` for the rest of the event.
  template <typename T>
  T& get(EventInput<T>& in, DirectField<T> Inputs::*field, std::uint64_t gen) {
    if (in.gen != gen) in.set(((*inputs).*field).read(local), gen);
    return *in.value;
  }
};

/// The kernel's record as column ``column`` (``Event*``: one record per processing slot) of
/// ``node``, which iterates the chain ``chain`` (made by ``DirectChain::probe``): per event, a
/// new generation, the slot's cursor moved to the entry and the cut tree evaluated by ``Rows``.
///
/// Why the chain is probed apart: whether a sample can be read directly decides its execution
/// route, which is chosen (and reported with its reason) before anything is booked; the chain
/// probed for that decision is the one the kernel then reads, so no file is opened twice.
template <typename Inputs, typename Event, void (*Rows)(Event&)>
ROOT::RDF::RNode define_kernel_records_direct(ROOT::RDF::RNode node, std::string_view column,
                                              std::shared_ptr<DirectChain<Inputs>> chain) {
  auto records = std::make_shared<std::vector<Event>>(node.GetNSlots());
  auto run = [records, chain](unsigned int slot, ULong64_t entry) {
    Event& e = (*records)[slot];
    ++e.gen;
    e.direct.seek(entry, *chain);
    Rows(e);
    return &e;
  };
  return node.DefineSlotEntry(column, run);
}

/// As above, the chain of ``files`` probed first. Throws if a file cannot be read directly
/// (see ``DirectChain::probe``).
template <typename Inputs, typename Event, void (*Rows)(Event&)>
ROOT::RDF::RNode define_kernel_records_direct(ROOT::RDF::RNode node, std::string_view column,
                                              const std::string& ntuple,
                                              const std::vector<std::string>& files) {
  return define_kernel_records_direct<Inputs, Event, Rows>(
      node, column, DirectChain<Inputs>::probe(ntuple, files));
}

}  // namespace nutag
