// The result of the cutflow action (nutag/rdf/cutflow.hpp): raw count, sum w and sum w^2.
//
// On its own so that a compiled selection (nutag.engine.compiled), which books the action in its own
// library, can declare its result type to cling without cling parsing the action and the
// RDataFrame interface headers it needs.
#pragma once

#include <RtypesCore.h>

namespace nutag {

/// Raw count, sum of weights and sum of squared weights of the events that reached a node.
struct CutflowSums {
  ULong64_t n = 0;
  double sumw = 0.;
  double sumw2 = 0.;
};

}  // namespace nutag
