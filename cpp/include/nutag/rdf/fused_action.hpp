// The whole output of a fused selection (nutag.engine.compiled, "fused" graphs) as ONE RDataFrame
// action: the cutflow of every row of the cut tree (raw count, sum w, sum w^2) and every
// histogram of every region.
//
// Why: a node-per-cut graph books one cutflow action after every cut and one Histo1D per
// histogram and region: per event, a virtual Run per action, the region Filter's check and a
// type-erased read per filled column (BENCHMARKS.md, "Where the loop's work goes"). A fused
// selection evaluates its whole cut tree in one compiled kernel that records, per event, which
// rows passed (``Event::pass``) and computes every column on first use; this action reads that
// record once, adds the event to the rows it passed and fills the histograms of the regions it
// passed with straight-line code generated with the kernel (``Fill``).
//
// The numbers are bit-identical to one ``CutflowHelper`` (or ``Count``) per row and one
// ``Histo1D``/``Histo2D`` per histogram: each row and histogram sees the same events in the
// same order per slot; partial sums are Kahan-compensated and merged over slots with the same
// operations (nutag::kahan_add); the histograms are the models' ``GetHistogram``, per-slot
// copies made and merged as ROOT's ``FillHelper`` makes and merges them, each value filled by
// ``fill_histogram`` with ``FillHelper::Exec``'s rules for collections.
//
// ``Event`` is the kernel's per-event record (generated code), read through a pointer (the
// column holds ``Event*``: one record per processing slot): ``Event::kRows`` rows,
// ``bool pass[kRows]`` and ``double weight()`` (the event weight, computed on first use).
#pragma once

#include <ROOT/RDF/HistoModels.hxx>
#include <ROOT/RDF/InterfaceUtils.hxx>
#include <ROOT/RDF/RActionImpl.hxx>
#include <ROOT/RDF/RInterface.hxx>
#include <ROOT/RDF/Utils.hxx>
#include <ROOT/RResultPtr.hxx>
#include <RtypesCore.h>
#include <TError.h>
#include <TH1D.h>
#include <TH2D.h>
#include <TList.h>

#include "nutag/rdf/cutflow.hpp"
#include "nutag/rdf/cutflow_sums.hpp"
#include "nutag/rdf/fused_results.hpp"

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

/// The generated histogram code: fills ``h1[i]``/``h2[i]`` (one slot's objects) for the regions
/// the event passed.
template <typename Event>
using FillFunction = void (*)(Event&, ::TH1D* const*, ::TH2D* const*);

