// The whole cutflow of a fused selection (nutag.compiled, "fused" graphs) as ONE RDataFrame
// action: for every row of the cut tree, the raw count, sum w and sum w^2 of the events that
// passed it.
//
// Why: a node-per-cut graph books one cutflow action after every cut, a virtual call per event
// and row reached. A fused selection evaluates its whole cut tree in one compiled kernel that
// records, per event, which rows passed (``Event::pass``); this action reads that record once.
// The numbers are bit-identical to one ``CutflowHelper`` (or ``Count``) per row: each row
// sees the same events in the same order per slot, and its partial sums are Kahan-compensated
// and merged over slots with the same operations (nutag::kahan_add).
//
// ``Event`` is the kernel's per-event record (generated code), read through a pointer (the
// column holds ``Event*``: one record per processing slot): ``Event::kRows`` rows,
// ``bool pass[kRows]`` and ``double weight()`` (the event weight, computed on first use).
#pragma once

#include <ROOT/RDF/RActionImpl.hxx>
#include <ROOT/RDF/RInterface.hxx>
#include <ROOT/RResultPtr.hxx>

#include <RtypesCore.h>

#include "nutag/rdf/cutflow.hpp"
#include "nutag/rdf/cutflow_sums.hpp"

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

class TTreeReader;

namespace nutag {

/// RDataFrame action filling one CutflowSums per row of a fused cut tree (thread-safe: one
/// block of partial sums per processing slot, merged in Finalize). ``Weighted`` false: counts
/// only, sum w = sum w^2 = count (data without systematic sources, as ``Count``).
template <typename Event, bool Weighted>
class FusedCutflowHelper
    : public ROOT::Detail::RDF::RActionImpl<FusedCutflowHelper<Event, Weighted>> {
 public:
  using Result_t = std::vector<CutflowSums>;
  static constexpr std::size_t kRows = Event::kRows;

  FusedCutflowHelper(std::shared_ptr<Result_t> result, unsigned int n_slots)
      : result_(std::move(result)), partials_(n_slots) {
    result_->assign(kRows, CutflowSums{});
  }
  FusedCutflowHelper(FusedCutflowHelper&&) = default;
  FusedCutflowHelper(const FusedCutflowHelper&) = delete;

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
  }

  /// Row by row, slots merged as CutflowHelper::Finalize (and ROOT's SumHelper) do.
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
      CutflowSums& row = (*result_)[k];
      row.n += n;
      if constexpr (Weighted) {
        row.sumw += sumw;
        row.sumw2 += sumw2;
      } else {
        row.sumw = row.sumw2 = static_cast<double>(row.n);
      }
    }
  }

  std::shared_ptr<Result_t> GetResultPtr() const { return result_; }
  std::string GetActionName() const { return "NutagFusedCutflow"; }

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

  std::shared_ptr<Result_t> result_;
  std::vector<Block> partials_;
};

/// Book the fused cutflow on ``node``, reading the kernel's record from column ``event``
/// (of type ``Event*``).
template <typename Event>
ROOT::RDF::RResultPtr<std::vector<CutflowSums>> book_fused_cutflow(ROOT::RDF::RNode node,
                                                                   std::string_view event,
                                                                   bool weighted) {
  auto result = std::make_shared<std::vector<CutflowSums>>();
  const unsigned int n_slots = node.GetNSlots();
  const std::vector<std::string> columns{std::string(event)};
  if (weighted) {
    return node.Book<Event*>(FusedCutflowHelper<Event, true>(result, n_slots), columns);
  }
  return node.Book<Event*>(FusedCutflowHelper<Event, false>(result, n_slots), columns);
}

}  // namespace nutag
