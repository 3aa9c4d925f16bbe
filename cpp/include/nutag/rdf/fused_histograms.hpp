// Every histogram of every region of a fused selection (nutag.compiled, "fused" graphs) as ONE
// RDataFrame action.
//
// Why: booked one by one, each histogram is an RDataFrame action: per event that reaches its
// region, a virtual Run, the region Filter's cached check and one type-erased column read per
// filled column (each a defined column reading the kernel's record): ~2,000 instructions per
// event for the benchmark's six histograms (BENCHMARKS.md, "Where the loop's work goes"). The
// fused kernel already knows, per event, which rows passed (``Event::pass``) and computes every
// column on first use; this action reads that record once and fills the histograms of every
// passing region with straight-line code generated with the kernel (``Fill``).
//
// Same numbers as one ``Histo1D``/``Histo2D`` per histogram, bit for bit: the same histogram
// objects (the models' ``GetHistogram``), per-slot copies made and merged as ROOT's
// ``FillHelper`` makes and merges them, and each value filled by ``fill_histogram`` with
// ``FillHelper::Exec``'s rules for collections (every element, weights element by element or
// one weight for all; collections of different sizes are an error).
#pragma once

#include <ROOT/RDF/HistoModels.hxx>
#include <ROOT/RDF/RActionImpl.hxx>
#include <ROOT/RDF/RInterface.hxx>
#include <ROOT/RDF/Utils.hxx>
#include <ROOT/RResultPtr.hxx>
#include <TError.h>
#include <TH1D.h>
#include <TH2D.h>
#include <TList.h>

#include "nutag/rdf/fused_histograms_result.hpp"

#include <array>
#include <cstddef>
#include <iterator>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

class TTreeReader;