/// RDataFrame action filling the cutflow rows and the histograms of a fused selection
/// (thread-safe: one block of partial sums and one set of histograms per processing slot,
/// merged in Finalize). ``Weighted`` false: counts only, sum w = sum w^2 = count (data without
/// systematic sources, as ``Count``).
template <typename Event, bool Weighted, FillFunction<Event> Fill>
class FusedActionHelper
    : public ROOT::Detail::RDF::RActionImpl<FusedActionHelper<Event, Weighted, Fill>> {
 public:
  using Result_t = FusedResults;
  static constexpr std::size_t kRows = Event::kRows;

  FusedActionHelper(std::shared_ptr<Result_t> result, unsigned int n_slots)
      : result_(std::move(result)), partials_(n_slots), h1_(n_slots), h2_(n_slots) {
    result_->rows.assign(kRows, CutflowSums{});
    // slot 0 fills the result's histograms; the other slots copies of them (as FillHelper)
    for (const auto& h : result_->h1) h1_[0].push_back(h.get());
    for (const auto& h : result_->h2) h2_[0].push_back(h.get());
    for (unsigned int s = 1; s < n_slots; ++s) {
      for (const auto& h : result_->h1) h1_[s].push_back(copy(*h));
      for (const auto& h : result_->h2) h2_[s].push_back(copy(*h));
    }
  }
  FusedActionHelper(FusedActionHelper&&) = default;
  FusedActionHelper(const FusedActionHelper&) = delete;
  ~FusedActionHelper() { release(); }

  void InitTask(TTreeReader*, unsigned int) {}
  void Initialize() {}

  void Exec(unsigned int slot, Event* event) {
    Block& b = partials_[slot];
    // the counts of all rows in one array: a loop the compiler turns into vector adds
    for (std::size_t k = 0; k < kRows; ++k) b.n[k] += event->pass[k];
    if constexpr (Weighted) {
      const double w = event->weight();
      for (std::size_t k = 0; k < kRows; ++k) {
        if (!event->pass[k]) continue;
        Partial& p = b.rows[k];
        kahan_add(p.sumw, p.comp_w, w);
        kahan_add(p.sumw2, p.comp_w2, w * w);
      }
    }
    Fill(*event, h1_[slot].data(), h2_[slot].data());
  }

  /// Cutflow row by row, slots merged as CutflowHelper::Finalize (and ROOT's SumHelper) do;
  /// histogram by histogram, the other slots' copies merged into slot 0's as FillHelper does.
  void Finalize() {
    for (std::size_t k = 0; k < kRows; ++k) {
      double sumw = 0., comp_w = 0., sumw2 = 0., comp_w2 = 0.;
      ULong64_t n = 0;
      for (const Block& b : partials_) {
        const Partial& p = b.rows[k];
        n += b.n[k];
        kahan_add(sumw, comp_w, p.sumw);
        kahan_add(sumw2, comp_w2, p.sumw2);
      }
      CutflowSums& row = result_->rows[k];
      row.n += n;
      if constexpr (Weighted) {
        row.sumw += sumw;
        row.sumw2 += sumw2;
      } else {
        row.sumw = row.sumw2 = static_cast<double>(row.n);
      }
    }
    merge(h1_);
    merge(h2_);
    release();
  }

  std::shared_ptr<Result_t> GetResultPtr() const { return result_; }
  std::string GetActionName() const { return "NutagFusedSelection"; }

 private:
  struct Partial {
    double sumw = 0., comp_w = 0.;
    double sumw2 = 0., comp_w2 = 0.;
  };
  /// One slot's rows; aligned to a cache line so that slots do not share one.
  struct alignas(64) Block {
    ULong64_t n[kRows] = {};
    Partial rows[kRows];
  };

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

  /// Delete the histogram copies of slots 1.. (once: Finalize, or the destructor of an
  /// action that never ran).
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
  std::vector<Block> partials_;
  std::vector<std::vector<::TH1D*>> h1_;  // [slot][histogram]
  std::vector<std::vector<::TH2D*>> h2_;
};

/// Book the fused selection's action on ``node``, reading the kernel's record from column
/// ``event`` (of type ``Event*``): every cutflow row, and one histogram per model, each made
/// as ``Histo1D``/``Histo2D`` make it.
template <typename Event, FillFunction<Event> Fill>
ROOT::RDF::RResultPtr<FusedResults> book_fused_action(
    ROOT::RDF::RNode node, std::string_view event, bool weighted,
    const std::vector<ROOT::RDF::TH1DModel>& h1, const std::vector<ROOT::RDF::TH2DModel>& h2) {
  auto result = std::make_shared<FusedResults>();
  {
    // as RInterface::Histo1D: a model replacing a same-named histogram is not an error
    ROOT::Internal::RDF::RIgnoreErrorLevelRAII quiet(kError);
    for (const auto& m : h1) result->h1.push_back(m.GetHistogram());
    for (const auto& m : h2) result->h2.push_back(m.GetHistogram());
  }
  for (const auto& h : result->h1) h->SetDirectory(nullptr);  // owned by the result, not a file
  for (const auto& h : result->h2) h->SetDirectory(nullptr);
  const unsigned int n_slots = node.GetNSlots();
  const std::vector<std::string> columns{std::string(event)};
  if (weighted) {
    return node.Book<Event*>(FusedActionHelper<Event, true, Fill>(result, n_slots), columns);
  }
  return node.Book<Event*>(FusedActionHelper<Event, false, Fill>(result, n_slots), columns);
}

}  // namespace nutag
