// The result of the one action of a fused selection (nutag/rdf/fused_action.hpp): the cutflow
// of every row of the cut tree and every histogram of every region.
//
// On its own so that a compiled selection (nutag.engine.compiled), which books the action in its own
// library, can declare its result type to cling without cling parsing the action and the
// RDataFrame interface headers it needs.
#pragma once

#include <TH1D.h>
#include <TH2D.h>

#include "nutag/rdf/cutflow_sums.hpp"

#include <cstddef>
#include <memory>
#include <vector>

namespace nutag {

/// ``rows[k]``: raw count, sum w and sum w^2 of the events that passed cutflow row ``k``;
/// ``h1[i]``/``h2[i]``: the histograms, in the order of the models the action was booked with
/// (nutag.engine.graph keeps the map from region and name to index).
struct FusedResults {
  std::vector<CutflowSums> rows;
  std::vector<std::shared_ptr<::TH1D>> h1;
  std::vector<std::shared_ptr<::TH2D>> h2;

  std::size_t size() const { return rows.size(); }
  const CutflowSums& operator[](std::size_t k) const { return rows.at(k); }
  ::TH1D& get_h1(std::size_t i) const { return *h1.at(i); }
  ::TH2D& get_h2(std::size_t i) const { return *h2.at(i); }
};

}  // namespace nutag
