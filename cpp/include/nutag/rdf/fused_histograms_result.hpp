// The result of the fused histogram action (nutag/rdf/fused_histograms.hpp): every histogram
// of every region of one sample, in booking order.
//
// On its own so that a compiled selection (nutag.compiled), which books the action in its own
// library, can declare its result type to cling without cling parsing the action and the
// RDataFrame interface headers it needs.
#pragma once

#include <TH1D.h>
#include <TH2D.h>

#include <cstddef>
#include <memory>
#include <vector>

namespace nutag {

/// The histograms one fused action fills: ``h1[i]``/``h2[i]`` in the order of the models the
/// action was booked with (nutag.graph keeps the map from region and name to index).
struct FusedHistograms {
  std::vector<std::shared_ptr<::TH1D>> h1;
  std::vector<std::shared_ptr<::TH2D>> h2;

  ::TH1D& get_h1(std::size_t i) const { return *h1.at(i); }
  ::TH2D& get_h2(std::size_t i) const { return *h2.at(i); }
};

}  // namespace nutag