namespace nutag {

namespace detail {

template <typename T>
constexpr bool is_collection = ROOT::Internal::RDF::IsDataContainer<std::decay_t<T>>::value;

template <typename T>
std::size_t collection_size(const T& x) {
  if constexpr (is_collection<T>) {
    return static_cast<std::size_t>(std::size(x));
  } else {
    return 1;
  }
}

/// Element ``i`` of a collection, the value itself for a scalar (one weight for all elements).
template <typename T>
decltype(auto) element(const T& x, std::size_t i) {
  if constexpr (is_collection<T>) {
    return *std::next(std::begin(x), static_cast<std::ptrdiff_t>(i));
  } else {
    (void)i;
    return x;
  }
}

}  // namespace detail

/// ``h.Fill(xs...)`` as RDataFrame's ``FillHelper::Exec`` fills it: scalars once; when any
/// argument is a collection, once per element of the first collection, with every other
/// collection read element by element (it must have the same size) and scalars repeated.
template <typename H, typename... Xs>
void fill_histogram(H& h, const Xs&... xs) {
  if constexpr (!(detail::is_collection<Xs> || ...)) {
    h.Fill(xs...);
  } else {
    constexpr std::array<bool, sizeof...(Xs)> is_coll{detail::is_collection<Xs>...};
    const std::array<std::size_t, sizeof...(Xs)> sizes{detail::collection_size(xs)...};
    std::size_t n = 0;
    for (std::size_t k = 0; k < sizes.size(); ++k) {
      if (is_coll[k]) {
        n = sizes[k];
        break;
      }
    }
    for (std::size_t k = 0; k < sizes.size(); ++k) {
      if (is_coll[k] && sizes[k] != n) {
        throw std::runtime_error("Cannot fill histogram with values in containers of different sizes.");
      }
    }
    for (std::size_t i = 0; i < n; ++i) h.Fill(detail::element(xs, i)...);
  }
}

/// RDataFrame action filling every histogram of a fused selection. ``Fill(event, h1, h2)`` is
/// the generated code: fills ``h1[i]``/``h2[i]`` (this slot's objects) for the regions the
/// event passed. Thread-safe: one set of objects per processing slot, merged in Finalize.
template <typename Event, void (*Fill)(Event&, ::TH1D* const*, ::TH2D* const*)>
class FusedHistogramsHelper
    : public ROOT::Detail::RDF::RActionImpl<FusedHistogramsHelper<Event, Fill>> {
 public:
  using Result_t = FusedHistograms;

  FusedHistogramsHelper(std::shared_ptr<Result_t> result, unsigned int n_slots)
      : result_(std::move(result)), h1_(n_slots), h2_(n_slots) {
    // slot 0 fills the result's objects; the other slots copies of them (as FillHelper)
    for (const auto& h : result_->h1) h1_[0].push_back(h.get());
    for (const auto& h : result_->h2) h2_[0].push_back(h.get());
    for (unsigned int s = 1; s < n_slots; ++s) {
      for (const auto& h : result_->h1) h1_[s].push_back(copy(*h));
      for (const auto& h : result_->h2) h2_[s].push_back(copy(*h));
    }
  }
  FusedHistogramsHelper(FusedHistogramsHelper&&) = default;
  FusedHistogramsHelper(const FusedHistogramsHelper&) = delete;
  ~FusedHistogramsHelper() { release(); }

  void InitTask(TTreeReader*, unsigned int) {}
  void Initialize() {}

  void Exec(unsigned int slot, Event* event) { Fill(*event, h1_[slot].data(), h2_[slot].data()); }

  /// Histogram by histogram, the other slots' copies merged into slot 0's as FillHelper does.
  void Finalize() {
    merge(h1_);
    merge(h2_);
    release();
  }

  std::shared_ptr<Result_t> GetResultPtr() const { return result_; }
  std::string GetActionName() const { return "NutagFusedHistograms"; }

 private:
  template <typename H>
  static H* copy(const H& h) {
    auto* out = new H(h);
    out->SetDirectory(nullptr);
    return out;
  }

  template <typename H>
  static void merge(const std::vector<std::vector<H*>>& slots) {
    if (slots.size() < 2) return;
    for (std::size_t i = 0; i < slots[0].size(); ++i) {
      TList others;
      for (std::size_t s = 1; s < slots.size(); ++s) others.Add(slots[s][i]);
      slots[0][i]->Merge(&others);
    }
  }

  /// Delete the copies of slots 1.. (once: Finalize, or the destructor of an unrun action).
  void release() {
    for (std::size_t s = 1; s < h1_.size(); ++s) {
      for (auto* h : h1_[s]) delete h;
      h1_[s].clear();
    }
    for (std::size_t s = 1; s < h2_.size(); ++s) {
      for (auto* h : h2_[s]) delete h;
      h2_[s].clear();
    }
  }

  std::shared_ptr<Result_t> result_;
  std::vector<std::vector<::TH1D*>> h1_;  // [slot][histogram]
  std::vector<std::vector<::TH2D*>> h2_;
};

/// Book the fused histograms on ``node``, reading the kernel's record from column ``event``
/// (of type ``Event*``): one histogram per model, each made as ``Histo1D``/``Histo2D`` make it.
template <typename Event, void (*Fill)(Event&, ::TH1D* const*, ::TH2D* const*)>
ROOT::RDF::RResultPtr<FusedHistograms> book_fused_histograms(
    ROOT::RDF::RNode node, std::string_view event, const std::vector<ROOT::RDF::TH1DModel>& h1,
    const std::vector<ROOT::RDF::TH2DModel>& h2) {
  auto result = std::make_shared<FusedHistograms>();
  {
    // as RInterface::Histo1D: a model replacing a same-named histogram is not an error
    ROOT::Internal::RDF::RIgnoreErrorLevelRAII quiet(kError);
    for (const auto& m : h1) result->h1.push_back(m.GetHistogram());
    for (const auto& m : h2) result->h2.push_back(m.GetHistogram());
  }
  for (const auto& h : result->h1) h->SetDirectory(nullptr);  // owned by the result, not a file
  for (const auto& h : result->h2) h->SetDirectory(nullptr);
  const std::vector<std::string> columns{std::string(event)};
  return node.Book<Event*>(FusedHistogramsHelper<Event, Fill>(result, node.GetNSlots()),
                           columns);
}

}  // namespace nutag
