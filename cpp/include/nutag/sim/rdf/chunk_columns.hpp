// The columns of a simulation chunk, defined by compiled code instead of cling's JIT.
//
// Why: a chunk graph is RDataFrame(n) -> ev_ = generate_event(...) -> one Define per ntuple
// column (ev_.<member>) -> Snapshot. Written as strings, cling compiles ~50 Define nodes in every
// process that writes chunks (each pool worker, Dask worker and HTCondor job): about 6 s before
// the first event, longer than a small chunk's whole event loop. Compiled here once, by the
// library build, the same columns cost nothing at run time. The values are those of the string
// expressions `ev_.<member>` they replace (same member, same type), so the files do not change.
//
// Not in the ROOT dictionary (cpp/include/nutag/sim/rdf/ is outside its header list): PyROOT calls
// these functions through their declarations in cling and the symbols of libnutag.
#pragma once

#include <ROOT/RDataFrame.hxx>
#include <RtypesCore.h>

#include <string>
#include <vector>

#include "nutag/sim/config.hpp"

namespace nutag::sim {

// RDataFrame(n) with `entry_`, the entry number in the whole sample (rdfentry_ + first; the
// chunk is written single-threaded, so rdfentry_ counts the chunk's entries in order), and
// `ev_` = generate_event(cfg, stream, seed, entry_). The config is copied into the graph.
// (Made here rather than from Python: converting a Python-made RDataFrame to an RNode costs
// cling a template instantiation of its own.)
ROOT::RDF::RNode generated_events(ULong64_t n, const SimConfig& cfg, int stream, ULong64_t seed,
                                  ULong64_t first);

// The Event members this file can define as columns (every member of nutag::sim::Event).
std::vector<std::string> event_member_names();

// Define column names[i] as the Event member members[i] of the column `event_column`.
// Throws std::invalid_argument for a member that event_member_names() does not list.
ROOT::RDF::RNode define_event_members(ROOT::RDF::RNode df, const std::vector<std::string>& names,
                                      const std::vector<std::string>& members,
                                      const std::string& event_column);

}  // namespace nutag::sim
