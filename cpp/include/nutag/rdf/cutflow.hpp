// One RDataFrame action per cut for the weighted cutflow: the raw count, sum w and sum w^2 of
// the events passing a node, filled together from the weight column.
//
// Why: booking Count + Sum(w) + Sum(w^2) after every cut costs three actions per cut and per
// region (three virtual calls and two column reads per event and cut, and two jitted actions at
// start-up); this is one compiled action reading the weight once. The numbers are bit-identical
// to those three actions: the count is an integer, and both sums are Kahan-compensated per slot
// and merged over slots exactly as ROOT's SumHelper does (sum w^2 sums w * w, the value the
// weight-squared column holds).
//
// Header-only, outside the library and its dictionary: cling instantiates it on first use
// whichever way nutag's C++ is loaded (nutag.engine.cpp.load_cpp declares every header). Linking
// libROOTDataFrame into libnutag would drag the ROOT wheel's bundled libfreetype, whose libpng
// symbols do not resolve at link time.
#pragma once

#include <ROOT/RDF/RActionImpl.hxx>
#include <ROOT/RDF/RInterface.hxx>
#include <ROOT/RResultPtr.hxx>

#include <RtypesCore.h>

#include "nutag/rdf/cutflow_sums.hpp"

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

class TTreeReader;

namespace nutag {

/// Kahan step, the same operations in the same order as ROOT's SumHelper::Exec (so that sums
/// booked through nutag's actions are bit-identical to ROOT's ``Sum``).
inline void kahan_add(double& sum, double& comp, double x) {
  const double y = x - comp;
  const double t = sum + y;
  comp = (t - sum) - y;
  sum = t;
}

/// RDataFrame action helper filling a CutflowSums from a double weight column (thread-safe:
/// one partial sum per processing slot, merged in Finalize).
class CutflowHelper : public ROOT::Detail::RDF::RActionImpl<CutflowHelper> {
 public:
  using Result_t = CutflowSums;

  CutflowHelper(std::shared_ptr<CutflowSums> result, unsigned int n_slots)
      : result_(std::move(result)), partials_(n_slots) {}
  CutflowHelper(CutflowHelper&&) = default;
  CutflowHelper(const CutflowHelper&) = delete;

  void InitTask(TTreeReader*, unsigned int) {}
  void Initialize() {}

  void Exec(unsigned int slot, double w) {
    Partial& p = partials_[slot];
    ++p.n;
    kahan_add(p.sumw, p.comp_w, w);
    kahan_add(p.sumw2, p.comp_w2, w * w);
  }

  /// Slots merged as SumHelper::Finalize does: a Kahan sum over the slots' partial sums, added
  /// to the (zero) result; counts are integers.
  void Finalize() {
    double sumw = 0., comp_w = 0., sumw2 = 0., comp_w2 = 0.;
    ULong64_t n = 0;
    for (const Partial& p : partials_) {
      n += p.n;
      kahan_add(sumw, comp_w, p.sumw);
      kahan_add(sumw2, comp_w2, p.sumw2);
    }
    result_->n += n;
    result_->sumw += sumw;
    result_->sumw2 += sumw2;
  }

  std::shared_ptr<CutflowSums> GetResultPtr() const { return result_; }
  std::string GetActionName() const { return "NutagCutflow"; }
  /// A fresh helper for a systematic variation (RDataFrame's VariationsFor).
  CutflowHelper MakeNew(void* new_result, std::string_view /*variation*/ = "nominal") {
    auto& result = *static_cast<std::shared_ptr<CutflowSums>*>(new_result);
    *result = CutflowSums{};
    return CutflowHelper(result, static_cast<unsigned int>(partials_.size()));
  }

 private:
  /// One slot's partial sums; padded to a cache line so that slots do not share one.
  struct alignas(64) Partial {
    ULong64_t n = 0;
    double sumw = 0., comp_w = 0.;
    double sumw2 = 0., comp_w2 = 0.;
  };

  std::shared_ptr<CutflowSums> result_;
  std::vector<Partial> partials_;
};

/// Count of the events passing ``node``, booked from compiled code. Why not ``node.Count()``
/// from Python: cppyy's first call of an action method on each RInterface specialization costs
/// 0.4-0.8 s at start-up (measured); through RNode this function is one call signature.
inline ROOT::RDF::RResultPtr<ULong64_t> book_count(ROOT::RDF::RNode node) { return node.Count(); }

/// Book the cutflow action on ``node``: count, sum and sum of squares of the double column
/// ``weight`` over the events passing ``node`` (lazy, like every RDataFrame action).
inline ROOT::RDF::RResultPtr<CutflowSums> book_cutflow(ROOT::RDF::RNode node,
                                                     std::string_view weight) {
  auto result = std::make_shared<CutflowSums>();
  const unsigned int n_slots = node.GetNSlots();
  return node.Book<double>(CutflowHelper(result, n_slots), {std::string(weight)});
}

}  // namespace nutag
